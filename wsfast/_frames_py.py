"""Pure-Python twin of the frame codec: the reference for RFC 6455 framing.

Reads top-down like the RFC: section 5.2 (base framing) in ``_read_header``,
section 5.4 (fragmentation) and 5.6 (text must be UTF-8) in ``MessageDecoder``,
section 5.5.1 and 7.4 (close payloads) in ``parse_close``.

Every check happens as soon as the bytes that show a violation are present, in
wire order; when a ProtocolError and a MessageTooBigError show at the same byte,
the ProtocolError wins.  The compiled twin (``_frames_c.pyx``) implements the
same state machine and must give the same answer for every input.
"""

from __future__ import annotations

import os
import threading
from operator import index
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._buffers import byte_view, key_bytes
from ._mask_py import _mask_tail, _masked, _rotate
from ._pmd import Deflater, Inflater, MessageBuffer, get_backend
from ._utf8_py import Utf8Validator
from .errors import (
    InvalidDataError,
    MessageTooBigError,
    ProtocolError,
    WebSocketError,
    already_initialised_error,
    in_use_error,
)
from .protocol import FrameHeader, Opcode, _preview, is_sendable_close_code

if TYPE_CHECKING:
    from ._buffers import Buffer
    from .deflate import PerMessageDeflate

_object_new = object.__new__

__all__ = [
    "parse_header",
    "encode_header",
    "encode_frame",
    "FrameEncoder",
    "Frame",
    "FrameDecoder",
    "Message",
    "MessageDecoder",
    "parse_close",
    "encode_close",
]

#: Opcode members by number (reserved numbers are absent).
_OPCODES = {int(op): op for op in Opcode}
_MAX_LENGTH = (1 << 63) - 1
#: Largest payload of a control frame (RFC 6455 section 5.5).
_MAX_CONTROL = 125
_RSV_BITS = ((0x40, "RSV1"), (0x20, "RSV2"), (0x10, "RSV3"))
#: In ``rsv_ok``: RSV1 is allowed only on the first frame of a TEXT or BINARY
#: message (permessage-deflate, RFC 7692 section 6.1).
_RSV1_FIRST_ONLY = 0x100
#: Compressed bytes unmasked and inflated at a time.
_INFLATE_SLICE = 128 << 10
_DATA = (Opcode.TEXT, Opcode.BINARY)


# --- section 5.2: the header ------------------------------------------------


def _read_header(
    buf: bytearray | memoryview,
    pos: int,
    end: int,
    rsv_ok: int = 0x70,
    want_mask: bool | None = None,
    in_message: bool | None = None,
    limit: int | None = None,
    data_limit: int | None = None,
) -> FrameHeader | None:
    """Decode the header at ``buf[pos:end]``; None while bytes are missing.

    Context (all optional, for the decoders): ``rsv_ok`` has the RSV bits an
    extension negotiated; ``want_mask`` the masking the role requires;
    ``in_message`` whether a fragmented message is in progress (checks
    sequencing); ``limit`` caps every frame's payload and ``data_limit`` that
    of data frames (MessageTooBigError).  Checks run byte by byte in wire
    order, so the first violation on the wire is the one raised.
    """
    avail = end - pos
    if avail < 1:
        return None
    # Byte 0: FIN, RSV1-3, opcode.
    b0 = buf[pos]
    fin = b0 & 0x80 != 0
    opcode = _OPCODES.get(b0 & 0x0F)
    if opcode is None:
        raise ProtocolError(f"reserved opcode {b0 & 0x0F}")
    control = opcode >= 8
    if control and not fin:
        raise ProtocolError(f"fragmented control frame ({opcode.name} with FIN clear)")
    if b0 & 0x70 & ~rsv_ok:
        bit = next(name for value, name in _RSV_BITS if b0 & value & ~rsv_ok)
        raise ProtocolError(f"{bit} set but no extension negotiated it")
    if b0 & 0x40 and rsv_ok & _RSV1_FIRST_ONLY and (control or opcode == 0):
        # RFC 7692 section 6.1: RSV1 marks a compressed message on its first frame only.
        raise ProtocolError(
            f"RSV1 set on a {opcode.name} frame (permessage-deflate sets it only on "
            "the first frame of a message)"
        )
    if in_message is not None and not control:
        if opcode == 0 and not in_message:
            raise ProtocolError("continuation frame without a message to continue")
        if opcode != 0 and in_message:
            raise ProtocolError(f"{opcode.name} frame inside a fragmented message")
    if avail < 2:
        return None
    # Byte 1: MASK, 7-bit length.
    b1 = buf[pos + 1]
    masked = b1 & 0x80 != 0
    if want_mask is not None and masked != want_mask:
        if want_mask:
            raise ProtocolError("unmasked frame from a client (RFC 6455 section 5.1)")
        raise ProtocolError("masked frame from a server (RFC 6455 section 5.1)")
    length = b1 & 0x7F
    if control and length > _MAX_CONTROL:
        raise ProtocolError(f"{opcode.name} frame payload over 125 bytes")
    if not control and data_limit is not None and (limit is None or data_limit < limit):
        limit = data_limit
    if length == 126:
        # 16-bit length: at least 126, or the 7-bit form was required.
        header_length = 4
        if avail >= 3 and limit is not None and buf[pos + 2] << 8 > limit:
            _too_big(buf[pos + 2] << 8, limit)
        if avail < 4:
            return None
        length = buf[pos + 2] << 8 | buf[pos + 3]
        if length < 126:
            raise ProtocolError(f"length {length} not in its minimal (7-bit) encoding")
    elif length == 127:
        # 64-bit length: most significant bit clear, and at least 65536.
        header_length = 10
        known = min(avail, 10) - 2
        if known >= 1 and buf[pos + 2] & 0x80:
            raise ProtocolError("64-bit payload length with the most significant bit set")
        prefix = int.from_bytes(buf[pos + 2 : pos + 2 + known], "big")
        if known >= 6 and prefix >> (8 * (known - 6)) == 0:
            raise ProtocolError("length under 65536 not in its minimal (16-bit) encoding")
        lowest = prefix << (8 * (8 - known))
        if limit is not None and lowest > limit:
            _too_big(lowest, limit)
        if known < 8:
            return None
        length = prefix
    else:
        header_length = 2
    if limit is not None and length > limit:
        _too_big(length, limit)
    if masked:
        header_length += 4
        if avail < header_length:
            return None
        key: bytes | None = bytes(buf[pos + header_length - 4 : pos + header_length])
    else:
        if avail < header_length:
            return None
        key = None
    return FrameHeader(
        fin,
        b0 & 0x40 != 0,
        b0 & 0x20 != 0,
        b0 & 0x10 != 0,
        opcode,
        masked,
        length,
        key,
        header_length,
    )


def _too_big(length: int, limit: int) -> None:
    raise MessageTooBigError(f"payload of at least {length} bytes exceeds the limit of {limit}")


def parse_header(data: Buffer, offset: int = 0) -> FrameHeader | None:
    """Decode the frame header at ``data[offset:]``; None when more bytes are needed.

    Raises ProtocolError for every context-free violation as soon as the bytes
    that show it are present (a reserved opcode with only one byte, say).
    """
    view = byte_view(data)
    offset = index(offset)
    if offset < 0 or offset > len(view):
        raise ValueError(f"offset {offset} outside the buffer of {len(view)} bytes")
    return _read_header(view, offset, len(view))


def _check_frame_args(opcode: Any, length: int, fin: bool) -> Opcode:
    """Refuse what a receiver must reject (shared by both encoders)."""
    op = _OPCODES.get(index(opcode))
    if op is None:
        raise ValueError(f"opcode {opcode!r} is reserved or unknown")
    if length < 0 or length > _MAX_LENGTH:
        raise ValueError(f"payload length {length} outside 0 .. 2**63-1")
    if op >= 8:
        if not fin:
            raise ValueError(f"control frame {op.name} must have fin=True")
        if length > _MAX_CONTROL:
            raise ValueError(f"control frame {op.name} payload of {length} bytes exceeds 125")
    return op


def _header_bytes(op: int, length: int, fin: bool, rsv: int, key: bytes | None) -> bytes:
    b0 = (0x80 if fin else 0) | rsv | op
    mask_bit = 0x80 if key is not None else 0
    if length < 126:
        head = bytes((b0, mask_bit | length))
    elif length < 65536:
        head = bytes((b0, mask_bit | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((b0, mask_bit | 127)) + length.to_bytes(8, "big")
    return head + key if key is not None else head


def _rsv(rsv1: Any, rsv2: Any, rsv3: Any) -> int:
    return (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | (0x10 if rsv3 else 0)


def encode_header(
    opcode: int,
    payload_length: int,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: Buffer | None = None,
) -> bytes:
    """The header of a frame, with its length in the minimal encoding."""
    index(opcode)
    length = index(payload_length)
    op = _check_frame_args(opcode, length, fin)
    key = None if mask_key is None else key_bytes(mask_key)
    return _header_bytes(op, length, fin, _rsv(rsv1, rsv2, rsv3), key)


def encode_frame(
    opcode: int,
    payload: Buffer,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: Buffer | None = None,
) -> bytes:
    """A whole frame: header and (masked, when a key is given) payload."""
    index(opcode)
    data = payload if type(payload) is bytes else byte_view(payload)
    op = _check_frame_args(opcode, len(data), fin)
    key = None if mask_key is None else key_bytes(mask_key)
    head = _header_bytes(op, len(data), fin, _rsv(rsv1, rsv2, rsv3), key)
    if key is None:
        return head + data
    return head + _masked(data, key)


# --- section 7.4: close payloads ----------------------------------------------


def parse_close(payload: Buffer) -> tuple[int | None, str]:
    """``(code, reason)`` of a CLOSE payload; ``(None, "")`` when it is empty."""
    data = byte_view(payload)
    n = len(data)
    if n == 0:
        return None, ""
    if n == 1:
        raise ProtocolError("close payload of 1 byte (a code needs 2)")
    if n > _MAX_CONTROL:
        raise ProtocolError(f"close payload of {n} bytes exceeds 125")
    code = data[0] << 8 | data[1]
    if not is_sendable_close_code(code):
        raise ProtocolError(f"close code {code} may not be sent on the wire")
    try:
        reason = str(data[2:], "utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDataError(f"close reason is not valid UTF-8: {exc.reason}") from None
    return code, reason


def encode_close(code: int | None = 1000, reason: str = "") -> bytes:
    """The payload of a CLOSE frame with ``code`` and ``reason``."""
    if not isinstance(reason, str):
        raise TypeError(f"reason must be str, not {type(reason).__name__}")
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return b""
    code = index(code)
    if not is_sendable_close_code(code):
        raise ValueError(f"close code {code} may not be sent on the wire")
    payload = code.to_bytes(2, "big") + str.encode(reason, "utf-8")
    if len(payload) > _MAX_CONTROL:
        raise ValueError(f"close payload of {len(payload)} bytes exceeds 125")
    return payload


# --- encoder ----------------------------------------------------------------

#: Mask keys come from os.urandom (a CSPRNG) in blocks, not a system call a frame.
_KEY_BLOCK = 4096
#: Forks this process has seen as a child (a one-item list, bumped in place).
_FORKS = [0]


def _forked() -> None:
    _FORKS[0] += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


class FrameEncoder:
    """Encodes frames (RFC 6455 section 5.2).

    ``client=True`` masks every frame with a fresh key from a CSPRNG
    (``os.urandom``, drawn in blocks of 4 KiB), as section 5.3 requires.
    ``text()`` refuses bytes that are not UTF-8 (``ValueError``), checking a
    message sent in fragments as a whole; ``encode()`` is the unchecked
    escape hatch.  With ``deflate`` (the agreed ``PerMessageDeflate``) data
    messages of at least ``compress_threshold`` bytes (0-1024, judged by the
    first frame) are compressed, at ``compression_level`` and ``mem_level``
    when given, by ``deflate_backend`` (``"zlib"``, ``"zlib-ng"``, ``"isal"``
    or such a module; by default zlib-ng when installed, else the standard
    library's zlib).  Safe to share between threads: no two frames ever get
    the same key.  It cannot be copied or pickled (a copy would replay keys).
    """

    __slots__ = (
        "_client",
        "_keys",
        "_key_pos",
        "_lock",
        "_utf8",
        "_in_text",
        "_deflater",
        "_threshold",
        "_compressing",
        "_forks",
        "__weakref__",
    )

    def __init__(
        self,
        *,
        client: bool = False,
        deflate: PerMessageDeflate | None = None,
        compress_threshold: int = 0,
        compression_level: int | None = None,
        mem_level: int | None = None,
        deflate_backend: str | ModuleType | None = None,
    ) -> None:
        masked = bool(client)
        threshold = index(compress_threshold)
        if not 0 <= threshold <= 1024:
            raise ValueError(f"compress_threshold must be 0-1024, got {threshold}")
        deflater = None
        if deflate is not None:
            options = {}
            if compression_level is not None:
                options["level"] = compression_level
            if mem_level is not None:
                options["mem_level"] = mem_level
            deflater = Deflater.for_endpoint(
                deflate, client=masked, backend=deflate_backend, **options
            )
        elif deflate_backend is not None:
            get_backend(deflate_backend)  # a wrong one is an error even without deflate
        self._lock = threading.Lock()
        with self._lock:
            self._client = masked
            self._keys = b""
            self._key_pos = 0
            self._forks = _FORKS[0]
            #: UTF-8 state of a TEXT message sent in fragments: the message is
            #: checked as a whole, so a code point may be split between them.
            self._utf8 = Utf8Validator()
            self._in_text = False
            #: permessage-deflate (RFC 7692): data messages of at least
            #: ``_threshold`` bytes (judged by their first frame) are compressed.
            self._deflater = deflater
            self._threshold = threshold
            self._compressing = False  # the message being sent in fragments is

    @property
    def client(self) -> bool:
        """Whether frames are masked, as a client must."""
        return self._client

    def _next_key(self) -> bytes:
        with self._lock:
            pos = self._key_pos
            if pos >= len(self._keys) or self._forks != _FORKS[0]:
                # (After a fork, parent and child would hand out the same keys
                # from the block they share: the child draws anew.)
                self._keys = os.urandom(_KEY_BLOCK)
                self._forks = _FORKS[0]
                pos = 0
            self._key_pos = pos + 4
            return self._keys[pos : pos + 4]

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(
            f"cannot pickle {type(self).__name__!r} object (its mask keys must never repeat)"
        )

    def encode(
        self, opcode: int, payload: Buffer, *, fin: bool = True, rsv1: bool = False
    ) -> bytes:
        """A frame with any opcode, as it is: the low-level escape hatch (no
        UTF-8 check of TEXT payloads, no message sequencing)."""
        rsv = bool(rsv1)
        if not self._client:
            return encode_frame(opcode, payload, fin=fin, rsv1=rsv)
        return encode_frame(opcode, payload, fin=fin, rsv1=rsv, mask_key=self._next_key())

    def _text(self, opcode: Opcode, data: str | Buffer, fin: bool) -> bytes:
        """A TEXT or CONTINUATION frame with the message's UTF-8 check."""
        final = bool(fin)
        state: Utf8Validator | None = None  # None: a fresh, complete state
        if isinstance(data, str):
            # Encoded as str does it, never by a subclass's own encode().
            data = str.encode(data, "utf-8")
            check = opcode != Opcode.TEXT  # a new message from a str is valid
        else:
            check = True
        with self._lock:
            if opcode != Opcode.TEXT:
                check = check and self._in_text
                if check:
                    state = self._utf8._copy()
        view = byte_view(data) if type(data) is not bytes else data
        if check:
            state = state or Utf8Validator()
            if not state._feed(view, final):
                raise ValueError(
                    "text payload is not valid UTF-8"
                    if final
                    else "text payload is not a valid UTF-8 prefix"
                )
        out = self._frame(opcode, view, final)
        with self._lock:
            if opcode == Opcode.TEXT or self._in_text:
                self._in_text = not final
                if not final:
                    self._utf8 = state or Utf8Validator()
        return out

    def _frame(self, opcode: Opcode, payload: Buffer, fin: bool) -> bytes:
        rsv1 = False
        if self._deflater is not None and opcode < 8:
            payload, rsv1 = self._compress(opcode, payload, fin)
        if not self._client:
            return encode_frame(opcode, payload, fin=fin, rsv1=rsv1)
        return encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask_key=self._next_key())

    def _compress(self, opcode: Opcode, payload: Buffer, fin: bool) -> tuple[Buffer, bool]:
        """A data frame's payload as sent, and its RSV1 (RFC 7692 section 6)."""
        deflater = self._deflater
        assert deflater is not None
        with self._lock:
            if opcode == Opcode.CONTINUATION:
                if not self._compressing:
                    return payload, False
                first = False
            else:
                size = len(payload) if type(payload) is bytes else len(byte_view(payload))
                if size < self._threshold:
                    self._compressing = False
                    return payload, False
                first = True
            self._compressing = not fin
        # Outside the encoder's lock, as the compiled twin: a call that overlaps
        # another on the deflater raises RuntimeError there (one stream, one
        # message at a time) instead of waiting.
        return deflater.compress(payload, final=fin), first

    def text(self, data: str | Buffer, *, fin: bool = True) -> bytes:
        """A TEXT frame; a ``str`` is encoded as UTF-8.  A buffer must be valid
        UTF-8 (``ValueError`` otherwise), as a receiver requires; with
        ``fin=False`` the message is checked as a whole across the
        :meth:`continuation` frames that follow, so a code point may be split."""
        return self._text(Opcode.TEXT, data, fin)

    def binary(self, data: Buffer, *, fin: bool = True) -> bytes:
        """A BINARY frame."""
        out = self._frame(Opcode.BINARY, data, bool(fin))
        with self._lock:
            self._in_text = False
        return out

    def continuation(self, data: str | Buffer, *, fin: bool = True) -> bytes:
        """A CONTINUATION frame (a ``str`` is encoded as UTF-8).  Inside a TEXT
        message the bytes are checked as its next part (``ValueError`` when
        they cannot continue valid UTF-8, or with ``fin=True`` end inside a
        code point)."""
        return self._text(Opcode.CONTINUATION, data, fin)

    def ping(self, data: str | Buffer = b"") -> bytes:
        """A PING frame (payload up to 125 bytes; a ``str`` is encoded as UTF-8)."""
        if isinstance(data, str):
            data = str.encode(data, "utf-8")
        return self._frame(Opcode.PING, data, True)

    def pong(self, data: str | Buffer = b"") -> bytes:
        """A PONG frame (payload up to 125 bytes; a ``str`` is encoded as UTF-8)."""
        if isinstance(data, str):
            data = str.encode(data, "utf-8")
        return self._frame(Opcode.PONG, data, True)

    def close(self, code: int | None = 1000, reason: str = "") -> bytes:
        """A CLOSE frame; ``code=None`` sends an empty payload."""
        return self._frame(Opcode.CLOSE, encode_close(code, reason), True)

    def __repr__(self) -> str:
        return f"FrameEncoder(client={self._client})"


# --- value types --------------------------------------------------------------


class Frame:
    """One decoded frame; ``payload`` is already unmasked.

    Read-only, compared by value, hashable and picklable.
    """

    __slots__ = ("_opcode", "_fin", "_rsv1", "_rsv2", "_rsv3", "_payload")

    def __init__(
        self,
        opcode: int,
        payload: Buffer = b"",
        *,
        fin: bool = True,
        rsv1: bool = False,
        rsv2: bool = False,
        rsv3: bool = False,
    ) -> None:
        op = index(opcode)
        value = payload if type(payload) is bytes else byte_view(payload).tobytes()
        bits = bool(fin), bool(rsv1), bool(rsv2), bool(rsv3)
        if hasattr(self, "_opcode"):  # read-only: written once, as the compiled twin's
            raise already_initialised_error(self)
        self._opcode = _OPCODES.get(op, op)
        self._payload = value
        self._fin, self._rsv1, self._rsv2, self._rsv3 = bits

    opcode = property(lambda self: self._opcode, doc="The frame's opcode.")
    fin = property(lambda self: self._fin, doc="Whether this is a message's final frame.")
    rsv1 = property(lambda self: self._rsv1, doc="Reserved bit 1 (extensions).")
    rsv2 = property(lambda self: self._rsv2, doc="Reserved bit 2 (extensions).")
    rsv3 = property(lambda self: self._rsv3, doc="Reserved bit 3 (extensions).")
    payload = property(lambda self: self._payload, doc="The unmasked payload.")

    def _key(self) -> tuple[int, bool, bool, bool, bool, bytes]:
        return (self._opcode, self._fin, self._rsv1, self._rsv2, self._rsv3, self._payload)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_frame, self._key())

    def __repr__(self) -> str:
        name = _opcode_name(self._opcode)
        bits = "".join(f", {n}=True" for n in ("rsv1", "rsv2", "rsv3") if getattr(self, n))
        return f"Frame({name}, fin={self._fin}{bits}, payload=<{len(self._payload)} bytes>)"


def _new_frame(
    opcode: int, payload: bytes, fin: bool, rsv1: bool, rsv2: bool, rsv3: bool
) -> Frame:
    """A Frame of a decoder's making (exact bytes, a checked opcode), without
    ``__init__`` and its checks, as the compiled twin makes them."""
    frame = _object_new(Frame)
    frame._opcode = _OPCODES.get(opcode, opcode)
    frame._payload = payload
    frame._fin, frame._rsv1, frame._rsv2, frame._rsv3 = fin, rsv1, rsv2, rsv3
    return frame


def _new_message(opcode: int, data: str | bytes) -> Message:
    """A Message of a decoder's making (exact str or bytes), as _new_frame."""
    message = _object_new(Message)
    message._opcode = _OPCODES.get(opcode, opcode)
    message._data = data
    return message


def _restore_frame(
    opcode: int, fin: bool, rsv1: bool, rsv2: bool, rsv3: bool, payload: bytes
) -> Frame:
    """Unpickle a Frame (its flags are keyword-only)."""
    return Frame(opcode, payload, fin=fin, rsv1=rsv1, rsv2=rsv2, rsv3=rsv3)


def _opcode_name(opcode: int) -> str:
    op = _OPCODES.get(opcode)
    return op.name if op is not None else str(opcode)


class Message:
    """One complete message: ``data`` is ``str`` for decoded TEXT, else ``bytes``.

    ``opcode`` is TEXT, BINARY, CLOSE, PING or PONG; a CLOSE message's data is
    its raw payload (see ``parse_close``).  Read-only, compared by value,
    hashable and picklable; ``data`` is always an exact ``str`` or ``bytes``.
    """

    __slots__ = ("_opcode", "_data")

    def __init__(self, opcode: int, data: str | Buffer) -> None:
        op = int.__index__(index(opcode))  # an exact int, as the compiled twin
        # An exact str or bytes, never a subclass (any buffer is copied to
        # bytes), as the compiled twin, whose Message is kept out of the
        # garbage collector and so must never be part of a reference cycle.
        value: str | bytes
        if isinstance(data, str):
            value = str.__str__(data)  # an exact copy of a subclass, without its __str__
        else:
            value = data if type(data) is bytes else byte_view(data).tobytes()
        if hasattr(self, "_opcode"):  # read-only: written once, as the compiled twin's
            raise already_initialised_error(self)
        self._opcode = _OPCODES.get(op, op)
        self._data = value

    opcode = property(lambda self: self._opcode, doc="TEXT, BINARY, CLOSE, PING or PONG.")
    data = property(lambda self: self._data, doc="The payload (str for decoded text).")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self._opcode == other._opcode and self._data == other._data

    def __hash__(self) -> int:
        return hash((self._opcode, self._data))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self._opcode, self._data))

    def __repr__(self) -> str:
        return f"Message({_opcode_name(self._opcode)}, data={_preview(self._data)})"


# --- decoders -------------------------------------------------------------------


class _Decoder:
    """What both decoders share: pending header bytes, limits, the failed state.

    One call at a time: a ``feed`` that overlaps another on the same decoder
    (another thread, or a callback of this one such as a finalizer) raises
    ``RuntimeError`` and changes nothing; ``__init__`` runs once.
    """

    __slots__ = ("_want_mask", "_rsv_ok", "_limit", "_head", "_failed", "_lock", "__weakref__")

    def __init__(self, client: bool, max_frame_size: int | None, rsv_ok: int) -> None:
        want_mask = not client
        if max_frame_size is not None:
            max_frame_size = index(max_frame_size)
            if max_frame_size < 0:
                raise ValueError(f"max_frame_size must be >= 0, got {max_frame_size}")
        self._start_init()
        self._lock = threading.Lock()
        self._want_mask = want_mask
        self._rsv_ok = rsv_ok
        self._limit = max_frame_size
        #: Bytes of a header whose end has not arrived yet (at most 14).
        self._head = bytearray()
        self._failed: tuple[type[WebSocketError], str] | None = None

    def _start_init(self) -> None:
        if hasattr(self, "_lock"):
            raise already_initialised_error(self)

    @property
    def failed(self) -> bool:
        """True once :meth:`feed` has raised: every later ``feed`` raises again."""
        return self._failed is not None

    def _check_failed(self) -> None:
        if self._failed is not None:
            cls, reason = self._failed
            raise cls(f"decoder failed earlier: {reason}")

    def _fail(self, exc: WebSocketError, done: list[Any]) -> None:
        exc.decoded = done
        self._failed = (type(exc), str(exc))

    def _feed(self, data: Buffer, to_queue: bool = False, room: int = 0) -> list[Any]:
        """What ``feed`` does in both decoders: one call at a time, the failed
        state, and ``exc.decoded`` for what was completed before an error."""
        lock = self._lock
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            self._check_failed()
            view = byte_view(data)
            done: list[Any] = []
            self._start_feed(to_queue, room)
            try:
                self._decode(view, done)
            except WebSocketError as exc:
                self._fail(exc, done)
                raise
            except BaseException as exc:
                # MemoryError, KeyboardInterrupt mid-feed, ...: the state may be
                # half-updated, so nothing more is decoded.
                self._failed = (WebSocketError, f"{type(exc).__name__}: {exc}")
                raise
            finally:
                self._end_feed()
            return done
        finally:
            lock.release()

    def _decode(self, view: memoryview, done: list[Any]) -> None:
        raise NotImplementedError

    def _start_feed(self, to_queue: bool, room: int) -> None:
        """A feed begins (per decoder: where its messages go)."""

    def _end_feed(self) -> None:
        """The feed ended, as it did."""

    def _header(
        self,
        view: memoryview,
        pos: int,
        in_message: bool | None = None,
        data_limit: int | None = None,
    ) -> tuple[FrameHeader | None, int]:
        """The next header from the pending bytes and ``view[pos:]``; new pos."""
        head = self._head
        if not head:
            end = len(view)
            hdr = _read_header(
                view, pos, end, self._rsv_ok, self._want_mask, in_message, self._limit, data_limit
            )
            if hdr is None:
                head += view[pos:]
                return None, len(view)
            return hdr, pos + hdr.header_length
        had = len(head)
        head += view[pos : pos + 14 - had]
        hdr = _read_header(
            head, 0, len(head), self._rsv_ok, self._want_mask, in_message, self._limit, data_limit
        )
        if hdr is None:
            return None, len(view)  # a header is at most 14 bytes: all were taken
        del head[:]
        return hdr, pos + hdr.header_length - had


class FrameDecoder(_Decoder):
    """Streaming frame decoder (RFC 6455 section 5.2).

    ``feed(data)`` appends bytes, split anywhere, and returns the frames they
    complete, in order.  ``client=False`` (this endpoint is a server) requires
    every incoming frame to be masked; ``client=True`` requires them unmasked.
    ``max_frame_size`` caps one frame's payload: ``None`` means no limit and
    ``0`` a limit of zero; a header that announces more raises
    ``MessageTooBigError`` before any of the payload is buffered.
    ``allow_rsv1`` .. ``allow_rsv3`` accept the reserved bits an extension
    negotiated.

    Errors: ``ProtocolError`` (close code 1002) and ``MessageTooBigError``
    (1009).  The frames completed by the same ``feed`` before the error are on
    ``exc.decoded``; from then on the decoder is failed (``failed`` is True)
    and every ``feed`` raises an error of the same class.  It decodes frames
    only, so it keeps going after a CLOSE frame.

    One call at a time: a ``feed`` that overlaps another on the same decoder
    (another thread, a re-entrant callback) raises ``RuntimeError`` and
    changes nothing.
    """

    __slots__ = ("_hdr", "_payload", "_unmask")

    def __init__(
        self,
        *,
        client: bool = False,
        max_frame_size: int = 1 << 20,
        allow_rsv1: bool = False,
        allow_rsv2: bool = False,
        allow_rsv3: bool = False,
    ) -> None:
        self._start_init()  # before any argument runs code of its own
        rsv_ok = _rsv(allow_rsv1, allow_rsv2, allow_rsv3)
        super().__init__(client, max_frame_size, rsv_ok)
        self._hdr: FrameHeader | None = None  # header whose payload is arriving
        self._payload = bytearray()

    def feed(self, data: Buffer) -> list[Frame]:
        """Append bytes; return the frames they complete, in order."""
        return self._feed(data)

    def _decode(self, view: memoryview, frames: list[Frame]) -> None:
        pos, end = 0, len(view)
        while pos < end:
            hdr = self._hdr
            if hdr is None:
                hdr, pos = self._header(view, pos)
                if hdr is None:
                    return
                need = hdr.payload_length
                if end - pos >= need:
                    # The whole payload is here: one copy (and unmask).
                    frames.append(self._frame(hdr, view[pos : pos + need]))
                    pos += need
                    continue
                self._hdr = hdr
            take = min(hdr.payload_length - len(self._payload), end - pos)
            self._payload += view[pos : pos + take]
            pos += take
            if len(self._payload) == hdr.payload_length:
                frames.append(self._frame(hdr, self._payload))
                self._payload = bytearray()
                self._hdr = None

    @staticmethod
    def _frame(hdr: FrameHeader, payload: bytearray | memoryview) -> Frame:
        key = hdr.mask_key
        data = _masked(payload, key) if key is not None else bytes(payload)
        return _new_frame(hdr.opcode, data, hdr.fin, hdr.rsv1, hdr.rsv2, hdr.rsv3)


# --- handing messages to a stack's queue ------------------------------------
#
# For wsfast.integrations.aiohttp (see MessageDecoder._set_queue): aiohttp's
# reader hands each message to its queue as ``queue.feed_data(WSMessage(type,
# data, extra), size)``.


def _triple_class(cls: Any) -> Any:
    if not isinstance(cls, type) or not issubclass(cls, tuple):
        raise TypeError(f"expected a tuple subclass, got {cls!r}")
    if cls.__basicsize__ != tuple.__basicsize__ or cls.__itemsize__ != tuple.__itemsize__:
        raise TypeError(f"{cls.__name__} has fields beyond its tuple's items")
    return cls


def _message_size(message: Message) -> int:
    data = message.data
    return len(data.encode("utf-8")) if isinstance(data, str) else len(data)


class _Queue:
    """Where a MessageDecoder puts TEXT and BINARY messages (see _set_queue)."""

    __slots__ = ("feed", "overhead", "text", "binary", "extra", "message_class",
                 "text_bytes_class")

    def __init__(self, feed: Any, overhead: int, text: object, binary: object, extra: object,
                 message_class: Any, text_bytes_class: Any) -> None:
        self.message_class = _triple_class(message_class)
        self.text_bytes_class = _triple_class(text_bytes_class)
        self.feed, self.overhead = feed, index(overhead)
        self.text, self.binary, self.extra = text, binary, extra

    def put(self, opcode: int, data: str | bytes, size: int) -> int:
        """``feed(cls(kind, data, extra), size)``; the room it took."""
        if opcode == Opcode.BINARY:
            item = tuple.__new__(self.message_class, (self.binary, data, self.extra))
        elif type(data) is str:
            item = tuple.__new__(self.message_class, (self.text, data, self.extra))
        else:
            item = tuple.__new__(self.text_bytes_class, (self.text, data, self.extra))
        self.feed(item, size)
        return size + self.overhead


class MessageDecoder(_Decoder):
    """Streaming message decoder (RFC 6455 sections 5.4-5.6 and 7).

    ``feed(data)`` appends bytes, split anywhere, and returns the messages
    they complete, in arrival order, control messages (PING, PONG, CLOSE)
    included, even between the fragments of a message.  Fragments are
    reassembled; TEXT is validated as UTF-8 as its bytes arrive, so the
    ``feed`` that delivers the first invalid byte raises.  With
    ``decode_text=True`` a TEXT message's ``data`` is a ``str``; with
    ``decode_text=False`` it is the validated UTF-8 as ``bytes``.
    ``max_message_size`` caps a TEXT or BINARY message, ``max_frame_size``
    one frame: ``None`` means no limit and ``0`` a limit of zero; a header
    that makes the limit certain to be passed raises ``MessageTooBigError``
    before the payload is buffered.  ``client`` is as for ``FrameDecoder``.
    With ``deflate`` (the ``PerMessageDeflate`` parameters agreed in the
    handshake) compressed messages (RSV1 on their first frame, RFC 7692) are
    inflated as their bytes arrive, bounded by ``max_message_size`` both as
    sent and as inflated, by ``deflate_backend`` (as for ``FrameEncoder``).

    Errors: ``ProtocolError`` (1002), ``InvalidDataError`` (1007),
    ``MessageTooBigError`` (1009).  The messages completed by the same
    ``feed`` before the error are on ``exc.decoded``; from then on the decoder
    is failed (``failed`` is True) and every ``feed`` raises an error of the
    same class.  A CLOSE payload is validated, and after a CLOSE the
    connection is closing: ``closed`` is True and later bytes are ignored
    (``feed`` returns ``[]``).

    One call at a time: a ``feed`` that overlaps another on the same decoder
    (another thread, a re-entrant callback) raises ``RuntimeError`` and
    changes nothing.
    """

    __slots__ = (
        "_max_message",
        "_decode_text",
        "_hdr",
        "_got",
        "_control",
        "_message",
        "_opcode",
        "_utf8",
        "_closed",
        "_wire",
        "_inflater",
        "_compressed",
        "_inflated_all",
        "_inflated",
        "_queue",
        "_to_queue",
        "_room",
        "_queued",
        "_idle_end",
        "_since_idle",
    )

    def __init__(
        self,
        *,
        client: bool = False,
        max_message_size: int | None = 1 << 20,
        max_frame_size: int | None = None,
        decode_text: bool = True,
        deflate: PerMessageDeflate | None = None,
        deflate_backend: str | ModuleType | None = None,
    ) -> None:
        self._start_init()  # before any argument runs code of its own
        if max_frame_size is not None:
            max_frame_size = index(max_frame_size)
            if max_frame_size < 0:
                raise ValueError(f"max_frame_size must be >= 0, got {max_frame_size}")
        if max_message_size is not None:
            max_message_size = index(max_message_size)
            if max_message_size < 0:
                raise ValueError(f"max_message_size must be >= 0, got {max_message_size}")
        text = bool(decode_text)
        inflater = None
        if deflate is not None:
            inflater = Inflater.for_endpoint(deflate, client=bool(client), backend=deflate_backend)
        elif deflate_backend is not None:
            get_backend(deflate_backend)  # a wrong one is an error even without deflate
        super().__init__(client, max_frame_size, 0 if deflate is None else 0x40 | _RSV1_FIRST_ONLY)
        #: None: no limit; 0 is a limit of zero.
        self._max_message = max_message_size
        self._decode_text = text
        self._hdr: FrameHeader | None = None  # header whose payload is arriving
        self._got = 0  # payload bytes of that frame consumed so far
        self._control = bytearray()  # payload of a control frame in progress
        self._message = bytearray()  # data of the message in progress
        self._opcode: int | None = None  # TEXT or BINARY while a message is open
        self._utf8 = Utf8Validator()
        self._closed = False
        self._wire = 0  # payload bytes of the data frames of that message (as sent)
        #: permessage-deflate (RFC 7692): the peer's compressed messages are
        #: inflated as their bytes arrive, into ``_inflated``.
        self._inflater = inflater
        self._compressed = False
        self._inflated_all = False  # ...and its last frame was inflated to the end
        self._inflated = MessageBuffer()
        #: A stack's queue (_set_queue), and during a _feed_queue: whether
        #: messages still go to it (none went to the list yet), the room it
        #: has left, and how many it got.
        self._queue: _Queue | None = None
        self._to_queue = False
        self._room = 0
        self._queued = 0
        #: Where the last feed's input was last idle: the offset after the last
        #: frame that left no data message open (-1: none; a CLOSE is not such
        #: a point), and the messages completed after it.
        self._idle_end = -1
        self._since_idle = 0

    def feed(self, data: Buffer) -> list[Message]:
        """Append bytes; return the messages they complete, control ones included."""
        return self._feed(data)

    def _set_queue(self, feed: Any, overhead: int, text: object, binary: object, extra: object,
                   message_class: Any, text_bytes_class: Any) -> None:
        """Give the decoder a stack's queue, for ``_feed_queue``.

        A TEXT or BINARY message goes to it as ``feed(cls(kind, data, extra),
        size)``, ``size`` being its payload's length in bytes (as UTF-8 for
        text): ``kind`` is ``text`` or ``binary``; ``cls`` is
        ``text_bytes_class`` for text as ``bytes``, else ``message_class``
        (tuple subclasses without fields of their own: aiohttp's
        ``WSMessageTextBytes`` and ``WSMessage``).  Each takes ``size +
        overhead`` of the queue's room."""
        queue = _Queue(feed, overhead, text, binary, extra, message_class, text_bytes_class)
        lock = self._lock
        if not lock.acquire(False):  # from the queue's own call, say: refused, as feed() is
            raise in_use_error(self)
        try:
            self._queue = queue
        finally:
            lock.release()

    def _feed_queue(self, data: Buffer, room: int) -> list[Message]:
        """``feed``, the messages going to the queue (``_set_queue``) as they
        complete while it has ``room`` (not negative; each takes its size plus
        the overhead): the list has those that did not, from the first
        control message or the first with no room on.  ``_last_feed()`` then
        says how many were queued."""
        if self._queue is None:
            raise RuntimeError("no queue was given (_set_queue)")
        return self._feed(data, True, index(room))

    def _last_feed(self) -> tuple[int, int, int]:
        """``(queued, idle_end, since_idle)`` of the last feed: the messages it
        put on the queue; the offset in its input after the last frame that
        left no data message open (-1: none; a CLOSE is not such a point);
        the messages it completed after that point (all of them if none)."""
        return self._queued, self._idle_end, self._since_idle

    def _queue_messages(self, messages: list[Message], start: int, room: int) -> int:
        """Put ``messages[start:]`` on the queue (``_set_queue``) while it has
        ``room``, as ``_feed_queue`` does; the index of the first not queued:
        ``len(messages)``, one with no room left, or a control message."""
        queue = self._queue
        if type(messages) is not list:
            raise TypeError(f"expected list, got {type(messages).__name__}")
        i, room = index(start), index(room)
        if queue is None:
            raise RuntimeError("no queue was given (_set_queue)")
        if i < 0:
            raise IndexError("start must not be negative")
        while room >= 0:
            try:  # one fetch: the queue's call, or another thread, may shrink the list
                message = messages[i]
            except IndexError:
                break
            if not isinstance(message, Message):
                raise TypeError(f"expected Message, got {type(message).__name__}")
            if message.opcode != Opcode.TEXT and message.opcode != Opcode.BINARY:
                break
            room -= queue.put(message.opcode, message.data, _message_size(message))
            i += 1
        return i

    def _start_feed(self, to_queue: bool, room: int) -> None:
        self._to_queue, self._room, self._queued = to_queue, room, 0
        self._idle_end, self._since_idle = -1, 0

    def _end_feed(self) -> None:
        self._to_queue = False

    def _emit(self, out: list[Message], message: Message) -> None:
        """A message is complete: to the queue, or to the list."""
        self._since_idle += 1
        if self._to_queue:
            queue = self._queue
            assert queue is not None  # _feed_queue checked
            opcode = message.opcode
            if (opcode == Opcode.TEXT or opcode == Opcode.BINARY) and self._room >= 0:
                self._room -= queue.put(opcode, message.data, _message_size(message))
                self._queued += 1
                return
            self._to_queue = False  # the rest keep their order, in the list
        out.append(message)

    def _frame_done(self, pos: int) -> None:
        if self._opcode is None:
            self._idle_end, self._since_idle = pos, 0

    @property
    def closed(self) -> bool:
        """True once a CLOSE was decoded: later bytes are ignored (RFC 6455 5.5.1)."""
        return self._closed

    def _decode(self, view: memoryview, out: list[Message]) -> None:
        if self._closed:
            return  # RFC 6455 section 5.5.1: nothing is read after a CLOSE
        pos, end = 0, len(view)
        while True:
            hdr = self._hdr
            if hdr is None:
                if pos >= end:
                    return
                limit = self._max_message
                hdr, pos = self._header(
                    view,
                    pos,
                    self._opcode is not None,
                    None if limit is None else limit - self._wire,
                )
                if hdr is None:
                    return
                length = hdr.payload_length
                if hdr.fin and hdr.opcode in _DATA and end - pos >= length:
                    # A whole single-frame message in this input: no buffering.
                    if not hdr.rsv1:
                        self._emit(out, self._whole_message(hdr, view[pos : pos + length]))
                        pos += length
                        self._frame_done(pos)
                        continue
                    if length <= _INFLATE_SLICE:
                        self._emit(out, self._whole_compressed(hdr, view[pos : pos + length]))
                        pos += length
                        self._frame_done(pos)
                        continue
                self._hdr, self._got = hdr, 0
                if hdr.opcode in (Opcode.TEXT, Opcode.BINARY):
                    self._opcode = hdr.opcode
                    self._compressed = hdr.rsv1
            take = min(hdr.payload_length - self._got, end - pos)
            if take:
                self._consume(hdr, view[pos : pos + take])
                pos += take
            if self._got < hdr.payload_length:
                return  # the rest of this payload comes in a later feed
            self._hdr = None
            if hdr.opcode >= 8:
                self._emit(out, self._control_done(hdr))
                if self._closed:
                    return  # RFC 6455 section 5.5.1: nothing is read after a CLOSE
            elif hdr.fin:
                self._emit(out, self._message_done())
            self._frame_done(pos)

    def _whole_message(self, hdr: FrameHeader, payload: memoryview) -> Message:
        """The message of one unfragmented frame whose payload is all here."""
        key = hdr.mask_key
        data = _masked(payload, key) if key is not None else bytes(payload)
        if hdr.opcode == Opcode.TEXT:
            try:
                text = str(data, "utf-8")
            except UnicodeDecodeError:
                raise InvalidDataError("text message is not valid UTF-8") from None
            if self._decode_text:
                return _new_message(Opcode.TEXT, text)
        return _new_message(hdr.opcode, data)

    def _whole_compressed(self, hdr: FrameHeader, payload: memoryview) -> Message:
        """The message of one unfragmented compressed frame whose payload (one
        slice at most) is all here: the general path's steps, without its state
        between feeds."""
        key = hdr.mask_key
        self._opcode, self._compressed = hdr.opcode, True
        self._inflate(_masked(payload, key) if key is not None else bytes(payload), final=True)
        self._inflated_all = True
        return self._message_done()

    def _consume(self, hdr: FrameHeader, chunk: memoryview) -> None:
        """Unmask ``chunk`` of the current payload into its buffer; check text."""
        key = hdr.mask_key
        if hdr.opcode < 8:
            self._wire += len(chunk)
            if self._compressed:
                # Unmasked and inflated a slice at a time: the copy of the
                # compressed bytes stays small however big the feed.  The last
                # slice of the message ends it in the same call (for a small
                # message, one backend call in all).
                for start in range(0, len(chunk), _INFLATE_SLICE):
                    part = chunk[start : start + _INFLATE_SLICE]
                    data = _masked(part, _rotate(key, self._got)) if key is not None else part
                    self._got += len(part)
                    last = self._got == hdr.payload_length and hdr.fin
                    self._inflate(data, final=last)
                    self._inflated_all = last
                return
        buf = self._control if hdr.opcode >= 8 else self._message
        start = len(buf)
        buf += chunk  # then unmasked where it lies: no temporary copies
        if key is not None:
            _mask_tail(buf, start, _rotate(key, self._got))
        self._got += len(chunk)
        if hdr.opcode >= 8:
            return
        if self._opcode == Opcode.TEXT and not self._utf8._feed(buf[start:]):
            raise InvalidDataError("text message is not valid UTF-8")

    def _control_done(self, hdr: FrameHeader) -> Message:
        payload = bytes(self._control)
        self._control.clear()
        if hdr.opcode == Opcode.CLOSE:
            parse_close(payload)
            # A CLOSE may interrupt a fragmented message: that message is dropped.
            self._closed = True
            self._reset_message()
        return _new_message(hdr.opcode, payload)

    def _inflate(self, data: bytes | memoryview, final: bool) -> None:
        """Inflate compressed payload bytes into ``_inflated``, checking text as
        it comes out; bounded by ``max_message_size`` piece by piece."""
        assert self._inflater is not None  # RSV1 is refused without deflate
        text = self._opcode == Opcode.TEXT
        buffer, utf8 = self._inflated, self._utf8

        def sink(piece: bytes) -> None:
            buffer.append(piece)
            if text and not utf8._feed(piece):
                raise InvalidDataError("text message is not valid UTF-8")

        self._inflater.feed_to(data, self._max_message, sink, final=final)

    def _message_done(self) -> Message:
        opcode = self._opcode
        assert opcode is not None  # a data frame opened the message
        raw: bytes | bytearray = self._message
        if self._compressed:
            if not self._inflated_all:  # an empty last frame
                self._inflate(b"", final=True)
            raw = self._inflated.take()
        if opcode == Opcode.TEXT:
            if not self._utf8._feed(b"", final=True):
                raise InvalidDataError("text message ends inside a UTF-8 sequence")
            # Decoded straight from the buffer: no intermediate bytes copy.
            data: str | bytes = str(raw, "utf-8") if self._decode_text else bytes(raw)
            message = _new_message(opcode, data)
        else:
            message = _new_message(opcode, bytes(raw))
        self._reset_message()
        return message

    def _reset_message(self) -> None:
        self._message = bytearray()
        self._opcode = None
        self._utf8.reset()
        self._wire = 0
        if self._compressed:
            self._compressed = False
            self._inflated_all = False
            self._inflated.clear()

