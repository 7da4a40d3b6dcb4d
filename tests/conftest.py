"""The twin fixture: every behavioural test runs over both implementations.

``twin`` is a namespace holding one twin's public API (``twin.mask``,
``twin.Masker``, ...), plus ``twin.name`` ("c" or "py") and, for the compiled
twin, its private test hooks module(s).  With ``WSFAST_REQUIRE_EXTENSION`` set, a
compiled twin that cannot be imported fails the run instead of being skipped.
"""

from __future__ import annotations

import importlib
import os
import types

import pytest

from wsfast import _codec

TWINS = ("c", "py")


def load(name: str) -> types.SimpleNamespace:
    """The public API of twin ``name``, or skip/fail when it is unavailable."""
    if name == "c":
        if os.environ.get("WSFAST_NO_EXTENSIONS"):
            pytest.skip("compiled twin disabled by WSFAST_NO_EXTENSIONS")
        try:
            names = _codec.load_twin("c")
        except ImportError as exc:
            if os.environ.get("WSFAST_REQUIRE_EXTENSION"):
                pytest.fail(f"WSFAST_REQUIRE_EXTENSION is set but the compiled twin is missing: {exc}")
            pytest.skip(f"compiled twin not built: {exc}")
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
