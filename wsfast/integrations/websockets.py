"""websockets: frames received and sent by the Sans-I/O layer go through wsfast.

Supported: websockets 13.0 up to (not including) 18.0.  Tested with 13.1,
14.2, 15.0.1, 16.0, 17.0.1 (whose own test suite CI runs patched) and 17.4.
Through ``Protocol`` this covers websockets' asyncio, threading and trio
connections and uvicorn's default ``--ws auto`` / ``websockets-sansio`` mode.

Replaced (class attributes, so every module that imported the classes, and
``ServerProtocol`` / ``ClientProtocol``, which reach ``parse`` through
``super().parse()``, see the replacements):

``websockets.protocol.Protocol.parse``
    the generator that turns received bytes into frames.  websockets reads a
    frame with ``Frame.parse`` over ``StreamReader.read_exact``: four
    generator round trips, a slice and a ``del`` per header field.  Here one
    ``wsfast.FrameDecoder.feed`` decodes every complete frame waiting in the
    reader's buffer, and a frame of 64 KiB or more that is still arriving is
    unmasked as its bytes come in instead of piling up in that buffer.  Each
    frame then becomes websockets' own ``Frame`` and goes through what
    websockets does next, in its order: the size limit of the message so far,
    the extensions' ``decode`` (permessage-deflate stays websockets' own),
    ``Frame.check`` and ``Protocol.recv_frame``.
``websockets.protocol.Protocol.receive_data`` (and a class attribute ``_wsfast_stream``)
    websockets' own, except while the parser waits for the rest of such a
    big frame with nothing else buffered: then the bytes go straight to its
    decoder, skipping a copy into the reader's buffer.
``websockets.frames.Frame.serialize``
    websockets' checks and extensions, then ``wsfast.encode_frame`` for the
    header, the masking key (drawn with ``secrets.token_bytes`` as before) and
    the masked payload in one ``bytes``.

What stays websockets' own code, so that events, exceptions, close codes and
the reasons sent are the same byte for byte (the stack's own suite and
``tests/test_integration_websockets.py`` check it):

- A frame the fast path does not take as it is -- a header wsfast rejects or
  that is cut short after its second byte, a length over the current limit,
  a stream that ends inside a frame -- is read by websockets' ``Frame.parse``
  from the same buffered bytes.  It raises what it always raises, at the same
  byte, or reads what wsfast alone would refuse (a length written in more
  bytes than needed), and the fast path takes over again at the next frame.
- Every exception, from that reader, an extension, ``Frame.check`` or
  ``recv_frame``, is handed to websockets' original ``parse``, whose handlers
  pick the close code and reason and fail the connection.
- If ``Frame.parse`` is replaced (a test double, a subclass hook), every
  frame goes through the replacement.

Observable differences: on the client side websockets' reader gives
``Frame.data`` of unmasked frames as a ``bytearray``, here it is ``bytes``
(websockets' message assemblers take both and make ``bytes``); and a test that
mocks ``struct.unpack`` to break websockets' header reader no longer reaches it.

With only wsfast's pure-Python twin available, ``targets()`` declines: then
websockets' own code (with its C ``apply_mask``) is faster.  The legacy
protocol (``websockets.legacy``, uvicorn ``--ws websockets``) keeps its
receive path: it awaits each header field from an asyncio stream, so a
decoder swap does not fit it, and swapping its mask function gains nothing.
Its send path goes through ``Frame.serialize`` and so is accelerated.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Generator
from typing import Any

import wsfast
from wsfast.errors import WebSocketError

from . import BenchPeer

__all__ = ["STACK", "DISTRIBUTION", "SUPPORTED", "targets", "describe"]

STACK = "websockets"
DISTRIBUTION = "websockets"
SUPPORTED = ((13, 0), (18, 0))

#: The codec the replacement runs on (a test seam: the tests swap in each twin).
_CODEC: Any = wsfast


def _size_limit_16(protocol: Any) -> int | None:
    """websockets >= 16: the payload limit of the next frame."""
    max_size: int | None = None
    if protocol.max_message_size is not None:
        if protocol.current_size is None:
            max_size = protocol.max_message_size
        else:
            max_size = protocol.max_message_size - protocol.current_size
    if protocol.max_fragment_size is not None:
        if max_size is None:
            max_size = protocol.max_fragment_size
        else:
            max_size = min(max_size, protocol.max_fragment_size)
    return max_size


def _size_bound_16(protocol: Any) -> int | None:
    """websockets >= 16: no frame of the connection may be larger than this."""
    limits = [n for n in (protocol.max_message_size, protocol.max_fragment_size) if n is not None]
    return min(limits) if limits else None


def _size_limit_13(protocol: Any) -> int | None:
    """websockets 13-15: the payload limit of the next frame."""
    if protocol.max_size is None:
        return None
    if protocol.cur_size is None:
        return protocol.max_size  # type: ignore[no-any-return]
    return protocol.max_size - protocol.cur_size  # type: ignore[no-any-return]


def _size_bound_13(protocol: Any) -> int | None:
    """websockets 13-15: no frame of the connection may be larger than this."""
    return protocol.max_size  # type: ignore[no-any-return]


#: A frame whose payload is at least this big and has not fully arrived is
#: unmasked as its bytes arrive (the payload is written once, straight into
#: its final ``bytes``), instead of waiting for all of it in the reader's buffer.
_STREAM_FROM = 1 << 16


class _Stream:
    """A big frame whose payload is arriving (see ``parse``, step 4)."""

    __slots__ = ("parser", "decoder", "left", "done")

    def __init__(self, parser: Any, decoder: Any, left: int) -> None:
        self.parser = parser  # the generator that reads the frame
        self.decoder = decoder
        self.left = left  # wire bytes of the frame still to come
        self.done: list[Any] = []  # the frame, once complete


def _make_receive_data() -> Callable[[Any, Any], None]:
    """Build the replacement of ``Protocol.receive_data``."""
    from websockets.protocol import Protocol

    original_receive_data = vars(Protocol)["receive_data"]

    def receive_data(self: Any, data: Any) -> None:
        """Receive data from the network (wsfast: a big frame skips the reader's buffer)."""
        stream = self._wsfast_stream
        reader = self.reader
        if (
            stream is None
            or stream.parser is not self.parser
            or reader.eof
            or reader.buffer
            or type(data) not in (bytes, bytearray)
        ):
            original_receive_data(self, data)
            return
        # The parser is waiting for the rest of a big frame, and nothing else
        # is buffered: its payload bytes go to its decoder, the rest (the
        # frames after it) to the reader, as websockets would put them.
        left = stream.left
        if len(data) <= left:
            stream.done = stream.decoder.feed(data)
            stream.left = left - len(data)
        else:
            stream.done = stream.decoder.feed(data[:left])
            stream.left = 0
            reader.feed_data(data[left:])
        next(self.parser)

    receive_data.__qualname__ = "Protocol.receive_data"
    receive_data.__doc__ = original_receive_data.__doc__
    return receive_data


def _make_parse(codec: Any) -> Callable[[Any], Generator[None, None, None]]:
    """Build the replacement of ``Protocol.parse`` running on ``codec``."""
    from websockets.frames import Frame, Opcode
    from websockets.protocol import SERVER, Protocol
    from websockets.streams import StreamReader

    original_parse = vars(Protocol)["parse"]
    frame_parse = vars(Frame).get("parse")
    if getattr(getattr(frame_parse, "__func__", None), "__module__", None) != Frame.__module__:
        frame_parse = None  # replaced already: honour the replacement for every frame
    frame_dict = vars(Frame)  # a live view of the class's attributes
    FrameDecoder = codec.FrameDecoder
    parse_header = codec.parse_header
    opcodes: list[Any] = [None] * 16
    for op in Opcode:
        opcodes[op] = op

    def fail(self: Any, exc: Exception) -> Generator[None, None, None]:
        """Let websockets' own ``parse`` handle ``exc`` as if its reader had raised it.

        Its handlers choose the close code and reason, fail the connection and
        keep ``exc`` as ``parser_exc``.  The original generator is started over
        an empty reader, so it waits at its first ``at_eof()``, inside its
        ``try``; the exception is thrown in there.
        """
        handler = original_parse(self)
        reader = self.reader
        self.reader = StreamReader()
        try:
            next(handler)
        finally:
            self.reader = reader
        handler.throw(exc)
        # Like websockets' parse(): it stops after an error and must not step again.
        yield
        next(handler)  # raises websockets' own AssertionError

    def read_one(self: Any, mask: bool, max_size: int | None) -> Generator[None, None, bool]:
        """Read and process one frame with websockets' own reader; False after a failure."""
        try:
            frame = yield from Frame.parse(
                self.reader.read_exact, mask=mask, max_size=max_size, extensions=self.extensions
            )
            if self.debug:
                self.logger.debug("< %s", frame)
            self.recv_frame(frame)
        except Exception as exc:
            yield from fail(self, exc)
            return False
        return True

    def deliver(self: Any, item: Any, max_size: int | None) -> None:
        """What websockets does with a frame once read: extensions, check, recv_frame."""
        frame = Frame(opcodes[item.opcode], item.payload, item.fin, item.rsv1, item.rsv2, item.rsv3)
        extensions = self.extensions
        if extensions:
            for extension in reversed(extensions):
                frame = extension.decode(frame, max_size=max_size)
            frame.check()
        elif item.rsv1 or item.rsv2 or item.rsv3:
            frame.check()  # raises websockets' "reserved bits must be 0"
        # Otherwise check() has nothing left to find: the decoder has already
        # refused control frames that are fragmented or over 125 bytes.
        if self.debug:
            self.logger.debug("< %s", frame)
        self.recv_frame(frame)

    def incomplete(
        self: Any, reader: Any, mask: bool, max_size: int | None
    ) -> Generator[None, None, bool]:
        """A frame that has not fully arrived is at the head of the buffer.

        Check what its header already shows, as websockets' reader would, and
        wait for the rest; False once the connection has failed.
        """
        buf = reader.buffer
        try:
            header = parse_header(buf)
        except WebSocketError:
            header = None  # websockets' reader decides (it may accept it)
        else:
            if header is None and len(buf) == 1 and not reader.eof:
                yield  # websockets' reader too waits for the second byte
                return True
            # From the second byte on, websockets' reader checks the masking
            # and then the length as soon as each has arrived: with a header
            # cut short, that reader takes this frame.
        if (
            header is None
            or reader.eof
            or header.masked != mask
            or (max_size is not None and header.payload_length > max_size)
        ):
            # websockets' reader raises its own error (or reads a frame whose
            # length is encoded in more bytes than needed).
            return (yield from read_one(self, mask, max_size))
        need = header.header_length + header.payload_length
        if header.payload_length < _STREAM_FROM:
            while len(buf) < need and not reader.eof:
                yield
            return True

        # A big frame: unmask its payload as the bytes arrive; meanwhile
        # receive_data() hands them over without the reader's buffer.
        head = bytes(buf[: header.header_length])
        stream = _Stream(self.parser, FrameDecoder(
            client=not mask, max_frame_size=None,
            allow_rsv1=True, allow_rsv2=True, allow_rsv3=True,
        ), need)
        try:
            self._wsfast_stream = stream
            try:
                while True:
                    take = min(len(buf), stream.left)
                    if take:
                        stream.done = stream.decoder.feed(buf if take == len(buf) else buf[:take])
                        del buf[:take]
                        stream.left -= take
                    if not stream.left or reader.eof:
                        break
                    yield
            finally:
                self._wsfast_stream = None
            if stream.left:
                # The stream ends inside the payload: websockets' reader sees
                # as many bytes as arrived, and reports it.
                buf[:0] = head + bytes(need - stream.left - len(head))
                return (yield from read_one(self, mask, max_size))
            (item,) = stream.done
            deliver(self, item, max_size)
        except Exception as exc:
            yield from fail(self, exc)
            return False
        return True

    def parse(self: Any) -> Generator[None, None, None]:
        """Parse incoming data into frames, through wsfast (see the module's docstring)."""
        new_limits = hasattr(self, "max_fragment_size")  # websockets >= 16
        size_limit = _size_limit_16 if new_limits else _size_limit_13
        size_bound = _size_bound_16 if new_limits else _size_bound_13
        mask = self.side is SERVER  # frames from a client are masked
        overhead = 4 if mask else 0  # the masking key
        big_header = 10 + overhead  # header of a frame with a 64-bit length
        decoder = None  # kept between batches while it holds no partial frame
        while True:
            reader = self.reader
            buf = reader.buffer
            if not buf:
                if reader.eof:
                    # The stream ended between two frames: websockets reports it.
                    yield from original_parse(self)
                    return
                yield
                continue
            if frame_dict.get("parse") is not frame_parse:
                # Frame.parse was replaced: honour it for every frame.
                if not (yield from read_one(self, mask, size_limit(self))):
                    return
                continue
            if (
                len(buf) > 1
                and buf[1] & 0x7F == 127  # 64 KiB or more
                and len(buf) < big_header + int.from_bytes(buf[2:10], "big")
            ):
                # A big frame that has not fully arrived: no batch to decode.
                decoder = None
                if not (yield from incomplete(self, reader, mask, size_limit(self))):
                    return
                continue

            # Every complete frame at the head of the buffer, in one feed.
            if decoder is None:
                decoder = FrameDecoder(
                    client=not mask, max_frame_size=size_bound(self),
                    allow_rsv1=True, allow_rsv2=True, allow_rsv3=True,
                )
            try:
                frames = decoder.feed(buf)
                slow = False
            except WebSocketError as exc:
                frames = exc.decoded
                slow = True  # at the first frame not returned
            fed = len(buf)
            used = 0  # wire bytes of the frames processed, deleted from buf after
            # The size limit changes only inside a fragmented message.
            max_size = size_limit(self)
            for item in frames:
                length = len(item.payload)
                if max_size is not None and length > max_size:
                    slow = True  # websockets' reader raises its own PayloadTooBig
                    break
                # wsfast accepts only the shortest length encoding.
                used += length + overhead + (2 if length < 126 else 4 if length < 65536 else 10)
                try:
                    deliver(self, item, max_size)
                except Exception as exc:
                    del buf[:used]
                    yield from fail(self, exc)
                    return
                if len(buf) != fed:
                    break  # recv_frame() put discard() in charge: it emptied buf
                if not item.fin or item.opcode == 0:
                    max_size = size_limit(self)  # a fragment: the message grew
            if len(buf) != fed:
                decoder = None
                continue
            del buf[:used]
            if used == fed and not slow:
                continue  # every byte fed made a frame: the decoder holds nothing
            decoder = None  # it holds bytes of a frame it did not return
            if slow:
                # A frame the fast path does not take as it is.
                if not (yield from read_one(self, mask, size_limit(self))):
                    return
            elif not (yield from incomplete(self, reader, mask, size_limit(self))):
                return

    parse.__qualname__ = "Protocol.parse"
    parse.__doc__ = original_parse.__doc__
    return parse

def _make_serialize(codec: Any) -> Callable[..., bytes]:
    """Build the replacement of ``Frame.serialize`` running on ``codec``."""
    from websockets.frames import Frame

    original_serialize = vars(Frame)["serialize"]
    encode_frame = codec.encode_frame

    def serialize(self: Any, *, mask: bool, extensions: Any = None) -> bytes:
        """Serialize a WebSocket frame, through wsfast (websockets' checks and extensions)."""
        self.check()
        if extensions:
            for extension in extensions:
                self = extension.encode(self)
        # Drawn as websockets draws it, so a test that fixes the key still can.
        key = secrets.token_bytes(4) if mask else None
        data = self.data
        try:
            return encode_frame(  # type: ignore[no-any-return]
                self.opcode, data, fin=self.fin, rsv1=self.rsv1, rsv2=self.rsv2,
                rsv3=self.rsv3, mask_key=key,
            )
        except BufferError:
            if not mask:
                # websockets writes an unmasked payload as it is: that refuses
                # a non-contiguous buffer, with CPython's own error.
                io.BytesIO().write(data)
            # Its apply_mask reads any buffer, contiguous or not.
            return encode_frame(  # type: ignore[no-any-return]
                self.opcode, bytes(data), fin=self.fin, rsv1=self.rsv1, rsv2=self.rsv2,
                rsv3=self.rsv3, mask_key=key,
            )

    serialize.__qualname__ = "Frame.serialize"
    serialize.__doc__ = original_serialize.__doc__
    return serialize


def targets() -> list[tuple[object, str, object]]:
    """Import websockets; the attributes the patch replaces, with their replacements."""
    if _CODEC is wsfast and wsfast.IMPLEMENTATION != "c":
        from . import Declined

        raise Declined(
            "only wsfast's pure-Python twin is available, and websockets' own parser "
            "is faster than it (see bench/stacks.py)"
        )
    from websockets.frames import Frame
    from websockets.protocol import Protocol

    return [
        (Protocol, "parse", _make_parse(_CODEC)),
        (Protocol, "receive_data", _make_receive_data()),
        # No big frame arriving: what receive_data() reads on every call.
        (Protocol, "_wsfast_stream", None),
        (Frame, "serialize", _make_serialize(_CODEC)),
    ]


def describe() -> str:
    """One line: what is now accelerated."""
    import websockets.version

    return (
        f"websockets {websockets.version.version}: frame parsing of the Sans-I/O Protocol "
        f"(asyncio, sync, trio connections; uvicorn websockets-sansio) and frame "
        f"serialization on wsfast ({wsfast.IMPLEMENTATION} twin)"
    )


# --- benchmark workloads (bench/stacks.py) --------------------------------------------


def workloads() -> list[tuple[str, Callable[[], Callable[[], object]]]]:
    """What ``bench/stacks.py`` times, patched and not: ``(name, setup)`` pairs.

    ``setup()`` makes a websockets ``Protocol`` under the current patch state
    and returns the callable to time, which drives exactly what ``targets()``
    replaces: ``Protocol.receive_data`` + ``events_received`` (the parser) or
    ``send_text`` + ``data_to_send`` (``Frame.serialize``).
    """
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.protocol import CLIENT, SERVER, Protocol

    read = 1 << 16  # bytes per receive_data call, as a socket read would give them

    def client_bytes(messages: list[tuple[str, bytes]], deflate: bool = False) -> bytes:
        sender = Protocol(CLIENT)
        if deflate:
            sender.extensions = [PerMessageDeflate(False, False, 15, 15)]
        for kind, data in messages:
            if kind == "text":
                sender.send_text(data)
            else:
                sender.send_binary(data)
        return b"".join(sender.data_to_send())

    Setup = Callable[[], Callable[[], object]]

    def receive(stream: bytes, chunk: int, deflate: bool = False) -> Setup:
        pieces = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]

        def setup() -> Callable[[], object]:
            protocol = Protocol(SERVER, max_size=None)
            if deflate:
                protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]

            def run() -> object:
                events = 0
                for piece in pieces:
                    protocol.receive_data(piece)
                    events += len(protocol.events_received())
                return events

            return run

        return setup

    def send(n: int, data: bytes) -> Setup:
        def setup() -> Callable[[], object]:
            protocol = Protocol(CLIENT)

            def run() -> object:
                for _ in range(n):
                    protocol.send_text(data)
                    protocol.data_to_send()
                return n

            return run

        return setup

    small = client_bytes([("text", b"x" * 16)] * 10_000)
    medium = client_bytes([("text", b"y" * 125)] * 10_000)
    mib = client_bytes([("binary", bytes(range(256)) * 4096)])
    text16 = client_bytes([("text", b"wsfast text " * (16 * 1024 * 1024 // 12) + b"....")])
    deflated = client_bytes([("text", b"z" * 16)] * 10_000, deflate=True)
    return [
        ("receive 10k x 16 B text, 64 KiB reads", receive(small, read)),
        ("receive 10k x 125 B text, 64 KiB reads", receive(medium, read)),
        ("receive 10k x 16 B text, one read per frame", receive(small, len(small) // 10_000)),
        ("receive 1 MiB binary, 64 KiB reads", receive(mib, read)),
        ("receive 16 MiB text, 64 KiB reads", receive(text16, read)),
        ("receive 10k x 16 B text, permessage-deflate", receive(deflated, read, deflate=True)),
        ("send 10k x 16 B text as a client", send(10_000, b"x" * 16)),
        ("send 10k x 125 B text as a client", send(10_000, b"y" * 125)),
    ]


# -- benchmark peers ---------------------------------------------------------------
#
# What ``python -m wsfast bench`` times wsfast against in websockets (see
# ``wsfast.integrations.BenchPeer``; each topic's docstring says what its
# conventions mean).  The hooks below import websockets only when called.
#
# mask: ``apply_mask(data, key)``, the C one of ``speedups`` and the pure one.
# frames: the sans-I/O ``Protocol`` every websockets connection runs (server
# side), fed the chunks: ``receive_data`` + ``events_received``, its events
# being frames; for messages a TEXT frame's data is decoded to ``str`` too (its
# Assembler's ``data.decode()`` for a single-frame message; the connections'
# queues and futures come on top).  Encoding: ``Frame(TEXT,
# data.encode()).serialize(mask=...)``, what ``Protocol.send_text`` calls (it
# draws each client key from the OS).
# deflate: ``PerMessageDeflate.decode`` of one frame with ``max_size`` set, and
# ``.encode`` (its default level is zlib's, 6).

_BENCH_NEEDS = (("websockets.protocol", "no sans-I/O Protocol (< 11.0)"),
                ("websockets.frames", ""))

BENCH_PEERS: dict[str, tuple[BenchPeer, ...]] = {
    "mask": (
        BenchPeer("websockets", "websockets-c", "lib-c", ("mask",), "data, key",
                  ("websockets.speedups.apply_mask",), rank=10),
        BenchPeer("websockets", "websockets-py", "lib-py", ("mask",), "data, key",
                  ("websockets.utils.apply_mask",), rank=11),
    ),
    "frames": (
        BenchPeer("websockets", "websockets", "lib-py", ("messages", "large"), "decode->data",
                  (f"{__name__}._bench_messages",), rank=20,
                  label="websockets Protocol.receive_data + events_received + .decode()",
                  needs=_BENCH_NEEDS),
        BenchPeer("websockets", "websockets", "lib-py", ("frames",), "decode->pieces",
                  (f"{__name__}._bench_frames",), rank=20,
                  label="websockets Protocol.receive_data + events_received",
                  needs=_BENCH_NEEDS),
        BenchPeer("websockets", "websockets", "lib-py", ("encode",), "encode",
                  (f"{__name__}._bench_encoder",), rank=20,
                  label="websockets Frame(TEXT, data.encode()).serialize",
                  needs=_BENCH_NEEDS),
    ),
    "deflate": (
        BenchPeer("websockets", "websockets", "lib-py", ("inflate",), "inflate",
                  (f"{__name__}._bench_inflate",), rank=10,
                  label="websockets PerMessageDeflate.decode"),
        BenchPeer("websockets", "websockets", "lib-py", ("deflate level 1", "deflate level 6"),
                  "deflate", (f"{__name__}._bench_deflate",), rank=10,
                  label="websockets PerMessageDeflate.encode (level {level})"),
    ),
}


def _bench_protocol(limit: int) -> Callable[[], Any]:
    """A factory of fresh server-side sans-I/O ``Protocol`` objects."""
    import functools

    from websockets.protocol import Protocol, Side

    return functools.partial(Protocol, Side.SERVER, max_size=limit)


def _bench_frames_all(new_protocol: Callable[[], Any], chunks: list[bytes]) -> list[Any]:
    """A fresh server Protocol fed every chunk; its frame events."""
    protocol = new_protocol()
    receive, events = protocol.receive_data, protocol.events_received
    out: list[Any] = []
    for chunk in chunks:
        receive(chunk)
        out += events()
    if protocol.parser_exc is not None:
        raise protocol.parser_exc
    return out


def _bench_messages_all(text: Any, new_protocol: Callable[[], Any],
                        chunks: list[bytes]) -> list[Any]:
    """The frame events, ``text`` ones (opcode TEXT) decoded to ``str``."""
    protocol = new_protocol()
    receive, events = protocol.receive_data, protocol.events_received
    out: list[Any] = []
    append = out.append
    for chunk in chunks:
        receive(chunk)
        for frame in events():
            append(frame.data.decode() if frame.opcode is text else frame.data)
    if protocol.parser_exc is not None:
        raise protocol.parser_exc
    return out


def _bench_messages(limit: int) -> tuple[Callable[..., list[Any]], Any,
                                         Callable[[list[Any]], list[Any]]]:
    """frames topic, ``decode->data``: (run, factory, read)."""
    import functools

    from websockets.frames import Opcode

    return (functools.partial(_bench_messages_all, Opcode.TEXT), _bench_protocol(limit), list)


def _bench_frame_pieces(result: list[Any]) -> list[tuple[int, Any, bool]]:
    return [(int(f.opcode), f.data, f.fin) for f in result]


def _bench_frames(limit: int) -> tuple[Callable[..., list[Any]], Any,
                                       Callable[[list[Any]], list[tuple[int, Any, bool]]]]:
    """frames topic, ``decode->pieces``: (run, factory, read)."""
    return _bench_frames_all, _bench_protocol(limit), _bench_frame_pieces


def _bench_encoder(masked: bool) -> Callable[[str], bytes]:
    """frames topic, ``encode``: one TEXT frame per ``str``, masked for a client."""
    from websockets.frames import Frame, Opcode

    frame_cls, text = Frame, Opcode.TEXT

    def send_text(data: str) -> bytes:
        frame: bytes = frame_cls(text, data.encode()).serialize(mask=masked)
        return frame

    return send_text


def _bench_inflate(work: Any) -> Callable[[], bytes]:
    """deflate topic, ``inflate``: the next payload of ``work.compressed``, inflated."""
    import itertools

    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame, Opcode

    ext = PerMessageDeflate(False, False, 15, 15)
    frames = itertools.cycle([Frame(Opcode.TEXT, p, fin=True, rsv1=True) for p in work.compressed])
    limit = work.limit
    return lambda: bytes(ext.decode(next(frames), max_size=limit).data)


def _bench_deflate(level: int) -> Callable[[Any], Callable[[], bytes]]:
    """deflate topic, ``deflate``: the next message of ``work.messages``, compressed."""

    def prepare(work: Any) -> Callable[[], bytes]:
        import itertools

        from websockets.extensions.permessage_deflate import PerMessageDeflate
        from websockets.frames import Frame, Opcode

        settings = {} if level == 6 else {"level": level}
        ext = PerMessageDeflate(False, False, 15, 15, settings)
        frames = itertools.cycle([Frame(Opcode.TEXT, m) for m in work.messages])
        return lambda: bytes(ext.encode(next(frames)).data)

    return prepare
