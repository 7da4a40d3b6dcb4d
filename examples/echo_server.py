#!/usr/bin/env python3
"""An asyncio WebSocket echo server on wsfast (RFC 6455), standard library only.

    python examples/echo_server.py --port 9001

It answers the opening handshake (section 4.2), echoes every text message as
text and every binary message as binary, answers every ping with a pong that
carries the same payload, ignores pongs, runs the closing handshake (section 7)
and, on any violation the decoder reports, first handles the messages that came
before it, then closes with the decoder's close code (1002, 1007 or 1009).
It applies backpressure: while the peer does not read its echoes fast enough,
the server stops reading from it.

permessage-deflate (RFC 7692): the server accepts the client's first acceptable
offer (``wsfast.PerMessageDeflate.negotiate``) once the installed wsfast can
compress, that is once ``MessageDecoder`` and ``FrameEncoder`` take ``deflate=``
(see ``DEFLATE_AVAILABLE``).  Until then, or with ``--no-deflate``, it declines
every offer and answers without ``Sec-WebSocket-Extensions``.

Import it to run the server inside another program::

    server = await start_server("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import NamedTuple

import wsfast
from wsfast import Opcode

#: Largest request head (request line and headers) we read before refusing.
MAX_HEAD = 16 * 1024
#: Seconds a client gets to send its request head.
HANDSHAKE_TIMEOUT = 10.0
#: Seconds the peer gets to close TCP after the closing handshake.
CLOSE_TIMEOUT = 5.0
#: From this size on, a frame's header and payload are written separately.
LARGE = 64 * 1024
#: Default limit of a message (Autobahn's section 9 sends 16 MiB messages).
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024


def deflate_supported() -> bool:
    """Whether this wsfast's decoder and encoder take ``deflate=`` (compression, RFC 7692).

    Negotiating permessage-deflate is only honest when the codec can then inflate
    and compress: until it can, the server declines every offer.
    """
    try:
        wsfast.MessageDecoder(deflate=None)  # type: ignore[call-arg, unused-ignore]
        wsfast.FrameEncoder(deflate=None)  # type: ignore[call-arg, unused-ignore]
    except TypeError:
        return False
    return True


#: True when the installed wsfast can run a permessage-deflate connection.
DEFLATE_AVAILABLE = deflate_supported()


class HandshakeError(Exception):
    """A request that is not a valid WebSocket opening handshake."""

    def __init__(self, reason: str, status: int = 400, headers: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.headers = headers  # extra response header lines, each ending in CRLF


class Request(NamedTuple):
    """What the server needs from a valid opening handshake."""

    accept: str  # the Sec-WebSocket-Accept value for its key
    extensions: str | None  # its Sec-WebSocket-Extensions (all lines joined), if any


def check_request(head: bytes) -> Request:
    """Check an opening handshake (RFC 6455 section 4.2.1).

    ``head`` is the request line and the headers, without the final blank line.
    Header names and the ``Upgrade``/``Connection`` tokens compare case-insensitively.
    """
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise HandshakeError("malformed request line")
    method, _target, version = parts
    if method != "GET":
        raise HandshakeError("the opening handshake must be a GET request")
    if version != "HTTP/1.1":
        raise HandshakeError("the opening handshake needs HTTP/1.1")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HandshakeError("malformed header line")
        name, value = name.lower(), value.strip(" \t")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value

    def tokens(name: str) -> set[str]:
        return {token.strip().lower() for token in headers.get(name, "").split(",")}

    if "host" not in headers:
        raise HandshakeError("missing Host header")
    if "websocket" not in tokens("upgrade"):
        raise HandshakeError("missing 'Upgrade: websocket'")
    if "upgrade" not in tokens("connection"):
        raise HandshakeError("missing 'Connection: Upgrade'")
    if headers.get("sec-websocket-version") != "13":
        raise HandshakeError("unsupported WebSocket version", 426, "Sec-WebSocket-Version: 13\r\n")
    try:
        # strict: the canonical base64 of 16 bytes, nothing around it
        accept = wsfast.accept_key(headers.get("sec-websocket-key", ""))
    except ValueError:
        raise HandshakeError("Sec-WebSocket-Key is not 16 bytes in base64") from None
    return Request(accept, headers.get("sec-websocket-extensions"))


class EchoProtocol(asyncio.Protocol):
    """One connection: the HTTP upgrade first, then WebSocket frames."""

    def __init__(
        self, max_message_size: int, connections: set[EchoProtocol], deflate: bool = True
    ) -> None:
        self.max_message_size = max_message_size
        self.connections = connections
        self.offer_deflate = deflate and DEFLATE_AVAILABLE
        self.deflate: wsfast.PerMessageDeflate | None = None  # the agreed parameters
        self.transport: asyncio.Transport | None = None
        self.head: bytearray | None = bytearray()  # None once the handshake is done
        # decode_text=False: text is still validated (UTF-8, incrementally),
        # but handed over as bytes; we only echo it, so why decode it.
        self.decoder = wsfast.MessageDecoder(max_message_size=max_message_size, decode_text=False)
        self.encoder = wsfast.FrameEncoder()
        self.closing = False
        self.timer: asyncio.TimerHandle | None = None

    # --- asyncio callbacks ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.connections.add(self)
        self.timer = asyncio.get_running_loop().call_later(HANDSHAKE_TIMEOUT, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # after a CLOSE nothing more is read (RFC 6455 section 5.5.1)
        if self.head is not None:
            data = self.handshake(data)
            if not data:
                return
        try:
            messages = self.decoder.feed(data)
        except wsfast.WebSocketError as exc:
            # Be strict: what arrived before the violation is handled first.
            self.handle(exc.decoded)
            self.close(exc.close_code)  # fail the connection (section 7.1.7)
            return
        self.handle(messages)

    def eof_received(self) -> None:
        return None  # the peer is gone: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.connections.discard(self)

    def pause_writing(self) -> None:
        # Backpressure: the peer reads its echoes too slowly; stop reading its requests.
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()

    # --- WebSocket ----------------------------------------------------------

    def handshake(self, data: bytes) -> bytes:
        """Collect the request head and answer it; return the bytes that follow it."""
        assert self.head is not None and self.transport is not None
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0 or end > MAX_HEAD:
            if len(self.head) > MAX_HEAD:
                self.reject(HandshakeError("request head too large"))
            return b""
        try:
            request = check_request(bytes(self.head[:end]))
        except HandshakeError as exc:
            self.reject(exc)
            return b""
        extensions = ""
        if self.offer_deflate:
            # The client's first acceptable offer, or None; never an exception.
            agreed = wsfast.PerMessageDeflate.negotiate(request.extensions)
            if agreed is not None:
                self.deflate, response = agreed
                extensions = f"Sec-WebSocket-Extensions: {response}\r\n"
                self.decoder = wsfast.MessageDecoder(  # type: ignore[call-arg, unused-ignore]
                    max_message_size=self.max_message_size,
                    decode_text=False,
                    deflate=self.deflate,
                )
                self.encoder = wsfast.FrameEncoder(deflate=self.deflate)  # type: ignore[call-arg, unused-ignore]
        self.transport.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {request.accept}\r\n"
                f"{extensions}\r\n"
            ).encode("ascii")
        )
        if self.timer is not None:
            self.timer.cancel()
        rest = bytes(self.head[end + 4 :])
        self.head = None
        return rest

    def reject(self, exc: HandshakeError) -> None:
        """Answer a bad opening handshake with an HTTP error and close."""
        assert self.transport is not None
        phrase = {400: "Bad Request", 426: "Upgrade Required"}[exc.status]
        body = f"{exc}\n".encode()
        self.transport.write(
            f"HTTP/1.1 {exc.status} {phrase}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: close\r\n{exc.headers}\r\n".encode("latin-1")
            + body
        )
        self.closing = True
        self.transport.close()

    def handle(self, messages: list[wsfast.Message]) -> None:
        """Echo data messages, answer pings, answer a CLOSE."""
        assert self.transport is not None
        write, encoder = self.transport.write, self.encoder
        for message in messages:
            opcode = message.opcode
            if opcode == Opcode.TEXT or opcode == Opcode.BINARY:
                data = message.data
                if self.deflate is not None:  # the encoder compresses (or not) each message
                    if opcode == Opcode.TEXT:
                        write(encoder.text(data))
                    else:
                        write(encoder.binary(data))
                elif len(data) < LARGE:
                    write(encoder.encode(opcode, data))
                else:  # header and payload apart: no copy of a big payload
                    write(wsfast.encode_header(opcode, len(data)))
                    write(data)
            elif opcode == Opcode.PING:
                write(encoder.pong(message.data))
            elif opcode == Opcode.CLOSE:
                # The decoder validated the payload; echo its code (none -> none).
                code, _reason = wsfast.parse_close(message.data)
                self.close(code)
                return
            # PONG: unsolicited or not, nothing to do (section 5.5.3).

    def close(self, code: int | None) -> None:
        """Send a CLOSE frame with ``code``, then close TCP: the server closes first."""
        assert self.transport is not None
        if self.closing:
            return
        self.closing = True
        self.transport.write(self.encoder.close(code))
        if self.transport.can_write_eof():
            # Half-close: FIN after the CLOSE frame, then wait for the peer's FIN
            # (eof_received), so nothing it still sends turns into a TCP reset.
            self.transport.write_eof()
            self.timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.transport.abort)
        else:
            self.transport.close()

    def going_away(self) -> None:
        """Server shutdown: close with 1001, or drop a connection still in its handshake."""
        if self.head is not None:
            assert self.transport is not None
            self.closing = True
            self.transport.close()
        else:
            self.close(wsfast.CloseCode.GOING_AWAY)


async def start_server(
    host: str = "127.0.0.1",
    port: int = 9001,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    deflate: bool = True,
) -> asyncio.Server:
    """Start listening; ``server.connections`` holds the open connections.

    ``deflate=False`` declines permessage-deflate even when wsfast could run it.
    """
    loop = asyncio.get_running_loop()
    connections: set[EchoProtocol] = set()
    server = await loop.create_server(
        lambda: EchoProtocol(max_message_size, connections, deflate), host, port
    )
    server.connections = connections  # type: ignore[attr-defined]
    return server


async def shutdown(server: asyncio.Server, timeout: float = CLOSE_TIMEOUT) -> None:
    """Stop accepting, close every connection with 1001, wait until they are gone."""
    server.close()
    connections: set[EchoProtocol] = server.connections  # type: ignore[attr-defined]
    for connection in list(connections):
        connection.going_away()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while connections and loop.time() < deadline:
        await asyncio.sleep(0.01)
    for connection in list(connections):
        if connection.transport is not None:
            connection.transport.abort()
    await server.wait_closed()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="WebSocket echo server on wsfast")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9001, help="TCP port (0: any free port)")
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=DEFAULT_MAX_MESSAGE_SIZE,
        help="largest message accepted, in bytes (default %(default)s)",
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="decline permessage-deflate offers (RFC 7692)",
    )
    parser.add_argument(
        "--implementation",
        action="store_true",
        help="print the wsfast twin this server runs (c or python) and exit",
    )
    args = parser.parse_args(argv)
    if args.implementation:
        print(wsfast.IMPLEMENTATION, flush=True)
        return

    server = await start_server(
        args.host, args.port, args.max_message_size, deflate=not args.no_deflate
    )
    host, port = server.sockets[0].getsockname()[:2]
    deflate = "on" if DEFLATE_AVAILABLE and not args.no_deflate else "off"
    print(
        f"wsfast {wsfast.__version__} ({wsfast.IMPLEMENTATION}) echo server on "
        f"ws://{host}:{port}/ (permessage-deflate {deflate})",
        flush=True,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await shutdown(server)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
