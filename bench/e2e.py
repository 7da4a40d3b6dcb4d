#!/usr/bin/env python3
"""End-to-end benchmark: echo round trips over loopback against three servers.

    python bench/e2e.py                       # defaults: 8 clients, 16 B .. 1 MiB, ~1 min
    python bench/e2e.py --clients 1 --sizes 16,8192 --duration 1 --rounds 1
    python bench/e2e.py --json results.json

Servers, each in its own subprocess (so it has a core and a GIL of its own):

- ``wsfast``: ``examples/echo_server.py``, on the twin ``import wsfast`` picks
  (set ``WSFAST_NO_EXTENSIONS=1`` for the pure twin);
- ``websockets``: ``websockets.asyncio.server.serve`` with an echo handler;
- ``aiohttp``: ``aiohttp.web`` with a ``WebSocketResponse`` echo handler.

All three echo text as text and binary as binary, without compression, and are
measured with the same client (``examples/echo_client.py``), so the client's
cost is identical.  N clients run concurrently on one event loop; each sends a
message, waits for its echo, and repeats.  A cell (server x size) stops after
``--duration`` seconds or ``--count`` round trips, whichever comes first; with
``--rounds`` > 1 the servers are interleaved and the best round is kept.

Reported: round trips per second (all clients together), payload MB/s
(round trips x message size / s, 1 MB = 10**6 bytes; each byte crosses the
loopback twice) and the ratio to wsfast (> 1: faster than wsfast).
websockets and aiohttp are benchmark-only dependencies: servers that are not
installed are skipped.  Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

HOST = "127.0.0.1"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SERVERS = ("wsfast", "websockets", "aiohttp")
DEFAULT_SIZES = (16, 256, 8 * 1024, 1024 * 1024)
MAX_MESSAGE_SIZE = 64 * 1024 * 1024


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- the servers (each runs in a subprocess: bench/e2e.py --serve NAME) -------
# `--serve NAME --port N` also runs one alone, e.g. under scripts/autobahn.sh's
# harness for same-machine section 9 baselines.


async def serve_wsfast(port: int = 0) -> None:
    echo_server = load_example("echo_server")
    server = await echo_server.start_server(HOST, port, MAX_MESSAGE_SIZE)
    print("READY", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


async def serve_websockets(port: int = 0) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(
        echo, HOST, port, max_size=MAX_MESSAGE_SIZE, compression=None, ping_interval=None
    ) as server:
        print("READY", next(iter(server.sockets)).getsockname()[1], flush=True)
        await server.serve_forever()


async def serve_aiohttp(port: int = 0) -> None:
    from aiohttp import WSMsgType, web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_SIZE, compress=False)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    print("READY", runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


def available(name: str) -> bool:
    """Whether the library behind server ``name`` is installed."""
    return name == "wsfast" or importlib.util.find_spec(name) is not None


def library_version(name: str) -> str:
    if name == "wsfast":
        import wsfast

        simd = f", {wsfast.SIMD}" if wsfast.SIMD else ""
        return f"{wsfast.__version__} ({wsfast.IMPLEMENTATION}{simd})"
    from importlib.metadata import version

    return version(name)


class ServerProcess:
    """A server subprocess; ``port`` is known once it printed READY."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", name],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()  # blocks until READY (or exit)
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"server {name} did not start")
        self.port = int(line[1])

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the server has used so far; None off Linux."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the client side -----------------------------------------------------------


@dataclass
class Result:
    server: str
    size: int
    clients: int
    round_trips: int
    seconds: float
    #: CPU seconds the server process used during the timed loop (None off Linux).
    server_cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.round_trips / self.seconds

    @property
    def mbps(self) -> float:
        return self.rate * self.size / 1e6

    @property
    def cpu_per_rt(self) -> float | None:
        """Server CPU microseconds per round trip."""
        if self.server_cpu is None or not self.round_trips:
            return None
        return self.server_cpu / self.round_trips * 1e6


async def measure(
    echo_client: ModuleType,
    server: ServerProcess,
    size: int,
    clients: int,
    duration: float,
    count: int,
    text: bool,
) -> Result:
    """Run ``clients`` concurrent echo loops against one server; a Result."""
    payload: str | bytes = "x" * size if text else os.urandom(size)
    connections = [await echo_client.connect(HOST, server.port) for _ in range(clients)]
    send = [c.send_text if text else c.send_binary for c in connections]

    # Warm up and check the echo once per connection.
    for conn, send_one in zip(connections, send, strict=True):
        await send_one(payload)
        if await conn.recv() != payload:
            raise RuntimeError(f"{server.name} echoed something else")

    per_client = max(1, count // clients)
    loop = asyncio.get_running_loop()
    cpu_before = server.cpu_seconds()
    start = loop.time()
    deadline = start + duration

    async def loop_one(index: int) -> int:
        conn, send_one = connections[index], send[index]
        n = 0
        while n < per_client and loop.time() < deadline:
            await send_one(payload)
            await conn.recv()
            n += 1
        return n

    done = await asyncio.gather(*(loop_one(i) for i in range(clients)))
    elapsed = loop.time() - start
    cpu_after = server.cpu_seconds()
    await asyncio.gather(*(c.close() for c in connections))
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Result(server.name, size, clients, sum(done), elapsed, cpu)


def format_size(size: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def table(results: list[Result], servers: list[str]) -> str:
    """A Markdown table: one row per (size, server), ratios vs wsfast.

    Throughput ratio: > 1 is faster than wsfast.  CPU ratio: server CPU time
    per round trip relative to wsfast's; > 1 costs more than wsfast.
    """
    rows = [
        "| message | server | round trips/s | MB/s | vs wsfast | server CPU µs/round trip "
        "| vs wsfast |",
        "| ---: | :--- | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_cell = {(r.server, r.size): r for r in results}
    for size in sorted({r.size for r in results}):
        base = by_cell.get(("wsfast", size))
        for server in servers:
            r = by_cell.get((server, size))
            if r is None:
                continue
            ratio = f"{r.rate / base.rate:.2f}x" if base else "-"
            cpu, base_cpu = r.cpu_per_rt, base.cpu_per_rt if base else None
            cpu_text = f"{cpu:,.1f}" if cpu is not None else "-"
            cpu_ratio = f"{cpu / base_cpu:.2f}x" if cpu is not None and base_cpu else "-"
            rows.append(
                f"| {format_size(size)} | {server} | {r.rate:,.0f} | {r.mbps:,.1f} | {ratio} "
                f"| {cpu_text} | {cpu_ratio} |"
            )
    return "\n".join(rows)


async def run(args: argparse.Namespace) -> list[Result]:
    echo_client = load_example("echo_client")
    servers = [s for s in args.servers if available(s)]
    for skipped in set(args.servers) - set(servers):
        print(f"skipping {skipped}: not installed (pip install {skipped})", file=sys.stderr)
    procs = {name: ServerProcess(name) for name in servers}
    best: dict[tuple[str, int], Result] = {}
    try:
        # Warm-up, not reported: the first cells measured otherwise come out slow.
        for name in servers:
            await measure(
                echo_client,
                procs[name],
                256,
                args.clients,
                min(args.duration, 0.5),
                args.count,
                args.text,
            )
        for round_no in range(args.rounds):
            for size in args.sizes:
                # Large messages take longer per round trip: scale the count cap.
                count = max(args.clients, min(args.count, args.count * 1024 // max(size, 1024)))
                for name in servers:
                    result = await measure(
                        echo_client,
                        procs[name],
                        size,
                        args.clients,
                        args.duration,
                        count,
                        args.text,
                    )
                    key = (name, size)
                    if key not in best or result.rate > best[key].rate:
                        best[key] = result
                    print(
                        f"round {round_no + 1}/{args.rounds}  {format_size(size):>8}  "
                        f"{name:<10} {result.rate:>10,.0f} round trips/s",
                        file=sys.stderr,
                    )
    finally:
        for proc in procs.values():
            proc.stop()
    return [best[(name, size)] for size in args.sizes for name in servers if (name, size) in best]


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": model,
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="End-to-end echo benchmark: wsfast vs websockets vs aiohttp servers "
        "over loopback, with the same client."
    )
    parser.add_argument(
        "--serve", choices=SERVERS, help="run only this echo server (until SIGTERM/SIGINT)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="with --serve: the port (default: any free one)"
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        type=lambda s: [x for x in s.split(",") if x],
        help="comma-separated servers to run (default: %(default)s)",
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent connections (default %(default)s)"
    )
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        type=lambda s: [int(x) for x in s.split(",") if x],
        help="message sizes in bytes (default %(default)s)",
    )
    parser.add_argument(
        "--duration", type=float, default=2.0, help="seconds per cell at most (default %(default)s)"
    )
    parser.add_argument(
        "--count",
        type=int,
        default=200_000,
        help="round trips per cell at most, for messages up to 1 KiB; "
        "scaled down for larger ones (default %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="interleaved rounds; the best is kept (default %(default)s)",
    )
    parser.add_argument(
        "--text", action="store_true", help="send text messages (UTF-8 validated) instead of binary"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)

    if args.serve:
        serve = {"wsfast": serve_wsfast, "websockets": serve_websockets, "aiohttp": serve_aiohttp}[
            args.serve
        ]
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            asyncio.run(serve(args.port))
        except KeyboardInterrupt:
            pass
        return 0

    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    info = machine()
    versions = {name: library_version(name) for name in args.servers if available(name)}
    print(f"{info['python']} on {info['cpu']} ({info['cpus']} CPUs), {info['platform']}")
    print("servers: " + ", ".join(f"{n} {v}" for n, v in versions.items()))
    print(
        f"{args.clients} clients, {'text' if args.text else 'binary'} messages, "
        f"best of {args.rounds} round(s) of <= {args.duration} s per cell\n"
    )
    started = time.perf_counter()
    results = asyncio.run(run(args))
    print(table(results, list(versions)))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "machine": info,
                    "versions": versions,
                    "args": {
                        "clients": args.clients,
                        "duration": args.duration,
                        "count": args.count,
                        "rounds": args.rounds,
                        "text": args.text,
                    },
                    "results": [
                        asdict(r) | {"rate": r.rate, "mbps": r.mbps, "cpu_per_rt_us": r.cpu_per_rt}
                        for r in results
                    ],
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
