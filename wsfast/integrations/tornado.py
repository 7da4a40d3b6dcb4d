"""tornado: WebSocket frames are read from a read-ahead buffer and unmasked by wsfast.

Supported: tornado 6.0 up to (not including) 7.0.  Tested with 6.0.4, 6.2,
6.3.3, 6.4.2, 6.5.2 and 6.6.1 (whose own ``websocket_test`` and ``util_test``
run patched in ``scripts/stack_suites_tornado_aiohttp.sh``).

Replaced:

``_websocket_mask`` in ``tornado.util``, ``tornado.websocket`` and ``tornado.web``
    tornado's mask function ``(mask, data) -> bytes``, wherever tornado binds
    it by name at import time: where it is chosen (tornado's C
    ``tornado.speedups.websocket_mask``, or the byte-at-a-time
    ``_websocket_mask_python`` without the extension), what
    ``WebSocketProtocol13`` calls to unmask received frames and to mask the
    frames a client sends, and what ``RequestHandler`` uses for the XSRF
    token.  The replacement is ``wsfast._mask_c._mask_key_first`` (or its
    pure twin): compiled, with tornado's argument order (key first), so no
    Python wrapper swaps the arguments of ``wsfast.mask`` on every call.  Its
    contract is tornado's: ``bytes`` out, ``ValueError`` for a key that is not
    4 bytes.  ``tornado.speedups.websocket_mask`` itself is left alone.
``tornado.websocket.WebSocketProtocol13._receive_frame``
    the coroutine that reads one frame.  tornado's own awaits
    ``stream.read_bytes`` two to four times per frame (header, extended
    length, mask key, payload; tornado#3007), and each of those reads costs
    more than the rest of the frame's work.  The replacement reads from the
    stream up to 64 KiB at a time (``read_bytes(n, partial=True)``) into a
    buffer kept on the protocol object, awaiting the stream only when the
    buffer runs short (a payload larger than what is buffered is read whole
    with ``read_bytes``).  On the compiled twin, the complete frames in the
    buffer are decoded (and unmasked) ahead by one ``wsfast.FrameDecoder``
    call; a frame the decoder refuses (tornado tolerates unmasked client
    frames, lengths not in their shortest form, reserved opcodes until the
    frame is handled...) or that has not fully arrived is read from its raw
    header with tornado's rules, and unmasked through
    ``tornado.websocket._websocket_mask`` as bound at the time.  Either way,
    each frame then goes through tornado's logic, step for step: the
    reserved-bit and RSV1 rules with and without permessage-deflate, the
    control-frame rules (``_abort()`` without a close frame), the
    ``max_message_size`` check before the payload is read
    (``close(1009, "message too big")``), fragment reassembly,
    ``_handle_message`` (tornado's own: decompression, UTF-8, close codes,
    pings) and awaiting the handler's future before the next frame.
    ``_wire_bytes_in`` grows by the same amounts at the same points, so
    tornado's loop (its yield to the IOLoop every 256 KiB on 6.6+) and its
    statistics see what they saw.  The stream is only read when the buffer
    is short, so nothing more is read from the socket while a handler's
    future is pending than tornado's own reads would have taken.

``TORNADO_NO_EXTENSION=1`` (or ``TORNADO_EXTENSION=0``) makes tornado mask
with its byte-at-a-time Python loop; patched, tornado masks with wsfast either
way, so under that switch the gain on large frames is far larger.  With only
wsfast's pure-Python twin available, the mask bindings are kept when tornado
has its C speedup (it is faster than pure Python) and replaced when it has
not; the receive path is replaced in both cases.

Observable differences: bytes that arrive after the frame that closes the
connection are read off the socket into the buffer (up to 64 KiB) instead of
staying in the ``IOStream`` (tornado reads nothing after that frame either
way); the write-only attributes ``_frame_mask`` and ``_frame_length`` are not
set for frames decoded ahead.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

import wsfast
from wsfast.errors import WebSocketError

from . import BenchPeer

__all__ = ["STACK", "DISTRIBUTION", "SUPPORTED", "targets", "describe", "workloads"]

STACK = "tornado"
DISTRIBUTION = "tornado"
SUPPORTED = ((6, 0), (7, 0))

#: The codec the mask function comes from (a test seam: the tests swap in each twin).
_CODEC: Any = wsfast

#: The modules that bind the mask function by name, in import order.
_BINDINGS = ("tornado.util", "tornado.websocket", "tornado.web")

#: Bytes asked of the stream at a time when the read-ahead buffer runs short.
_READ_AHEAD = 64 * 1024

#: Where the read-ahead buffer lives on a ``WebSocketProtocol13``.
_RX = "_wsfast_read_ahead"


def _compiled(codec: Any) -> bool:
    """Whether ``codec`` (wsfast, or one twin's names) is the compiled twin."""
    return str(codec.Masker.__module__).endswith("_c")


def _mask_function(codec: Any) -> Callable[[Any, Any], bytes]:
    """The key-first mask function of ``codec``'s twin."""
    twin = "c" if _compiled(codec) else "py"
    module = importlib.import_module(f"wsfast._mask_{twin}")
    function: Callable[[Any, Any], bytes] = module._mask_key_first
    return function


class _ReadAhead:
    """Bytes read from a protocol's stream and not yet taken by a frame, and
    the complete frames already decoded from them.

    ``data[pos:]`` is what the frames to come are read from; ``frames`` holds
    ``(frame, header_length, mask_length)`` for complete frames decoded ahead
    by a ``FrameDecoder``, the first of them starting at ``pos``.  ``strict_at``
    is the offset of a frame the decoder refused: from there, tornado's rules
    are applied to the raw header instead.
    """

    __slots__ = ("data", "pos", "frames", "strict_at")

    def __init__(self) -> None:
        self.data = b""
        self.pos = 0
        self.frames: deque[tuple[Any, int, int]] = deque()
        self.strict_at = -1

    def decode_ahead(self, codec: Any, client: bool, rsv1: bool) -> None:
        """Decode the complete frames buffered at ``pos`` into ``frames``.

        Stops before the first frame the decoder refuses (its offset goes to
        ``strict_at``) and before a frame that has not fully arrived.  The
        decoder insists on what tornado tolerates (the masking direction, the
        shortest length encoding, known opcodes...): the frame it refuses is
        read by the caller with tornado's own rules.
        """
        decoder = codec.FrameDecoder(client=client, max_frame_size=None, allow_rsv1=rsv1)
        try:
            frames = decoder.feed(memoryview(self.data)[self.pos :])
            refused = False
        except WebSocketError as exc:
            frames, refused = exc.decoded, True
        mask = 0 if client else 4
        at = self.pos
        queue = self.frames
        for frame in frames:
            length = len(frame.payload)
            header = 2 if length < 126 else 4 if length < 65536 else 10
            queue.append((frame, header, mask))
            at += header + mask + length
        if refused:
            self.strict_at = at

    async def fill(self, stream: Any, n: int) -> None:
        """Read the stream until at least ``n`` bytes are buffered."""
        parts = [self.data[self.pos :]]
        have = len(parts[0])
        while have < n:
            more = await stream.read_bytes(_READ_AHEAD, partial=True)
            parts.append(more)
            have += len(more)
        self.data, self.pos = b"".join(parts), 0

    async def read(self, stream: Any, n: int) -> bytes:
        """The next ``n`` bytes, reading the stream for what is not buffered."""
        pos, data = self.pos, self.data
        if len(data) - pos >= n:
            self.pos = pos + n
            return data[pos : pos + n]
        head = data[pos:]
        missing = n - len(head)
        if missing > _READ_AHEAD:
            # A large payload: read the rest of it in one request.
            self.data, self.pos = b"", 0
            rest: bytes = await stream.read_bytes(missing)
            return head + rest
        parts, have = [head], len(head)
        while have < n:
            more = await stream.read_bytes(_READ_AHEAD, partial=True)
            parts.append(more)
            have += len(more)
        data = b"".join(parts)
        self.data, self.pos = data, n
        return data[:n]


def _make_receive_frame(
    protocol_class: type, ws_module: Any, codec: Any
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    """``WebSocketProtocol13._receive_frame`` reading through a ``_ReadAhead``."""
    # The pure twin's decoder costs more per frame than tornado's own reads.
    ahead = _compiled(codec)
    fin_bit = protocol_class.FIN  # type: ignore[attr-defined]
    rsv1_bit = protocol_class.RSV1  # type: ignore[attr-defined]
    rsv_bits = protocol_class.RSV_MASK  # type: ignore[attr-defined]
    opcode_bits = protocol_class.OPCODE_MASK  # type: ignore[attr-defined]

    async def _receive_frame(self: Any) -> None:
        state = self.__dict__
        rx: _ReadAhead | None = state.get(_RX)
        if rx is None:
            rx = state[_RX] = _ReadAhead()
        frames = rx.frames
        if ahead and not frames:
            if len(rx.data) - rx.pos < 2:
                await rx.fill(self.stream, 2)
            if rx.pos != rx.strict_at:
                rx.decode_ahead(codec, self.mask_outgoing, self._decompressor is not None)
        if frames:
            frame, header, mask = frames.popleft()
            payload = frame.payload
            length = len(payload)
            rx.pos += header + mask + length
            opcode = frame.opcode
            is_final = frame.fin
            if self._decompressor is not None and opcode != 0:
                self._frame_compressed = frame.rsv1
            elif frame.rsv1:
                # RSV1 where tornado does not expect it: dropped after the header.
                self._wire_bytes_in += 2
                self._abort()
                return
            fragments = self._fragmented_message_buffer
            total = length if fragments is None else length + len(fragments)
            if total > self.params.max_message_size:
                self._wire_bytes_in += header
                self.close(1009, "message too big")
                self._abort()
                return
            self._wire_bytes_in += header + mask + length
            control = opcode & 0x8
        else:
            # The next frame is not all here, or the decoder refused it:
            # tornado's rules on the raw header, reading what is missing.
            stream = self.stream
            data, pos = rx.data, rx.pos
            if len(data) - pos >= 2:
                first, second = data[pos], data[pos + 1]
                rx.pos = pos = pos + 2
            else:
                first, second = await rx.read(stream, 2)
                data, pos = rx.data, rx.pos
            # _wire_bytes_in grows after each field, as after each of tornado's reads.
            self._wire_bytes_in += 2
            is_final = first & fin_bit
            reserved = first & rsv_bits
            opcode = first & opcode_bits
            control = opcode & 0x8
            if self._decompressor is not None and opcode != 0:
                # The first frame of a message says whether it is compressed.
                self._frame_compressed = bool(reserved & rsv1_bit)
                reserved &= ~rsv1_bit
            if reserved:
                self._abort()
                return
            masked = second & 0x80
            length = second & 0x7F
            if control and length >= 126:
                self._abort()
                return
            if length < 126:
                self._frame_length = length
            else:
                size = 2 if length == 126 else 8
                if len(data) - pos >= size:
                    length = int.from_bytes(data[pos : pos + size], "big")
                    rx.pos = pos = pos + size
                else:
                    length = int.from_bytes(await rx.read(stream, size), "big")
                    data, pos = rx.data, rx.pos
                self._wire_bytes_in += size

            # The size check comes before any of the payload is read.
            fragments = self._fragmented_message_buffer
            total = length if fragments is None else length + len(fragments)
            if total > self.params.max_message_size:
                self.close(1009, "message too big")
                self._abort()
                return

            if masked:
                if len(data) - pos >= 4:
                    key = data[pos : pos + 4]
                    rx.pos = pos = pos + 4
                else:
                    key = await rx.read(stream, 4)
                    data, pos = rx.data, rx.pos
                self._frame_mask = key
                self._wire_bytes_in += 4
            if len(data) - pos >= length:
                rx.pos = pos + length
                payload = data[pos : pos + length]
            else:
                payload = await rx.read(stream, length)
            self._wire_bytes_in += length
            if masked:
                payload = vars(ws_module)["_websocket_mask"](key, payload)

        # Control frames may come between the fragments of a data message
        # and leave them alone; data frames continue or start one.
        if control:
            if not is_final:
                self._abort()
                return
        elif opcode == 0:
            if fragments is None:
                self._abort()
                return
            fragments.extend(payload)
            if is_final:
                opcode = self._fragmented_message_opcode
                payload = bytes(fragments)
                self._fragmented_message_buffer = None
        else:
            if fragments is not None:
                self._abort()
                return
            if not is_final:
                self._fragmented_message_opcode = opcode
                self._fragmented_message_buffer = bytearray(payload)

        if is_final:
            handled = self._handle_message(opcode, payload)
            if handled is not None:
                await handled

    original = protocol_class.__dict__["_receive_frame"]
    _receive_frame.__qualname__ = original.__qualname__
    _receive_frame.__doc__ = original.__doc__
    return _receive_frame


def targets() -> list[tuple[object, str, object]]:
    """Import tornado; the attributes the patch replaces, with their replacements."""
    import tornado.util
    import tornado.web  # noqa: F401  (binds the mask function)
    import tornado.websocket

    found: list[tuple[object, str, object]] = []
    if _compiled(_CODEC) or (
        tornado.util._websocket_mask is tornado.util._websocket_mask_python
    ):
        replacement = _mask_function(_CODEC)
        for name in _BINDINGS:
            module = importlib.import_module(name)
            if "_websocket_mask" in vars(module):
                found.append((module, "_websocket_mask", replacement))
    protocol = tornado.websocket.WebSocketProtocol13
    found.append(
        (protocol, "_receive_frame", _make_receive_frame(protocol, tornado.websocket, _CODEC))
    )
    return found


def describe() -> str:
    """One line: what is now accelerated."""
    import tornado
    import tornado.websocket

    masking = vars(tornado.websocket)["_websocket_mask"] is _mask_function(_CODEC)
    also = " and masking (tornado.websocket, the XSRF token of tornado.web)" if masking else ""
    return (
        f"tornado {tornado.version}: WebSocket frame reading "
        f"(WebSocketProtocol13._receive_frame){also} on wsfast "
        f"({'c' if _compiled(_CODEC) else 'python'} twin)"
    )


# --- benchmark workloads ----------------------------------------------------------------


def workloads() -> list[tuple[str, Callable[[], Callable[[], object]]]]:
    """What the stack benchmarks time, patched and not: ``(name, setup)`` pairs.

    ``setup()`` reads tornado's objects under the current patch state and
    returns the callable to time: the mask function as
    ``tornado.websocket`` binds it, on ``count`` payloads of one size, and
    ``WebSocketProtocol13`` receiving client frames through a socket pair.
    """
    import asyncio

    import tornado.websocket

    key = b"\x37\xfa\x21\x3d"

    def mask(size: int, count: int) -> Callable[[], Callable[[], object]]:
        data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))

        def setup() -> Callable[[], object]:
            function = vars(tornado.websocket)["_websocket_mask"]

            def run() -> object:
                for _ in range(count):
                    function(key, data)
                return count

            return run

        return setup

    def receive(size: int, count: int) -> Callable[[], Callable[[], object]]:
        encoder = wsfast.FrameEncoder(client=True)
        payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        stream = b"".join(encoder.binary(payload) for _ in range(count))

        def setup() -> Callable[[], object]:
            def run() -> object:
                return asyncio.run(_receive_all(stream, count))

            return run

        return setup

    return [
        ("mask 125 B x 20k", mask(125, 20_000)),
        ("mask 64 KiB x 500", mask(64 * 1024, 500)),
        ("mask 1 MiB x 30", mask(1 << 20, 30)),
        ("receive 16 B x 10k", receive(16, 10_000)),
        ("receive 1 KiB x 2k", receive(1024, 2_000)),
        ("receive 64 KiB x 100", receive(64 * 1024, 100)),
    ]


async def _receive_all(stream: bytes, count: int) -> int:
    """Send ``stream`` through a socket pair to a server-side
    ``WebSocketProtocol13`` (tornado's ``IOStream`` on both ends, one loop);
    the number of messages its handler got."""
    import asyncio
    import socket

    from tornado.iostream import IOStream
    from tornado.websocket import WebSocketProtocol13, _WebSocketParams

    class Handler:
        received = 0
        done: asyncio.Future[None]

        def on_message(self, message: Any) -> None:
            self.received += 1
            if self.received == count:
                self.done.set_result(None)

        def on_ping(self, data: bytes) -> None:
            pass

        def on_pong(self, data: bytes) -> None:
            pass

        def on_ws_connection_close(self, code: Any = None, reason: Any = None) -> None:
            pass

        def log_exception(self, *args: Any) -> None:
            pass

    handler = Handler()
    handler.done = asyncio.get_running_loop().create_future()
    ours, theirs = socket.socketpair()
    protocol = WebSocketProtocol13(handler, False, _WebSocketParams(max_message_size=1 << 30))
    protocol.stream = IOStream(ours)
    peer = IOStream(theirs)
    task = asyncio.ensure_future(protocol._receive_frame_loop())
    await peer.write(stream)
    await handler.done
    peer.close()
    await task
    protocol.stream.close()
    return handler.received


# -- benchmark peers ---------------------------------------------------------------
#
# What ``python -m wsfast bench`` times wsfast against in tornado (see
# ``wsfast.integrations.BenchPeer``): its maskers ``websocket_mask(key, data)``,
# the C one of ``tornado.speedups`` and the pure fallback.

BENCH_PEERS: dict[str, tuple[BenchPeer, ...]] = {
    "mask": (
        BenchPeer("tornado", "tornado-c", "lib-c", ("mask",), "key, data",
                  ("tornado.speedups.websocket_mask",), rank=30),
        BenchPeer("tornado", "tornado-py", "lib-py", ("mask",), "key, data",
                  ("tornado.util._websocket_mask_python",), rank=31),
    ),
}
