"""The command line: ``python -m wsfast``, ``info``, ``bench`` and the ``wsfast`` script.

Run in a subprocess, as a user would, on the wsfast this suite tests (see
``WSFAST``); the ``wsfast`` script as installed.  Timings are never asserted,
only that they exist and are positive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import wsfast
from wsfast import _codec, _env


#: ``python -m wsfast`` for the wsfast this suite tests, wherever it was imported
#: from (``-I`` keeps the working directory off ``sys.path``; the tested
#: package's folder goes first), so in-process and command-line facts agree.
WSFAST = [
    sys.executable,
    "-I",
    "-c",
    f"import runpy, sys; sys.path.insert(0, {str(Path(wsfast.__file__).resolve().parents[1])!r}); "
    "runpy.run_module('wsfast', run_name='__main__', alter_sys=True)",
]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m wsfast ARGS`` (see WSFAST) in the test's environment; fails on a
    non-zero exit."""
    proc = subprocess.run(
        [*WSFAST, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def test_info_names_version_implementation_and_platform() -> None:
    out = run_cli("info").stdout
    assert wsfast.__version__ in out
    assert f"implementation:   {wsfast.IMPLEMENTATION}" in out
    assert "SIMD" in out
    assert "python:" in out and "machine:" in out
    if wsfast.SIMD is not None:
        assert wsfast.SIMD in out


def test_info_says_where_wsfast_comes_from_and_why_this_twin() -> None:
    out = run_cli("info").stdout
    assert f"imported from:    {_codec.PACKAGE_DIR}" in out
    assert f"  because:        {_codec.REASON}" in out


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.stdout == f"wsfast {wsfast.__version__}\n"


def test_bare_command_prints_help() -> None:
    proc = run_cli()  # exit status 0: asking what it can do is no error
    assert proc.stdout.startswith("usage: python -m wsfast")
    for command in ("info", "bench", "decode"):
        assert f"    {command} " in proc.stdout
    assert "--version" in proc.stdout


def test_unknown_command_is_a_usage_error() -> None:
    proc = subprocess.run(
        [*WSFAST, "nonsense"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "invalid choice: 'nonsense'" in proc.stderr


def test_console_script() -> None:
    scripts = Path(sys.executable).parent
    script = next((scripts / name for name in ("wsfast", "wsfast.exe") if (scripts / name).exists()),
                  None)
    if script is None:
        pytest.skip(f"no wsfast script beside {sys.executable}")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"wsfast {wsfast.__version__}\n"
    proc = subprocess.run([str(script), "info"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "implementation:" in proc.stdout and "imported from:" in proc.stdout


def test_info_json() -> None:
    info = json.loads(run_cli("info", "--json").stdout)
    assert info["version"] == wsfast.__version__
    assert info["implementation"] == wsfast.IMPLEMENTATION
    assert info["simd"] == wsfast.SIMD
    if wsfast.IMPLEMENTATION == "c":
        assert wsfast.SIMD in info["simd_supported"]
    assert info["python"]["version"]
    assert info["platform"]["machine"]
    assert info["location"] == _codec.PACKAGE_DIR
    assert info["reason"] == _codec.REASON
    assert isinstance(info["other_copies"], list)


def _rows(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [row for row in rows if row["kind"] == kind]


def test_bench_quick_json(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    out = run_cli("bench", "--quick", "--json", str(path)).stdout
    assert f"{wsfast.IMPLEMENTATION} twin active" in out
    assert "mask, 125 B" in out and "mask_inplace, 64 KiB" in out
    report = json.loads(path.read_text())
    assert report["wsfast"]["implementation"] == wsfast.IMPLEMENTATION
    assert report["settings"]["quick"] is True
    with_compiled = wsfast.IMPLEMENTATION == "c" or _env.flag("WSFAST_REQUIRE_EXTENSION")
    if not with_compiled:
        assert "compiled twin" in out  # says why it is missing

    # Masking: both twins at every size of both row groups.
    mask_rows = [row for row in report["rows"] if row["topic"] == "mask"]
    pure = _rows(mask_rows, "wsfast-py")
    assert {(r["group"], r["size"]) for r in pure} == {
        (group, size) for group in ("mask", "mask_inplace") for size in report["settings"]["sizes"]
    }
    compiled = _rows(mask_rows, "wsfast-c")
    if with_compiled:
        assert len(compiled) == len(pure), "no rows for the compiled twin"
    for row in pure:
        assert row["ratio_pure"] == 1.0
    for row in compiled:
        assert row["ratio_pure"] > 0

    # Every topic that ran: both twins, positive timings everywhere.
    for topic in {row["topic"] for row in report["rows"]}:
        rows = [row for row in report["rows"] if row["topic"] == topic]
        assert _rows(rows, "wsfast-py"), topic
        if with_compiled:
            assert _rows(rows, "wsfast-c"), topic
    for row in report["rows"]:
        assert row["ns_per_call"] > 0 and row["gb_per_s"] > 0, row
        assert row["samples_ns"] and all(t > 0 for t in row["samples_ns"]), row


def test_bench_json_to_stdout_keeps_tables_on_stderr() -> None:
    proc = run_cli("bench", "--quick", "--only", "mask", "--samples", "1", "--sample-ms", "0.2",
                   "--json", "-")
    report = json.loads(proc.stdout)
    assert report["rows"]
    assert "mask, 16 B" in proc.stderr


def test_bench_rejects_unknown_topic() -> None:
    proc = subprocess.run(
        [*WSFAST, "bench", "--only", "nonsense"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "nonsense" in proc.stderr
