"""pytest-benchmark: permessage-deflate, wsfast against websockets and aiohttp.

    python -m pytest bench/test_bench_deflate.py                    # every group
    python -m pytest bench/test_bench_deflate.py -k "1KiB"          # one size
    python -m pytest bench/test_bench_deflate.py -k "inflate"

The rows are those of ``python -m wsfast bench --only deflate`` (see
``wsfast._bench.deflate``): per message size (1 KiB, 64 KiB, 1 MiB of JSON-like
text), one message inflated (``inflate``) or compressed (``deflate level 1``,
``deflate level 6``) per call, cycling through distinct messages with one
long-lived (de)compressor, so the time per call is the per-message cost with
context takeover.  wsfast's MessageDecoder and FrameEncoder run per twin, the compiled
one on every installed backend (stdlib zlib, zlib-ng, ISA-L), with the shared engine
alone as one more row; websockets and aiohttp (when installed) run on stdlib zlib; a
bare zlib call is the reference.  Every implementation's output is checked over one whole cycle
before it is timed.  Timings are never assertions.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from wsfast._bench import size_id, size_name
from wsfast._bench.deflate import LEVELS, SIZES, Impl, check, discover, workload

pytest.importorskip("pytest_benchmark")

FOUND = discover()
_SKIPS = [pytest.param(None, id=name.replace(" ", "-"),
                       marks=pytest.mark.skip(reason=f"{name}: {why}"))
          for name, why in FOUND.unavailable]


@functools.lru_cache(maxsize=1)
def _workload(size: int) -> Any:
    return workload(size)


def _run(benchmark: Any, impl: Impl | None, size: int, group: str, inflate: bool) -> None:
    assert impl is not None
    work = _workload(size)
    step = check(impl, work, inflate)  # AssertionError when the output is wrong
    benchmark.group = f"{group}, {size_name(size)}"
    benchmark.name = impl.label
    benchmark.extra_info.update(label=impl.label, kind=impl.kind, size=size)
    benchmark(step)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("impl", [pytest.param(i, id=i.id) for i in FOUND.inflate] + _SKIPS)
def test_inflate(benchmark: Any, impl: Impl | None, size: int) -> None:
    """One compressed message (stdlib zlib level 6) inflated per call."""
    _run(benchmark, impl, size, "inflate", True)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize(("level", "impl"), [
    pytest.param(level, impl, id=f"L{level}-{impl.id}")
    for level in LEVELS for impl in FOUND.deflate[level]
] + [pytest.param(0, p.values[0], id=p.id, marks=p.marks) for p in _SKIPS])
def test_deflate(benchmark: Any, level: int, impl: Impl | None, size: int) -> None:
    """One message compressed per call (sync flush, tail stripped)."""
    _run(benchmark, impl, size, f"deflate level {level}", False)
