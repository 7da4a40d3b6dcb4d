"""The twin chooser and its environment switches (API section 1), in subprocesses.

Each case starts ``python -I -S`` with a controlled environment, imports the
wsfast this suite tests (its folder put first on ``sys.path``) and reports
``IMPLEMENTATION``, ``SIMD`` and every warning raised by the import, with the
file and line each warning is attributed to.  A missing compiled module is
simulated with ``sys.modules[name] = None``, which makes its import fail.
Source trees and installed copies are laid out in temporary folders: a copy
of the package's Python files, with ``setup.py`` beside it or not, and empty
files named like compiled modules (only their presence is looked at).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import wsfast
from wsfast import _codec, _env

PACKAGE_DIR = Path(wsfast.__file__).resolve().parent
#: The folder holding the tested package: put first on sys.path in the subprocess.
IMPORT_ROOT = str(PACKAGE_DIR.parent)

SWITCH_ON = ["1", "true", "TRUE", "True", "yes", "YES", "on", "On", " 1 ", "yes\n"]
SWITCH_OFF = ["", "0", "false", "FALSE", "no", "No", "off", "OFF", " 0 "]
SWITCH_GARBAGE = ["2", "maybe", "y", "enable", "-1", "nein", "1.0"]

PROBE = """
import json, sys, warnings
warnings.simplefilter("always")
{prelude}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import wsfast
    from wsfast import _codec
print(json.dumps({{
    "impl": wsfast.IMPLEMENTATION,
    "simd": wsfast.SIMD,
    "reason": _codec.REASON,
    "file": wsfast.__file__,
    "warnings": [
        {{"message": str(w.message), "category": w.category.__name__,
          "filename": w.filename, "lineno": w.lineno}}
        for w in caught
    ],
}}))
"""


def clean_env(**switches: str) -> dict[str, str]:
    """The test's environment without any WSFAST_ variable, plus ``switches``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WSFAST_")}
    env.update(switches)
    return env


def python(
    code: str, env: dict[str, str], *, path: list[str] | None = None, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -I -S -c CODE`` with ``path`` (default: the tested package) first on sys.path."""
    entries = [IMPORT_ROOT] if path is None else path
    prefix = f"import sys; sys.path[:0] = {entries!r}\n"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", prefix + code],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def probe(
    env: dict[str, str], *, prelude: str = "", path: list[str] | None = None
) -> dict[str, Any]:
    """Import wsfast in a subprocess; what it chose and which warnings it gave."""
    proc = python(PROBE.format(prelude=prelude), env, path=path)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    if path is None and _codec.build_failure(str(PACKAGE_DIR)) is not None:
        # The tested copy was installed by a failed compile: its import says so
        # every time (test_installed_copy_whose_compile_failed_warns checks that).
        result["warnings"] = [
            w for w in result["warnings"] if "compiled twin was not built" not in w["message"]
        ]
    return result


def compiled_available() -> bool:
    """Whether the tested package has its compiled twin (skip the cases needing it)."""
    try:
        _codec.load_twin("c")
    except ImportError as exc:
        if _env.flag("WSFAST_REQUIRE_EXTENSION"):
            pytest.fail(f"WSFAST_REQUIRE_EXTENSION is on but {_codec.diagnose(exc)[0]}")
        return False
    return True


@pytest.fixture(scope="module")
def levels() -> list[str]:
    """The SIMD levels this CPU supports (the compiled twin must be there)."""
    if not compiled_available():
        pytest.skip("the compiled twin is not built")
    import importlib

    return list(importlib.import_module("wsfast._mask_c")._supported_levels())


def messages(result: dict[str, Any]) -> list[str]:
    return [w["message"] for w in result["warnings"]]


BLOCK_FRAMES_C = "sys.modules['wsfast._frames_c'] = None  # a partial build"


# --- the switches: on, off, anything else --------------------------------------------


@pytest.mark.parametrize("value", SWITCH_ON)
def test_no_extensions_on_selects_the_pure_twin(value: str) -> None:
    result = probe(clean_env(WSFAST_NO_EXTENSIONS=value))
    assert (result["impl"], result["simd"]) == ("python", None)
    assert result["warnings"] == []
    assert "WSFAST_NO_EXTENSIONS" in result["reason"]


@pytest.mark.parametrize("value", SWITCH_OFF)
def test_no_extensions_off(value: str) -> None:
    expected = "c" if compiled_available() else "python"
    result = probe(clean_env(WSFAST_NO_EXTENSIONS=value))
    assert result["impl"] == expected
    assert result["warnings"] == []


@pytest.mark.parametrize("value", SWITCH_GARBAGE)
def test_no_extensions_garbage_is_off_with_a_warning(value: str) -> None:
    expected = "c" if compiled_available() else "python"
    result = probe(clean_env(WSFAST_NO_EXTENSIONS=value))
    assert result["impl"] == expected
    [warning] = result["warnings"]
    assert warning["category"] == "RuntimeWarning"
    assert f"WSFAST_NO_EXTENSIONS={value!r}" in warning["message"]
    assert "treated as off" in warning["message"]
    # Attributed to the user's import line (python -c), not to importlib.
    assert warning["filename"] == "<string>"


@pytest.mark.parametrize("value", SWITCH_ON)
def test_require_extension_on_with_the_compiled_twin(value: str) -> None:
    if not compiled_available():
        pytest.skip("the compiled twin is not built")
    result = probe(clean_env(WSFAST_REQUIRE_EXTENSION=value))
    assert result["impl"] == "c"
    assert result["simd"] in _env.SIMD_LEVELS
    assert result["warnings"] == []


@pytest.mark.parametrize("value", SWITCH_ON)
def test_require_extension_on_without_the_compiled_twin_raises(value: str) -> None:
    proc = python(
        f"{BLOCK_FRAMES_C}\nimport wsfast", clean_env(WSFAST_REQUIRE_EXTENSION=value)
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: WSFAST_REQUIRE_EXTENSION is on but")
    # which module is missing: the blocked one, or the first when none is built
    assert ("wsfast._frames_c" if compiled_available() else "wsfast._mask_c") in last
    assert str(PACKAGE_DIR) in last  # where wsfast was imported from


@pytest.mark.parametrize("value", SWITCH_OFF + SWITCH_GARBAGE)
def test_require_extension_off_falls_back_to_the_whole_pure_twin(value: str) -> None:
    result = probe(clean_env(WSFAST_REQUIRE_EXTENSION=value), prelude=BLOCK_FRAMES_C)
    # Never a mixed twin: the compiled mask and UTF-8 modules may import, but
    # the pure twin is used whole.
    assert (result["impl"], result["simd"]) == ("python", None)
    assert ("wsfast._frames_c" if compiled_available() else "wsfast._mask_c") in result["reason"]
    if value.strip().lower() in _env.OFF:
        assert result["warnings"] == []
    else:
        [warning] = result["warnings"]
        assert f"WSFAST_REQUIRE_EXTENSION={value!r}" in warning["message"]
        assert warning["filename"] == "<string>"


def test_no_extensions_wins_over_require_extension() -> None:
    result = probe(clean_env(WSFAST_NO_EXTENSIONS="1", WSFAST_REQUIRE_EXTENSION="1"),
                   prelude=BLOCK_FRAMES_C)
    assert (result["impl"], result["simd"]) == ("python", None)
    assert result["warnings"] == []


def test_non_cpython_uses_the_pure_twin() -> None:
    prelude = "import platform; platform.python_implementation = lambda: 'PyPy'"
    result = probe(clean_env(), prelude=prelude)
    assert (result["impl"], result["simd"]) == ("python", None)
    assert "PyPy" in result["reason"]
    assert result["warnings"] == []


# --- WSFAST_SIMD ------------------------------------------------------------------------


def test_simd_unset_or_empty_is_the_best_level(levels: list[str]) -> None:
    for env in (clean_env(), clean_env(WSFAST_SIMD=""), clean_env(WSFAST_SIMD="  ")):
        result = probe(env)
        assert (result["impl"], result["simd"]) == ("c", levels[-1])
        assert result["warnings"] == []


@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title, lambda s: f" {s}\t"])
def test_simd_caps_at_every_supported_level_in_any_case(levels: list[str], spelling: Any) -> None:
    for level in levels:
        result = probe(clean_env(WSFAST_SIMD=spelling(level)))
        assert (result["impl"], result["simd"]) == ("c", level)
        assert result["warnings"] == [], level


@pytest.mark.parametrize("value", ["avx9", "sse4", "AVX-512", "native", "0", "x86"])
def test_simd_unknown_level_warns_once_and_uses_the_best(levels: list[str], value: str) -> None:
    result = probe(clean_env(WSFAST_SIMD=value))
    assert result["simd"] == levels[-1]
    [warning] = result["warnings"]  # once, though three compiled modules read it
    assert warning["category"] == "RuntimeWarning"
    assert f"WSFAST_SIMD={value!r}" in warning["message"]
    assert "names no SIMD level" in warning["message"]
    assert warning["message"].endswith(f"using {levels[-1]}")
    assert warning["filename"] == "<string>"


def test_simd_level_this_cpu_lacks_warns_and_says_what_is_used(levels: list[str]) -> None:
    lacking = [level for level in _env.SIMD_LEVELS if level not in levels]
    assert lacking, "a CPU cannot have both x86 and ARM levels"
    for level in lacking:
        for value in (level, level.upper()):
            result = probe(clean_env(WSFAST_SIMD=value))
            assert result["simd"] == levels[-1], value
            [warning] = result["warnings"]
            text = warning["message"]
            assert f"WSFAST_SIMD={value!r}" in text
            assert "lacks" in text or "not a level of this CPU's architecture" in text
            assert text.endswith(f"using {levels[-1]}")
            assert warning["filename"] == "<string>"


def test_simd_with_the_pure_twin() -> None:
    # A valid level is simply unused; a name that is no level still warns.
    result = probe(clean_env(WSFAST_NO_EXTENSIONS="1", WSFAST_SIMD="AVX2"))
    assert (result["impl"], result["simd"]) == ("python", None)
    assert result["warnings"] == []
    result = probe(clean_env(WSFAST_NO_EXTENSIONS="1", WSFAST_SIMD="avx9"))
    [text] = messages(result)
    assert "WSFAST_SIMD='avx9'" in text and "pure-Python twin" in text


def test_warning_points_at_the_importing_line(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {IMPORT_ROOT!r})\n\nimport wsfast  # line 4\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(WSFAST_NO_EXTENSIONS="perhaps"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"{script}:4: RuntimeWarning: WSFAST_NO_EXTENSIONS='perhaps'")
    assert "importlib" not in proc.stderr


def test_env_flag_unit() -> None:
    for value in SWITCH_ON:
        assert _env.flag("X", {"X": value}) is True
    for value in SWITCH_OFF:
        assert _env.flag("X", {"X": value}) is False
    assert _env.flag("X", {}) is False
    for value in SWITCH_GARBAGE:
        with pytest.warns(RuntimeWarning, match=r"X=.* is not a switch value") as record:
            assert _env.flag("X", {"X": value}) is False
        assert record[0].filename == __file__  # this test is the caller
    assert _env.simd_cap({"WSFAST_SIMD": " AVX2 "}) == "avx2"
    assert _env.simd_cap({"WSFAST_SIMD": ""}) is None
    assert _env.simd_cap({}) is None


# --- where wsfast comes from: source trees and installed copies -------------------------


def copy_package(dest: Path, *, compiled: bool = False, note: str | None = None) -> Path:
    """A copy of the tested package's Python files in ``dest/wsfast``.

    ``compiled``: add empty files named like the compiled modules (the chooser
    only looks at their presence there).  ``note``: a build-failure note.
    """
    package = dest / "wsfast"
    shutil.copytree(
        PACKAGE_DIR,
        package,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.so", "*.pyd", "*.c", _codec.BUILD_FAILURE_NOTE
        ),
    )
    if compiled:
        import importlib.machinery

        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        for topic in _codec.TOPICS:
            (package / f"{topic}_c{suffix}").write_bytes(b"")
    if note is not None:
        (package / _codec.BUILD_FAILURE_NOTE).write_text(note + "\n")
    return package


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A checkout: the package without compiled modules, setup.py beside it."""
    root = tmp_path / "checkout"
    copy_package(root)
    (root / "setup.py").write_text("# the project's build script\n")
    return root


#: Without the real site-packages (which may hold the suite's own installed copy).
NO_SITE = (
    "import site; site.getsitepackages = lambda: []; "
    "site.getusersitepackages = lambda: '/nonexistent/user-site'"
)


def test_source_tree_shadowing_an_installed_copy_warns(source_tree: Path, tmp_path: Path) -> None:
    installed = copy_package(tmp_path / "site-packages", compiled=True)
    result = probe(clean_env(), path=[str(source_tree), str(installed.parent)], prelude=NO_SITE)
    assert result["impl"] == "python"
    assert result["file"] == str(source_tree / "wsfast" / "__init__.py")
    [warning] = result["warnings"]
    text = warning["message"]
    assert f"imported from {source_tree / 'wsfast'}, in the source tree {source_tree}" in text
    assert f"installed copy in {installed}" in text
    assert "python -I" in text and "pip install -e ." in text  # how to fix it
    assert warning["filename"] == "<string>"
    assert str(installed) in result["reason"]


def test_benchmark_says_why_the_compiled_rows_are_missing(source_tree: Path, tmp_path: Path) -> None:
    """The bench/ suites skip the compiled rows with the chooser's reason, which
    names the shadowed installed copy and python -I, not only the ImportError."""
    installed = copy_package(tmp_path / "site-packages", compiled=True)
    code = (
        f"{NO_SITE}\nimport warnings\nwarnings.simplefilter('ignore')\n"
        "from wsfast._bench import load_twins\nprint(load_twins()[1]['c'])"
    )
    proc = python(code, clean_env(), path=[str(source_tree), str(installed.parent)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("not available (wsfast was imported from")
    assert f"installed copy in {installed}" in proc.stdout and "python -I" in proc.stdout


def test_source_tree_without_a_compiled_copy_elsewhere_is_quiet(
    source_tree: Path, tmp_path: Path
) -> None:
    pure = copy_package(tmp_path / "site-packages")
    result = probe(clean_env(), path=[str(source_tree), str(pure.parent)], prelude=NO_SITE)
    assert result["impl"] == "python"
    assert result["warnings"] == []
    assert f"imported from {source_tree / 'wsfast'}, in the source tree" in result["reason"]
    assert "pip install -e ." in result["reason"]


def test_source_tree_with_require_extension_says_where_and_why(
    source_tree: Path, tmp_path: Path
) -> None:
    installed = copy_package(tmp_path / "site-packages", compiled=True)
    proc = python(
        f"{NO_SITE}\nimport wsfast",
        clean_env(WSFAST_REQUIRE_EXTENSION="1"),
        path=[str(source_tree), str(installed.parent)],
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: WSFAST_REQUIRE_EXTENSION is on but wsfast was imported "
                           f"from {source_tree / 'wsfast'}, in the source tree {source_tree}")
    assert "No module named 'wsfast._mask_c'" in last
    assert f"installed copy in {installed}" in last


def test_source_tree_with_no_extensions_is_quiet(source_tree: Path, tmp_path: Path) -> None:
    installed = copy_package(tmp_path / "site-packages", compiled=True)
    result = probe(clean_env(WSFAST_NO_EXTENSIONS="1"),
                   path=[str(source_tree), str(installed.parent)], prelude=NO_SITE)
    assert result["impl"] == "python"
    assert result["warnings"] == []


def test_installed_copy_whose_compile_failed_warns(tmp_path: Path) -> None:
    note = "wsfast._mask_c: gcc exited with status 1"
    copy = copy_package(tmp_path / "site-packages", note=note)
    result = probe(clean_env(), path=[str(copy.parent)], prelude=NO_SITE)
    assert result["impl"] == "python"
    [text] = messages(result)
    assert "compiled twin was not built when this copy was installed" in text
    assert note in text and "WSFAST_NO_EXTENSIONS=1" in text
    assert note in result["reason"]
    # Choosing the pure twin on purpose silences it.
    result = probe(clean_env(WSFAST_NO_EXTENSIONS="1"), path=[str(copy.parent)], prelude=NO_SITE)
    assert result["warnings"] == []


def info_json(env: dict[str, str], path: list[str], prelude: str = "") -> dict[str, Any]:
    code = (
        f"{prelude}\nimport json, warnings\nwarnings.simplefilter('ignore')\n"
        "from wsfast._info import environment\nprint(json.dumps(environment()))"
    )
    proc = python(code, env, path=path)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_info_says_where_from_and_why(source_tree: Path, tmp_path: Path) -> None:
    installed = copy_package(tmp_path / "site-packages", compiled=True)
    path = [str(source_tree), str(installed.parent)]
    info = info_json(clean_env(), path, NO_SITE)
    assert info["location"] == str(source_tree / "wsfast")
    assert info["source_tree"] == str(source_tree)
    assert info["implementation"] == "python"
    assert "No module named 'wsfast._mask_c'" in info["reason"]
    assert {"path": str(installed), "compiled": True} in info["other_copies"]
    info = info_json(clean_env(WSFAST_NO_EXTENSIONS="yes"), path, NO_SITE)
    assert info["reason"] == "WSFAST_NO_EXTENSIONS=yes asks for it"
    info = info_json(clean_env(), path, "import platform; platform.python_implementation = lambda: 'GraalVM'")
    assert "GraalVM" in info["reason"]


def test_info_of_the_tested_package() -> None:
    info = info_json(clean_env(), [IMPORT_ROOT])
    assert info["location"] == str(PACKAGE_DIR)
    if compiled_available():
        assert info["implementation"] == "c"
        assert info["reason"] == "the compiled modules import"
    deflate = info["deflate"]
    assert deflate["backend"] in deflate["installed"] and "zlib" in deflate["installed"]
    if compiled_available() and os.name != "nt":  # Windows builds link no zlib
        assert deflate["compiled_inflater"] is not None
        assert deflate["compiled_deflater"] == deflate["compiled_inflater"]
        if deflate["backend"] == "zlib":
            assert deflate["inflater"].startswith("compiled, over zlib ")
            assert deflate["deflater"].startswith("compiled, over zlib ")


def test_setup_py_parses_switches_with_the_same_parser(tmp_path: Path) -> None:
    setup_py = Path(__file__).resolve().parents[1] / "setup.py"
    if not setup_py.is_file():
        pytest.skip("no setup.py: the tests run outside the checkout")
    pytest.importorskip("setuptools", minversion="77")  # the build requirement
    source = (Path(__file__).resolve().parents[1] / "wsfast" / "_env.py").read_text()
    assert source == (PACKAGE_DIR / "_env.py").read_text(), "the checkout is not the tested package"
    proc = subprocess.run(
        [sys.executable, str(setup_py), "--name"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=setup_py.parent,
        env=clean_env(WSFAST_NO_EXTENSIONS="Yes", WSFAST_DEBUG="sure"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "wsfast"
    assert f"{setup_py}:" in proc.stderr and "WSFAST_DEBUG='sure' is not a switch value" in proc.stderr


# setup.py run with setuptools.setup captured, and its build_ext command on
# probe extensions (sys.argv[1]: setup.py, sys.argv[2]: a scratch folder).
BUILD_EXT_PRELUDE = """
import os, runpy, sys
import setuptools
captured = {}
setuptools.setup = lambda **kw: captured.update(kw)
runpy.run_path(sys.argv[1])
from setuptools import Extension
from setuptools.dist import Distribution

tmp = sys.argv[2]


def probe(name, text):
    source = os.path.join(tmp, name + ".c")
    with open(source, "w") as f:
        f.write(text)
    return Extension("wsfast." + name, sources=[source])


def build_ext(exts):
    cmd = captured["cmdclass"]["build_ext"](Distribution({"name": "wsfast", "ext_modules": exts}))
    cmd.build_lib = os.path.join(tmp, "lib")
    cmd.build_temp = os.path.join(tmp, "temp")
    cmd.ensure_finalized()
    return cmd
"""


def run_build_ext(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``BUILD_EXT_PRELUDE`` + ``script`` in a fresh interpreter (skips outside the checkout)."""
    setup_py = Path(__file__).resolve().parents[1] / "setup.py"
    if not setup_py.is_file():
        pytest.skip("no setup.py: the tests run outside the checkout")
    pytest.importorskip("setuptools")
    return subprocess.run(
        [sys.executable, "-c", BUILD_EXT_PRELUDE + script, str(setup_py), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=setup_py.parent,
        # WSFAST_NO_EXTENSIONS: setup.py itself declares no extension (no Cython needed).
        env=clean_env(WSFAST_NO_EXTENSIONS="1", **env),
    )


STALE_BUILD = """
ext = probe("_probe_c", "int probe;\\n")
cmd = build_ext([ext])
stale = cmd.get_ext_fullpath(ext.name)
os.makedirs(os.path.dirname(stale), exist_ok=True)
with open(stale, "w") as f:
    f.write("compiled by an earlier build\\n")
os.utime(stale, (0, 0))  # older than the source: setuptools must try to rebuild it
cmd.run()
print(os.path.exists(stale), os.path.exists(os.path.join(tmp, "lib", "wsfast", "_build_failure.txt")))
"""


def test_failed_compile_leaves_no_stale_module_from_an_earlier_build(tmp_path: Path) -> None:
    """A compile that fails after an earlier one succeeded (pip builds in the
    checkout's build/ folder) must not ship the earlier build's module, out of
    date, in a wheel tagged pure: the build keeps only what it compiled now."""
    proc = run_build_ext(STALE_BUILD, tmp_path, CC="/bin/false")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"], proc.stdout + proc.stderr
    assert "wsfast._probe_c FAILED" in proc.stderr


PARTIAL_BUILD = """
cmd = build_ext([probe("_good_c", "int good;\\n"), probe("_bad_c", "#error no zlib.h here\\n")])
cmd.run()
print(os.path.exists(cmd.get_ext_fullpath("wsfast._good_c")),
      os.path.exists(cmd.get_ext_fullpath("wsfast._bad_c")))
with open(os.path.join(tmp, "lib", "wsfast", "_build_failure.txt")) as f:
    print(f.read().strip())
"""


def test_one_failed_module_leaves_the_rest_built(tmp_path: Path) -> None:
    """One extension that does not compile (the zlib-linked inflater without
    zlib's headers, say) costs only that module: the others are built, the
    failure note names it, and the banner says part of the twin was built."""
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler")
    proc = run_build_ext(PARTIAL_BUILD, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "True False", proc.stdout + proc.stderr
    assert lines[1].startswith("wsfast._bad_c: "), lines
    assert "PART OF THE COMPILED TWIN WAS NOT BUILT" in proc.stderr
    assert "THE COMPILED TWIN WAS NOT BUILT" not in proc.stderr.replace("PART OF THE ", "")
