#!/usr/bin/env python3
"""wsproto, patched with wsfast vs unpatched, interleaved in one process.

    python bench/stacks_wsproto.py                 # 7 rounds, about a minute
    python bench/stacks_wsproto.py --rounds 3 --only small
    python bench/stacks_wsproto.py --deflate       # permessage-deflate negotiated too
    python bench/stacks_wsproto.py --json out.json
    python bench/stacks_wsproto.py --uvicorn        # + echo through uvicorn --ws wsproto

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

With ``--uvicorn`` (uvicorn and websockets installed): two uvicorn servers with
``--ws wsproto`` and an echo app run in subprocesses, one patched; 4 websockets
clients make 16 B text round trips with each, with and without
permessage-deflate (websockets offers it by default and uvicorn accepts it).
Reported: the server process's CPU time per round trip.

Each round runs every workload unpatched and patched back to back (the order
alternating between rounds), so load on a busy machine hits both alike. Reported:
the median time of each side and the median of the per-round ratios
(unpatched / patched: > 1 means the patch is faster). Both sides must produce the
same events (checked every round, not timed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import subprocess
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


def patch() -> Callable[[], None]:
    """Patch wsproto with wsfast (through the registry once it exists); the undo."""
    if hasattr(wsfast, "patch"):
        wsfast.patch("wsproto")
        return lambda: wsfast.unpatch("wsproto")
    from wsfast.integrations import wsproto as integration

    saved = [(o, n, o.__dict__[n], r) for o, n, r in integration.targets()]
    for owner, name, _, replacement in saved:
        setattr(owner, name, replacement)

    def undo() -> None:
        for owner, name, original, _ in reversed(saved):
            setattr(owner, name, original)

    return undo


@contextmanager
def patched() -> Iterator[None]:
    """wsproto patched with wsfast inside the block."""
    undo = patch()
    try:
        yield
    finally:
        undo()


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


ECHO_CPU = "\x00cpu?"  # asks the echo server for its CPU time so far


def serve(port: int, accelerated: bool) -> None:
    """An echo server: uvicorn --ws wsproto, in this process (``--serve``)."""
    import uvicorn

    if accelerated:
        patch()  # for the life of the server
        from wsproto import connection

        assert connection.FrameProtocol.__module__ == "wsfast.integrations.wsproto"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text == ECHO_CPU:
                text = repr(time.process_time())
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})

    uvicorn.run(app, host="127.0.0.1", port=port, ws="wsproto", log_level="warning", lifespan="off")


class EchoServer:
    """A ``serve`` subprocess on a free loopback port."""

    def __init__(self, accelerated: bool) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        command = [sys.executable, __file__, "--serve", str(self.port)]
        self.process = subprocess.Popen(command + (["--patched"] if accelerated else []))
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the echo server did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


def echo(server: EchoServer, deflate: bool, clients: int = 4, trips: int = 2500) -> float:
    """Server CPU seconds per round trip of ``clients`` x ``trips`` 16 B messages."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{server.port}/"
    compression = "deflate" if deflate else None

    async def cpu() -> float:
        async with connect(url, compression=compression) as ws:
            await ws.send(ECHO_CPU)
            return float(await ws.recv())

    async def client() -> None:
        async with connect(url, compression=compression) as ws:
            for _ in range(trips):
                await ws.send("0123456789abcdef")
                await ws.recv()

    async def measure() -> float:
        before = await cpu()
        await asyncio.gather(*(client() for _ in range(clients)))
        return (await cpu() - before) / (clients * trips)

    return asyncio.run(measure())


def uvicorn_rows(rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Server CPU per round trip, (unpatched, patched) per round."""
    servers = {accelerated: EchoServer(accelerated) for accelerated in (False, True)}
    rows: dict[str, list[tuple[float, float]]] = {}
    try:
        for deflate in (False, True):
            for server in servers.values():
                echo(server, deflate, clients=1, trips=200)  # warm up
            name = "uvicorn --ws wsproto echo 16 B, server CPU/trip"
            name += " +deflate" if deflate else ""
            rows[name] = []
            for r in range(rounds):
                sides = {}
                for accelerated in (False, True) if r % 2 == 0 else (True, False):
                    sides[accelerated] = echo(servers[accelerated], deflate)
                rows[name].append((sides[False], sides[True]))
                print(f"{name}: round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        for server in servers.values():
            server.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=["small", "big", "send"])
    parser.add_argument("--deflate", action="store_true", help="also with permessage-deflate")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--uvicorn", action="store_true", help="also echo through uvicorn")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--patched", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.patched)
        return

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
    if args.uvicorn:
        try:
            import uvicorn  # noqa: F401
            import websockets  # noqa: F401
        except ImportError as exc:
            print(f"--uvicorn skipped: {exc}", file=sys.stderr)
        else:
            times.update(uvicorn_rows(args.rounds))

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
        unit, scale = ("us", 1e6) if name.startswith("uvicorn") else ("ms", 1e3)
        print(
            f"{name:<{width}}  {before * scale:>8.2f} {unit}  {after * scale:>8.2f} {unit}"
            f"  {ratio:>5.2f}x"
        )
        rows.append({"workload": name, "unpatched_s": before, "patched_s": after, "ratio": ratio})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"wsproto": wsproto.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
