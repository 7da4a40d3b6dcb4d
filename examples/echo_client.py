#!/usr/bin/env python3
"""An asyncio WebSocket client on wsfast (RFC 6455), standard library only.

As a program, it sends a few messages to an echo server and prints the echoes::

    python examples/echo_client.py --port 9001 hello "second message"

As a library::

    async with await connect("127.0.0.1", 9001) as ws:
        await ws.send_text("hello")
        print(await ws.recv())          # "hello" (str for text, bytes for binary)
        print(await ws.ping(b"x"))      # round-trip time in seconds

The client masks every frame (``FrameEncoder(client=True)``), checks that frames
from the server are unmasked (``MessageDecoder(client=True)``), answers pings,
and runs the closing handshake: it waits for the server to close TCP first.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
from collections.abc import Iterable
from types import TracebackType

import wsfast
from wsfast import Opcode

#: Largest response head we read during the handshake.
MAX_HEAD = 16 * 1024
#: Received messages buffered before we stop reading from the server.
MAX_QUEUE = 64
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024


class HandshakeError(Exception):
    """The server did not accept the WebSocket opening handshake."""


class ConnectionClosed(Exception):
    """The connection is closed; ``code`` and ``reason`` are those of the CLOSE received.

    ``code`` is 1005 when the CLOSE had no code, 1006 when there was no CLOSE at all.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason


class Client(asyncio.Protocol):
    """A WebSocket connection to a server; create it with :func:`connect`."""

    def __init__(self, request: bytes, key: str, max_message_size: int) -> None:
        loop = asyncio.get_running_loop()
        self._request = request
        self._key = key
        self._transport: asyncio.Transport | None = None
        self._head: bytearray | None = bytearray()  # None once the handshake is done
        self.handshake: asyncio.Future[None] = loop.create_future()
        self._decoder = wsfast.MessageDecoder(client=True, max_message_size=max_message_size)
        self._encoder = wsfast.FrameEncoder(client=True)
        self._messages: collections.deque[str | bytes] = collections.deque()
        self._recv_waiter: asyncio.Future[None] | None = None
        self._pings: collections.deque[tuple[bytes, float, asyncio.Future[float]]] = (
            collections.deque()
        )
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._read_paused = False
        self._close_sent = False
        self._close_code: int | None = None  # set when the connection is closing
        self._close_reason = ""
        self.lost: asyncio.Future[None] = loop.create_future()

    # --- public API -----------------------------------------------------------

    @property
    def open(self) -> bool:
        """True until a CLOSE has been sent or received, or TCP is gone."""
        return self._close_code is None and not self._close_sent and not self.lost.done()

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self._send(self._encoder.text(data))

    async def send_binary(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message."""
        await self._send(self._encoder.binary(data))

    async def send_fragments(self, fragments: Iterable[str] | Iterable[bytes]) -> None:
        """Send one message as several frames: text if the fragments are ``str``."""
        items = list(fragments)
        if not items:
            raise ValueError("a fragmented message needs at least one fragment")
        text = isinstance(items[0], str)
        frames = []
        for i, item in enumerate(items):
            if isinstance(item, str) != text:
                raise TypeError("fragments must be all str or all bytes")
            payload = item.encode("utf-8") if isinstance(item, str) else item
            opcode = (Opcode.TEXT if text else Opcode.BINARY) if i == 0 else Opcode.CONTINUATION
            frames.append(self._encoder.encode(opcode, payload, fin=i == len(items) - 1))
        await self._send(b"".join(frames))

    async def recv(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        Raises :class:`ConnectionClosed` once the connection is closed and every
        message received before has been returned.
        """
        while not self._messages:
            if self._close_code is not None or self.lost.done():
                raise self._closed_error()
            self._recv_waiter = asyncio.get_running_loop().create_future()
            await self._recv_waiter
        message = self._messages.popleft()
        if self._read_paused and len(self._messages) < MAX_QUEUE // 2:
            self._read_paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        return message

    async def ping(self, data: bytes = b"") -> float:
        """Send a ping and wait for its pong; the round-trip time in seconds."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[float] = loop.create_future()
        self._pings.append((bytes(data), loop.time(), waiter))
        await self._send(self._encoder.ping(data))
        return await waiter

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 5.0) -> None:
        """Run the closing handshake: send CLOSE, wait for the server to close TCP."""
        if self._transport is None:
            return
        if not self._close_sent and not self.lost.done():
            self._send_close(code, reason)
        try:
            await asyncio.wait_for(asyncio.shield(self.lost), timeout)
        except asyncio.TimeoutError:
            self._transport.abort()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- asyncio callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self._head is not None:
            data = self._read_response(data)
            if not data:
                return
        if self._close_code is not None:
            return  # nothing is read after a CLOSE
        try:
            messages = self._decoder.feed(data)
        except wsfast.WebSocketError as exc:
            self._handle(exc.decoded)
            self._fail(exc.close_code, str(exc))
            return
        self._handle(messages)

    def eof_received(self) -> None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(
                HandshakeError(f"connection lost during the handshake: {exc}")
            )
        if self._close_code is None:
            self._close_code = 1006
        for _, _, waiter in self._pings:
            if not waiter.done():
                waiter.set_exception(self._closed_error())
        self._pings.clear()
        self._wake_receiver()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    # --- internals --------------------------------------------------------------

    def _read_response(self, data: bytes) -> bytes:
        """Collect and check the handshake response; return the bytes after it."""
        assert self._head is not None and self._transport is not None
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > MAX_HEAD:
                self._handshake_failed("response head too large")
            return b""
        status_line, *lines = bytes(self._head[:end]).decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status_line.split(" ")[:2] != ["HTTP/1.1", "101"]:
            self._handshake_failed(f"server answered {status_line!r}")
        elif headers.get("upgrade", "").lower() != "websocket":
            self._handshake_failed("missing 'Upgrade: websocket' in the response")
        elif "upgrade" not in headers.get("connection", "").lower():
            self._handshake_failed("missing 'Connection: Upgrade' in the response")
        elif not wsfast.check_accept(self._key, headers.get("sec-websocket-accept", "")):
            self._handshake_failed("wrong Sec-WebSocket-Accept")
        elif "sec-websocket-extensions" in headers:
            # We offered none, so the server may accept none (RFC 6455 section 4.1).
            self._handshake_failed("the server named an extension we did not offer")
        else:
            rest = bytes(self._head[end + 4 :])
            self._head = None
            self.handshake.set_result(None)
            return rest
        return b""

    def _handshake_failed(self, reason: str) -> None:
        assert self._transport is not None
        if not self.handshake.done():
            self.handshake.set_exception(HandshakeError(reason))
        self._transport.abort()

    def _handle(self, messages: list[wsfast.Message]) -> None:
        assert self._transport is not None
        for message in messages:
            opcode = message.opcode
            if opcode == Opcode.TEXT or opcode == Opcode.BINARY:
                self._messages.append(message.data)
            elif opcode == Opcode.PING:
                if not self._close_sent:
                    self._transport.write(self._encoder.pong(message.data))
            elif opcode == Opcode.PONG:
                self._pong(bytes(message.data))
            elif opcode == Opcode.CLOSE:
                code, reason = wsfast.parse_close(message.data)
                self._close_code, self._close_reason = code or 1005, reason
                if not self._close_sent:
                    self._send_close(code)  # echo the code; then the server closes TCP
        self._wake_receiver()
        if len(self._messages) >= MAX_QUEUE and not self._read_paused:
            self._read_paused = True  # backpressure: recv() resumes reading
            self._transport.pause_reading()

    def _pong(self, data: bytes) -> None:
        """A pong answers the ping with the same payload and every ping before it."""
        if not any(payload == data for payload, _, _ in self._pings):
            return  # unsolicited
        now = asyncio.get_running_loop().time()
        while self._pings:
            payload, sent, waiter = self._pings.popleft()
            if not waiter.done():
                waiter.set_result(now - sent)
            if payload == data:
                break

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (section 7.1.7): send CLOSE and drop TCP."""
        assert self._transport is not None
        if not self._close_sent:
            self._send_close(code)
        self._close_code, self._close_reason = code, reason
        self._transport.close()

    def _send_close(self, code: int | None, reason: str = "") -> None:
        assert self._transport is not None
        self._close_sent = True
        self._transport.write(self._encoder.close(code, reason))

    async def _send(self, frame: bytes) -> None:
        if not self.open:
            raise self._closed_error()
        assert self._transport is not None
        self._transport.write(frame)
        if self._write_paused:  # flow control: wait until the buffer drains
            self._drain_waiter = asyncio.get_running_loop().create_future()
            await self._drain_waiter

    def _wake_receiver(self) -> None:
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _closed_error(self) -> ConnectionClosed:
        return ConnectionClosed(self._close_code or 1006, self._close_reason)


async def connect(
    host: str,
    port: int,
    path: str = "/",
    *,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    timeout: float = 10.0,
) -> Client:
    """Open a WebSocket connection to ``ws://host:port/path``."""
    key = wsfast.generate_key()
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: {authority}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode("latin-1")
    loop = asyncio.get_running_loop()
    transport, client = await asyncio.wait_for(
        loop.create_connection(lambda: Client(request, key, max_message_size), host, port),
        timeout,
    )
    try:
        await asyncio.wait_for(asyncio.shield(client.handshake), timeout)
    except BaseException:
        transport.abort()
        raise
    return client


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="WebSocket echo client on wsfast")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--path", default="/")
    parser.add_argument("messages", nargs="*", default=["Hello, WebSocket!", "κόσμε"])
    args = parser.parse_args(argv)

    async with await connect(args.host, args.port, args.path) as ws:
        for text in args.messages:
            await ws.send_text(text)
            print(f"text   -> {text!r}\n       <- {await ws.recv()!r}")
        data = bytes(range(8))
        await ws.send_binary(data)
        print(f"binary -> {data!r}\n       <- {await ws.recv()!r}")
        print(f"ping   -> pong in {await ws.ping(b'ping') * 1000:.3f} ms")


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except (OSError, HandshakeError, ConnectionClosed) as exc:
        sys.exit(f"error: {exc}")
