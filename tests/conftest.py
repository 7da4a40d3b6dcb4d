"""The twin fixture: every behavioural test runs over both implementations.

``twin`` is a namespace holding one twin's public API (``twin.mask``,
``twin.Masker``, ...), plus ``twin.name`` ("c" or "py") and, for the compiled
twin, its private test hooks module(s).  With ``WSFAST_REQUIRE_EXTENSION`` set, a
compiled twin that cannot be imported fails the run instead of being skipped.
"""

from __future__ import annotations

import importlib
import types

import pytest

from wsfast import _codec, _env

TWINS = ("c", "py")


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


def pytest_report_header() -> list[str]:
    """Which wsfast the run tests: where it was imported from, the twin and why."""
    import wsfast

    return [
        f"wsfast {wsfast.__version__} from {_codec.PACKAGE_DIR}: {wsfast.IMPLEMENTATION} twin "
        f"(SIMD {wsfast.SIMD}), because {_codec.REASON}"
    ]
