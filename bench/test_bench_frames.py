"""pytest-benchmark: frames and messages, wsfast's twins against the libraries users have.

    python -m pytest bench/test_bench_frames.py                    # every group
    python -m pytest bench/test_bench_frames.py -k "16B"           # one size
    python -m pytest bench/test_bench_frames.py -k "not MiB" --benchmark-disable-gc

The rows are those of ``python -m wsfast bench --only frames`` (see
``wsfast._bench.frames`` for what each implementation's call includes): decode
10,000 masked TEXT frames of 16 B and 125 B into messages and into frames,
one masked 1 MiB BINARY and one 16 MiB TEXT frame into a message (all fed in
64 KiB chunks), and encode 10,000 TEXT frames masked (client) and unmasked
(server).  Each test is one implementation on one workload; the benchmark group
is the workload, so pytest-benchmark prints the implementations side by side,
with every column's ratio to the fastest row in parentheses.  One call
decodes or encodes the whole workload: messages (frames) per second are
``extra_info["items"]`` times the OPS column; ``extra_info["nbytes"]`` has the
wire bytes of a call, for GB/s.

Inputs come from fixed seeds.  Every implementation's result is checked once
before it is timed, so a wrongly discovered or broken parser cannot report a
time.  Libraries that are not installed (websockets, wsproto, aiohttp) are
skipped with one line each.  Timings are never assertions.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from wsfast._bench import frames, load_twins, size_name

TWINS, TWIN_ERRORS = load_twins()
FOUND = frames.discover(TWINS)
IMPLS = {"messages": FOUND.messages, "frames": FOUND.frames, "large": FOUND.large,
         "encode": FOUND.encode}
SIZES = frames.SMALL + tuple(size for size, _ in frames.LARGE)

#: Every row group, in report order.
SPECS = list(frames.workloads(SIZES))


def _impl_id(impl: frames.Impl) -> str:
    if impl.kind in ("wsfast-c", "wsfast-py"):
        return impl.kind
    return impl.label.split()[0] + ("-c" if impl.kind == "lib-c" else "")


@functools.lru_cache(maxsize=1)
def _workload(index: int) -> frames.Workload:
    """The workload of SPECS[index], built once; only the last one is kept (the
    tests of a workload run one after the other)."""
    return SPECS[index].build()


CASES = [
    pytest.param(index, impl, id=f"{spec.name}-{_impl_id(impl)}")
    for index, spec in enumerate(SPECS)
    for impl in IMPLS[spec.kind]
]


@pytest.mark.parametrize(("index", "impl"), CASES)
def test_frames(benchmark: Any, index: int, impl: frames.Impl) -> None:
    work = _workload(index)
    prepared = impl.check(work)  # raises AssertionError when the result is wrong
    benchmark.group = f"{work.group}, {size_name(work.size)}"
    benchmark.name = impl.label
    benchmark.extra_info.update(
        label=impl.label,
        kind=impl.kind,
        nbytes=work.nbytes,
        items=len(work.expected),
        size=work.size,
    )
    benchmark(prepared.func, *prepared.args)


_UNAVAILABLE = list(FOUND.unavailable)
if "c" in TWIN_ERRORS:
    _UNAVAILABLE.insert(0, ("wsfast compiled twin", TWIN_ERRORS["c"]))

if _UNAVAILABLE:

    @pytest.mark.parametrize(("name", "reason"), _UNAVAILABLE,
                             ids=[name for name, _ in _UNAVAILABLE])
    def test_unavailable(name: str, reason: str) -> None:
        """One skip line per implementation left out of the comparison."""
        pytest.skip(f"{name}: {reason}")
