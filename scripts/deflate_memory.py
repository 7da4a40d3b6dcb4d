"""Memory per connection of permessage-deflate: wsfast's Inflater and Deflater.

    python scripts/deflate_memory.py                 # stdlib zlib, every wbits x memLevel
    python scripts/deflate_memory.py --rss           # also resident memory, every backend
                                                     # (a fresh interpreter per cell)

What one connection holds between messages, after 256 KiB of JSON-like text went
through each object (so that every lazily allocated buffer exists and its pages were
touched):

- an ``Inflater`` for the peer's messages: the backend's inflate state and window
  (2**wbits) and wsfast's copy of the last window of output (2**wbits, kept to go on
  after a BFINAL block), under context takeover; under the peer's
  no_context_takeover, nothing (both are dropped after every message);
- a ``Deflater`` for this endpoint's messages: the backend's deflate state, zlib's
  2**(wbits + 2) for the window and 2**(memLevel + 9) for the hash chains and
  pending buffer.

``tracemalloc`` sees what the stdlib zlib allocates (CPython gives zlib the raw
allocator, which it traces) and wsfast's own buffers, exactly; it does not see the
allocations of zlib-ng or ISA-L, hence ``--rss``: the growth of resident memory when
``--count`` objects are alive, divided by that count (4 KiB pages: an estimate).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from functools import partial

from wsfast._bench.deflate import json_text
from wsfast._pmd import Deflater, Inflater, available_backends

KIB = 1024
TEXT = json_text(256 * KIB, seed=3)
MESSAGES = [TEXT[i : i + 4 * KIB] for i in range(0, len(TEXT), 4 * KIB)]


def _payloads(bits: int, reset: bool = False) -> list[bytes]:
    d = Deflater(bits, reset, level=6, backend="zlib")
    return [d.compress(m) for m in MESSAGES]


def _used_inflater(bits: int, reset: bool, backend: str, payloads: list[bytes]) -> Inflater:
    inf = Inflater(bits, reset, backend=backend)
    for p in payloads:
        inf.feed(p, None, final=True)
    return inf


def _used_deflater(bits: int, mem_level: int, backend: str, level: int) -> Deflater:
    d = Deflater(bits, level=level, mem_level=mem_level, backend=backend)
    for m in MESSAGES:
        d.compress(m)
    return d


def traced(make: Callable[[], object], count: int = 20) -> float:
    """tracemalloc bytes per object still held by ``count`` objects from ``make``."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        keep = [make() for _ in range(count)]
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del keep
    return used / count


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _resident_cell(kind: str, name: str, bits: int, mem_level: int, count: int) -> None:
    """In a fresh process (see :func:`resident`): print the growth per object."""
    if kind == "inflater":
        payloads = _payloads(bits)
        make: Callable[[], object] = partial(_used_inflater, bits, False, name, payloads)
    else:
        make = partial(_used_deflater, bits, mem_level, name, 1)
    make()  # warm up: imports, caches, the allocator's first arenas
    gc.collect()
    base = _rss()
    keep = [make() for _ in range(count)]
    gc.collect()
    print((_rss() - base) / len(keep))


def resident(kind: str, name: str, bits: int, mem_level: int, count: int) -> float:
    """Growth of resident memory per object while ``count`` objects are alive, measured
    in a fresh interpreter (memory freed earlier in this one would hide the growth)."""
    out = subprocess.run(
        [sys.executable, __file__, "--cell", kind, name, str(bits), str(mem_level), str(count)],
        check=True, capture_output=True, text=True,
    ).stdout
    return float(out)


def _k(n: float) -> str:
    return f"{n / KIB:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rss", action="store_true", help="also resident memory, per backend")
    parser.add_argument("--count", type=int, default=100, help="objects alive for --rss")
    parser.add_argument("--cell", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        kind, name, bits, mem_level, count = args.cell
        _resident_cell(kind, name, int(bits), int(mem_level), int(count))
        return 0

    print("stdlib zlib (tracemalloc, KiB per connection, after 256 KiB of JSON-like text)")
    print()
    print("Inflater, peer's window bits:  context takeover / peer's no_context_takeover")
    for bits in range(8, 16):
        payloads, independent = _payloads(bits), _payloads(bits, True)
        kept = traced(partial(_used_inflater, bits, False, "zlib", payloads))
        reset = traced(partial(_used_inflater, bits, True, "zlib", independent))
        print(f"  {bits:2}: {_k(kept):>7} / {_k(reset):>5}")
    print()
    print("Deflater, level 1; rows: window bits, columns: memLevel 1-9")
    print("        " + "".join(f"{m:>7}" for m in range(1, 10)))
    for bits in range(8, 16):
        row = [traced(partial(_used_deflater, bits, m, "zlib", 1), 10) for m in range(1, 10)]
        print(f"  {bits:2}:  " + "".join(f"{_k(v):>7}" for v in row))
    if args.rss:
        print()
        print(f"resident memory per connection, KiB ({args.count} alive; 4 KiB pages)")
        print("  backend   Inflater 15   Inflater 12  Deflater 15/8  Deflater 12/5   Deflater 9/1")
        for name in available_backends():
            cells = [resident("inflater", name, bits, 8, args.count) for bits in (15, 12)]
            cells += [resident("deflater", name, bits, mem, args.count)
                      for bits, mem in ((15, 8), (12, 5), (9, 1))]
            print(f"  {name:8}" + "".join(f"{_k(c):>14}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
