"""pytest-benchmark: UTF-8 to ``str``, implementation x kind of text x size.

The implementations are the ones ``python -m wsfast bench --only text`` compares
(discovered by ``wsfast._bench.text``): wsfast ``decode_utf8`` (compiled, its
kernels at the other SIMD levels from 4 KiB, pure) against ``bytes.decode``; and
one 16 MiB TEXT message fed in 64 KiB chunks to ``MessageDecoder`` (``str`` data;
``bytes`` data with ``decode_text=False``) against ``bytes.decode`` of the payload
alone.  Each (row group, kind, size) is a benchmark group, so
``--benchmark-group-by=group`` (the default) prints every implementation side by
side.  Texts are fixed (``wsfast._bench.utf8.text``).
"""

from __future__ import annotations

import pytest

from wsfast._bench import load_twins, pytest_params, size_id, size_name
from wsfast._bench.text import KERNEL_ROWS_FROM, MESSAGE_SIZE, SIZES, Impl, discover, message_group
from wsfast._bench.utf8 import KINDS_OF_TEXT, text

pytest.importorskip("pytest_benchmark")

TWINS, TWIN_ERRORS = load_twins()
FOUND = discover(TWINS)


def _params(impls: list[Impl]) -> list[object]:
    return pytest_params(impls, [], TWIN_ERRORS.get("c", "no decode_utf8"))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", _params(FOUND.decode))
def test_decode(benchmark, impl: Impl, kind: str, size: int) -> None:  # type: ignore[no-untyped-def]
    """One ``bytes`` text to a ``str``."""
    _run_decode(benchmark, impl, kind, size)


@pytest.mark.parametrize("size", [s for s in SIZES if s >= KERNEL_ROWS_FROM], ids=size_id)
@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", [pytest.param(impl, id=impl.id) for impl in FOUND.levels])
def test_decode_kernels(benchmark, impl: Impl, kind: str, size: int) -> None:  # type: ignore[no-untyped-def]
    """The compiled twin's kernels at the other SIMD levels this CPU supports."""
    _run_decode(benchmark, impl, kind, size)


def _run_decode(benchmark, impl: Impl, kind: str, size: int) -> None:  # type: ignore[no-untyped-def]
    prepared = impl.check(text(kind, size))
    benchmark.group = f"decode {kind} {size_name(size)}"
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)


@pytest.mark.parametrize("kind", list(KINDS_OF_TEXT))
@pytest.mark.parametrize("impl", _params(FOUND.message))
def test_message(benchmark, impl: Impl, kind: str) -> None:  # type: ignore[no-untyped-def]
    """One 16 MiB TEXT message in 64 KiB feeds, against decoding its payload alone."""
    prepared = impl.check(text(kind, MESSAGE_SIZE))
    benchmark.group = f"{message_group(kind)} {size_name(MESSAGE_SIZE)}"
    benchmark.extra_info["bytes"] = MESSAGE_SIZE
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)
