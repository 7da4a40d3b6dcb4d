#!/usr/bin/env python3
"""Stack-level benchmark: each WebSocket stack patched with wsfast vs as it is.

    python bench/stacks.py                     # every stack with workloads, 9 rounds
    python bench/stacks.py --stack websockets --rounds 5 --json out.json
    python bench/stacks.py --quick             # 3 rounds, a smoke test

The workloads come from each integration module (``workloads()`` in
``wsfast/integrations/<stack>.py``) and drive exactly the objects that
``wsfast.patch()`` replaces, through the stack's public API (e.g. websockets'
``Protocol.receive_data`` + ``events_received``).  In every round each workload
is timed unpatched and patched, one right after the other, in alternating
order, in this one process; the ratio of each round is unpatched time /
patched time (> 1: wsfast is faster).  Reported: the median time of each side
and the median ratio over the rounds, with its range.  Timings are noisy on a
shared machine: compare ratios measured in one run, never absolute times
across runs.

``--uvicorn`` adds an end-to-end row: an echo app under uvicorn (its default
websockets-sansio mode) on loopback, started as it is and through
``python -m wsfast run``, driven by one client doing echo round trips of small
text messages.  Reported: the server's CPU time per round trip (user + system,
from ``/proc``; Linux only), which the client's work and the machine's other
load do not enter, and its ratio.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import wsfast
from wsfast import integrations


def _time(setup: Callable[[], Callable[[], object]], repeat: int) -> float:
    """Best of ``repeat`` runs of a fresh ``setup()``'s callable, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        run = setup()
        gc.disable()  # no collection inside a timed run (both sides alike)
        try:
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        best = min(best, elapsed)
    return best


def _stack_module(stack: str) -> Any:
    try:
        return importlib.import_module(integrations._MODULES[stack])
    except ModuleNotFoundError:
        return None


def bench_stack(stack: str, rounds: int, repeat: int) -> list[dict[str, Any]]:
    """Every workload of ``stack``, patched vs unpatched, interleaved."""
    module = _stack_module(stack)
    if module is None or not hasattr(module, "workloads"):
        print(f"{stack}: no workloads (no integration yet)", file=sys.stderr)
        return []
    integrations.unpatch(stack)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stack patch() declines is reported, not timed
        try:
            description = integrations.patch(stack)[stack]
        except RuntimeWarning as exc:
            print(f"{stack}: not benchmarked: {exc}", file=sys.stderr)
            return []
    integrations.unpatch(stack)
    print(f"{stack}: {description}", file=sys.stderr)
    cases = module.workloads()
    times: dict[str, dict[str, list[float]]] = {
        name: {"unpatched": [], "patched": []} for name, _ in cases}
    for r in range(rounds):
        for name, setup in cases:
            order = ("unpatched", "patched") if r % 2 == 0 else ("patched", "unpatched")
            for state in order:
                if state == "patched":
                    integrations.patch(stack)
                try:
                    times[name][state].append(_time(setup, repeat))
                finally:
                    integrations.unpatch(stack)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr)
    rows = []
    for name, _ in cases:
        before, after = times[name]["unpatched"], times[name]["patched"]
        ratios = sorted(b / a for b, a in zip(before, after, strict=True))
        rows.append({
            "stack": stack, "workload": name,
            "unit": "ms", "unpatched": statistics.median(before) * 1e3,
            "patched": statistics.median(after) * 1e3,
            "ratio": statistics.median(ratios), "ratio_min": ratios[0], "ratio_max": ratios[-1],
        })
    return rows


ECHO_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text"),
                    "bytes": message.get("bytes")})
"""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc)."""
    import os

    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_uvicorn(rounds: int, trips: int, size: int) -> list[dict[str, Any]]:
    """Server CPU per echo round trip, uvicorn as it is vs under ``wsfast run``."""
    import os
    import signal
    import socket
    import subprocess
    import tempfile

    from websockets.sync.client import connect

    message = "x" * size
    cpu: dict[str, list[float]] = {"unpatched": [], "patched": []}
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "echo_app.py"), "w", encoding="utf-8") as f:
            f.write(ECHO_APP)
        for r in range(rounds):
            order = ("unpatched", "patched") if r % 2 == 0 else ("patched", "unpatched")
            for state in order:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", 0))
                    port = sock.getsockname()[1]
                runner = []
                if state == "patched":
                    runner = ["-m", "wsfast", "run", "--stacks", "websockets"]
                server = subprocess.Popen(
                    [sys.executable, *runner, "-m", "uvicorn", "echo_app:app", "--host",
                     "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                    cwd=tmp, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                    start_new_session=True,
                )
                try:
                    deadline = time.monotonic() + 30
                    while True:
                        try:
                            ws = connect(f"ws://127.0.0.1:{port}/", compression=None)
                            break
                        except OSError:
                            if time.monotonic() > deadline or server.poll() is not None:
                                raise
                            time.sleep(0.1)
                    with ws:
                        for _ in range(100):  # warm up
                            ws.send(message)
                            ws.recv()
                        before = _cpu_seconds(server.pid)
                        for _ in range(trips):
                            ws.send(message)
                            ws.recv()
                        cpu[state].append((_cpu_seconds(server.pid) - before) / trips)
                finally:
                    os.killpg(server.pid, signal.SIGINT)
                    server.wait(timeout=30)
            print(f"  uvicorn round {r + 1}/{rounds} done", file=sys.stderr)
    ratios = sorted(b / a for b, a in zip(cpu["unpatched"], cpu["patched"], strict=True))
    return [{
        "stack": "uvicorn", "workload": f"echo {size} B text, server CPU per round trip",
        "unit": "us", "unpatched": statistics.median(cpu["unpatched"]) * 1e6,
        "patched": statistics.median(cpu["patched"]) * 1e6,
        "ratio": statistics.median(ratios), "ratio_min": ratios[0], "ratio_max": ratios[-1],
    }]


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows: times, and the ratio with its range."""
    width = max([len(r["workload"]) for r in rows] + [8])
    lines = [f"| {'stack':<10} | {'workload':<{width}} |     unpatched |       patched | "
             "speed-up (range) |",
             f"|{'-' * 12}|{'-' * (width + 2)}|--------------:|--------------:|"
             f"-----------------:|"]
    for r in rows:
        unit = r.get("unit", "ms")
        lines.append(
            f"| {r['stack']:<10} | {r['workload']:<{width}} | {r['unpatched']:10.2f} {unit} | "
            f"{r['patched']:10.2f} {unit} | {r['ratio']:5.2f}x ({r['ratio_min']:.2f}-"
            f"{r['ratio_max']:.2f}) |")
    return "\n".join(lines)


def print_header() -> None:
    """What is measured, on stderr: wsfast, its twin and kernels, the Python."""
    print(f"wsfast {wsfast.__version__} ({wsfast.IMPLEMENTATION} twin, SIMD {wsfast.SIMD}), "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}", file=sys.stderr)


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> int:
    """Print the table of ``rows`` and write them to ``args.json`` if asked;
    the exit status (1: nothing was measured)."""
    if not rows:
        print("nothing to benchmark", file=sys.stderr)
        return 1
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"wsfast": wsfast.__version__, "implementation": wsfast.IMPLEMENTATION,
                       "simd": wsfast.SIMD, "python": platform.python_version(),
                       "rounds": args.rounds, "repeat": args.repeat, "rows": rows}, f, indent=2)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", action="append", choices=integrations.STACKS,
                        help="benchmark this stack (may be repeated; default: all)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per cell and round, the best is kept (default 3)")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1 run")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--uvicorn", action="store_true",
                        help="add the uvicorn echo row (server CPU per round trip)")
    parser.add_argument("--trips", type=int, default=20_000,
                        help="round trips per uvicorn cell (default 20000)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.repeat = 3, 1
    print_header()
    rows = []
    for stack in args.stack or integrations.STACKS:
        rows += bench_stack(stack, args.rounds, args.repeat)
    if args.uvicorn:
        rows += bench_uvicorn(min(args.rounds, 5), args.trips, 16)
    return report(rows, args)


if __name__ == "__main__":
    sys.exit(main())
