"""Interoperability: the example server and client against the websockets library.

- ``examples/echo_server.py`` against the websockets client;
- ``examples/echo_client.py`` against a websockets server;
- the example server's opening-handshake checks (400 / 426) and its strictness
  on a violation, checked on raw TCP.

Loopback only (127.0.0.1, ephemeral ports), every test bounded by a timeout.
The examples are imported from the repository's ``examples/`` directory; wsfast
itself comes from the installed package.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

import wsfast

websockets = pytest.importorskip("websockets")
from websockets.asyncio.client import connect as ws_connect  # noqa: E402
from websockets.asyncio.server import ServerConnection  # noqa: E402
from websockets.asyncio.server import serve as ws_serve  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HOST = "127.0.0.1"
TIMEOUT = 10.0
BIG = 2 * 1024 * 1024
T = TypeVar("T")


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (once) as a module."""
    module_name = f"_wsfast_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


echo_server = load_example("echo_server")
echo_client = load_example("echo_client")


def run(test: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body on a fresh event loop, bounded by TIMEOUT."""

    async def bounded() -> T:
        return await asyncio.wait_for(test(), TIMEOUT)

    return asyncio.run(bounded())


@asynccontextmanager
async def example_server(**options: Any) -> AsyncIterator[int]:
    """The example echo server in this process, on an ephemeral port."""
    server = await echo_server.start_server(HOST, 0, **options)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        await echo_server.shutdown(server, timeout=2.0)


@asynccontextmanager
async def websockets_server() -> AsyncIterator[int]:
    """A websockets echo server; path /close-4001 closes, /ping pings first."""

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else "/"
        if path == "/close-4001":
            await ws.close(4001, "bye")
            return
        if path == "/ping":
            await asyncio.wait_for(await ws.ping(b"are you there"), 5)
            await ws.send("pong received")
        async for message in ws:
            await ws.send(message)

    async with ws_serve(
        handler, HOST, 0, max_size=None, compression=None, ping_interval=None
    ) as server:
        yield next(iter(server.sockets)).getsockname()[1]


# --- the example server, the websockets client ---------------------------------


def test_websockets_client_against_example_server() -> None:
    async def body() -> None:
        async with example_server() as port:
            async with ws_connect(
                f"ws://{HOST}:{port}/", max_size=None, compression=None, ping_interval=None
            ) as ws:
                await ws.send("Hello, κόσμε")
                assert await ws.recv() == "Hello, κόσμε"
                await ws.send(b"\x00\x01\xfe\xff")
                assert await ws.recv() == b"\x00\x01\xfe\xff"
                await ws.send("")
                assert await ws.recv() == ""
                # Fragmented: websockets sends an iterable as one message in several frames.
                await ws.send(["frag", "ments ", "κό", "σμε"])
                assert await ws.recv() == "fragments κόσμε"
                await ws.send([b"\x00" * 100, b"", b"\xff" * 70000])
                assert await ws.recv() == b"\x00" * 100 + b"\xff" * 70000
                big = os.urandom(BIG)
                await ws.send(big)
                assert await ws.recv() == big
                big_text = "é" * (BIG // 2)
                await ws.send(big_text)
                assert await ws.recv() == big_text
                latency = await asyncio.wait_for(await ws.ping(b"\x00binary\xff"), 5)
                assert latency >= 0
                await ws.close(4321, "done")
            assert ws.close_code == 4321  # the server echoed our code
            assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 4321

    run(body)


def test_example_server_many_messages_in_flight() -> None:
    async def body() -> None:
        async with example_server() as port:
            async with ws_connect(f"ws://{HOST}:{port}/", max_size=None) as ws:
                messages = [f"message {i}" * (i % 50) for i in range(500)]
                for message in messages:
                    await ws.send(message)
                assert [await ws.recv() for _ in messages] == messages

    run(body)


def test_example_server_deflate_offer() -> None:
    """The websockets client offers permessage-deflate: the server declines it while
    wsfast cannot compress (DEFLATE_AVAILABLE false) and runs it once it can; the
    echo is right either way.  With deflate=False it always declines."""

    async def body(deflate: bool) -> list[Any]:
        async with example_server(deflate=deflate) as port:
            async with ws_connect(
                f"ws://{HOST}:{port}/", compression="deflate", max_size=None
            ) as ws:
                text = "compressible " * 1000
                await ws.send(text)
                assert await ws.recv() == text
                await ws.send(["frag", "ments"])
                assert await ws.recv() == "fragments"
                data = os.urandom(70000)
                await ws.send(data)
                assert await ws.recv() == data
                return list(ws.protocol.extensions)

    assert echo_server.DEFLATE_AVAILABLE == echo_server.deflate_supported()
    extensions = run(lambda: body(True))
    assert len(extensions) == (1 if echo_server.DEFLATE_AVAILABLE else 0)
    assert run(lambda: body(False)) == []


# --- the example client, the websockets server ---------------------------------------


def test_example_client_against_websockets_server() -> None:
    async def body() -> None:
        async with websockets_server() as port:
            client = await echo_client.connect(HOST, port)
            await client.send_text("Hello, κόσμε")
            assert await client.recv() == "Hello, κόσμε"
            await client.send_binary(b"\x00\x01\xfe\xff")
            assert await client.recv() == b"\x00\x01\xfe\xff"
            await client.send_fragments(["frag", "ments ", "κό", "σμε"])
            assert await client.recv() == "fragments κόσμε"
            await client.send_fragments([b"ab", b"", b"cd"])
            assert await client.recv() == b"abcd"
            big = os.urandom(BIG)
            await client.send_binary(big)
            assert await client.recv() == big
            assert await client.ping(b"\x01\x02") >= 0
            await client.close()
            assert client.lost.done()  # the server closed TCP
            with pytest.raises(echo_client.ConnectionClosed):
                await client.send_text("too late")

    run(body)


def test_example_client_answers_server_ping() -> None:
    async def body() -> None:
        async with websockets_server() as port:
            async with await echo_client.connect(HOST, port, "/ping") as client:
                assert await client.recv() == "pong received"

    run(body)


def test_example_client_server_initiated_close() -> None:
    async def body() -> None:
        async with websockets_server() as port:
            client = await echo_client.connect(HOST, port, "/close-4001")
            with pytest.raises(echo_client.ConnectionClosed) as info:
                await client.recv()
            assert (info.value.code, info.value.reason) == (4001, "bye")
            await asyncio.wait_for(client.lost, 5)

    run(body)


def test_example_client_refuses_an_extension_it_did_not_offer() -> None:
    """RFC 6455 section 4.1: a response naming an extension the client did not offer
    fails the connection, even with the right Sec-WebSocket-Accept."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        key = next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        )
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {wsfast.accept_key(key)}\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            ).encode("ascii")
        )
        await writer.drain()
        await reader.read()
        writer.close()

    async def body() -> None:
        server = await asyncio.start_server(handle, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(echo_client.HandshakeError, match="extension"):
                await echo_client.connect(HOST, port)
        finally:
            server.close()
            await server.wait_closed()

    run(body)


def test_example_client_against_example_server() -> None:
    async def body() -> None:
        async with example_server() as port:
            async with await echo_client.connect(HOST, port) as client:
                for size in (0, 125, 126, 65535, 65536, BIG):
                    data = os.urandom(size)
                    await client.send_binary(data)
                    assert await client.recv() == data
                await client.send_fragments(["a", "b", "c"])
                assert await client.recv() == "abc"

    run(body)


# --- the example server on raw TCP: handshake errors and strictness ---------------------

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3
GOOD_HEADERS = {
    "Host": f"{HOST}",
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
}


def request(method: str = "GET", version: str = "HTTP/1.1", **changes: Any) -> bytes:
    """An opening handshake; ``changes`` replaces (or, with None, drops) headers."""
    headers = dict(GOOD_HEADERS)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    lines = [f"{method} / {version}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` on a new TCP connection; everything received until EOF."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(data)
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


def test_good_handshake_raw() -> None:
    async def body() -> bytes:
        async with example_server() as port:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request(Upgrade="WebSocket", Connection="keep-alive, Upgrade"))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            writer.close()
            return head

    head = run(body)
    assert head.startswith(b"HTTP/1.1 101 ")
    # RFC 6455 section 1.3's worked example.
    assert b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head
    assert b"Sec-WebSocket-Extensions" not in head  # none offered, none answered


@pytest.mark.parametrize("deflate", [True, False])
def test_handshake_raw_with_deflate_offers(deflate: bool) -> None:
    """Two header lines of offers, the first malformed: the server answers the
    second, or, while it cannot compress (or with deflate=False), nothing."""
    offers = request(Sec_WebSocket_Extensions="permessage-deflate; x=1").replace(
        b"\r\n\r\n",
        b"\r\nSec-WebSocket-Extensions: x-foo, permessage-deflate; client_max_window_bits\r\n\r\n",
    )

    async def body() -> bytes:
        async with example_server(deflate=deflate) as port:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(offers)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            writer.close()
            return head

    head = run(body)
    assert head.startswith(b"HTTP/1.1 101 ")
    if deflate and echo_server.DEFLATE_AVAILABLE:
        assert b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n" in head
    else:
        assert b"Sec-WebSocket-Extensions" not in head


@pytest.mark.parametrize(
    "name, data, status",
    [
        ("post", request("POST"), b"400"),
        ("http-1.0", request(version="HTTP/1.0"), b"400"),
        ("no-upgrade", request(Upgrade=None), b"400"),
        ("upgrade-h2c", request(Upgrade="h2c"), b"400"),
        ("no-connection-upgrade", request(Connection="keep-alive"), b"400"),
        ("no-host", request(Host=None), b"400"),
        ("no-key", request(Sec_WebSocket_Key=None), b"400"),
        ("key-not-base64", request(Sec_WebSocket_Key="not base64 at all!!!!!!!"), b"400"),
        ("key-15-bytes", request(Sec_WebSocket_Key="AAAAAAAAAAAAAAAAAAAA"), b"400"),
        # decodes to 16 bytes only when the pad bits of the last character are ignored
        ("key-non-canonical", request(Sec_WebSocket_Key="dGhlIHNhbXBsZSBub25jZR=="), b"400"),
        ("key-urlsafe-alphabet", request(Sec_WebSocket_Key="-GhlIHNhbXBsZSBub25jZQ=="), b"400"),
        ("version-8", request(Sec_WebSocket_Version="8"), b"426"),
        ("no-version", request(Sec_WebSocket_Version=None), b"426"),
        ("plain-http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
        ("garbage", b"\x16\x03\x01\x02\x00\r\n\r\n", b"400"),
        ("head-too-large", b"GET / HTTP/1.1\r\nX: " + b"a" * 70000, b"400"),
    ],
)
def test_bad_handshake_is_refused(name: str, data: bytes, status: bytes) -> None:
    async def body() -> bytes:
        async with example_server() as port:
            return await raw_exchange(port, data)

    response = run(body)
    assert response.startswith(b"HTTP/1.1 " + status + b" "), (name, response[:80])
    if status == b"426":
        assert b"\r\nSec-WebSocket-Version: 13\r\n" in response


def test_handshake_path_when_the_codec_can_deflate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's negotiation path as it will run once MessageDecoder and
    FrameEncoder take deflate=: stand-ins record what they are built with."""
    built: list[tuple[str, Any]] = []

    def recording(cls: Any, name: str) -> Callable[..., Any]:
        def make(*args: Any, deflate: Any = None, **kwargs: Any) -> Any:
            built.append((name, deflate))
            return cls(*args, **kwargs)

        return make

    monkeypatch.setattr(echo_server, "DEFLATE_AVAILABLE", True)
    monkeypatch.setattr(wsfast, "MessageDecoder", recording(wsfast.MessageDecoder, "decoder"))
    monkeypatch.setattr(wsfast, "FrameEncoder", recording(wsfast.FrameEncoder, "encoder"))
    offers = "permessage-deflate; server_max_window_bits=08, permessage-deflate; client_max_window_bits"

    async def body() -> bytes:
        async with example_server(max_message_size=1000) as port:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request(Sec_WebSocket_Extensions=offers))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            writer.close()
            return head

    head = run(body)
    assert b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n" in head
    agreed = wsfast.PerMessageDeflate()
    assert ("decoder", agreed) in built and ("encoder", agreed) in built


def frames_after_handshake(response: bytes) -> list[wsfast.Frame]:
    """The frames a server sent after its 101 response."""
    head, _, rest = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    return wsfast.FrameDecoder(client=True).feed(rest)


@pytest.mark.parametrize(
    "name, bad, code",
    [
        ("unmasked-frame", wsfast.encode_frame(wsfast.Opcode.TEXT, b"x"), 1002),
        ("reserved-opcode", b"\x83\x80" + b"\x00" * 4, 1002),
        ("rsv1-without-extension", b"\xc1\x80" + b"\x00" * 4, 1002),
        ("invalid-utf8", wsfast.encode_frame(1, b"\xce\xba\xed\xa0\x80", mask_key=b"abcd"), 1007),
        ("close-code-1006", wsfast.encode_frame(8, b"\x03\xee", mask_key=b"abcd"), 1002),
    ],
)
def test_violation_handles_earlier_messages_first(name: str, bad: bytes, code: int) -> None:
    """A text message and a ping in the same read as the bad frame are answered first."""
    key = b"\x01\x02\x03\x04"
    before = wsfast.encode_frame(1, b"first", mask_key=key) + wsfast.encode_frame(
        9, b"ping!", mask_key=key
    )

    async def body() -> bytes:
        async with example_server() as port:
            return await raw_exchange(port, request() + before + bad)

    frames = frames_after_handshake(run(body))
    assert [(f.opcode, f.payload) for f in frames] == [
        (wsfast.Opcode.TEXT, b"first"),
        (wsfast.Opcode.PONG, b"ping!"),
        (wsfast.Opcode.CLOSE, wsfast.encode_close(code)),
    ], name


def test_close_is_echoed_and_later_frames_ignored() -> None:
    key = b"\x0a\x0b\x0c\x0d"
    frames_in = (
        wsfast.encode_frame(8, b"", mask_key=key)
        + wsfast.encode_frame(1, b"after close", mask_key=key)
        + wsfast.encode_frame(9, b"", mask_key=key)
    )

    async def body() -> bytes:
        async with example_server() as port:
            return await raw_exchange(port, request() + frames_in)

    frames = frames_after_handshake(run(body))
    assert [(f.opcode, f.payload) for f in frames] == [(wsfast.Opcode.CLOSE, b"")]


def test_message_too_big_closes_with_1009() -> None:
    async def body() -> None:
        async with example_server(max_message_size=1000) as port:
            client = await echo_client.connect(HOST, port)
            await client.send_binary(b"x" * 1000)
            assert await client.recv() == b"x" * 1000
            await client.send_binary(b"x" * 1001)
            with pytest.raises(echo_client.ConnectionClosed) as info:
                await client.recv()
            assert info.value.code == 1009
            await asyncio.wait_for(client.lost, 5)

    run(body)


def test_server_reports_the_twin_it_runs() -> None:
    """scripts/autobahn.sh names its reports after what the example server
    prints for --implementation, so the label is the twin the server runs."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "echo_server.py"), "--implementation"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=EXAMPLES.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == wsfast.IMPLEMENTATION
