"""The drop-in registry (API section 8): patch(), unpatch(), patched().

A fake stack stands in for a real one: a module holding a function, a second
module that copied it with ``from ... import``, and a class (with a subclass
that only inherits the method).  Its integration module is registered under a
test name, so every rule of the registry is checked without any real stack.
"""

from __future__ import annotations

import sys
import threading
import types
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import wsfast
from wsfast import integrations


def _fake_stack() -> types.SimpleNamespace:
    """A stack with a function bound in two modules, a class and a subclass."""
    home = types.ModuleType("fake_stack_home")

    def work() -> str:
        return "original"

    home.work = work  # type: ignore[attr-defined]
    user = types.ModuleType("fake_stack_user")
    user.work = home.work  # type: ignore[attr-defined]  # like `from home import work`

    class Engine:
        def run(self) -> str:
            return "original"

        @staticmethod
        def helper() -> str:
            return "original"

    class Child(Engine):  # inherits run; has no own entry for it
        pass

    return types.SimpleNamespace(home=home, user=user, Engine=Engine, Child=Child,
                                 work=work, run=vars(Engine)["run"],
                                 helper=vars(Engine)["helper"])


def _fake_integration(name: str, stack: types.SimpleNamespace, **overrides: Any) -> types.ModuleType:
    """An integration module for ``stack`` following the registry's interface."""
    module = types.ModuleType(name)
    module.STACK = "fake"  # type: ignore[attr-defined]
    module.DISTRIBUTION = "pytest"  # type: ignore[attr-defined]  # installed, version known
    module.SUPPORTED = ((0,), (10_000,))  # type: ignore[attr-defined]
    module.calls = 0  # type: ignore[attr-defined]

    def replaced_work() -> str:
        return "patched"

    def replaced_run(self: Any) -> str:
        return "patched"

    module.replacements = (replaced_work, replaced_run, staticmethod(replaced_work))  # type: ignore[attr-defined]

    def targets() -> list[tuple[object, str, object]]:
        module.calls += 1  # type: ignore[attr-defined]
        return [
            (stack.home, "work", replaced_work),
            (stack.user, "work", replaced_work),
            (stack.Engine, "run", replaced_run),
            (stack.Engine, "helper", module.replacements[2]),  # type: ignore[attr-defined]
            (stack.Child, "run", replaced_run),
        ]

    module.targets = targets  # type: ignore[attr-defined]
    module.describe = lambda: "fake: everything on wsfast"  # type: ignore[attr-defined]
    for key, value in overrides.items():
        setattr(module, key, value)
    return module


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.SimpleNamespace]:
    """A fake stack registered as "fake" (and the only stack patch() tries)."""
    stack = _fake_stack()
    module = _fake_integration("wsfast_test_fake_integration", stack)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(integrations._MODULES, "fake", module.__name__)
    monkeypatch.setattr(integrations, "STACKS", ("fake",))
    stack.module = module
    yield stack
    integrations.unpatch("fake")


def _register(monkeypatch: pytest.MonkeyPatch, name: str, module: types.ModuleType) -> None:
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(integrations._MODULES, name, module.__name__)


def _assert_original(stack: types.SimpleNamespace) -> None:
    """Every binding holds the very object it held before patching."""
    assert stack.home.work is stack.work
    assert stack.user.work is stack.work
    assert vars(stack.Engine)["run"] is stack.run
    assert vars(stack.Engine)["helper"] is stack.helper
    assert "run" not in vars(stack.Child)
    assert stack.Child().run() == "original"


def _assert_patched(stack: types.SimpleNamespace) -> None:
    assert stack.home.work() == "patched"
    assert stack.user.work() == "patched"
    assert stack.Engine().run() == "patched"
    assert stack.Engine.helper() == "patched"
    assert stack.Child().run() == "patched"


def test_public_names() -> None:
    assert wsfast.patch is integrations.patch
    assert wsfast.unpatch is integrations.unpatch
    assert wsfast.patched is integrations.patched
    assert set(integrations.STACKS) == {
        "websockets", "wsproto", "aiohttp", "tornado", "autobahn", "websocket-client",
    }
    for name in ("patch", "unpatch", "patched"):
        assert name in wsfast.__all__


def test_patch_replaces_every_binding_and_unpatch_restores_by_identity(fake: Any) -> None:
    _assert_original(fake)
    assert integrations.patch("fake") == {"fake": "fake: everything on wsfast"}
    _assert_patched(fake)
    assert integrations.patched() == {"fake": "fake: everything on wsfast"}
    integrations.unpatch("fake")
    _assert_original(fake)
    assert integrations.patched() == {}


def test_patch_is_idempotent(fake: Any) -> None:
    first = integrations.patch("fake")
    second = integrations.patch("fake", "fake")
    assert first == second == {"fake": "fake: everything on wsfast"}
    assert fake.module.calls == 1  # installed once: the originals are never overwritten
    integrations.unpatch("fake")
    _assert_original(fake)
    integrations.unpatch("fake")  # not patched: nothing to do
    _assert_original(fake)


def test_patch_without_names_patches_every_installed_stack(fake: Any) -> None:
    assert integrations.patch() == {"fake": "fake: everything on wsfast"}
    _assert_patched(fake)
    integrations.unpatch()
    _assert_original(fake)


def test_unpatch_without_names_restores_all(fake: Any) -> None:
    integrations.patch("fake")
    integrations.unpatch()
    _assert_original(fake)
    assert integrations.patched() == {}


@pytest.mark.parametrize("names", [("nope",), ("fake", "nope"), ("Fake",), ("websocket_client",)])
def test_unknown_name_raises_and_patches_nothing(fake: Any, names: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="unknown stack"):
        integrations.patch(*names)
    assert fake.module.calls == 0
    _assert_original(fake)
    with pytest.raises(ValueError, match="unknown stack"):
        integrations.unpatch(*names)


def test_unpatch_with_an_unknown_name_restores_nothing(fake: Any) -> None:
    integrations.patch("fake")
    with pytest.raises(ValueError):
        integrations.unpatch("fake", "nope")
    _assert_patched(fake)


def test_patched_returns_a_copy(fake: Any) -> None:
    integrations.patch("fake")
    integrations.patched().clear()
    assert "fake" in integrations.patched()


def test_not_installed(monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    fake.module.DISTRIBUTION = "wsfast-test-no-such-distribution"
    with pytest.warns(RuntimeWarning, match="wsfast-test-no-such-distribution is not installed"):
        result = integrations.patch("fake")
    assert result["fake"].startswith("not accelerated:")
    assert "not installed" in result["fake"]
    assert fake.module.calls == 0
    _assert_original(fake)
    assert integrations.patched() == {}
    # Not asked for by name: silently not listed.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert integrations.patch() == {}


@pytest.mark.parametrize("supported", [((10_000,), (10_001,)), ((0,), (1,))])
def test_unsupported_version_is_left_untouched(fake: Any, supported: Any) -> None:
    fake.module.SUPPORTED = supported
    with pytest.warns(RuntimeWarning, match="is not supported"):
        result = integrations.patch("fake")
    assert "not supported" in result["fake"] and "pytest" in result["fake"]
    assert fake.module.calls == 0
    _assert_original(fake)
    assert integrations.patched() == {}
    with pytest.warns(RuntimeWarning, match="is not supported"):
        assert "not supported" in integrations.patch()["fake"]


def test_no_integration_yet(monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    monkeypatch.setitem(integrations._MODULES, "later", "wsfast.integrations._no_such_module")
    monkeypatch.setattr(integrations, "STACKS", ("fake", "later"))
    with pytest.warns(RuntimeWarning, match="no integration for later yet"):
        result = integrations.patch("later")
    assert result == {"later": "not accelerated: wsfast has no integration for later yet"}
    # Without names only the stacks wsfast can accelerate are tried.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set(integrations.patch()) == {"fake"}


def test_an_integration_that_fails_to_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    (tmp_path / "wsfast_test_broken_integration.py").write_text(
        "import wsfast_test_missing_dependency\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(integrations._MODULES, "broken", "wsfast_test_broken_integration")
    with pytest.warns(RuntimeWarning, match="failed to import.*wsfast_test_missing_dependency"):
        result = integrations.patch("broken")
    assert result["broken"].startswith("not accelerated:")
    assert "broken" not in integrations.patched()


def test_failed_install_rolls_the_stack_back(monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    good = fake.module.targets

    def targets() -> list[tuple[object, str, object]]:
        return [*good(), (int, "wsfast_test", 1)]  # a built-in type refuses new attributes

    fake.module.targets = targets
    with pytest.warns(RuntimeWarning, match="could not be patched"):
        result = integrations.patch("fake")
    assert "TypeError" in result["fake"]
    _assert_original(fake)
    assert integrations.patched() == {}


def test_targets_that_raise_leave_the_stack_untouched(fake: Any) -> None:
    def targets() -> list[tuple[object, str, object]]:
        raise ImportError("the stack moved its internals")

    fake.module.targets = targets
    with pytest.warns(RuntimeWarning, match="the stack moved its internals"):
        result = integrations.patch("fake")
    assert result["fake"].startswith("not accelerated:")
    _assert_original(fake)


def test_declined(fake: Any) -> None:
    def targets() -> list[tuple[object, str, object]]:
        raise integrations.Declined("it would be slower here")

    fake.module.targets = targets
    with pytest.warns(RuntimeWarning, match="it would be slower here"):
        result = integrations.patch("fake")
    assert result == {"fake": f"not accelerated: pytest {pytest.__version__}: it would be slower here"}
    _assert_original(fake)
    assert integrations.patched() == {}


def test_several_stacks_one_declines(monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    other = _fake_stack()
    module = _fake_integration("wsfast_test_other_integration", other,
                               SUPPORTED=((10_000,), (10_001,)))
    _register(monkeypatch, "other", module)
    with pytest.warns(RuntimeWarning):
        result = integrations.patch("fake", "other")
    assert list(result) == ["fake", "other"]
    _assert_patched(fake)
    _assert_original(other)
    assert list(integrations.patched()) == ["fake"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("17.0.1", (17, 0, 1)), ("17.1.dev0", (17, 1)), ("1.3.2rc1", (1, 3, 2)), ("16", (16,)),
     ("unknown", None)],
)
def test_version_numbers(text: str, expected: Any) -> None:
    assert integrations._version_tuple(text) == expected


def test_threads(fake: Any) -> None:
    """Concurrent patch/unpatch never saves a replacement as an "original"."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(300):
                if (i + n) % 3:
                    assert integrations.patch("fake") == {"fake": "fake: everything on wsfast"}
                else:
                    integrations.unpatch("fake")
                assert set(integrations.patched()) <= {"fake"}
        except BaseException as exc:  # reported below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    integrations.unpatch()
    _assert_original(fake)
    integrations.patch("fake")
    _assert_patched(fake)
