"""The twin fixture: every behavioural test runs over both implementations.

``twin`` is a namespace holding one twin's public API (``twin.mask``,
``twin.Masker``, ...), plus ``twin.name`` ("c" or "py") and, for the compiled
twin, its private test hooks module(s).  With ``WSFAST_REQUIRE_EXTENSION`` set, a
compiled twin that cannot be imported fails the run instead of being skipped.

``WSFAST_TEST_TWINS`` (``c``, ``py`` or ``c,py``, the default) narrows which
twins the ``twin`` fixture runs; the differential tests (``both_twins``) still
compare the two.  For runs where one twin's pass is wasted time: the pure twin
under AddressSanitizer exercises no C code of wsfast's.
"""

from __future__ import annotations

import importlib
import os
import types
from collections.abc import Iterator

import pytest

from helpers import simd_levels

from wsfast import _codec, _env



def _selected_twins() -> tuple[str, ...]:
    raw = os.environ.get("WSFAST_TEST_TWINS", "").strip()
    if not raw:
        return ("c", "py")
    names = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",")))
    unknown = [name for name in names if name not in ("c", "py")]
    if unknown or not names:
        raise pytest.UsageError(
            f"WSFAST_TEST_TWINS={raw!r}: expected c, py or c,py (unknown: {', '.join(unknown)})"
        )
    return names


TWINS = _selected_twins()


def load(name: str) -> types.SimpleNamespace:
    """The public API of twin ``name``, or skip/fail when it is unavailable."""
    if name == "c":
        if _env.flag("WSFAST_NO_EXTENSIONS"):
            pytest.skip("compiled twin disabled by WSFAST_NO_EXTENSIONS")
        try:
            names = _codec.load_twin("c")
        except ImportError as exc:
            reason = _codec.diagnose(exc)[0]
            if _env.flag("WSFAST_REQUIRE_EXTENSION"):
                pytest.fail(f"WSFAST_REQUIRE_EXTENSION is on but {reason}")
            pytest.skip(f"compiled twin not available: {reason}")
    else:
        names = _codec.load_twin("py")
    modules = {t: importlib.import_module(f"wsfast.{t}_{name}") for t in _codec.TOPICS}
    return types.SimpleNamespace(name=name, modules=modules, **names)


@pytest.fixture(params=TWINS, scope="session")
def twin(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    return load(request.param)


@pytest.fixture(scope="session")
def both_twins() -> tuple[types.SimpleNamespace, types.SimpleNamespace]:
    """The compiled and the pure twin together, for differential tests."""
    return load("c"), load("py")


@pytest.fixture(params=simd_levels() or [None])
def simd_level(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every compiled module's kernels at one SIMD level for the test (each
    level this CPU has, in turn), put back after."""
    level = request.param
    if level is None or _env.flag("WSFAST_NO_EXTENSIONS"):
        pytest.skip("SIMD levels exist in the compiled twin only")
    modules = [importlib.import_module(f"wsfast.{t}_c") for t in _codec.TOPICS]
    previous = [module._set_level(level) for module in modules]
    try:
        yield level
    finally:
        for module, name in zip(modules, previous, strict=True):
            module._set_level(name)


def pytest_report_header() -> list[str]:
    """Which wsfast the run tests: where it was imported from, the twin and why."""
    import wsfast

    return [
        f"wsfast {wsfast.__version__} from {_codec.PACKAGE_DIR}: {wsfast.IMPLEMENTATION} twin "
        f"(SIMD {wsfast.SIMD}), because {_codec.REASON}",
        f"twin fixture runs: {', '.join(TWINS)} (WSFAST_TEST_TWINS)",
    ]
