"""wsproto on wsfast: the frame layer of wsproto 1.2 to 1.3.x, accelerated.

Supported: wsproto >= 1.2, < 2.0 (tested with 1.2.0 and 1.3.2). uvicorn
``--ws wsproto``, simple-websocket, Flask-Sock and python-engineio's threading
server run on wsproto, so they are accelerated through it.

Replaced while patched (``unpatch`` puts the originals back by identity):

- ``FrameProtocol`` in ``wsproto.frame_protocol`` and where it is bound by name:
  ``wsproto.connection`` (``Connection.__init__`` looks it up there) and
  ``wsproto.extensions``. The replacement is a subclass of wsproto's class, so
  ``isinstance`` still holds; its receive path decodes on ``wsfast.FrameDecoder``
  and its send path encodes and masks with wsfast. Connections made before
  ``patch`` keep wsproto's class; those made while patched keep the accelerated
  one after ``unpatch``.
- ``wsproto.frame_protocol.XorMaskerSimple``: the same interface
  (``XorMaskerSimple(key).process(data)``, the key phase carried across calls)
  on ``wsfast.Masker``. wsproto's own ``FrameDecoder`` uses it too.

How the receive path keeps wsproto's behaviour
----------------------------------------------
Where the buffered bytes hold whole frames, one ``FrameDecoder.feed`` call
decodes and unmasks all of them (``BATCH_BYTES``, 256 KiB, at a time). Each
becomes wsproto's own ``Frame`` tuple and
goes through what wsproto does with it: the connection's extension objects
(permessage-deflate included: they get the RSV bits and the payload, through
the hooks wsproto calls, in wsproto's order), message sequencing, UTF-8
decoding to ``str`` and the CLOSE payload checks.

A frame that is not whole in the buffer (a header cut by the network, a payload
still arriving) has its header parsed by wsproto's own code and its payload
streamed through the frame's masker as it arrives: one ``frame_finished=False``
frame per batch of bytes, as wsproto gives. wsproto has no size limit, and
nothing here waits for a frame to be whole: a ``FrameDecoder`` only ever holds
part of a frame whose other bytes have already been received, and a header
announcing more than ``WHOLE_FRAME_LIMIT`` (1 MiB) is streamed even when its
payload is all there.

When wsfast rejects a header, that header is handed to wsproto's own parser,
which raises its own ``ParseFailed`` (close code and reason text) when, and
only when, wsproto would. A whole text message is decoded with
``bytes.decode``; one that fails, and every fragmented message, goes through
wsproto's own incremental decoder, so errors read the same.
"""

from __future__ import annotations

import importlib
from collections import deque
from typing import TYPE_CHECKING, Any

import wsfast

from ..errors import WebSocketError
from . import BenchPeer

if TYPE_CHECKING:
    from collections.abc import Generator

    from wsproto.extensions import Extension
    from wsproto.frame_protocol import Frame as WsprotoFrame

__all__ = [
    "STACK",
    "DISTRIBUTION",
    "SUPPORTED",
    "WHOLE_FRAME_LIMIT",
    "BATCH_BYTES",
    "targets",
    "describe",
]

#: Name of the stack for ``wsfast.patch``.
STACK = "wsproto"
#: Distribution whose version is checked against ``SUPPORTED``.
DISTRIBUTION = "wsproto"
#: Supported versions: ``SUPPORTED[0] <= version < SUPPORTED[1]``.
SUPPORTED = ((1, 2), (2, 0))

#: Frames announcing more payload than this are streamed, never decoded whole.
#: Up to it, one ``FrameDecoder.feed`` decodes many frames per call, and a frame
#: that arrives whole in one ``receive_data`` (a 300 KB text, say) takes that
#: path too; above it, a frame's own Python overhead is small next to its
#: payload. It also bounds the copy a ``FrameDecoder`` makes of a frame cut at
#: the end of the bytes it is fed: that decoder is dropped and the frame is
#: streamed from the received bytes.
WHOLE_FRAME_LIMIT = 1 << 20

#: Received bytes are decoded at most this many at a time, so that a
#: ``receive_data`` of megabytes of tiny frames makes the frames of one slice
#: at a time (wsproto makes one at a time) rather than all at once. Socket
#: reads are rarely bigger (asyncio reads 256 KiB at most), so they are
#: decoded in one call; a frame cut by a slice is completed by the next one.
BATCH_BYTES = 1 << 18

#: Built classes by (wsproto's FrameProtocol, codec), each kept with its
#: codec (so that the ids in the key stay taken).
_BUILT: dict[tuple[int, int], tuple[Any, tuple[type[Any], type[Any]]]] = {}


def _version() -> tuple[int, ...]:
    import wsproto

    parts = []
    for part in wsproto.__version__.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _classes(api: Any = None) -> tuple[type[Any], type[Any]]:
    """``(FrameProtocol, XorMaskerSimple)`` replacements for the installed wsproto.

    ``api`` holds the codec to use (``FrameDecoder``, ``FrameEncoder``,
    ``Masker``, ``encode_frame``): ``wsfast`` itself unless a test passes one twin.
    """
    from wsproto import frame_protocol as fp

    if api is None:
        api = wsfast
    base = fp.__dict__["FrameProtocol"]
    base = getattr(base, "_wsfast_original", base)
    key = (id(base), id(api))
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = (api, _build(base, api, _version() < (1, 3)))
    return built[1]


def targets() -> list[tuple[object, str, object]]:
    """Import wsproto; every ``(owner, name, replacement)`` the patch installs."""
    return _targets(wsfast)


def _targets(api: Any) -> list[tuple[object, str, object]]:
    """``targets()`` with the codec of ``api`` (tests pass each twin)."""
    fp = importlib.import_module("wsproto.frame_protocol")
    connection = importlib.import_module("wsproto.connection")
    extensions = importlib.import_module("wsproto.extensions")
    protocol, masker = _classes(api)
    return [
        (fp, "FrameProtocol", protocol),
        (connection, "FrameProtocol", protocol),
        (extensions, "FrameProtocol", protocol),
        (fp, "XorMaskerSimple", masker),
    ]


def describe() -> str:
    """One line: what is accelerated now."""
    import wsproto

    return (
        f"wsproto {wsproto.__version__}: FrameProtocol receives on wsfast.FrameDecoder "
        "(events, streaming, extensions and close reasons kept) and sends and masks "
        f"with wsfast ({wsfast.IMPLEMENTATION} twin)"
    )


def _build(base: type[Any], api: Any, legacy: bool) -> tuple[type[Any], type[Any]]:
    """Define the replacements over wsproto's ``base`` FrameProtocol.

    ``legacy`` is wsproto 1.2, whose payloads are ``bytes`` or ``bytearray``
    depending on the masker (1.3 makes every payload ``bytes``).
    """
    from wsproto import frame_protocol as fp

    Frame = fp.Frame
    Opcode = fp.Opcode
    CloseReason = fp.CloseReason
    ParseFailed = fp.ParseFailed
    RsvBits = fp.RsvBits
    TEXT, BINARY, CLOSE = Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE
    CONTINUATION = Opcode.CONTINUATION
    # wsproto's Opcode members by number (wsproto compares them with ``is``).
    opcodes: list[Any] = [None] * 16
    for op in Opcode:
        opcodes[op] = op
    OPCODES = tuple(opcodes)
    new = tuple.__new__
    FrameDecoder = api.FrameDecoder
    FrameEncoder = api.FrameEncoder
    Masker = api.Masker
    encode_frame = api.encode_frame

    class XorMaskerSimple:
        """wsproto's ``XorMaskerSimple`` on ``wsfast.Masker``.

        ``process(data)`` returns the masked bytes as a new ``bytearray`` (as
        wsproto 1.3; ``bytes`` under 1.2, and an empty input back as it is), and
        the next call continues with the key phase where this one stopped.
        """

        __slots__ = ("masker",)

        def __init__(self, masking_key: bytes | bytearray) -> None:
            self.masker = Masker(masking_key)

        if legacy:

            def process(self, data: Any) -> Any:
                """``data`` masked, continuing the key phase of earlier calls."""
                return self.masker.process(data) if data else data

        else:

            def process(self, data: Any) -> Any:
                """``data`` masked, continuing the key phase of earlier calls."""
                out = bytearray(data)
                if out:
                    self.masker.process_inplace(out)
                return out

    class FrameProtocol(base):  # type: ignore[misc]
        """wsproto's ``FrameProtocol``, receiving on ``wsfast.FrameDecoder``.

        Same events, same streaming of partial frames, same extensions, same
        ``ParseFailed`` codes and texts; see the module's documentation.
        """

        _wsfast_original = base
        extensions: list[Extension]

        def __init__(self, client: bool, extensions: list[Extension]) -> None:
            super().__init__(client, extensions)
            #: Frames decoded and not yet handed out by ``received_frames``.
            self._ready: deque[WsprotoFrame] = deque()
            #: Received bytes: ``_data[_pos:]`` is unread, ``_more`` came since.
            self._data = b""
            self._pos = 0
            self._more: list[bytes] = []
            #: The whole-frame decoder; ``_data[_pos:_fed]`` is inside it (the
            #: start of a frame), and it is dropped rather than kept with part
            #: of a frame once the received bytes are used up.
            self._fast: Any = None
            self._fed = 0
            #: The next header goes to wsproto's parser (cut, refused, or big).
            self._slow = False
            #: A CLOSE was received or an error raised: nothing more is parsed.
            self._done = False
            self._error: Exception | None = None
            self._started = False
            #: Header bytes of a whole frame besides its payload, by length class.
            self._head = 2 if client else 6
            self._encoder = FrameEncoder(client=True) if client else None

        # --- receiving --------------------------------------------------------

        def receive_bytes(self, data: bytes) -> None:
            """Buffer ``data`` for ``received_frames`` (a copy unless it is bytes)."""
            if self._done:
                return  # wsproto never parses past a CLOSE or an error
            self._more.append(data if type(data) is bytes else bytes(data))

        def received_frames(self) -> Generator[WsprotoFrame, None, None]:
            """wsproto's frames from the bytes received so far, lazily, in order.

            A ``ParseFailed`` is raised after the frames that came before it;
            after it, or after a CLOSE, nothing more is produced.
            """
            if not self._started:
                # As wsproto's frame generator does when it starts.
                self._started = True
                self.extensions = [ext for ext in self.extensions if ext.enabled()]
            ready = self._ready
            while True:
                while ready:
                    yield ready.popleft()
                error = self._error
                if error is not None:
                    self._error = None
                    raise error
                if not self._fill():
                    return

        def _fill(self) -> bool:
            """Decode into ``_ready`` up to the next frame; False: bytes needed."""
            more = self._more
            if not more and self._pos >= len(self._data) or self._done:
                return False
            if more:
                if self._pos < len(self._data):
                    more.insert(0, self._data[self._pos :])
                self._data = more[0] if len(more) == 1 else b"".join(more)
                self._fed = max(self._fed - self._pos, 0)
                self._pos = 0
                more.clear()
            data = self._data
            pos = self._pos
            end = len(data)
            out = self._ready
            proto = self._frame_decoder
            try:
                while not out:
                    if proto.header is None:
                        if pos >= end:
                            break
                        if not self._slow:
                            pos += self._batch(data, pos, end, out)
                            continue
                        used = self._parse_header(data, pos, end)
                        if not used:
                            break
                        pos += used
                    step = self._stream(data, pos, end, out)
                    if step < 0:
                        break
                    pos = step
                    if proto.header is None:
                        self._slow = False
            except Exception as exc:  # delivered after the frames before it
                self._error = exc
                self._done = True
            if pos >= end:
                self._data = b""
                self._fed = pos = 0
            self._pos = pos
            return bool(out) or self._error is not None

        def _batch(self, data: bytes, pos: int, end: int, out: deque[WsprotoFrame]) -> int:
            """Decode the whole frames in the next slice of ``data``; bytes used.

            Slices of ``BATCH_BYTES`` bound the frames made at once however
            much was received; a frame cut by a slice stays in the decoder for
            the next one, a frame cut by the end of the data is left to
            ``_parse_header`` and ``_stream``.
            """
            fast = self._fast
            if fast is None:
                rsv = bool(self._frame_decoder.extensions)
                fast = self._fast = FrameDecoder(
                    client=self.client,
                    max_frame_size=WHOLE_FRAME_LIMIT,
                    allow_rsv1=rsv,
                    allow_rsv2=rsv,
                    allow_rsv3=rsv,
                )
            start = self._fed if self._fed > pos else pos
            stop = min(end, start + BATCH_BYTES)
            clean = True
            try:
                frames = fast.feed(data if stop - start == end else memoryview(data)[start:stop])
            except WebSocketError as exc:
                # What wsfast refuses goes to wsproto's parser, which has the last
                # word (a frame over WHOLE_FRAME_LIMIT is simply streamed).
                frames = exc.decoded
                clean = False
            self._fed = stop
            if self._frame_decoder.extensions:
                used = self._whole_extended(frames, out)
            else:
                used = self._whole(frames, out)
            if not clean or (stop == end and pos + used != end):
                self._fast = None
                self._fed = 0
                self._slow = True
            return used

        def _whole(self, frames: list[Any], out: deque[WsprotoFrame]) -> int:
            """Whole frames to wsproto's frames, no extension; wire bytes used.

            The loop of wsproto's ``FrameProtocol`` per frame, inlined for the
            common cases: a one-frame message, a ping or pong. The rest goes
            through wsproto's own message decoder and close checks.
            """
            messages = self._message_decoder
            append = out.append
            head = self._head
            retype = legacy and self.client
            used = 0
            for f in frames:
                payload = f.payload
                n = len(payload)
                # Lengths are in their minimal encoding (wsfast and wsproto both
                # refuse others), so the header length follows from the payload's.
                used += n + (head if n < 126 else head + 2 if n < 65536 else head + 8)
                if legacy and (retype or not n):
                    payload = bytearray(payload)
                op = f.opcode
                if op < 8:
                    if op and f.fin and messages.opcode is None:
                        if op == 1:
                            try:
                                text = payload.decode("utf-8")
                            except UnicodeDecodeError:  # wsproto's decoder says why
                                append(messages.process_frame(Frame(TEXT, payload, True, True)))
                                continue
                            append(new(Frame, (TEXT, text, True, True)))
                        else:
                            append(new(Frame, (BINARY, payload, True, True)))
                    else:
                        frame = new(Frame, (OPCODES[op], payload, True, f.fin))
                        append(messages.process_frame(frame))
                elif op == 8:
                    append(self._process_close(new(Frame, (CLOSE, payload, True, True))))
                    self._done = True
                    return used
                else:
                    append(new(Frame, (OPCODES[op], payload, True, True)))
            return used

        def _whole_extended(self, frames: list[Any], out: deque[WsprotoFrame]) -> int:
            """``_whole`` with extensions: each frame goes through their hooks."""
            proto = self._frame_decoder
            messages = self._message_decoder
            head = self._head
            retype = legacy and self.client
            used = 0
            for f in frames:
                payload = f.payload
                n = len(payload)
                used += n + (head if n < 126 else head + 2 if n < 65536 else head + 8)
                opcode = OPCODES[f.opcode]
                fin = f.fin
                # wsproto's own RSV and header-hook checks, on its own decoder.
                proto.extension_processing(opcode, RsvBits(f.rsv1, f.rsv2, f.rsv3), n)
                if legacy and (retype or not n):
                    payload = bytearray(payload)
                payload = self._extend(payload, True, fin)
                if opcode is CLOSE:
                    out.append(self._process_close(new(Frame, (CLOSE, payload, True, True))))
                    self._done = True
                    return used
                if opcode.iscontrol():
                    out.append(new(Frame, (opcode, payload, True, True)))
                elif fin and opcode is not CONTINUATION and messages.opcode is None:
                    # A one-frame message: what wsproto's message decoder gives.
                    if opcode is TEXT:
                        try:
                            text = str(payload, "utf-8")
                        except UnicodeDecodeError:  # wsproto's decoder says why
                            frame = Frame(TEXT, payload, True, True)
                            out.append(messages.process_frame(frame))
                            continue
                        out.append(new(Frame, (TEXT, text, True, True)))
                    else:
                        out.append(new(Frame, (BINARY, payload, True, True)))
                else:
                    frame = new(Frame, (opcode, payload, True, fin))
                    out.append(messages.process_frame(frame))
            return used

        def _extend(self, payload: Any, finished: bool, fin: bool) -> Any:
            """A frame's payload through the extensions' payload hooks (as wsproto)."""
            proto = self._frame_decoder
            extensions = proto.extensions
            if legacy:
                for extension in extensions:
                    data = extension.frame_inbound_payload_data(proto, payload)
                    if isinstance(data, CloseReason):
                        raise ParseFailed("error in extension", data)
                    payload = data
            else:
                for extension in extensions:
                    data = extension.frame_inbound_payload_data(proto, bytes(payload))
                    if isinstance(data, CloseReason):
                        raise ParseFailed("error in extension", data)
                    payload = bytearray(data)
            if finished:
                final = bytearray()
                for extension in extensions:
                    result = extension.frame_inbound_complete(proto, fin)
                    if isinstance(result, CloseReason):
                        raise ParseFailed("error in extension", result)
                    if result is not None:
                        final += result
                payload += final
            return payload if legacy else bytes(payload)

        def _parse_header(self, data: bytes, pos: int, end: int) -> int:
            """wsproto's own header parser on ``data[pos:end]``; bytes used, 0 if cut.

            It raises wsproto's ``ParseFailed`` for a bad header and leaves the
            frame's header, masker and counters on wsproto's ``FrameDecoder``.
            """
            proto = self._frame_decoder
            buffer = proto.buffer
            given = min(end - pos, 14)  # a header is at most 14 bytes
            buffer.buffer = bytearray(data[pos : pos + given])
            buffer.bytes_used = 0
            try:
                if not proto.parse_header():
                    return 0
                return given - len(buffer.buffer)
            finally:
                buffer.buffer = bytearray()
                buffer.bytes_used = 0

        def _stream(self, data: bytes, pos: int, end: int, out: deque[WsprotoFrame]) -> int:
            """The next piece of the frame whose header wsproto parsed; new pos or -1.

            wsproto's ``FrameDecoder.process_buffer`` after its header, reading
            straight from the received bytes.
            """
            proto = self._frame_decoder
            header = proto.header
            avail = end - pos
            if avail < proto.payload_required:
                return -1  # a control frame is only taken whole
            take: int = header.payload_len - proto.payload_consumed
            if take > avail:
                take = avail
            if not take and header.payload_len > 0:
                return -1
            raw = data if take == end else memoryview(data)[pos : pos + take]
            proto.payload_consumed += take
            finished = proto.payload_consumed == header.payload_len
            masker = proto.masker
            if legacy:
                payload = masker.process(bytearray(raw))
            elif type(masker) is XorMaskerSimple:
                payload = masker.masker.process(raw)
            else:
                payload = bytes(masker.process(raw))
            if proto.extensions:
                payload = self._extend(payload, finished, header.fin)
            opcode = proto.effective_opcode
            fin = header.fin
            if finished:
                proto.header = None
                proto.effective_opcode = None
                proto.masker = None
            else:
                proto.effective_opcode = CONTINUATION
            messages = self._message_decoder
            if opcode is CONTINUATION and messages.decoder is None and messages.opcode:
                # The next piece of a binary message: wsproto's message decoder
                # passes it through (inlined: this runs once per read of a big one).
                done = finished and fin
                out.append(new(Frame, (messages.opcode, payload, finished, done)))
                if done:
                    messages.opcode = None
            elif not opcode & 8:
                out.append(messages.process_frame(new(Frame, (opcode, payload, finished, fin))))
            elif opcode is CLOSE:
                out.append(self._process_close(new(Frame, (CLOSE, payload, finished, fin))))
                self._done = True
            else:
                out.append(new(Frame, (opcode, payload, finished, fin)))
            return pos + take

        # --- sending ----------------------------------------------------------

        def _serialize_frame(
            self, opcode: Any, payload: bytes | bytearray = b"", fin: bool = True
        ) -> bytearray:
            """One frame as wsproto encodes it, built and masked by wsfast.

            With an extension active, wsproto's own method (which masks with
            the accelerated ``XorMaskerSimple``).
            """
            if self.extensions:
                return super()._serialize_frame(opcode, payload, fin)  # type: ignore[no-any-return]
            if not isinstance(payload, (bytes, bytearray)):
                payload = bytearray(payload)
            if opcode >= 8 and len(payload) > 125:
                raise ValueError("payload too long for control frame")
            encoder = self._encoder
            if encoder is not None:
                # A fresh key per frame from os.urandom (drawn in blocks).
                return bytearray(encoder.encode(opcode, payload, fin=fin))
            return bytearray(encode_frame(opcode, payload, fin=fin))

    return FrameProtocol, XorMaskerSimple


# -- benchmark peers ---------------------------------------------------------------
#
# What ``python -m wsfast bench`` times wsfast against in wsproto (see
# ``wsfast.integrations.BenchPeer``; each topic's docstring says what its
# conventions mean).  The hooks below import wsproto only when called.
#
# mask: ``XorMaskerSimple(key).process(data)`` (built once and reused).
# frames: a server ``FrameProtocol`` fed the chunks (``receive_bytes`` +
# ``received_frames``).  It decodes text itself; its frames carry decoded text,
# a frame cut by a chunk boundary comes in pieces, and for messages those
# pieces are joined, as a wsproto user must.  Encoding: ``FrameProtocol.send_data``
# (it draws each client key from the OS).

_BENCH_NEEDS = (("wsproto.frame_protocol", ""),)
_BENCH_LABEL = "wsproto FrameProtocol.receive_bytes + received_frames"

BENCH_PEERS: dict[str, tuple[BenchPeer, ...]] = {
    "mask": (
        BenchPeer("wsproto", "wsproto-py", "lib-py", ("mask",), "masker",
                  ("wsproto.frame_protocol.XorMaskerSimple",), rank=50),
    ),
    "frames": (
        BenchPeer("wsproto", "wsproto", "lib-py", ("messages", "large"), "decode->data",
                  (f"{__name__}._bench_messages",), rank=30, label=_BENCH_LABEL,
                  needs=_BENCH_NEEDS),
        BenchPeer("wsproto", "wsproto", "lib-py", ("frames",), "decode->pieces",
                  (f"{__name__}._bench_frames",), rank=30, label=_BENCH_LABEL,
                  needs=_BENCH_NEEDS),
        BenchPeer("wsproto", "wsproto", "lib-py", ("encode",), "encode",
                  (f"{__name__}._bench_encoder",), rank=30,
                  label="wsproto FrameProtocol.send_data", needs=_BENCH_NEEDS),
    ),
}


def _bench_protocol() -> Any:
    """A factory of fresh server-side ``FrameProtocol`` objects."""
    import functools

    from wsproto.frame_protocol import FrameProtocol

    return functools.partial(FrameProtocol, client=False, extensions=[])


def _bench_frames_all(new_protocol: Any, chunks: list[bytes]) -> list[Any]:
    """A fresh server FrameProtocol fed every chunk; its frames."""
    protocol = new_protocol()
    receive, frames = protocol.receive_bytes, protocol.received_frames
    out: list[Any] = []
    for chunk in chunks:
        receive(chunk)
        out += frames()
    return out


def _bench_messages_all(new_protocol: Any, chunks: list[bytes]) -> list[Any]:
    """Its frames, the pieces of a message joined (data only)."""
    protocol = new_protocol()
    receive, frames = protocol.receive_bytes, protocol.received_frames
    out: list[Any] = []
    append = out.append
    parts: list[Any] = []
    for chunk in chunks:
        receive(chunk)
        for frame in frames():
            if not frame.message_finished:
                parts.append(frame.payload)
            elif parts:
                parts.append(frame.payload)
                append(parts[0][:0].join(parts))
                parts = []
            else:
                append(frame.payload)
    return out


def _bench_messages(limit: int) -> tuple[Any, Any, Any]:
    """frames topic, ``decode->data``: (run, factory, read); wsproto takes no limit."""
    return _bench_messages_all, _bench_protocol(), list


def _bench_frame_pieces(result: list[Any]) -> list[tuple[int, Any, bool]]:
    return [(int(f.opcode), f.payload, f.frame_finished) for f in result]


def _bench_frames(limit: int) -> tuple[Any, Any, Any]:
    """frames topic, ``decode->pieces``: (run, factory, read); wsproto takes no limit."""
    return _bench_frames_all, _bench_protocol(), _bench_frame_pieces


def _bench_encoder(masked: bool) -> Any:
    """frames topic, ``encode``: ``FrameProtocol.send_data`` of a client (masked)
    or a server."""
    from wsproto.frame_protocol import FrameProtocol

    return FrameProtocol(client=masked, extensions=[]).send_data
