"""The public surface, derived instead of listed by hand: both twins export the
same names, the package re-exports them all, type checkers see them, and each
compiled twin's stub (``_<topic>_c.pyi``) declares the same signatures as the
pure twin (stubtest compares stubs with the compiled runtime, but cannot read
a Cython class's ``__init__``; this closes that gap from the other side)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import wsfast
from wsfast import _codec

TOPICS = _codec.TOPICS


@pytest.mark.parametrize("topic", TOPICS)
def test_twins_export_the_same_names(topic):
    py = importlib.import_module(f"wsfast.{topic}_py")
    stub = _stub(topic)
    names = [n.value for n in _stub_all(stub)]
    assert sorted(py.__all__) == sorted(names)


def test_package_reexports_every_twin_name():
    for topic in TOPICS:
        py = importlib.import_module(f"wsfast.{topic}_py")
        for name in py.__all__:
            assert name in wsfast.__all__, name
            assert hasattr(wsfast, name), name


def test_every_public_name_resolves():
    for name in wsfast.__all__:
        assert hasattr(wsfast, name), name


def test_type_checkers_see_every_twin_name():
    """_codec's TYPE_CHECKING block imports each twin name from the pure twin."""
    source = Path(_codec.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    seen: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.ImportFrom):
                    seen.update(alias.asname or alias.name for alias in stmt.names)
    for topic in TOPICS:
        py = importlib.import_module(f"wsfast.{topic}_py")
        assert set(py.__all__) <= seen, set(py.__all__) - seen


# --- stubs against the pure twin --------------------------------------------------


def _stub(topic: str) -> ast.Module:
    path = Path(wsfast.__file__).with_name(f"{topic}_c.pyi")
    return ast.parse(path.read_text(encoding="utf-8"))


def _stub_all(tree: ast.Module) -> list[ast.Constant]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            assert isinstance(node.value, ast.List)
            return [e for e in node.value.elts if isinstance(e, ast.Constant)]
    raise AssertionError("no __all__ in stub")


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, str, object]]:
    a = fn.args
    out: list[tuple[str, str, object]] = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        kind = "POSITIONAL_ONLY" if arg in a.posonlyargs else "POSITIONAL_OR_KEYWORD"
        out.append((arg.arg, kind, _literal(default)))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", inspect.Parameter.empty))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        out.append((arg.arg, "KEYWORD_ONLY", _literal(default)))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", inspect.Parameter.empty))
    # Underscored parameters would be private hooks, not the contract.
    return [p for p in out if p[0] not in ("self", "cls") and not p[0].startswith("_")]


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return inspect.Parameter.empty
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return Ellipsis  # a stub may leave the default out
    return eval(compile(ast.Expression(node), "<stub>", "eval"), {})  # literals only


def _runtime_params(obj: object) -> list[tuple[str, str, object]]:
    return [
        (p.name, p.kind.name, p.default)
        for p in inspect.signature(obj).parameters.values()  # type: ignore[arg-type]
        if p.name not in ("self", "cls")
    ]


def _same(stub: list, runtime: list) -> bool:
    if len(stub) != len(runtime):
        return False
    for (sn, sk, sd), (rn, rk, rd) in zip(stub, runtime, strict=True):
        if sn != rn or sk != rk:
            return False
        if sd is not Ellipsis and sd != rd:
            return False
    return True


def _stub_functions(topic: str):
    """(qualified name, FunctionDef) for every public function and method of the stub."""
    for node in _stub(topic).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and (
                    item.name == "__init__" or not item.name.startswith("_")
                ):
                    if any(getattr(d, "id", "") == "property" for d in item.decorator_list):
                        continue
                    yield f"{node.name}.{item.name}", item


@pytest.mark.parametrize("topic", TOPICS)
def test_stub_signatures_match_the_pure_twin(topic):
    py = importlib.import_module(f"wsfast.{topic}_py")
    checked = 0
    for qualname, fn in _stub_functions(topic):
        owner, _, attr = qualname.rpartition(".")
        target = getattr(getattr(py, owner), attr) if owner else getattr(py, attr)
        if attr == "__init__":
            target = getattr(py, owner)  # the class: its call signature
        assert _same(_stub_params(fn), _runtime_params(target)), (
            f"{topic}_c.pyi {qualname}: {_stub_params(fn)} != pure {_runtime_params(target)}"
        )
        checked += 1
    assert checked > 0
