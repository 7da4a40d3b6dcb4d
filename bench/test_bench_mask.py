"""pytest-benchmark: masking (RFC 6455 section 5.3), implementation x payload size.

The implementations are the ones ``python -m wsfast bench`` compares (discovered
by ``wsfast._bench.mask``): wsfast's compiled and pure twins, the maskers of the
installed WebSocket libraries, and copy / memcpy reference rows.  Each size is a
benchmark group, so ``--benchmark-group-by=group`` (the default) prints every
implementation of one size side by side.  A library that is not installed shows
up as a skipped parameter with the reason.  Payloads come from a fixed seed.
"""

from __future__ import annotations


import pytest

from wsfast._bench import SIZES, load_twins, pytest_params, size_id, size_name
from wsfast._bench.mask import KEY, Impl, discover, payload

pytest.importorskip("pytest_benchmark")

TWINS, TWIN_ERRORS = load_twins()
FOUND = discover(TWINS)


def _params(impls: list[Impl]) -> list[object]:
    return pytest_params(impls, FOUND.unavailable, TWIN_ERRORS.get("c", "no masking functions"))


_EXPECTED: dict[int, tuple[bytes, bytes]] = {}


def _expected(size: int) -> tuple[bytes, bytes]:
    """(payload, masked payload) of ``size`` bytes, computed once by the pure twin."""
    if size not in _EXPECTED:
        data = payload(size)
        _EXPECTED[size] = data, TWINS["py"]["mask"](data, KEY)  # type: ignore[index]
    return _EXPECTED[size]


def _run(benchmark, impl: Impl, size: int, group: str) -> None:  # type: ignore[no-untyped-def]
    data, masked = _expected(size)
    prepared = impl.check(data, KEY, masked)
    benchmark.group = f"{group} {size_name(size)}"
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["kind"] = impl.kind
    benchmark(prepared.func, *prepared.args)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("impl", _params(FOUND.mask))
def test_mask(benchmark, impl: Impl, size: int) -> None:  # type: ignore[no-untyped-def]
    """New masked bytes from a ``bytes`` payload."""
    _run(benchmark, impl, size, "mask")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("impl", _params(FOUND.inplace))
def test_mask_inplace(benchmark, impl: Impl, size: int) -> None:  # type: ignore[no-untyped-def]
    """Masking a preallocated ``bytearray`` in place."""
    _run(benchmark, impl, size, "mask_inplace")
