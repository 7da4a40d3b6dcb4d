"""The test harness's own switch: WSFAST_TEST_TWINS narrows the ``twin`` fixture.

Collected in a subprocess (``pytest --collect-only``) over one test module, so
the switch is read afresh by ``conftest.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def collect(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WSFAST_TEST_TWINS"}
    env.pop("PYTEST_ADDOPTS", None)
    if value is not None:
        env["WSFAST_TEST_TWINS"] = value
    return subprocess.run(
        [sys.executable, "-I", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", str(TESTS / "test_mask.py")],
        cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def twins_in(proc: subprocess.CompletedProcess[str]) -> set[str]:
    """Which twins the collected test ids carry ([c], [py-...], ...)."""
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    assert ids, proc.stdout + proc.stderr
    found = set()
    for line in ids:
        params = line.partition("[")[2]
        for name in ("c", "py"):
            if params.startswith((f"{name}]", f"{name}-")):
                found.add(name)
    return found


@pytest.mark.parametrize(("value", "expected"), [
    (None, {"c", "py"}),
    ("", {"c", "py"}),
    ("c", {"c"}),
    ("py", {"py"}),
    (" PY ", {"py"}),
    ("c,py", {"c", "py"}),
    ("py, c", {"c", "py"}),
])
def test_twins_switch_selects_the_twin_fixture(value: str | None, expected: set[str]) -> None:
    proc = collect(value)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert twins_in(proc) == expected


@pytest.mark.parametrize("value", ["cython", "c,", ",", "pure"])
def test_twins_switch_refuses_other_values(value: str) -> None:
    proc = collect(value)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "WSFAST_TEST_TWINS" in proc.stdout + proc.stderr
