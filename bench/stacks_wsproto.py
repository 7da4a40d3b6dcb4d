#!/usr/bin/env python3
"""wsproto, patched with wsfast vs unpatched, interleaved in one process.

    python bench/stacks_wsproto.py                 # 7 rounds, about a minute
    python bench/stacks_wsproto.py --rounds 3 --only small
    python bench/stacks_wsproto.py --deflate       # permessage-deflate negotiated too
    python bench/stacks_wsproto.py --json out.json

Workloads (``wsproto.connection.Connection``, as uvicorn, simple-websocket and
Flask-Sock drive it: ``receive_data`` then drain ``events()``):

- receive 10,000 masked 16 B and 125 B text frames (a server), fed one frame per
  ``receive_data`` (an interactive peer) and in 64 KiB reads (a busy one);
- receive one 1 MiB binary frame and one 16 MiB text frame (mixed ASCII and
  2-3 byte UTF-8), in 64 KiB reads: wsproto streams each read as an event (the
  1 MiB frame 20 times a round, on 20 connections, for a steadier time);
- send 10,000 16 B text frames as a client (masked, ``Connection.send``).

With ``--deflate`` every workload runs again on connections that negotiated
permessage-deflate (wsproto's own ``PerMessageDeflate``, what uvicorn offers by
default), the received messages compressed by a wsproto client.

Each round runs every workload unpatched and patched back to back (the order
alternating between rounds), so load on a busy machine hits both alike. Reported:
the median time of each side and the median of the per-round ratios
(unpatched / patched: > 1 means the patch is faster). Both sides must produce the
same events (checked every round, not timed).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import wsfast

FEED = 64 * 1024
SMALL = 10_000


@contextmanager
def patched() -> Iterator[None]:
    """wsproto patched with wsfast (through the registry once it exists)."""
    if hasattr(wsfast, "patch"):
        wsfast.patch("wsproto")
        try:
            yield
        finally:
            wsfast.unpatch("wsproto")
        return
    from wsfast.integrations import wsproto as integration

    saved = [(o, n, o.__dict__[n], r) for o, n, r in integration.targets()]
    for owner, name, _, replacement in saved:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original, _ in reversed(saved):
            setattr(owner, name, original)


def connection(client: bool, deflate: bool) -> Any:
    """An open wsproto Connection, with permessage-deflate agreed if asked."""
    from wsproto.connection import Connection, ConnectionType
    from wsproto.extensions import PerMessageDeflate

    extensions = []
    if deflate:
        ext = PerMessageDeflate()
        if client:
            ext.finalize("permessage-deflate")
        else:
            ext.accept("permessage-deflate")
        extensions.append(ext)
    return Connection(ConnectionType.CLIENT if client else ConnectionType.SERVER, extensions)


def client_frames(messages: list[Any], deflate: bool) -> list[bytes]:
    """The bytes a wsproto client sends for each message (masked, maybe compressed)."""
    conn = connection(True, deflate)
    return [conn.send(m) for m in messages]


def reads(data: bytes, size: int = FEED) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def receive(feeds: list[bytes], deflate: bool, repeat: int = 1) -> Callable[[], tuple[float, Any]]:
    """Time receiving ``feeds`` on a fresh connection; a short workload runs
    ``repeat`` times (the time reported is per run) to rise above the noise."""

    def run() -> tuple[float, Any]:
        conns = [connection(False, deflate) for _ in range(repeat)]
        count = size = 0
        gc.collect()
        start = time.perf_counter()
        for conn in conns:
            for piece in feeds:
                conn.receive_data(piece)
                for event in conn.events():
                    count += 1
                    size += len(event.data)
        return (time.perf_counter() - start) / repeat, (count, size)

    return run


def send(messages: list[Any], deflate: bool) -> Callable[[], tuple[float, Any]]:
    def run() -> tuple[float, Any]:
        conn = connection(True, deflate)
        total = 0
        gc.collect()
        start = time.perf_counter()
        for message in messages:
            total += len(conn.send(message))
        return time.perf_counter() - start, total

    return run


def workloads(deflate: bool, only: str | None) -> dict[str, Callable[[], tuple[float, Any]]]:
    from wsproto.events import BytesMessage, TextMessage

    tag = " +deflate" if deflate else ""
    out: dict[str, Callable[[], tuple[float, Any]]] = {}
    if only in (None, "small"):
        for size in (16, 125):
            frames = client_frames([TextMessage("x" * size)] * SMALL, deflate)
            out[f"recv 10k x {size} B, a frame per read{tag}"] = receive(frames, deflate)
            stream = reads(b"".join(frames))
            out[f"recv 10k x {size} B, 64 KiB reads{tag}"] = receive(stream, deflate)
    if only in (None, "big"):
        binary = bytes(range(256)) * 4096
        (frame,) = client_frames([BytesMessage(binary)], deflate)
        out[f"recv 1 MiB binary, 64 KiB reads{tag}"] = receive(reads(frame), deflate, 20)
        text = ("wsfast é ☃ " * (1 << 21))[: 1 << 24]
        (frame,) = client_frames([TextMessage(text)], deflate)
        out[f"recv 16 MiB text, 64 KiB reads{tag}"] = receive(reads(frame), deflate)
    if only in (None, "send"):
        out[f"send 10k x 16 B as a client{tag}"] = send([TextMessage("y" * 16)] * SMALL, deflate)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=["small", "big", "send"])
    parser.add_argument("--deflate", action="store_true", help="also with permessage-deflate")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()

    import wsproto

    cases = workloads(False, args.only)
    if args.deflate:
        cases.update(workloads(True, args.only))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for r in range(args.rounds):
        for name, run in cases.items():
            sides: dict[bool, tuple[float, Any]] = {}
            for accelerated in (False, True) if r % 2 == 0 else (True, False):
                if accelerated:
                    with patched():
                        sides[True] = run()
                else:
                    sides[False] = run()
            if sides[False][1] != sides[True][1]:
                sys.exit(f"{name}: patched and unpatched wsproto gave different events")
            times[name].append((sides[False][0], sides[True][0]))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(
        f"wsproto {wsproto.__version__}, wsfast {wsfast.__version__} "
        f"({wsfast.IMPLEMENTATION} twin, SIMD {wsfast.SIMD}), "
        f"Python {platform.python_version()}, {args.rounds} rounds"
    )
    width = max(map(len, times))
    print(f"{'workload':<{width}}  {'unpatched':>11}  {'patched':>11}  {'ratio':>6}")
    rows = []
    for name, pairs in times.items():
        before = statistics.median(a for a, _ in pairs)
        after = statistics.median(b for _, b in pairs)
        ratio = statistics.median(a / b for a, b in pairs)
        print(f"{name:<{width}}  {before * 1e3:>8.2f} ms  {after * 1e3:>8.2f} ms  {ratio:>5.2f}x")
        rows.append({"workload": name, "unpatched_s": before, "patched_s": after, "ratio": ratio})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"wsproto": wsproto.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
