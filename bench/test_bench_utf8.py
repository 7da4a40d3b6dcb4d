"""pytest-benchmark: UTF-8 validation (RFC 3629), implementation x kind of text x size.

The implementations are the ones ``python -m wsfast bench --only utf8`` compares
(discovered by ``wsfast._bench.utf8``): wsfast's compiled and pure twins,
``bytes.decode``, the ``codecs`` incremental decoder, and the validators of
wsaccel and autobahn when installed.  Each (row group, kind, size) is a
benchmark group, so ``--benchmark-group-by=group`` (the default) prints every
implementation side by side.  A library that is not installed shows up as a
skipped parameter with the reason.  Texts are fixed (``wsfast._bench.utf8.text``).
"""

from __future__ import annotations

import os

import pytest

from wsfast._bench import load_twins, size_name
from wsfast._bench.utf8 import FRAGMENT, KINDS_OF_TEXT, SIZES, Impl, discover, fragments, text

pytest.importorskip("pytest_benchmark")

TWINS, TWIN_ERRORS = load_twins()
FOUND = discover(TWINS)


def _params(impls: list[Impl]) -> list[object]:
    """One parameter per implementation; a skipped one per unavailable library."""
    params: list[object] = [pytest.param(impl, id=impl.id) for impl in impls]
    if not any(impl.kind == "wsfast-c" for impl in impls):
        reason = f"wsfast compiled twin: {TWIN_ERRORS.get('c', 'no UTF-8 functions')}"
        marks = pytest.mark.xfail(reason=reason, run=False, strict=True) if os.environ.get(
            "WSFAST_REQUIRE_EXTENSION") else pytest.mark.skip(reason=reason)
        params.insert(0, pytest.param(None, id="wsfast-c", marks=marks))
    for name, why in FOUND.unavailable:
        params.append(pytest.param(None, id=name.replace(" ", "-"),
                                   marks=pytest.mark.skip(reason=f"{name}: {why}")))
    return params


def _size_id(size: int) -> str:
    return size_name(size).replace(" ", "")


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", _params(FOUND.validate + FOUND.levels))
def test_validate(benchmark, impl: Impl, kind: str, size: int) -> None:  # type: ignore[no-untyped-def]
    """One-shot validation of a ``bytes`` text."""
    prepared = impl.check(text(kind, size))
    benchmark.group = f"validate {kind} {size_name(size)}"
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)


@pytest.mark.parametrize("size", [s for s in SIZES if s >= 4 * FRAGMENT], ids=_size_id)
@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", _params(FOUND.feed))
def test_feed_fragments(benchmark, impl: Impl, kind: str, size: int) -> None:  # type: ignore[no-untyped-def]
    """The same text in 1 KiB fragments: reset, one call per fragment, end check."""
    prepared = impl.check(fragments(text(kind, size)))
    benchmark.group = f"feed {kind} {FRAGMENT // 1024} KiB fragments {size_name(size)}"
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)
