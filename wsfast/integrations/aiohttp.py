"""aiohttp: WebSocket messages are decoded by wsfast's ``MessageDecoder``.

Supported: aiohttp 3.14.4 (the first with the reader flow control kept here)
up to (not including) 4.0.  Tested with 3.14.4 and 3.14.5; the own WebSocket
tests of 3.14.5 (parser, writer, data queue, server and client, unit and
functional) run patched in ``scripts/stack_suites_tornado_aiohttp.sh``.

Replaced: aiohttp's ``WebSocketReader`` class, wherever aiohttp binds it
(``aiohttp._websocket.reader``, ``aiohttp.http_websocket``, ``aiohttp.http``,
``aiohttp.web_ws``, ``aiohttp.client``, ``aiohttp.client_ws``,
``aiohttp.web_protocol``: every module of aiohttp that holds it, except the
two that define aiohttp's compiled and pure-Python readers), by
:class:`WebSocketReader` below, which ``WebSocketResponse.prepare()`` and
``ClientSession.ws_connect()`` then create for each connection.  Its
interface is aiohttp's: ``WebSocketReader(queue, max_msg_size, compress,
decode_text)``, ``feed_data(data) -> (error, tail)``, ``feed_eof()``,
``queue``, and aiohttp's internal ``_feed_data(data)`` (raises instead of
recording).

How it keeps aiohttp's behaviour:

- Each read is decoded by one call of the decoder's queue path
  (``MessageDecoder._feed_queue``: masking per the role of the first frame,
  fragments, UTF-8, close payloads, the size limit), which hands each TEXT
  and BINARY message to aiohttp's ``WebSocketDataQueue`` as it completes,
  as aiohttp builds them: ``WSMessage`` / ``WSMessageTextBytes`` tuples with
  the sizes aiohttp counts (UTF-8 bytes for text).  Control messages, and
  the messages after one, are queued here in order: PING and PONG payloads
  as ``bytearray`` when they came masked, as aiohttp's reader gives them.
- ``max_msg_size``: aiohttp refuses a message of ``max_msg_size`` bytes or
  more (0: no limit), so the decoder's limit is ``max_msg_size - 1``
  (``None`` for 0).
- Flow control: messages are queued while the queue is at or under its
  limit, one more crosses it, and the rest wait in the reader (decoded:
  only uncompressed messages are decoded here, so they hold at most what
  was read).  While they wait, new reads wait undecoded.  aiohttp's
  compiled queue lets only aiohttp's compiled reader register itself to be
  re-driven (``_stalled_reader``), so this reader stands in for the queue's
  protocol (``queue._protocol``): it reports the transport paused while
  messages wait and, when the queue calls ``resume_reading()`` with half
  its limit free, queues the next batch; the transport is resumed once
  nothing waits, as aiohttp does.
- Anything else -- a frame wsfast refuses (it is stricter than aiohttp:
  unmasked frames to a server, lengths not in their shortest form, close
  codes such as 1006 or 5000, RSV1 on a control frame, text that is not
  UTF-8 with ``decode_text=False``, a size over the limit, any protocol
  error), a compressed message (permessage-deflate), or a CLOSE -- hands
  the connection to aiohttp's own reader for the rest of it: the bytes of
  the frames wsfast has not turned into queued messages are replayed to a
  new aiohttp ``WebSocketReader`` on the same queue, which from there on
  reads everything, with aiohttp's errors, close codes and texts, its
  limits and its inflater, exactly as if it had read from the start.  The
  replay starts where aiohttp's reader would have been idle (no message
  open), leaving out the control frames already queued; the decoder says
  where that is (``MessageDecoder._last_feed``), and the reader keeps the
  reads since then as they came (a list of ``bytes``, not a copy).  No
  compressed message can precede the hand-over, so aiohttp's inflater
  starts with the same (empty) context.

Why compressed connections are aiohttp's own: their cost is zlib's, and
wsfast's compiled inflater measured 1.01-1.07x aiohttp's
``decompress_sync`` call (``python -m wsfast bench --only deflate``), too
little to be worth a second implementation of aiohttp's limits on inflated
messages.  aiohttp's writer keeps its own mask (its Cython ``(bytes,
bytearray)`` call beats any Python-level wrapper below 64 KiB), and the
compiled reader reaches its mask through a C-level import, which nothing can
patch.

When it is patched: both of aiohttp's readers are replaced, its compiled
one (its default on CPython) and its pure-Python one
(``AIOHTTP_NO_EXTENSIONS=1``, PyPy, a platform without aiohttp's wheels).
Against the compiled reader the wsfast reader is 1.5-15x as fast, against
the pure-Python one 7-13x (``bench/stacks_tornado_aiohttp.py``; the
README has the table).  Set :data:`REPLACE_COMPILED_READER` to False before
``patch()`` to keep aiohttp's compiled reader (``targets()`` then declines
with the reason and ``patch()`` warns).  With only wsfast's pure-Python twin
available, ``targets()`` declines too.

Observable differences: messages wait decoded, not as raw bytes, while the
queue is over its limit; the queue's ``_stalled_reader`` stays ``None``
(see above) and its ``_protocol`` is the stand-in; after a hand-over the
reader object that ``queue._stalled_reader`` refers to is aiohttp's.
"""

from __future__ import annotations

import importlib
import sys
import weakref
from collections.abc import Callable
from typing import Any

import wsfast
from wsfast.errors import WebSocketError

from . import BenchPeer

__all__ = [
    "STACK",
    "DISTRIBUTION",
    "SUPPORTED",
    "targets",
    "describe",
    "workloads",
    "WebSocketReader",
    "REPLACE_COMPILED_READER",
]

STACK = "aiohttp"
DISTRIBUTION = "aiohttp"
SUPPORTED = ((3, 14, 4), (4, 0))

#: The codec the reader decodes with (a test seam: the tests swap in each twin).
_CODEC: Any = wsfast

#: aiohttp's objects, found by ``targets()`` (``_bind``): the reader class it
#: hands over to, its message types and the per-message queue overhead.
_ORIGINAL: Any = None
_WSMessage: Any = None
_WSMessageTextBytes: Any = None
_TEXT: Any = None
_BINARY: Any = None
_PING: Any = None
_PONG: Any = None
_CLOSE: Any = None
_OVERHEAD = 128

_new_tuple = tuple.__new__

#: Whether aiohttp's reader is its compiled one (set by ``_bind``).
_AIOHTTP_COMPILED = False

#: Set to False before ``patch()`` to keep aiohttp's compiled reader (its
#: default on CPython) and replace only its pure-Python one.  On by default:
#: the wsfast reader is faster than it at every message size measured (see
#: the module's documentation).
REPLACE_COMPILED_READER = True


def _declined(reason: str) -> Exception:
    """The registry's ``Declined`` (a RuntimeError before it exists)."""
    cls = getattr(importlib.import_module("wsfast.integrations"), "Declined", RuntimeError)
    exc: Exception = cls(reason)
    return exc


def _compiled(codec: Any) -> bool:
    """Whether ``codec`` (wsfast, or one twin's names) is the compiled twin."""
    return str(codec.Masker.__module__).endswith("_c")


# --- finding frames in held bytes (aiohttp's framing, lenient) -------------------------------


def _frames(buf: Any) -> list[tuple[int, int, int, int]]:
    """``(offset, header length, payload length, first byte)`` of each
    complete frame in ``buf``, read as aiohttp reads a header: any length
    encoding, masked or not."""
    out = []
    pos, end = 0, len(buf)
    while end - pos >= 2:
        second = buf[pos + 1]
        length = second & 0x7F
        head = 2
        if length == 126:
            if end - pos < 4:
                break
            length = buf[pos + 2] << 8 | buf[pos + 3]
            head = 4
        elif length == 127:
            if end - pos < 10:
                break
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            head = 10
        if second & 0x80:
            head += 4
        if end - pos - head < length:
            break
        out.append((pos, head, length, buf[pos]))
        pos += head + length
    return out


def _completions(frames: list[tuple[int, int, int, int]]) -> list[tuple[int, int, list[int]]]:
    """After each frame that completes a message: ``(end offset, frame index,
    indexes of the data frames of the message still open there)``."""
    out = []
    open_frames: list[int] = []
    for index, (pos, head, length, first) in enumerate(frames):
        opcode = first & 0x0F
        end = pos + head + length
        if opcode >= 8:
            out.append((end, index, list(open_frames)))
        elif first & 0x80:
            open_frames = []
            out.append((end, index, []))
        else:
            open_frames = [*open_frames, index] if opcode == 0 else [index]
    return out


# --- the reader --------------------------------------------------------------------------------


class _FlowHook:
    """Stands in for a queue's protocol while decoded messages wait in the
    reader: reports reading paused until half the queue's limit is free,
    then re-drives the reader when the queue asks to resume (see the module
    docstring).  Installed as ``queue._protocol`` only while messages wait,
    so the queue costs what it costs when nothing does."""

    __slots__ = ("protocol", "queue", "_reader")

    def __init__(self, queue: Any, reader: WebSocketReader) -> None:
        self.protocol = queue._protocol
        #: Held only while installed: a compiled queue cannot be referenced weakly.
        self.queue = queue
        self._reader = weakref.ref(reader)
        queue._protocol = self

    def remove(self) -> None:
        """Give the queue its protocol back."""
        if self.queue._protocol is self:
            self.queue._protocol = self.protocol

    @property
    def _reading_paused(self) -> bool:
        # True asks the queue to call resume_reading(): when half of its
        # limit is free, as aiohttp re-drives a stalled reader.
        queue = self.queue
        return bool(queue._size <= queue._limit // 2)

    def pause_reading(self) -> None:
        if not self.protocol._reading_paused:
            self.protocol.pause_reading()

    def resume_reading(self) -> None:
        reader = self._reader()
        if reader is None:
            self.remove()
            self._reader_lost(self.queue)
        else:
            reader._resume()
        queue = self.queue
        if (queue._protocol is not self and queue._size < queue._limit
                and self.protocol._reading_paused):
            # Nothing waits any more: resume as the queue itself would have.
            self.protocol.resume_reading()

    @staticmethod
    def _reader_lost(queue: Any) -> None:
        # As aiohttp does when a stalled reader was collected: the messages
        # that waited in it are lost, which must not pass for a short stream.
        from aiohttp._websocket import reader_py
        from aiohttp.log import ws_logger

        ws_logger.warning(reader_py.STALLED_READER_COLLECTED)
        if queue.exception() is None:
            queue.set_exception(RuntimeError(reader_py.STALLED_READER_COLLECTED))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.protocol, name)


class WebSocketReader:
    """aiohttp's WebSocket reader on ``wsfast.MessageDecoder`` (see the module).

    ``WebSocketReader(queue, max_msg_size, compress, decode_text)`` as
    aiohttp's: ``feed_data(data)`` decodes a read and queues the messages it
    completes, returning ``(False, b"")``, or ``(True, ...)`` once a protocol
    error was queued; ``feed_eof()`` ends the queue.
    """

    __slots__ = (
        "queue",
        "_max_msg_size",
        "_compress",
        "_decode_text",
        "_hook",
        "_decoder",
        "_head",
        "_masked",
        "_held",
        "_held_from",
        "_taken",
        "_fallback",
        "_waiting",
        "_waiting_at",
        "_pending",
        "_exc",
        "__weakref__",
    )

    def __init__(
        self, queue: Any, max_msg_size: int, compress: bool = True, decode_text: bool = True
    ) -> None:
        self.queue = queue
        self._max_msg_size = max_msg_size
        self._compress = compress
        self._decode_text = decode_text
        self._decoder: Any = None
        self._head = b""  # the first byte, until the second shows the masking
        self._masked = False
        #: Every byte fed to the decoder since the last point where aiohttp's
        #: reader would have had no message open (the reads, as they came,
        #: from offset _held_from of the first), and the number of messages
        #: the decoder completed from them.
        self._held: list[bytes] = []
        self._held_from = 0
        self._taken = 0
        self._fallback: Any = None
        #: Decoded messages waiting for room in the queue, from _waiting_at on.
        self._waiting: list[Any] = []
        self._waiting_at = 0
        #: Reads that arrived while messages were waiting (not decoded yet).
        self._pending: list[bytes] = []
        self._exc: BaseException | None = None
        #: Installed on the queue while messages or reads wait here.
        self._hook: _FlowHook | None = None

    # -- aiohttp's interface

    def feed_eof(self) -> None:
        """The connection ended: no more data for the queue."""
        self.queue.feed_eof()

    def feed_data(self, data: Any) -> tuple[bool, bytes]:
        """Decode one read; ``(True, ...)`` once an error ended the stream."""
        fallback = self._fallback
        if fallback is not None and self._hook is None:
            result: tuple[bool, bytes] = fallback.feed_data(data)
            return result
        if type(data) is not bytes:
            data = bytes(data)
        if self._exc is not None:
            return True, data
        try:
            result = self._feed(data, raising=False)
        except Exception as exc:
            self._exc = exc
            self.queue.set_exception(exc)
            return True, b""
        return result

    def _feed_data(self, data: bytes) -> None:
        """``feed_data`` that raises the protocol error instead (aiohttp's own
        readers have it too, and aiohttp's tests call it)."""
        fallback = self._fallback
        if fallback is not None and self._hook is None:
            fallback._feed_data(data)
            return
        self._feed(bytes(data), raising=True)

    # -- decoding

    def _feed(self, data: bytes, raising: bool) -> tuple[bool, bytes]:
        if self._hook is not None or self.queue._size > self.queue._limit:
            if data:
                self._pending.append(data)
                self._wait()
            return False, b""
        if self._fallback is not None:
            return self._to_fallback(data, raising)
        return self._decode(data, raising)

    def _decode(self, data: bytes, raising: bool) -> tuple[bool, bytes]:
        decoder = self._decoder
        if decoder is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return False, b""
            self._head = b""
            # A server receives masked frames, a client unmasked ones: the
            # first frame says which end this is (aiohttp does not say).
            self._masked = bool(data[1] & 0x80)
            limit = self._max_msg_size - 1 if self._max_msg_size else None
            decoder = self._decoder = _CODEC.MessageDecoder(
                client=not self._masked, max_message_size=limit, decode_text=self._decode_text
            )
            decoder._set_queue(self.queue.feed_data, _OVERHEAD, _TEXT, _BINARY, "",
                               _WSMessage, _WSMessageTextBytes)
        self._held.append(data)
        queue = self.queue
        try:
            # TEXT and BINARY messages go to the queue as they are decoded
            # while it has room; the list has the rest, in order.
            rest = decoder._feed_queue(data, queue._limit - queue._size)
            failed = False
        except WebSocketError as exc:
            rest, failed = exc.decoded, True
        _queued, idle_end, since_idle = decoder._last_feed()
        if idle_end >= 0:
            # aiohttp's reader would have had no message open there.
            self._held = [data] if idle_end < len(data) else []
            self._held_from = idle_end if idle_end < len(data) else 0
            self._taken = since_idle
        else:
            self._taken += since_idle
        if rest:
            self._queue_messages(rest, 0)
        if failed or decoder.closed:  # the decoder reads nothing after a CLOSE
            return self._hand_over(raising)
        return False, b""

    # -- queueing, and waiting for room

    def _wait(self) -> None:
        if self._hook is None:
            self._hook = _FlowHook(self.queue, self)

    def _done(self) -> None:
        hook = self._hook
        if hook is not None:
            self._hook = None
            hook.remove()

    def _queue_messages(self, messages: list[Any], start: int) -> None:
        """Queue ``messages[start:]`` while the queue has room; keep the rest.

        As aiohttp's reader: a message is queued when the queue is at or under
        its limit before it, so the one that crosses the limit is queued too.
        """
        queue = self.queue
        queue_messages = self._decoder._queue_messages
        total = len(messages)
        at = start
        while at < total:
            room = queue._limit - queue._size
            if room < 0:
                break
            # Data messages, queued by the decoder; it stops at a control
            # message, which is queued here.
            at = queue_messages(messages, at, room)
            if at < total and queue._size <= queue._limit:
                self._queue_control(messages[at])
                at += 1
        if at < total:
            self._waiting = messages
            self._waiting_at = at
            self._wait()
        else:
            self._waiting = []
            self._waiting_at = 0

    def _queue_control(self, message: Any) -> None:
        """Queue a CLOSE, PING or PONG as aiohttp's reader does."""
        opcode, data = message.opcode, message.data
        if opcode == 8:
            if len(data) >= 2:
                code = data[0] << 8 | data[1]
                self.queue.feed_data(
                    _new_tuple(_WSMessage, (_CLOSE, code, data[2:].decode("utf-8"))), 0)
            else:
                self.queue.feed_data(_new_tuple(_WSMessage, (_CLOSE, 0, "")), 0)
            return
        # aiohttp unmasks control payloads in a bytearray.
        payload = bytearray(data) if self._masked else data
        self.queue.feed_data(
            _new_tuple(_WSMessage, (_PING if opcode == 9 else _PONG, payload, "")), len(data))

    def _resume(self) -> None:
        """The queue drained: queue what waits, then decode what arrived meanwhile."""
        queue = self.queue
        if queue._size > queue._limit // 2:
            return
        waiting = self._waiting
        if waiting:
            self._queue_messages(waiting, self._waiting_at)
            if self._waiting:
                return
        while self._pending and queue._size <= queue._limit:
            data = b"".join(self._pending)
            self._pending.clear()
            self._done()
            if self._fallback is not None:
                self._fallback.feed_data(data)
            elif self._exc is None:
                try:
                    self._decode(data, raising=False)
                except Exception as exc:
                    self._exc = exc
                    queue.set_exception(exc)
            if self._waiting:
                return
        if self._pending:
            self._wait()
        else:
            self._done()

    # -- handing the connection to aiohttp's own reader

    def _held_bytes(self) -> bytes:
        """The held bytes, in one piece."""
        return b"".join(self._held)[self._held_from :]

    def _hand_over(self, raising: bool) -> tuple[bool, bytes]:
        """Give the rest of the connection to aiohttp's reader: replay the held
        bytes that did not become queued messages."""
        held = self._held_bytes()
        taken = self._taken
        if taken:
            frames = _frames(held)
            done = _completions(frames)
            if len(done) < taken:  # pragma: no cover - the decoder returned what is there
                raise AssertionError("wsfast returned messages aiohttp's framing does not see")
            end, _index, open_frames = done[taken - 1]
            replay = b"".join(
                held[frames[i][0] : frames[i][0] + frames[i][1] + frames[i][2]]
                for i in open_frames
            ) + held[end:]
        else:
            replay = held
        self._held = []
        self._held_from = 0
        self._taken = 0
        self._fallback = _ORIGINAL(
            self.queue, self._max_msg_size, compress=self._compress, decode_text=self._decode_text
        )
        if self._hook is not None:
            # Queued after the messages waiting here.
            self._pending.insert(0, replay)
            return False, b""
        return self._to_fallback(replay, raising)

    def _to_fallback(self, data: bytes, raising: bool) -> tuple[bool, bytes]:
        if raising:
            self._fallback._feed_data(data)
            return False, b""
        result: tuple[bool, bytes] = self._fallback.feed_data(data)
        return result


# --- installing -----------------------------------------------------------------------------


def _bind() -> Any:
    """Import aiohttp; its reader class, with the message types bound here."""
    global _ORIGINAL, _WSMessage, _WSMessageTextBytes, _TEXT, _BINARY, _PING, _PONG, _CLOSE
    global _OVERHEAD, _AIOHTTP_COMPILED
    import aiohttp.client
    import aiohttp.web_ws  # noqa: F401  (binds the reader)
    from aiohttp._websocket import models, reader

    original = vars(reader)["WebSocketReader"]
    if original is WebSocketReader:  # already installed (a second patch)
        original = _ORIGINAL
    _ORIGINAL = original
    _AIOHTTP_COMPILED = not original.__module__.endswith("reader_py")
    _WSMessage, _WSMessageTextBytes = models.WSMessage, models.WSMessageTextBytes
    types = models.WSMsgType
    _TEXT, _BINARY, _PING, _PONG, _CLOSE = (
        types.TEXT, types.BINARY, types.PING, types.PONG, types.CLOSE)
    from aiohttp._websocket import reader_py

    _OVERHEAD = reader_py.MSG_SIZE_OVERHEAD
    return original


#: Where aiohttp defines its compiled and pure-Python readers.
_DEFINED_IN = ("aiohttp._websocket.reader_c", "aiohttp._websocket.reader_py")


def targets() -> list[tuple[object, str, object]]:
    """Import aiohttp; every module attribute bound to its reader class."""
    original = _bind()
    if not _compiled(_CODEC):
        raise _declined(
            "only wsfast's pure-Python twin is available, and aiohttp's own WebSocket "
            "reader is as fast or faster than a reader on it"
        )
    if _AIOHTTP_COMPILED and not REPLACE_COMPILED_READER:
        raise _declined(
            "aiohttp's compiled reader is in use and "
            "wsfast.integrations.aiohttp.REPLACE_COMPILED_READER is False, which keeps it"
        )
    found: list[tuple[object, str, object]] = []
    for name, module in sorted(sys.modules.items()):
        if name in _DEFINED_IN or module is None:
            continue  # asked for by name, aiohttp's own readers stay what they are
        if name == "aiohttp" or name.startswith("aiohttp."):
            if vars(module).get("WebSocketReader") is original:
                found.append((module, "WebSocketReader", WebSocketReader))
    return found


def describe() -> str:
    """One line: what is now accelerated."""
    import aiohttp

    return (
        f"aiohttp {aiohttp.__version__}: WebSocket message reading (WebSocketReader, "
        f"server and client) on wsfast ({'c' if _compiled(_CODEC) else 'python'} twin); "
        f"compressed connections hand over to aiohttp's reader"
    )


# --- benchmark workloads ----------------------------------------------------------------


def workloads() -> list[tuple[str, Callable[[], Callable[[], object]]]]:
    """What the stack benchmarks time, patched and not: ``(name, setup)`` pairs.

    ``setup()`` takes the reader class aiohttp binds in ``aiohttp.web_ws``
    (under the current patch state) and returns a callable that feeds it
    masked client frames with ``feed_data``, as a socket's reads would give
    them, over aiohttp's own ``WebSocketDataQueue``:

    - "queue" rows: into a queue with room for all of them (the reader's
      work: every message delivered to the queue);
    - "drain" rows: into a queue of aiohttp's default size while the
      application side reads it, so aiohttp's flow control pauses and
      resumes the reads.
    """
    import asyncio

    encoder = wsfast.FrameEncoder(client=True)

    def stream(count: int, size: int, text: bool) -> bytes:
        payload = (b"wsfast %d " * (size // 8 + 1))[:size]
        # Each frame masked with a fresh key, as a client sends them.
        if text:
            return b"".join(encoder.text(payload) for _ in range(count))
        return b"".join(encoder.binary(payload) for _ in range(count))

    def into_queue(wire: bytes, count: int, chunk: int) -> Callable[[], Callable[[], object]]:
        pieces = [wire[i : i + chunk] for i in range(0, len(wire), chunk)]

        def setup() -> Callable[[], object]:
            def run() -> object:
                loop = asyncio.new_event_loop()
                try:
                    return _queue_all(loop, pieces, count)
                finally:
                    loop.close()

            return run

        return setup

    def drained(wire: bytes, count: int, chunk: int) -> Callable[[], Callable[[], object]]:
        pieces = [wire[i : i + chunk] for i in range(0, len(wire), chunk)]

        def setup() -> Callable[[], object]:
            def run() -> object:
                return asyncio.run(_read_all(pieces, count))

            return run

        return setup

    read = 1 << 16
    return [
        ("queue 10k x 16 B text, one read", into_queue(stream(10_000, 16, True), 10_000, 1 << 30)),
        ("queue 10k x 125 B binary, 64 KiB reads",
         into_queue(stream(10_000, 125, False), 10_000, read)),
        ("queue 1k x 4 KiB binary, 64 KiB reads",
         into_queue(stream(1000, 4096, False), 1000, read)),
        ("queue 100 x 64 KiB binary, 64 KiB reads",
         into_queue(stream(100, 1 << 16, False), 100, read)),
        ("queue 10 x 1 MiB binary, 256 KiB reads",
         into_queue(stream(10, 1 << 20, False), 10, 1 << 18)),
        ("queue 1 x 16 MiB binary, 256 KiB reads",
         into_queue(stream(1, 16 << 20, False), 1, 1 << 18)),
        ("drain 10k x 16 B text, 64 KiB reads", drained(stream(10_000, 16, True), 10_000, read)),
        ("drain 20 x 1 MiB binary, 64 KiB reads", drained(stream(20, 1 << 20, False), 20, read)),
    ]


def _queue_all(loop: Any, pieces: list[bytes], count: int) -> int:
    """Feed ``pieces`` to the reader class of ``aiohttp.web_ws`` over an aiohttp
    queue with room for every message; the number of messages queued."""
    import aiohttp.web_ws
    from aiohttp.base_protocol import BaseProtocol

    bound = vars(aiohttp.web_ws)
    queue = bound["WebSocketDataQueue"](BaseProtocol(loop), 1 << 30, loop=loop)
    reader = bound["WebSocketReader"](queue, 64 << 20, compress=False, decode_text=True)
    for piece in pieces:
        reader.feed_data(piece)
    queued = len(queue._buffer)
    assert queued == count, (queued, count)
    return queued


async def _read_all(pieces: list[bytes], count: int) -> int:
    """Feed ``pieces`` to the reader class of ``aiohttp.web_ws`` over aiohttp's
    queue, as its protocol would, draining the queue as an application does."""
    import asyncio

    import aiohttp.web_ws
    from aiohttp.helpers import DEFAULT_CHUNK_SIZE

    class Protocol:
        """What the queue needs of a protocol: pausing and resuming the pieces."""

        def __init__(self) -> None:
            self._reading_paused = False
            self.resumed = asyncio.Event()

        def pause_reading(self) -> None:
            self._reading_paused = True
            self.resumed.clear()

        def resume_reading(self) -> None:
            self._reading_paused = False
            self.resumed.set()

    loop = asyncio.get_running_loop()
    protocol = Protocol()
    bound = vars(aiohttp.web_ws)
    queue = bound["WebSocketDataQueue"](protocol, DEFAULT_CHUNK_SIZE, loop=loop)
    reader = bound["WebSocketReader"](queue, 16 << 20, compress=False, decode_text=True)

    async def produce() -> None:
        for piece in pieces:
            while protocol._reading_paused:
                await protocol.resumed.wait()
            reader.feed_data(piece)
            await asyncio.sleep(0)

    producer = asyncio.ensure_future(produce())
    got = 0
    while got < count:
        await queue.read()
        got += 1
    await producer
    return got


# -- benchmark peers ---------------------------------------------------------------
#
# What ``python -m wsfast bench`` times wsfast against in aiohttp (see
# ``wsfast.integrations.BenchPeer``; each topic's docstring says what its
# conventions mean).  The hooks below import aiohttp only when called.
#
# mask: the in-place maskers ``(key, buf)``.  aiohttp >= 3.11 has an
# ``aiohttp._websocket`` package; 3.9-3.10 had a compiled ``aiohttp._websocket``
# module and the pure masker in ``aiohttp.http_websocket``.
# frames: the compiled ``WebSocketReader.feed_data``; messages land in its
# ``WebSocketDataQueue``, drained after every feed, and the queue limit is
# raised so the reader never pauses (its best case).  aiohttp has no
# frame-level API and no encoder of its own to compare.
# deflate: the reader's path (``ZLibDecompressor.decompress_sync(payload +
# tail, max_msg_size + 1)``) and the writer's (``ZLibCompressor`` at level 1,
# always, ``compress_sync`` + sync flush, tail removed).

BENCH_PEERS: dict[str, tuple[BenchPeer, ...]] = {
    "mask": (
        BenchPeer("aiohttp", "aiohttp-c", "lib-c", ("mask_inplace",), "key, buf",
                  ("aiohttp._websocket.mask._websocket_mask_cython",
                   "aiohttp._websocket._websocket_mask_cython"), rank=20),
        BenchPeer("aiohttp", "aiohttp-py", "lib-py", ("mask_inplace",), "key, buf",
                  ("aiohttp._websocket.helpers._websocket_mask_python",
                   "aiohttp.http_websocket._websocket_mask_python"), rank=21),
    ),
    "frames": (
        BenchPeer("aiohttp", "aiohttp-c", "lib-c", ("messages", "large"), "decode->typed",
                  (f"{__name__}._bench_reader",), rank=10,
                  label="aiohttp reader_c.WebSocketReader.feed_data",
                  needs=(("aiohttp._websocket.reader_c", "compiled reader not built or moved"),)),
    ),
    "deflate": (
        BenchPeer("aiohttp", "aiohttp", "lib-py", ("inflate",), "inflate",
                  (f"{__name__}._bench_inflate",), rank=20,
                  label="aiohttp reader (decompress_sync, max+1)"),
        BenchPeer("aiohttp", "aiohttp", "lib-py", ("deflate level 1",), "deflate",
                  (f"{__name__}._bench_deflate",), rank=20, label="aiohttp writer (level 1)"),
    ),
}

_BENCH_TAIL = b"\x00\x00\xff\xff"


class _BenchTransport:
    """What aiohttp's queue calls on its protocol when it fills up (never here)."""

    _reading_paused = False

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False


def _bench_feed_all(new_reader: Callable[[], tuple[Any, Any]], chunks: list[bytes]) -> list[Any]:
    """A fresh reader fed every chunk; its queue drained after each."""
    reader, queue = new_reader()
    feed = reader.feed_data
    buffer = queue._buffer
    out: list[Any] = []
    for chunk in chunks:
        feed(chunk)
        out += buffer
        buffer.clear()
    if queue.exception() is not None:
        raise queue.exception()
    return out


def _bench_typed(result: list[Any]) -> list[tuple[int, Any]]:
    return [(message.type, message.data) for message, _size in result]


def _bench_reader(limit: int) -> tuple[Callable[..., list[Any]], Any,
                                       Callable[[list[Any]], list[tuple[int, Any]]]]:
    """frames topic, ``decode->typed``: (run, factory, read).  The factory makes
    a (reader, queue): no compression, text decoded, and a queue limit so high
    that the reader never pauses."""
    reader_c = importlib.import_module("aiohttp._websocket.reader_c")
    reader_cls, queue_cls = reader_c.WebSocketReader, reader_c.WebSocketDataQueue

    def new_reader() -> tuple[Any, Any]:
        queue = queue_cls(_BenchTransport(), 1 << 30, loop=None)
        try:
            reader = reader_cls(queue, limit, False, True)  # compress, decode_text
        except TypeError:  # aiohttp < 3.12: no decode_text argument
            reader = reader_cls(queue, limit, False)
        return reader, queue

    new_reader()  # fail at discovery, not while timing
    return _bench_feed_all, new_reader, _bench_typed


def _bench_inflate(work: Any) -> Callable[[], bytes]:
    """deflate topic, ``inflate``: the next payload of ``work.compressed``, inflated."""
    import itertools

    from aiohttp.compression_utils import (  # type: ignore[import-not-found,unused-ignore]
        ZLibDecompressor,
    )

    decompress = ZLibDecompressor(suppress_deflate_header=True).decompress_sync
    payloads = itertools.cycle(work.compressed)
    limit = work.limit + 1

    def step() -> bytes:
        # What aiohttp's reader does with a whole compressed message.
        out: bytes = decompress(next(payloads) + _BENCH_TAIL, limit)
        if len(out) > work.limit:
            raise AssertionError("too big")
        return out

    return step


def _bench_deflate(level: int) -> Callable[[Any], Callable[[], bytes]]:
    """deflate topic, ``deflate``: what aiohttp's writer does for a compressed
    frame; it has level 1 only."""
    if level != 1:
        raise ValueError(f"aiohttp's writer compresses at level 1, not {level}")

    def prepare(work: Any) -> Callable[[], bytes]:
        import itertools

        from aiohttp.compression_utils import (  # type: ignore[import-not-found,unused-ignore]
            ZLibBackend,
            ZLibCompressor,
        )

        c = ZLibCompressor(level=ZLibBackend.Z_BEST_SPEED, wbits=-15)
        messages = itertools.cycle(work.messages)
        sync = ZLibBackend.Z_SYNC_FLUSH

        def step() -> bytes:
            frame: bytes = (c.compress_sync(next(messages)) + c.flush(sync)).removesuffix(
                _BENCH_TAIL)
            return frame

        return step

    return prepare
