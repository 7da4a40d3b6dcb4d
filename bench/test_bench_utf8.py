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


import pytest

from wsfast._bench import load_twins, pytest_params, size_id, size_name
from wsfast._bench.utf8 import (
    FRAGMENT,
    FRAGMENTS,
    KINDS_OF_TEXT,
    SIZES,
    Impl,
    discover,
    fragments,
    text,
)

pytest.importorskip("pytest_benchmark")

TWINS, TWIN_ERRORS = load_twins()
FOUND = discover(TWINS)


def _params(impls: list[Impl]) -> list[object]:
    return pytest_params(impls, FOUND.unavailable, TWIN_ERRORS.get("c", "no UTF-8 functions"))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", _params(FOUND.validate + FOUND.levels))
def test_validate(benchmark, impl: Impl, kind: str, size: int) -> None:  # type: ignore[no-untyped-def]
    """One-shot validation of a ``bytes`` text."""
    prepared = impl.check(text(kind, size))
    benchmark.group = f"validate {kind} {size_name(size)}"
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)


@pytest.mark.parametrize(("size", "fragment"),
                         [pytest.param(s, f, id=f"{size_id(s)}-{size_id(f)}-fragments")
                          for s in SIZES for f in FRAGMENTS if s >= 4 * f])
@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", _params(FOUND.feed + FOUND.one_shot))
def test_feed_fragments(benchmark, impl: Impl, kind: str, size: int, fragment: int) -> None:  # type: ignore[no-untyped-def]
    """The same text in fragments: reset, one call per fragment, end check (the
    one-shot row validates the whole text: the reference, from 4 KiB fragments)."""
    if impl is not None and impl.kind == "ref" and fragment == FRAGMENT:
        pytest.skip("the one-shot reference row starts at 4 KiB fragments")
    prepared = impl.check(fragments(text(kind, size), fragment))
    benchmark.group = f"feed {kind} {fragment // 1024} KiB fragments {size_name(size)}"
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)
