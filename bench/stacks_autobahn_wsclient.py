#!/usr/bin/env python3
"""autobahn and websocket-client, patched with wsfast vs as they are: stack-level ratios.

    python bench/stacks_autobahn_wsclient.py                 # ~2-4 min on a quiet machine
    python bench/stacks_autobahn_wsclient.py --rounds 3 --only autobahn
    python bench/stacks_autobahn_wsclient.py --json out.json

Each case is run unpatched and patched in turn, in every round (the order
alternates from round to round), in one process, so noise on a busy machine hits
both alike.  Reported per case: the median time of each side and the median of
the per-round ratios (unpatched / patched: > 1 means faster patched).  Every
round checks that both sides delivered the same messages.

autobahn (what daphne and Django Channels run): a Twisted
``WebSocketServerProtocol`` after a real opening handshake, over autobahn's own
``FakeTransport``; ``dataReceived`` is fed masked client frames as the network
would deliver them.  Unpatched is autobahn's default (NVX when it was built,
else its pure-Python helpers: the header says which); ``AUTOBAHN_USE_NVX=0``
measures against the pure-Python helpers.

websocket-client: ``websocket.WebSocket`` over a scripted socket whose
``recv()`` returns up to 64 KiB at a time (as a socket would); messages
are received with ``recv()`` and sent with ``send()``/``send_binary()``.
Unpatched is its default install, without wsaccel (unmaintained, and not
built for current Pythons); if wsaccel is importable the header says so.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import importlib.util
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import wsfast

KEY = b"\x8a\x01\x7f\x33"
HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
READ = 1 << 16  # bytes per read: what Twisted's TCP transport reads at a time
MiB = 1 << 20


def text_payload(size: int) -> bytes:
    """``size`` bytes of valid UTF-8 text, mostly non-ASCII (1- to 4-byte code points)."""
    unit = "WebSocket grüße € 日本語 \U0001f680 ".encode()
    data = (unit * (size // len(unit) + 1))[:size]
    while True:  # cut back to a code-point boundary, then pad with ASCII
        try:
            data.decode()
            break
        except UnicodeDecodeError:
            data = data[:-1]
    return data + b"." * (size - len(data))


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- applying the patch ---------------------------------------------------------------


class Patch:
    """One stack's patch: on() and off(), through wsfast.patch() when it exists."""

    def __init__(self, stack: str, module: str) -> None:
        self.stack = stack
        self.integration = importlib.import_module(f"wsfast.integrations.{module}")
        self.saved: list[tuple[Any, str, Any]] = []

    def on(self) -> None:
        if hasattr(wsfast, "patch"):
            result = wsfast.patch(self.stack)[self.stack]
            if result.startswith("not accelerated"):
                sys.exit(f"{self.stack}: {result}")
            return
        for owner, name, replacement in self.integration.targets():
            self.saved.append((owner, name, vars(owner)[name]))
            setattr(owner, name, replacement)

    def off(self) -> None:
        if hasattr(wsfast, "unpatch"):
            wsfast.unpatch(self.stack)
        while self.saved:
            owner, name, original = self.saved.pop()
            setattr(owner, name, original)


# --- autobahn ---------------------------------------------------------------------------


def autobahn_cases() -> tuple[str, Patch, list[tuple[str, Callable[[], Any]]]]:
    import autobahn.websocket
    from autobahn.testutil import FakeTransport
    from autobahn.twisted.websocket import (
        WebSocketClientFactory,
        WebSocketClientProtocol,
        WebSocketServerFactory,
        WebSocketServerProtocol,
    )

    class Server(WebSocketServerProtocol):  # type: ignore[misc]
        def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
            self.received.append(len(payload))

    def server() -> Any:
        factory = WebSocketServerFactory()
        factory.setProtocolOptions(maxMessagePayloadSize=0, maxFramePayloadSize=0)
        proto = Server()
        proto.received = []
        proto.factory = factory
        proto.transport = FakeTransport()
        proto.connectionMade()
        proto.dataReceived(HANDSHAKE)
        assert proto.state == proto.STATE_OPEN
        return proto

    def receive(reads: list[bytes]) -> Callable[[], Any]:
        def run() -> Any:
            proto = server()
            start = time.perf_counter()
            for data in reads:
                proto.dataReceived(data)
            elapsed = time.perf_counter() - start
            return elapsed, proto.received

        return run

    def frame(opcode: int, payload: bytes) -> bytes:
        return wsfast.encode_frame(opcode, payload, mask_key=KEY)

    small = b"".join(frame(1, b"hello, world %03d" % (i % 1000)) for i in range(10_000))
    big_text = frame(1, text_payload(16 * MiB))
    binary_payload = bytes(range(256)) * (MiB // 256)
    binary = frame(2, binary_payload)

    def send_binary() -> Any:
        proto = WebSocketClientProtocol()
        proto.factory = WebSocketClientFactory("ws://localhost/")
        proto.transport = FakeTransport()
        proto._connectionMade()
        proto.state = proto.STATE_OPEN
        proto.websocket_version = 13
        proto.transport._written = b""
        start = time.perf_counter()
        proto.sendMessage(binary_payload, isBinary=True)
        elapsed = time.perf_counter() - start
        for call in (proto.autoPingPendingCall, proto.openHandshakeTimeoutCall):
            if call is not None:
                call.cancel()
        return elapsed, len(proto.transport._written)

    cases = [
        ("dataReceived: 10k text frames of 16 B (one read)", receive([small])),
        ("dataReceived: 10k text frames of 16 B (64 KiB reads)", receive(chunks(small, READ))),
        ("dataReceived: 1 MiB binary message (64 KiB reads)", receive(chunks(binary, READ))),
        ("dataReceived: 16 MiB text message (64 KiB reads)", receive(chunks(big_text, READ))),
        ("dataReceived: 16 MiB text message (one read)", receive([big_text])),
        ("client sendMessage: 1 MiB binary (masked)", send_binary),
    ]
    helpers = "NVX" if autobahn.websocket.USES_NVX else "pure-Python"
    header = f"autobahn {importlib.metadata.version('autobahn')} ({helpers} helpers unpatched)"
    return header, Patch("autobahn", "autobahn"), cases


# --- websocket-client -----------------------------------------------------------------------


def websocket_client_cases() -> tuple[str, Patch, list[tuple[str, Callable[[], Any]]]]:
    import websocket

    class Sock:
        def __init__(self, data: bytes = b"") -> None:
            self.data, self.pos, self.sent = memoryview(data), 0, 0

        def gettimeout(self) -> None:
            return None

        def recv(self, bufsize: int) -> bytes:
            chunk = bytes(self.data[self.pos : self.pos + min(bufsize, READ)])
            self.pos += len(chunk)
            return chunk

        def send(self, data: bytes) -> int:
            self.sent += len(data)
            return len(data)

    def connection(data: bytes = b"") -> Any:
        ws = websocket.WebSocket()
        ws.sock = Sock(data)
        ws.connected = True
        return ws

    def receive(stream: bytes, count: int) -> Callable[[], Any]:
        def run() -> Any:
            ws = connection(stream)
            start = time.perf_counter()
            got = [ws.recv() for _ in range(count)]
            elapsed = time.perf_counter() - start
            return elapsed, [len(m) for m in got]

        return run

    def send(messages: list[Any], binary: bool) -> Callable[[], Any]:
        def run() -> Any:
            ws = connection()
            start = time.perf_counter()
            for message in messages:
                if binary:
                    ws.send_binary(message)
                else:
                    ws.send(message)
            elapsed = time.perf_counter() - start
            return elapsed, ws.sock.sent

        return run

    small = b"".join(wsfast.encode_frame(1, b"hello, world %03d" % (i % 1000))
                     for i in range(10_000))
    text_1m = wsfast.encode_frame(1, text_payload(MiB))
    cases = [
        ("recv: 10k text messages of 16 B", receive(small, 10_000)),
        ("recv: 1 MiB text message", receive(text_1m, 1)),
        ("send: 10k text messages of 16 B", send(["hello, world!!!!"] * 10_000, False)),
        ("send: 1 MiB binary message", send([bytes(range(256)) * (MiB // 256)], True)),
        ("send: 1 MiB text message", send([text_payload(MiB).decode()], False)),
    ]
    accel = "wsaccel installed!" if importlib.util.find_spec("wsaccel") else "no wsaccel"
    version = importlib.metadata.version("websocket-client")
    return f"websocket-client {version} ({accel})", Patch("websocket-client",
                                                          "websocket_client"), cases


# --- running ------------------------------------------------------------------------------


def measure(patch: Patch, name: str, case: Callable[[], Any], rounds: int) -> dict[str, Any]:
    off_times, on_times, ratios = [], [], []
    for r in range(rounds):
        results = {}
        for side in (("off", "on") if r % 2 == 0 else ("on", "off")):
            patch.on() if side == "on" else patch.off()
            gc.collect()
            results[side] = case()
        patch.off()
        (t_off, out_off), (t_on, out_on) = results["off"], results["on"]
        if out_off != out_on:
            sys.exit(f"{name}: patched and unpatched results differ")
        off_times.append(t_off)
        on_times.append(t_on)
        ratios.append(t_off / t_on)
    row = {
        "case": name,
        "unpatched_ms": statistics.median(off_times) * 1e3,
        "patched_ms": statistics.median(on_times) * 1e3,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "rounds": rounds,
    }
    print(f"  {name:<55} {row['unpatched_ms']:10.2f} {row['patched_ms']:10.2f}"
          f" {row['ratio']:8.1f}x  ({row['ratio_min']:.1f}-{row['ratio_max']:.1f})", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per case")
    parser.add_argument("--only", choices=("autobahn", "websocket-client"))
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    print(f"wsfast {wsfast.__version__} ({wsfast.IMPLEMENTATION} twin, SIMD {wsfast.SIMD}), "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}; {args.rounds} rounds, median")
    rows = []
    for stack, build in (("autobahn", autobahn_cases),
                         ("websocket-client", websocket_client_cases)):
        if args.only and args.only != stack:
            continue
        try:
            header, patch, cases = build()
        except ImportError as exc:
            print(f"\n{stack}: not installed ({exc}), skipped")
            continue
        print(f"\n{header}\n  {'case':<55} {'unpatched':>10} {'patched':>10} {'ratio':>9}"
              f"\n  {'':<55} {'ms':>10} {'ms':>10}")
        for name, case in cases:
            rows.append({"stack": stack, **measure(patch, name, case, args.rounds)})
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
