# Compiled twin of the frame codec.  Behaviour is the pure twin's
# (_frames_py.py: read it first); comments here explain only what differs.
#
# What differs:
# - Headers are decoded from a raw pointer by one C function; the pending bytes
#   of a header split across feeds live in a 14-byte array in the decoder.
# - A frame whose header and payload are both in the current input is copied
#   and unmasked in one pass straight into its final `bytes` object; a payload
#   that spans feeds goes into a `bytes` object allocated at its announced size
#   (bounded by the limits) and filled as it arrives.
# - Control payloads (at most 125 bytes) use a fixed array; fragmented
#   messages one growing C buffer.
# - Text is validated by the SIMD UTF-8 kernels; the streaming state is a small
#   struct, so fail-fast validation costs nothing per fragment.

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.list cimport PyList_Append
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.ref cimport PyObject, Py_DECREF, Py_INCREF
from cpython.unicode cimport (
    PyUnicode_AsUTF8String,
    PyUnicode_CheckExact,
    PyUnicode_DecodeUTF8,
    PyUnicode_FromObject,
)
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

cdef extern from "Python.h":
    ctypedef struct PyTypeObject:
        Py_ssize_t tp_basicsize
        Py_ssize_t tp_itemsize
    PyTypeObject PyTuple_Type
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object o)
    int PyUnicode_Resize(PyObject **unicode, Py_ssize_t length) except -1
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    bint PyUnicode_IS_COMPACT_ASCII(object o)
    int PyUnicode_KIND(object o)


cdef inline uint64_t _high_bits(const uint8_t *p, Py_ssize_t n) noexcept:
    """Non-zero when a byte of p[0:n] is not ASCII (a plain OR reduction,
    which the compiler vectorizes at the baseline SIMD level)."""
    cdef uint8_t acc = 0
    cdef Py_ssize_t i
    for i in range(n):
        acc |= p[i]
    return acc & 0x80

from operator import index as _index
import os as _os

from .errors import (
    InvalidDataError,
    MessageTooBigError,
    ProtocolError,
    WebSocketError,
    already_initialised_error,
    in_use_error,
)
from ._pmd import Deflater as _Deflater, Inflater as _Inflater, get_backend as _get_backend
try:
    from ._inflate_c import Inflater as _ZlibInflater
except ImportError:  # built without zlib (Windows): the shared engine inflates
    _ZlibInflater = None
try:
    from ._deflate_c import Deflater as _ZlibDeflater
except ImportError:  # ... and compresses
    _ZlibDeflater = None
from .protocol import FrameHeader, Opcode, _preview

include "_simd.pxi"

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

from ._kernels cimport (
    wsf_mask,
    wsf_utf8_measure,
    wsf_utf8_shape,
    wsf_utf8_stream,
    wsf_utf8_stream_feed,
    wsf_utf8_stream_reset,
    wsf_utf8_to_ucs1,
    wsf_utf8_valid,
)

include "_text.pxi"

# Opcode members by number; None for the reserved numbers.
cdef tuple _OPCODES = tuple(
    Opcode(i) if i in (0, 1, 2, 8, 9, 10) else None for i in range(16))
cdef object _TEXT = Opcode.TEXT
cdef object _BINARY = Opcode.BINARY
cdef object _CLOSE = Opcode.CLOSE

cdef enum:
    RSV1_FIRST_ONLY = 0x100  # in rsv_ok: RSV1 on a message's first frame only (RFC 7692 6.1)
    MAX_CONTROL = 125
    KEY_BLOCK = 4096
    UPFRONT = 16 << 20
    KEEP_BUFFER = 1 << 20   # message buffer kept between messages (see _drop_buffer)
    INFLATE_SLICE = 128 << 10  # compressed bytes unmasked and inflated at a time
    # An inflated piece this big is kept as it is; a run of smaller ones is
    # joined into one when it reaches GATHER bytes (so the join's copy stays
    # small) or GATHER_PIECES pieces (a piece costs ~40 bytes of object).
    GATHER = 64 << 10
    GATHER_PIECES = 64
    UCS1_BLOCK = 16 << 10   # text unmasked, checked and decoded at a time in UCS1 mode
    INFLATE_GUESS = 8       # a compressed message's size guessed from its first frame's
cdef int64_t NO_LIMIT = -1
cdef int64_t MAX_LENGTH = 0x7FFFFFFFFFFFFFFF
# Payloads at least this big are unmasked without the GIL (measured: see _mask_c.pyx).
cdef Py_ssize_t NOGIL_FROM = _nogil_from(131072)
# A text message in one frame at least this big is decoded into its str as it
# comes once it shows a Latin-1 code point (see MessageDecoder._ucs1).
cdef Py_ssize_t UCS1_DIRECT_FROM = 1 << 20


def _set_ucs1_direct_from(n):
    """Test hook: the size from which single-frame text goes to UCS1 mode (None:
    the default); returns the previous size.  Module-wide, not for production."""
    global UCS1_DIRECT_FROM
    previous = UCS1_DIRECT_FROM
    UCS1_DIRECT_FROM = 1 << 20 if n is None else n
    return previous


cdef inline Py_ssize_t _complete_prefix(const uint8_t *p, Py_ssize_t n) noexcept:
    """The length of the longest prefix of p[0:n] that ends on a code-point
    boundary, for p[0:n] that is a valid start of UTF-8 (at most 3 bytes cut)."""
    cdef Py_ssize_t j = n
    cdef Py_ssize_t stop = n - 4 if n > 4 else 0
    cdef uint8_t lead
    while j > stop:
        j -= 1
        lead = p[j]
        if (lead & 0xC0) != 0x80:
            if lead < 0x80 or j + (2 if lead < 0xE0 else 3 if lead < 0xF0 else 4) <= n:
                return n
            return j
    return n


cdef inline Py_ssize_t _latin1_to_utf8(uint8_t *dst, const uint8_t *src, Py_ssize_t n) noexcept:
    """UTF-8 of the n Latin-1 code points at src (1 or 2 bytes each); its length."""
    cdef Py_ssize_t i, o = 0
    cdef uint8_t c
    for i in range(n):
        c = src[i]
        if c < 0x80:
            dst[o] = c
            o += 1
        else:
            dst[o] = 0xC0 | (c >> 6)
            dst[o + 1] = 0x80 | (c & 0x3F)
            o += 2
    return o


cdef struct Header:
    uint8_t b0            # FIN, RSV1-3, opcode as on the wire
    int opcode
    bint masked
    uint8_t key[4]
    uint64_t length
    Py_ssize_t header_length


cdef inline int _opcode_known(int op) noexcept:
    return op <= 2 or 8 <= op <= 10


cdef int _too_big(uint64_t length, int64_t limit) except -1:
    raise MessageTooBigError(
        f"payload of at least {length} bytes exceeds the limit of {limit}")


cdef int _read_header(const uint8_t *p, Py_ssize_t avail, Header *h, int rsv_ok,
                      int want_mask, int in_message, int64_t limit,
                      int64_t data_limit) except -1:
    """1 and *h filled when the header is complete, 0 while bytes are missing.

    want_mask / in_message: -1 = not checked.  limit / data_limit: -1 = none.
    The checks and their order are _read_header's in the pure twin."""
    cdef uint8_t b0, b1
    cdef int opcode, known, i
    cdef bint control
    cdef uint64_t length, prefix, lowest
    cdef Py_ssize_t hlen
    if avail < 1:
        return 0
    b0 = p[0]
    opcode = b0 & 0x0F
    if not _opcode_known(opcode):
        raise ProtocolError(f"reserved opcode {opcode}")
    control = opcode >= 8
    if control and not (b0 & 0x80):
        raise ProtocolError(
            f"fragmented control frame ({_OPCODES[opcode].name} with FIN clear)")
    if b0 & 0x70 & ~rsv_ok:
        _rsv_error(b0 & 0x70 & ~rsv_ok)
    if b0 & 0x40 and rsv_ok & RSV1_FIRST_ONLY and (control or opcode == 0):
        raise ProtocolError(
            f"RSV1 set on a {_OPCODES[opcode].name} frame (permessage-deflate sets it only "
            "on the first frame of a message)")
    if in_message >= 0 and not control:
        if opcode == 0 and not in_message:
            raise ProtocolError("continuation frame without a message to continue")
        if opcode != 0 and in_message:
            raise ProtocolError(f"{_OPCODES[opcode].name} frame inside a fragmented message")
    if avail < 2:
        return 0
    b1 = p[1]
    if want_mask >= 0 and (b1 >> 7) != want_mask:
        if want_mask:
            raise ProtocolError("unmasked frame from a client (RFC 6455 section 5.1)")
        raise ProtocolError("masked frame from a server (RFC 6455 section 5.1)")
    length = b1 & 0x7F
    if control and length > MAX_CONTROL:
        raise ProtocolError(f"{_OPCODES[opcode].name} frame payload over 125 bytes")
    if not control and data_limit >= 0 and (limit < 0 or data_limit < limit):
        limit = data_limit
    if length == 126:
        hlen = 4
        if avail >= 3 and limit >= 0 and (<uint64_t>p[2] << 8) > <uint64_t>limit:
            _too_big(<uint64_t>p[2] << 8, limit)
        if avail < 4:
            return 0
        length = (<uint64_t>p[2] << 8) | p[3]
        if length < 126:
            raise ProtocolError(f"length {length} not in its minimal (7-bit) encoding")
    elif length == 127:
        hlen = 10
        known = <int>(avail if avail < 10 else 10) - 2
        if known >= 1 and p[2] & 0x80:
            raise ProtocolError("64-bit payload length with the most significant bit set")
        prefix = 0
        for i in range(known):
            prefix = (prefix << 8) | p[2 + i]
        if known >= 6 and (prefix >> (8 * (known - 6))) == 0:
            raise ProtocolError("length under 65536 not in its minimal (16-bit) encoding")
        lowest = prefix << (8 * (8 - known)) if known > 0 else 0
        if limit >= 0 and lowest > <uint64_t>limit:
            _too_big(lowest, limit)
        if known < 8:
            return 0
        length = prefix
    else:
        hlen = 2
    if limit >= 0 and length > <uint64_t>limit:
        _too_big(length, limit)
    if b1 & 0x80:
        if avail < hlen + 4:
            return 0
        memcpy(h.key, p + hlen, 4)
        hlen += 4
    elif avail < hlen:
        return 0
    h.b0 = b0
    h.opcode = opcode
    h.masked = (b1 & 0x80) != 0
    h.length = length
    h.header_length = hlen
    return 1


cdef int _rsv_error(int bits) except -1:
    name = "RSV1" if bits & 0x40 else ("RSV2" if bits & 0x20 else "RSV3")
    raise ProtocolError(f"{name} set but no extension negotiated it")


cdef int64_t _limit_arg(object value, str name) except -2:
    """A size limit argument as int64 (-1 for None); huge values mean 'none'."""
    if value is None:
        return NO_LIMIT
    value = _index(value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return MAX_LENGTH if value > MAX_LENGTH else <int64_t>value


from ._buffers cimport Input, _get_input, _get_key, _release_input


cdef inline void _unmask(uint8_t *dst, const uint8_t *src, Py_ssize_t n,
                         const uint8_t *key, unsigned phase) noexcept:
    if n >= NOGIL_FROM:
        with nogil:
            wsf_mask(dst, src, <size_t>n, key, phase, _level)
    else:
        wsf_mask(dst, src, <size_t>n, key, phase, _level)


cdef inline void _copy_payload(uint8_t *dst, const uint8_t *src, Py_ssize_t n, Header *h,
                               unsigned phase) noexcept:
    """Copy n payload bytes, unmasked from key phase `phase` when the header says so."""
    if h.masked:
        _unmask(dst, src, n, h.key, phase)
    elif n:
        memcpy(dst, src, n)


cdef bytes _payload_bytes(const uint8_t *src, Py_ssize_t n, Header *h):
    """New bytes with the payload at src, unmasked when the header says so."""
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
    _copy_payload(<uint8_t *>PyBytes_AS_STRING(out), src, n, h, 0)
    return out


cdef inline int _utf8_valid(const uint8_t *p, Py_ssize_t n) noexcept:
    cdef int ok
    if n >= NOGIL_FROM:
        with nogil:
            ok = wsf_utf8_valid(p, <size_t>n, _level)
        return ok
    return wsf_utf8_valid(p, <size_t>n, _level)


# --- value types ------------------------------------------------------------

cdef inline object _opcode_obj(int op):
    cdef object member = _OPCODES[op] if 0 <= op < 16 else None
    return op if member is None else member


cdef object _as_opcode(object opcode):
    op = _index(opcode)
    member = _OPCODES[op] if 0 <= op < 16 else None
    return op if member is None else member


cdef bytes _as_bytes(object data):
    cdef Py_buffer view
    cdef Input inp
    if PyBytes_CheckExact(data):
        return <bytes>data
    _get_input(data, &view, &inp)
    try:
        return PyBytes_FromStringAndSize(<const char *>inp.p, inp.n)
    finally:
        _release_input(&view, &inp)


cdef str _opcode_name(object opcode):
    return opcode.name if isinstance(opcode, Opcode) else str(opcode)


# Frame and Message hold only ints, bools, bytes and str, so they can never be
# part of a reference cycle: keeping them out of the garbage collector saves
# about a quarter of the per-message cost.
@cython.final
@cython.no_gc
@cython.embedsignature(False)
cdef class Frame:
    """Frame(opcode, payload=b"", *, fin=True, rsv1=False, rsv2=False, rsv3=False)
--

    One decoded frame; ``payload`` is already unmasked.

    Read-only, compared by value, hashable and picklable."""

    cdef readonly object opcode
    cdef readonly bint fin
    cdef readonly bint rsv1
    cdef readonly bint rsv2
    cdef readonly bint rsv3
    cdef readonly bytes payload

    def __init__(self, opcode, payload=b"", *, fin=True, rsv1=False, rsv2=False,
                 rsv3=False):
        opcode = _as_opcode(opcode)
        payload = _as_bytes(payload)
        cdef bint f = fin, r1 = rsv1, r2 = rsv2, r3 = rsv3
        # Written once: readers take the fields without a lock, so a second
        # __init__ (from another thread, say) could free what they are taking.
        with cython.critical_section(self):
            if self.opcode is not None:
                raise already_initialised_error(self)
            self.opcode = opcode
            self.payload = payload
            self.fin = f
            self.rsv1 = r1
            self.rsv2 = r2
            self.rsv3 = r3

    def _key(self):
        return (self.opcode, self.fin, self.rsv1, self.rsv2, self.rsv3, self.payload)

    def __eq__(self, other):
        if not isinstance(other, Frame):
            return NotImplemented
        return self._key() == (<Frame>other)._key()

    def __hash__(self):
        return hash(self._key())

    def __reduce__(self):
        return (_restore_frame, (self.opcode, self.payload, self.fin, self.rsv1, self.rsv2,
                                 self.rsv3))

    def __repr__(self):
        bits = "".join(f", {n}=True" for n, v in
                       (("rsv1", self.rsv1), ("rsv2", self.rsv2), ("rsv3", self.rsv3)) if v)
        return (f"Frame({_opcode_name(self.opcode)}, fin={self.fin}{bits}, "
                f"payload=<{len(self.payload)} bytes>)")


cdef inline bint _stream_ok(wsf_utf8_stream *state, const uint8_t *p, Py_ssize_t n,
                            bint final) noexcept:
    """Feed p[0:n] to a UTF-8 stream state (the GIL released for big inputs:
    the state must be the caller's own copy)."""
    cdef int ok
    if n >= NOGIL_FROM:
        with nogil:
            ok = wsf_utf8_stream_feed(state, p, <size_t>n, final, _level)
        return ok == 1
    return wsf_utf8_stream_feed(state, p, <size_t>n, final, _level) == 1


cdef object _control_payload(object data):
    """A PING/PONG payload: a ``str`` is encoded as UTF-8 (as str does it)."""
    if isinstance(data, str):
        return PyUnicode_AsUTF8String(data)
    return data


# Forks seen by this process, as a child: a client encoder drops the key
# block it drew before the fork (see FrameEncoder._take_key).
cdef unsigned long _fork_count = 0


def _forked():
    global _fork_count
    _fork_count += 1


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_forked)


cdef int _busy_error(object obj) except -1:
    raise in_use_error(obj)


def _restore_frame(opcode, payload, fin, rsv1, rsv2, rsv3):
    """Unpickle a Frame (its flags are keyword-only)."""
    return Frame(opcode, payload, fin=fin, rsv1=rsv1, rsv2=rsv2, rsv3=rsv3)


cdef inline Frame _new_frame(Header *h, bytes payload):
    cdef Frame f = Frame.__new__(Frame)
    f.opcode = _OPCODES[h.opcode]
    f.payload = payload
    f.fin = (h.b0 & 0x80) != 0
    f.rsv1 = (h.b0 & 0x40) != 0
    f.rsv2 = (h.b0 & 0x20) != 0
    f.rsv3 = (h.b0 & 0x10) != 0
    return f


@cython.final
@cython.no_gc
@cython.embedsignature(False)
cdef class Message:
    """Message(opcode, data)
--

    One complete message: ``data`` is ``str`` for decoded TEXT, else ``bytes``.

    ``opcode`` is TEXT, BINARY, CLOSE, PING or PONG; a CLOSE message's data is
    its raw payload (see ``parse_close``).  Read-only, compared by value,
    hashable and picklable; ``data`` is always an exact ``str`` or ``bytes``."""

    cdef readonly object opcode
    cdef readonly object data

    def __init__(self, opcode, data):
        opcode = _as_opcode(opcode)
        # Always an exact str or bytes, never a subclass: Message is kept out
        # of the garbage collector, so it must never hold what could be part
        # of a reference cycle.
        data = PyUnicode_FromObject(data) if isinstance(data, str) else _as_bytes(data)
        # Written once, as Frame's.
        with cython.critical_section(self):
            if self.opcode is not None:
                raise already_initialised_error(self)
            self.opcode = opcode
            self.data = data

    def __eq__(self, other):
        if not isinstance(other, Message):
            return NotImplemented
        return self.opcode == (<Message>other).opcode and self.data == (<Message>other).data

    def __hash__(self):
        return hash((self.opcode, self.data))

    def __reduce__(self):
        return (Message, (self.opcode, self.data))

    def __repr__(self):
        return f"Message({_opcode_name(self.opcode)}, data={_preview(self.data)})"


cdef inline Message _new_message(int opcode, object data):
    cdef Message m = Message.__new__(Message)
    m.opcode = _OPCODES[opcode]
    m.data = data
    return m


# --- header API -------------------------------------------------------------

def parse_header(data, offset=0):
    """parse_header(data: Buffer, offset: int = 0) -> FrameHeader | None

    Decode the frame header at ``data[offset:]``; None when more bytes are needed."""
    cdef Py_buffer view
    cdef Input inp
    cdef Header h
    cdef Py_ssize_t off
    _get_input(data, &view, &inp)
    try:
        offset = _index(offset)
        if offset < 0 or offset > inp.n:
            raise ValueError(f"offset {offset} outside the buffer of {inp.n} bytes")
        off = offset
        if not _read_header(inp.p + off, inp.n - off, &h, 0x70, -1, -1, NO_LIMIT, NO_LIMIT):
            return None
        return FrameHeader(
            (h.b0 & 0x80) != 0, (h.b0 & 0x40) != 0, (h.b0 & 0x20) != 0,
            (h.b0 & 0x10) != 0, _OPCODES[h.opcode], bool(h.masked), h.length,
            PyBytes_FromStringAndSize(<const char *>h.key, 4) if h.masked else None,
            h.header_length)
    finally:
        _release_input(&view, &inp)


cdef int _check_frame_args(object opcode, object length, object fin) except -1:
    """Refuse what a receiver must reject; the opcode number. Order as the pure twin."""
    cdef int op
    opcode = _index(opcode)
    if not (0 <= opcode < 16 and _opcode_known(opcode)):
        raise ValueError(f"opcode {opcode!r} is reserved or unknown")
    op = opcode
    if length < 0 or length > MAX_LENGTH:
        raise ValueError(f"payload length {length} outside 0 .. 2**63-1")
    if op >= 8:
        if not fin:
            raise ValueError(f"control frame {_OPCODES[op].name} must have fin=True")
        if length > MAX_CONTROL:
            raise ValueError(
                f"control frame {_OPCODES[op].name} payload of {length} bytes exceeds 125")
    return op


cdef inline Py_ssize_t _write_header(uint8_t *out, int b0, uint64_t length,
                                     const uint8_t *key) noexcept:
    """Write a header with the minimal length encoding; its size (at most 14)."""
    cdef Py_ssize_t n
    cdef int i
    cdef uint8_t mask_bit = 0x80 if key != NULL else 0
    out[0] = <uint8_t>b0
    if length < 126:
        out[1] = mask_bit | <uint8_t>length
        n = 2
    elif length < 65536:
        out[1] = mask_bit | 126
        out[2] = <uint8_t>(length >> 8)
        out[3] = <uint8_t>length
        n = 4
    else:
        out[1] = mask_bit | 127
        for i in range(8):
            out[2 + i] = <uint8_t>(length >> (56 - 8 * i))
        n = 10
    if key != NULL:
        memcpy(out + n, key, 4)
        n += 4
    return n


cdef inline int _flags(object fin, object rsv1, object rsv2, object rsv3) except -1:
    return ((0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0)
            | (0x10 if rsv3 else 0))


def encode_header(opcode, payload_length, *, fin=True, rsv1=False, rsv2=False, rsv3=False,
                  mask_key=None):
    """encode_header(opcode, payload_length, *, fin=True, rsv1=False, rsv2=False, rsv3=False, mask_key=None) -> bytes

    The header of a frame, with its length in the minimal encoding."""
    cdef uint8_t head[14]
    cdef uint8_t key[4]
    cdef int op
    cdef Py_ssize_t n
    _index(opcode)
    length = _index(payload_length)
    op = _check_frame_args(opcode, length, fin)
    if mask_key is not None:
        _get_key(mask_key, key)
    n = _write_header(head, _flags(fin, rsv1, rsv2, rsv3) | op, <uint64_t>length,
                      key if mask_key is not None else NULL)
    return PyBytes_FromStringAndSize(<const char *>head, n)


cdef bytes _encode(object opcode, object payload, object fin, int rsv, const uint8_t *key,
                   object mask_key):
    """A whole frame, with encode_frame's checks in the pure twin's order:
    opcode type, payload buffer, frame rules, then the key (``mask_key`` when
    given, else ``key``: NULL for unmasked)."""
    cdef Py_buffer view
    cdef Input inp
    cdef uint8_t own_key[4]
    cdef int op
    _index(opcode)
    _get_input(payload, &view, &inp)
    try:
        op = _check_frame_args(opcode, inp.n, fin)
        if mask_key is not None:
            _get_key(mask_key, own_key)
            key = own_key
        return _frame_bytes((0x80 if fin else 0) | rsv | op, inp.p, inp.n, key)
    finally:
        _release_input(&view, &inp)


cdef bytes _frame_bytes(int b0, const uint8_t *p, Py_ssize_t n, const uint8_t *key):
    """Header (first byte b0) and payload p[0:n], masked when key is not NULL."""
    cdef uint8_t head[14]
    cdef Py_ssize_t hn = _write_header(head, b0, <uint64_t>n, key)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, hn + n)
    cdef uint8_t *dst = <uint8_t *>PyBytes_AS_STRING(out)
    memcpy(dst, head, hn)
    if key != NULL:
        _unmask(dst + hn, p, n, key, 0)
    elif n:
        memcpy(dst + hn, p, n)
    return out


def encode_frame(opcode, payload, *, fin=True, rsv1=False, rsv2=False, rsv3=False,
                 mask_key=None):
    """encode_frame(opcode, payload, *, fin=True, rsv1=False, rsv2=False, rsv3=False, mask_key=None) -> bytes

    A whole frame: header and (masked, when a key is given) payload."""
    return _encode(opcode, payload, fin, _flags(False, rsv1, rsv2, rsv3), NULL, mask_key)


# --- close payloads ---------------------------------------------------------

cdef inline bint _sendable(long code) noexcept:
    return (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999)


cdef int _check_close(const uint8_t *p, Py_ssize_t n) except -1:
    """Validate a CLOSE payload (RFC 6455 sections 5.5.1 and 7.4)."""
    cdef long code
    if n == 0:
        return 0
    if n == 1:
        raise ProtocolError("close payload of 1 byte (a code needs 2)")
    if n > MAX_CONTROL:
        raise ProtocolError(f"close payload of {n} bytes exceeds 125")
    code = (<long>p[0] << 8) | p[1]
    if not _sendable(code):
        raise ProtocolError(f"close code {code} may not be sent on the wire")
    if not wsf_utf8_valid(p + 2, <size_t>(n - 2), _level):
        # Same message as the pure twin, which reports the decoder's reason.
        try:
            (<bytes>PyBytes_FromStringAndSize(<const char *>p + 2, n - 2)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidDataError(f"close reason is not valid UTF-8: {exc.reason}") from None
        raise InvalidDataError("close reason is not valid UTF-8")
    return 0


def parse_close(payload):
    """parse_close(payload: Buffer) -> tuple[int | None, str]

    ``(code, reason)`` of a CLOSE payload; ``(None, "")`` when it is empty."""
    cdef Py_buffer view
    cdef Input inp
    _get_input(payload, &view, &inp)
    try:
        _check_close(inp.p, inp.n)
        if inp.n == 0:
            return None, ""
        return ((<long>inp.p[0] << 8) | inp.p[1],
                PyUnicode_DecodeUTF8(<const char *>inp.p + 2, inp.n - 2, NULL))
    finally:
        _release_input(&view, &inp)


def encode_close(code=1000, reason=""):
    """encode_close(code: int | None = 1000, reason: str = "") -> bytes

    The payload of a CLOSE frame with ``code`` and ``reason``."""
    if not isinstance(reason, str):
        raise TypeError(f"reason must be str, not {type(reason).__name__}")
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return b""
    code = _index(code)
    if not (-1 < code < 65536 and _sendable(code)):
        raise ValueError(f"close code {code} may not be sent on the wire")
    payload = (<int>code).to_bytes(2, "big") + (<str>reason).encode("utf-8")
    if len(payload) > MAX_CONTROL:
        raise ValueError(f"close payload of {len(payload)} bytes exceeds 125")
    return payload


# --- encoder ----------------------------------------------------------------

@cython.final
@cython.auto_pickle(False)
@cython.embedsignature(False)
cdef class FrameEncoder:
    """FrameEncoder(*, client=False, deflate=None, compress_threshold=0, compression_level=None, mem_level=None, deflate_backend=None)
--

    Encodes frames (RFC 6455 section 5.2).

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
    the same key.  It cannot be copied or pickled (a copy would replay keys)."""

    cdef readonly bint client
    cdef bytes _keys
    cdef Py_ssize_t _key_pos
    cdef unsigned long _forks     # _fork_count when _keys was drawn
    # UTF-8 state of a TEXT message sent in fragments (text(fin=False), then
    # continuation()): the message is validated as a whole, so a code point
    # may be split between fragments.
    cdef wsf_utf8_stream _utf8
    cdef bint _in_text
    # permessage-deflate: data messages of at least _threshold bytes (judged
    # by their first frame) are compressed by the shared engine (_pmd).
    cdef object _deflater
    cdef Py_ssize_t _threshold
    cdef bint _compressing      # the message being sent in fragments is

    def __init__(self, *, client=False, deflate=None, compress_threshold=0,
                 compression_level=None, mem_level=None, deflate_backend=None):
        cdef bint masked = bool(client)
        cdef Py_ssize_t threshold = _index(compress_threshold)
        if not 0 <= threshold <= 1024:
            raise ValueError(f"compress_threshold must be 0-1024, got {threshold}")
        deflater = None
        if deflate is not None:
            options = {}
            if compression_level is not None:
                options["level"] = compression_level
            if mem_level is not None:
                options["mem_level"] = mem_level
            deflater = _Deflater.for_endpoint(deflate, client=masked, backend=deflate_backend,
                                              **options)
            if (deflater.backend.name == "zlib" and deflater.level != 0
                    and _ZlibDeflater is not None):
                # The same compressor over zlib's C API (the same bytes out;
                # level 0's stored blocks would be cut at other sizes).
                deflater = _ZlibDeflater.for_endpoint(deflate, client=masked, backend="zlib",
                                                      **options)
        elif deflate_backend is not None:
            _get_backend(deflate_backend)  # a wrong one is an error even without deflate
        with cython.critical_section(self):
            self.client = masked
            self._keys = b""
            self._key_pos = 0
            self._in_text = False
            wsf_utf8_stream_reset(&self._utf8)
            self._deflater = deflater
            self._threshold = threshold
            self._compressing = False

    cdef object _compress(self, int op, const uint8_t *p, Py_ssize_t n, bint final,
                          object whole):
        """The compressed payload of a data frame (RSV1 goes on the message's
        first frame), or None when it is sent as it is (RFC 7692 section 6).
        ``whole``: the payload as an exact ``bytes`` (p, n are its data), which
        the engine then takes as it is, or None (a copy is made)."""
        cdef bint first = op != 0
        cdef object deflater
        with cython.critical_section(self):
            deflater = self._deflater  # held: __init__ in another thread may replace it
            if deflater is None or (not first and not self._compressing):
                return None
            if first and n < self._threshold:
                self._compressing = False
                return None
            self._compressing = not final
        if whole is None:
            whole = PyBytes_FromStringAndSize(<const char *>p, n)
        packed = deflater.compress(whole, final)  # positional: a keyword costs more
        if not PyBytes_CheckExact(packed):
            # A zlib-like backend of the user's may hand back a bytearray.
            packed = bytes(packed)
        return packed

    cdef int _take_key(self, uint8_t *key) except -1:
        """Copy the next fresh key into key[0:4].

        A copy, never a pointer into the block: once the key is taken, user
        code (an argument's __index__ or __bool__, a buffer exporter) or
        another thread may encode more frames and replace the block."""
        with cython.critical_section(self):
            if (self._key_pos + 4 > PyBytes_GET_SIZE(self._keys)
                    or self._forks != _fork_count):
                # (After a fork, parent and child would hand out the same
                # keys from the block they share: the child draws anew.)
                self._keys = _os.urandom(KEY_BLOCK)
                self._key_pos = 0
                self._forks = _fork_count
            memcpy(key, PyBytes_AS_STRING(self._keys) + self._key_pos, 4)
            self._key_pos += 4
        return 0

    def encode(self, opcode, payload, *, fin=True, rsv1=False):
        """encode(opcode: int, payload: Buffer, *, fin: bool = True, rsv1: bool = False) -> bytes

        A frame with any opcode, as it is: the low-level escape hatch (no
        UTF-8 check of TEXT payloads, no message sequencing)."""
        cdef uint8_t key[4]
        cdef int rsv = 0x40 if rsv1 else 0
        if not self.client:
            return _encode(opcode, payload, fin, rsv, NULL, None)
        self._take_key(key)
        return _encode(opcode, payload, fin, rsv, key, None)

    # The named methods below know their opcode: their checks run on C values,
    # in the order of the pure twin's encode_frame.
    cdef bytes _frame(self, int op, object payload, object fin, int rsv):
        cdef Py_buffer view
        cdef Input inp
        cdef bint final = fin
        _get_input(payload, &view, &inp)
        try:
            return self._raw(op, inp.p, inp.n, final, rsv,
                             payload if PyBytes_CheckExact(payload) else None)
        finally:
            _release_input(&view, &inp)

    cdef bytes _raw(self, int op, const uint8_t *p, Py_ssize_t n, bint final, int rsv,
                    object whole):
        cdef object packed
        if op < 8 and self._deflater is not None:
            packed = self._compress(op, p, n, final, whole)
            if packed is not None:
                return self._raw_frame(op, <const uint8_t *>PyBytes_AS_STRING(packed),
                                       PyBytes_GET_SIZE(packed), final, 0x40 if op else 0)
        return self._raw_frame(op, p, n, final, rsv)

    cdef bytes _raw_frame(self, int op, const uint8_t *p, Py_ssize_t n, bint final, int rsv):
        cdef uint8_t key[4]
        if op >= 8:
            if not final:
                raise ValueError(f"control frame {_OPCODES[op].name} must have fin=True")
            if n > MAX_CONTROL:
                raise ValueError(
                    f"control frame {_OPCODES[op].name} payload of {n} bytes exceeds 125")
        if not self.client:
            return _frame_bytes((0x80 if final else 0) | rsv | op, p, n, NULL)
        self._take_key(key)
        return _frame_bytes((0x80 if final else 0) | rsv | op, p, n, key)

    cdef bytes _text(self, int op, object data, object fin):
        """A TEXT or CONTINUATION frame (op 1 or 0) with the message's UTF-8 check."""
        cdef Py_buffer view
        cdef Input inp
        cdef bint final = fin
        cdef bint check
        cdef wsf_utf8_stream state
        cdef bytes out
        cdef const uint8_t *p
        cdef Py_ssize_t n
        if isinstance(data, str) and not PyUnicode_IS_COMPACT_ASCII(data):
            data = PyUnicode_AsUTF8String(data)  # as str encodes (never a subclass's encode())
        with cython.critical_section(self):
            if op == 1:
                check = True
                wsf_utf8_stream_reset(&state)
            else:
                check = self._in_text
                state = self._utf8
        inp.has_view = False
        if isinstance(data, str):
            # ASCII is its own UTF-8: frame the str's characters directly.
            p = <const uint8_t *>PyUnicode_DATA(data)
            n = PyUnicode_GET_LENGTH(data)
        else:
            _get_input(data, &view, &inp)
            p = inp.p
            n = inp.n
        try:
            if check and not _stream_ok(&state, p, n, final):
                raise ValueError(
                    "text payload is not valid UTF-8" if final else
                    "text payload is not a valid UTF-8 prefix")
            out = self._raw(op, p, n, final, 0, data if PyBytes_CheckExact(data) else None)
        finally:
            _release_input(&view, &inp)
        with cython.critical_section(self):
            if op == 1 or self._in_text:
                self._in_text = not final
                self._utf8 = state
        return out

    def text(self, data, *, fin=True):
        """text(data: str | Buffer, *, fin: bool = True) -> bytes

        A TEXT frame; a ``str`` is encoded as UTF-8.  A buffer must be valid
        UTF-8 (``ValueError`` otherwise), as a receiver requires; with
        ``fin=False`` the message is checked as a whole across the
        continuation() frames that follow, so a code point may be split."""
        return self._text(1, data, fin)

    def binary(self, data, *, fin=True):
        """binary(data: Buffer, *, fin: bool = True) -> bytes: a BINARY frame."""
        cdef bytes out = self._frame(2, data, fin, 0)
        with cython.critical_section(self):
            self._in_text = False
        return out

    def continuation(self, data, *, fin=True):
        """continuation(data: str | Buffer, *, fin: bool = True) -> bytes

        A CONTINUATION frame (a ``str`` is encoded as UTF-8).  Inside a TEXT
        message the bytes are checked as its next part (``ValueError`` when
        they cannot continue valid UTF-8, or with ``fin=True`` end inside a
        code point)."""
        return self._text(0, data, fin)

    def ping(self, data=b""):
        """ping(data: str | Buffer = b"") -> bytes: a PING frame (payload up to 125 bytes)."""
        return self._frame(9, _control_payload(data), True, 0)

    def pong(self, data=b""):
        """pong(data: str | Buffer = b"") -> bytes: a PONG frame (payload up to 125 bytes)."""
        return self._frame(10, _control_payload(data), True, 0)

    def close(self, code=1000, reason=""):
        """close(code: int | None = 1000, reason: str = "") -> bytes

        A CLOSE frame; ``code=None`` sends an empty payload."""
        return self._frame(8, encode_close(code, reason), True, 0)

    def __repr__(self):
        return f"FrameEncoder(client={self.client})"


# --- decoders ---------------------------------------------------------------

@cython.auto_pickle(False)
cdef class _Decoder:
    """What both decoders share: pending header bytes, limits, the failed state."""

    cdef int _want_mask
    cdef int _rsv_ok
    cdef int64_t _limit
    cdef uint8_t _head[14]
    cdef Py_ssize_t _head_len
    cdef object _failed_cls
    cdef object _failed_reason
    cdef uint8_t *_buf           # growing buffer: a message, or a big frame's payload
    cdef Py_ssize_t _buf_len
    cdef Py_ssize_t _buf_cap
    cdef bint _busy              # a feed() is running (see _feed)
    cdef bint _initialised       # __init__ ran: calling it again is refused

    def __cinit__(self):
        self._buf = NULL
        self._buf_len = 0
        self._buf_cap = 0

    def __dealloc__(self):
        PyMem_Free(self._buf)

    cdef int _reserve(self, Py_ssize_t extra, int64_t limit) except -1:
        """Room for extra more bytes: amortised doubling, never past limit (-1: none)
        when the bytes fit in it."""
        cdef Py_ssize_t need = self._buf_len + extra, cap = self._buf_cap
        cdef uint8_t *grown
        if need <= cap:
            return 0
        cap = cap * 2 if cap else 4096
        if cap < need:
            cap = need
        if limit >= 0 and cap > limit and need <= limit:
            cap = <Py_ssize_t>limit
        grown = <uint8_t *>PyMem_Realloc(self._buf, <size_t>cap)
        if grown == NULL:
            raise MemoryError()
        self._buf = grown
        self._buf_cap = cap
        return 0

    cdef void _drop_buffer(self, Py_ssize_t keep) noexcept:
        """Empty the buffer; keep its memory for the next use up to keep bytes.

        Keeping it spares a new allocation (and its page faults) per message;
        giving a big one back bounds what an idle connection holds."""
        self._buf_len = 0
        if self._buf_cap > keep:
            PyMem_Free(self._buf)
            self._buf = NULL
            self._buf_cap = 0

    cdef list _feed(self, object data, bint to_queue, Py_ssize_t room):
        """What feed() does in both decoders: one call at a time, the failed
        state, borrowing the input, and exc.decoded for what was completed
        before an error."""
        cdef Py_buffer view
        cdef Input inp
        cdef list done = []
        inp.has_view = False
        # The critical section serialises feeds on free-threaded builds (a
        # no-op elsewhere).  The busy flag catches what it cannot: another
        # thread entering while a large payload is unmasked with the GIL
        # released, a re-entrant feed from a callback (a buffer exporter, a
        # finalizer run by the garbage collector), or a suspended section.
        # Set and tested with no Python code in between, so the test is
        # atomic with the GIL and inside the section without it.
        with cython.critical_section(self):
            if self._busy:
                _busy_error(self)
            self._busy = True
            try:
                self._check_failed()
                _get_input(data, &view, &inp)
                self._start_feed(to_queue, room)
                self._decode(inp.p, inp.n, done)
            except WebSocketError as exc:
                self._fail(exc, done)
                raise
            except BaseException as exc:
                # MemoryError, a KeyboardInterrupt mid-feed, ...: the state may
                # be half-updated, so nothing more is decoded.
                self._fail_internal(exc, done)
                raise
            finally:
                _release_input(&view, &inp)
                self._end_feed()
                self._busy = False
        return done

    cdef int _decode(self, const uint8_t *p, Py_ssize_t n, list done) except -1:
        """Consume p[0:n], appending what it completes to done (per decoder)."""
        return 0

    cdef int _start_feed(self, bint to_queue, Py_ssize_t room) except -1:
        """A feed begins (per decoder: where its messages go)."""
        return 0

    cdef void _end_feed(self) noexcept:
        """The feed ended, as it did."""

    cdef int _check_failed(self) except -1:
        if self._failed_cls is not None:
            raise self._failed_cls(f"decoder failed earlier: {self._failed_reason}")
        return 0

    cdef void _fail(self, object exc, list done) noexcept:
        try:
            exc.decoded = done
            self._failed_reason = str(exc)
            self._failed_cls = type(exc)
        except BaseException:
            self._failed_reason = "internal error"
            self._failed_cls = WebSocketError

    cdef void _fail_internal(self, object exc, list done) noexcept:
        try:
            self._failed_reason = f"{type(exc).__name__}: {exc}"
        except BaseException:
            self._failed_reason = "internal error"
        self._failed_cls = WebSocketError

    @property
    def failed(self):
        """True once feed() has raised: every later feed() raises again."""
        with cython.critical_section(self):
            return self._failed_cls is not None

    cdef int _start_init(self) except -1:
        if self._initialised:
            raise already_initialised_error(self)
        return 0

    cdef Py_ssize_t _header(self, const uint8_t *p, Py_ssize_t n, Header *h, int in_message,
                            int64_t data_limit) except -1:
        """Read the next header from the pending bytes and p[0:n].

        Returns the input bytes consumed; h.header_length is 0 while the
        header is incomplete (then all n bytes went into the pending array)."""
        cdef Py_ssize_t had = self._head_len, take
        h.header_length = 0
        if had == 0:
            if _read_header(p, n, h, self._rsv_ok, self._want_mask, in_message,
                            self._limit, data_limit):
                return h.header_length
            memcpy(self._head, p, n)  # n < 14: an incomplete header
            self._head_len = n
            return n
        take = 14 - had
        if take > n:
            take = n
        memcpy(self._head + had, p, take)
        if _read_header(self._head, had + take, h, self._rsv_ok, self._want_mask,
                        in_message, self._limit, data_limit):
            self._head_len = 0
            return h.header_length - had
        self._head_len = had + take
        return n


@cython.final
@cython.embedsignature(False)
cdef class FrameDecoder(_Decoder):
    """FrameDecoder(*, client=False, max_frame_size=1048576, allow_rsv1=False, allow_rsv2=False, allow_rsv3=False)
--

    Streaming frame decoder (RFC 6455 section 5.2).

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
    changes nothing."""

    cdef Header _h          # header whose payload is arriving
    cdef bint _in_payload
    # Up to UPFRONT bytes, a payload spanning feeds is written straight into
    # its bytes object, allocated at the announced size; a bigger one grows
    # in the decoder's buffer as it arrives (the announced size may be a lie).
    cdef bytes _payload
    cdef Py_ssize_t _got

    def __init__(self, *, client=False, max_frame_size=1 << 20, allow_rsv1=False,
                 allow_rsv2=False, allow_rsv3=False):
        cdef int want_mask, rsv_ok
        cdef int64_t limit
        self._start_init()
        # Every argument is converted (which may run its own Python code)
        # before any field is set.
        want_mask = 0 if client else 1
        rsv_ok = _flags(False, allow_rsv1, allow_rsv2, allow_rsv3)
        limit = _limit_arg(max_frame_size, "max_frame_size")
        self._start_init()
        self._want_mask = want_mask
        self._rsv_ok = rsv_ok
        self._limit = limit
        self._head_len = 0
        self._in_payload = False
        self._payload = None
        self._got = 0
        self._initialised = True

    def feed(self, data):
        """feed(data: Buffer) -> list[Frame]: append bytes; the frames they complete."""
        return self._feed(data, False, 0)

    cdef int _decode(self, const uint8_t *p, Py_ssize_t n, list frames) except -1:
        cdef Py_ssize_t pos = 0, take
        cdef Header h
        cdef uint64_t need
        cdef uint8_t *dst
        while pos < n:
            if not self._in_payload:
                pos += self._header(p + pos, n - pos, &h, -1, NO_LIMIT)
                if h.header_length == 0:
                    return 0
                need = h.length
                if <uint64_t>(n - pos) >= need:
                    # The whole payload is here: one copy-and-unmask pass.
                    PyList_Append(frames, _new_frame(&h, _payload_bytes(p + pos, <Py_ssize_t>need, &h)))
                    pos += <Py_ssize_t>need
                    continue
                self._h = h
                self._in_payload = True
                self._payload = (PyBytes_FromStringAndSize(NULL, <Py_ssize_t>need)
                                 if need <= UPFRONT else None)
                self._got = 0
            take = n - pos
            if <uint64_t>take > self._h.length - <uint64_t>self._got:
                take = <Py_ssize_t>(self._h.length - <uint64_t>self._got)
            if take == 0:
                return 0  # only the header so far (nothing to copy: dst may be NULL)
            if self._payload is not None:
                dst = <uint8_t *>PyBytes_AS_STRING(self._payload) + self._got
            else:
                self._reserve(take, self._limit)
                dst = self._buf + self._buf_len
                self._buf_len += take
            _copy_payload(dst, p + pos, take, &self._h, <unsigned>(self._got & 3))
            self._got += take
            pos += take
            if <uint64_t>self._got == self._h.length:
                if self._payload is None:
                    self._payload = PyBytes_FromStringAndSize(<const char *>self._buf,
                                                              self._buf_len)
                    self._drop_buffer(0)
                PyList_Append(frames, _new_frame(&self._h, self._payload))
                self._payload = None
                self._in_payload = False
        return 0


# --- handing messages to a stack's queue ------------------------------------
#
# For wsfast.integrations.aiohttp: aiohttp's reader hands each message to its
# queue as ``queue.feed_data(WSMessage(type, data, extra), size)``.  A
# MessageDecoder given that queue (_set_queue) does it as it decodes
# (_feed_queue): a tuple and a call per message, and no Message object, no
# list and no Python loop in between.  The pure twin does the same.

cdef extern from *:
    """
    /* An instance of a tuple subclass without fields of its own (a
       NamedTuple) holding (a, b, c), as tuple.__new__(cls, (a, b, c)) makes. */
    static PyObject *wsf_new_triple(PyTypeObject *tp, PyObject *a, PyObject *b, PyObject *c)
    {
        PyObject *t = tp->tp_alloc(tp, 3);
        if (t == NULL)
            return NULL;
        Py_INCREF(a);
        PyTuple_SET_ITEM(t, 0, a);
        Py_INCREF(b);
        PyTuple_SET_ITEM(t, 1, b);
        Py_INCREF(c);
        PyTuple_SET_ITEM(t, 2, c);
        return t;
    }
    """
    object wsf_new_triple(PyTypeObject *tp, object a, object b, object c)


cdef extern from *:
    """
    /* list[i] as a new reference, or NULL with no exception set once i is
       past the list's end as it is now (0 <= i): its length is read at the
       fetch, since the call made per item may shrink it, and another thread
       may do so on a free-threaded build (where the fetch takes its lock). */
    static PyObject *wsf_list_item(PyObject *list, Py_ssize_t i)
    {
    #ifdef Py_GIL_DISABLED
        PyObject *item = PyList_GetItemRef(list, i);
        if (item == NULL)
            PyErr_Clear();  /* only IndexError: an exact list, i >= 0 */
        return item;
    #else
        PyObject *item;
        if (i >= PyList_GET_SIZE(list))
            return NULL;
        item = PyList_GET_ITEM(list, i);
        Py_INCREF(item);
        return item;
    #endif
    }
    """
    PyObject *wsf_list_item(object list, Py_ssize_t i)


cdef PyTypeObject *_triple_type(object cls) except NULL:
    if not isinstance(cls, type) or not issubclass(cls, tuple):
        raise TypeError(f"expected a tuple subclass, got {cls!r}")
    cdef PyTypeObject *tp = <PyTypeObject *>cls
    if tp.tp_basicsize != PyTuple_Type.tp_basicsize or tp.tp_itemsize != PyTuple_Type.tp_itemsize:
        raise TypeError(f"{cls.__name__} has fields beyond its tuple's items")
    return tp


cdef Py_ssize_t _utf8_size(object text) noexcept:
    """The length of a str as UTF-8 (it has no lone surrogates: it is decoded
    text), without encoding it."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), total = n, i
    cdef int kind
    cdef const uint8_t *p1
    cdef const uint16_t *p2
    cdef const uint32_t *p4
    if PyUnicode_IS_COMPACT_ASCII(text):
        return n
    kind = PyUnicode_KIND(text)
    if kind == 1:
        p1 = <const uint8_t *>PyUnicode_DATA(text)
        for i in range(n):
            total += p1[i] >> 7
    elif kind == 2:
        p2 = <const uint16_t *>PyUnicode_DATA(text)
        for i in range(n):
            total += (p2[i] >= 0x80) + (p2[i] >= 0x800)
    else:
        p4 = <const uint32_t *>PyUnicode_DATA(text)
        for i in range(n):
            total += (p4[i] >= 0x80) + (p4[i] >= 0x800) + (p4[i] >= 0x10000)
    return total


@cython.final
cdef class _Queue:
    """Where a MessageDecoder puts TEXT and BINARY messages (see _set_queue)."""

    cdef object feed
    cdef Py_ssize_t overhead
    cdef object text
    cdef object binary
    cdef object extra
    cdef PyTypeObject *message_tp
    cdef PyTypeObject *text_bytes_tp
    cdef object classes           # holds the two types while their pointers are used

    cdef Py_ssize_t put(self, int opcode, object data, Py_ssize_t size) except -1:
        """``feed(cls(kind, data, extra), size)``; the room it took."""
        if opcode == 2:
            self.feed(wsf_new_triple(self.message_tp, self.binary, data, self.extra), size)
        elif PyUnicode_CheckExact(data):
            self.feed(wsf_new_triple(self.message_tp, self.text, data, self.extra), size)
        else:
            self.feed(wsf_new_triple(self.text_bytes_tp, self.text, data, self.extra), size)
        return size + self.overhead


@cython.final
@cython.embedsignature(False)
cdef class MessageDecoder(_Decoder):
    """MessageDecoder(*, client=False, max_message_size=1048576, max_frame_size=None, decode_text=True, deflate=None, deflate_backend=None)
--

    Streaming message decoder (RFC 6455 sections 5.4-5.6 and 7).

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
    changes nothing."""

    cdef int64_t _max_message
    cdef bint _decode_text
    cdef Header _h
    cdef bint _in_payload
    cdef uint64_t _got            # payload bytes of the current frame consumed
    cdef uint8_t _control[125]    # payload of a control frame in progress
    cdef int _opcode              # TEXT or BINARY while a message is open, else -1
    # An unfragmented message whose payload spans feeds is written straight
    # into its final object, allocated at the announced size: bytes, or for
    # decoded text a one-byte-kind str, which is the message when every byte
    # is ASCII (else the text is decoded from it); fragments are gathered in
    # the decoder's growing buffer.  One of the two fields holds it: typed as
    # bytes and str, they are not visited by the garbage collector, so
    # gc.get_referents(decoder) never hands out an object still being written
    # (whose hash, once taken, would be stale).
    cdef bytes _direct_bytes
    cdef str _direct_text
    cdef uint8_t *_payload_p      # their data; NULL when neither is held
    cdef uint64_t _high
    # For such a str, the shape of the text so far (code points, widest
    # class), measured a feed at a time while the bytes are in cache: the
    # decoding at the end then needs no measuring pass over the whole text.
    # (Code points are the bytes that are not continuation bytes, so the
    # counts of any cut add up; the widest class is a maximum.)
    cdef wsf_utf8_shape _shape
    # UCS1 mode.  Once such a text (from UCS1_DIRECT_FROM bytes) shows a
    # Latin-1 code point and none wider, it goes on straight into a one-byte
    # str of Latin-1 kind, _ucs1 (room for the whole payload, cut to its
    # length at the end): each block is unmasked into a buffer on the stack,
    # checked, measured and decoded while in cache, and the ASCII-kind payload
    # is no longer written (the unused part is never touched).  That saves
    # the decoding pass over the whole text at the end and half the fresh
    # memory.  A wider code point later ends the mode: the text so far is
    # written back as UTF-8 into the payload (it is Latin-1, so exactly the
    # bytes that came), and decoding happens at the end as usual.  (A str
    # field: not visited by the garbage collector, as the payload's.)
    cdef str _ucs1
    cdef uint8_t *_ucs1_p         # NULL outside the mode
    cdef Py_ssize_t _ucs1_len     # code points written
    cdef uint8_t _carry[4]        # the start of a code point cut by a block
    cdef Py_ssize_t _carry_len
    cdef bint _ucs1_tried         # the mode was entered for this message
    cdef wsf_utf8_stream _utf8
    cdef bint _closed
    cdef int64_t _wire            # payload bytes of the message's data frames, as sent
    # permessage-deflate: a compressed message's payload goes through the
    # engine (_inflate_c.Inflater on zlib, else _pmd.Inflater), checked as text as it comes out, into
    # _pieces: kept as the backend made them, not copied (small ones joined by
    # runs: the run starts at _run_from and holds _run_bytes), and joined once
    # at the end -- or, one piece, the message as it is.
    cdef object _inflater
    cdef list _pieces
    cdef Py_ssize_t _run_from
    cdef Py_ssize_t _run_bytes
    cdef bint _compressed         # the message in progress is compressed
    cdef bint _inflated_all       # ...and its last frame was inflated to the end
    # The zlib C engine fills one piece per message while it fits (_run_open),
    # made as big as _hint, a guess from the first frame's compressed size.
    cdef bint _open_pieces
    cdef unsigned long _inflating  # the thread in _inflate; 0: none
    cdef Py_ssize_t _hint
    # A stack's queue (_set_queue), and during a _feed_queue: whether messages
    # still go to it (none went to the list yet) and the room it has left.
    cdef _Queue _queue
    cdef bint _to_queue
    cdef Py_ssize_t _room
    cdef Py_ssize_t _queued       # messages the last feed put on the queue
    # Where the last feed's input was last idle: the offset after the last
    # frame that left no data message open (-1: none; a CLOSE is not such a
    # point), and the messages completed after it.
    cdef Py_ssize_t _idle_end
    cdef Py_ssize_t _since_idle

    def __init__(self, *, client=False, max_message_size=1 << 20, max_frame_size=None,
                 decode_text=True, deflate=None, deflate_backend=None):
        cdef int want_mask
        cdef int64_t limit, max_message
        cdef bint text
        self._start_init()
        want_mask = 0 if client else 1
        limit = _limit_arg(max_frame_size, "max_frame_size")
        max_message = _limit_arg(max_message_size, "max_message_size")
        text = bool(decode_text)
        if deflate is not None:
            backend = _get_backend(deflate_backend)
            engine = _Inflater
            if backend.name == "zlib" and _ZlibInflater is not None:
                engine = _ZlibInflater  # the same engine over zlib's C API
            inflater = engine.for_endpoint(deflate, client=not want_mask, backend=backend)
        else:
            inflater = None
            if deflate_backend is not None:
                _get_backend(deflate_backend)  # a wrong one is an error even without deflate
        self._start_init()
        self._want_mask = want_mask
        self._rsv_ok = 0 if inflater is None else 0x40 | RSV1_FIRST_ONLY
        self._inflater = inflater
        self._open_pieces = inflater is not None and type(inflater) is _ZlibInflater
        self._hint = 0
        self._pieces = []
        self._run_from = 0
        self._run_bytes = 0
        self._compressed = False
        self._inflated_all = False
        self._wire = 0
        self._limit = limit
        self._max_message = max_message
        self._decode_text = text
        self._head_len = 0
        self._in_payload = False
        self._got = 0
        self._opcode = -1
        self._direct_bytes = None
        self._direct_text = None
        wsf_utf8_stream_reset(&self._utf8)
        self._closed = False
        self._to_queue = False
        self._idle_end = -1
        self._initialised = True

    @property
    def closed(self):
        """True once a CLOSE was decoded: later bytes are ignored (RFC 6455 5.5.1)."""
        with cython.critical_section(self):
            return self._closed

    def feed(self, data):
        """feed(data: Buffer) -> list[Message]: append bytes; the messages they complete."""
        return self._feed(data, False, 0)

    def _set_queue(self, feed, Py_ssize_t overhead, text, binary, extra, message_class,
                   text_bytes_class):
        """Give the decoder a stack's queue, for ``_feed_queue``.

        A TEXT or BINARY message goes to it as ``feed(cls(kind, data, extra),
        size)``, ``size`` being its payload's length in bytes (as UTF-8 for
        text): ``kind`` is ``text`` or ``binary``; ``cls`` is
        ``text_bytes_class`` for text as ``bytes``, else ``message_class``
        (tuple subclasses without fields of their own: aiohttp's
        ``WSMessageTextBytes`` and ``WSMessage``).  Each takes ``size +
        overhead`` of the queue's room."""
        cdef _Queue q = _Queue.__new__(_Queue)
        q.message_tp = _triple_type(message_class)
        q.text_bytes_tp = _triple_type(text_bytes_class)
        q.classes = (message_class, text_bytes_class)
        q.feed = feed
        q.overhead = overhead
        q.text = text
        q.binary = binary
        q.extra = extra
        with cython.critical_section(self):
            if self._busy:  # from the queue's own call, say: refused, as feed() is
                _busy_error(self)
            self._queue = q

    def _feed_queue(self, data, Py_ssize_t room):
        """``feed``, the messages going to the queue (``_set_queue``) as they
        complete while it has ``room`` (not negative; each takes its size plus
        the overhead): the list has those that did not, from the first
        control message or the first with no room on.  ``_last_feed()`` then
        says how many were queued."""
        if self._queue is None:
            raise RuntimeError("no queue was given (_set_queue)")
        return self._feed(data, True, room)

    def _last_feed(self):
        """``(queued, idle_end, since_idle)`` of the last feed: the messages it
        put on the queue; the offset in its input after the last frame that
        left no data message open (-1: none; a CLOSE is not such a point);
        the messages it completed after that point (all of them if none)."""
        with cython.critical_section(self):
            return self._queued, self._idle_end, self._since_idle

    def _queue_messages(self, list messages not None, Py_ssize_t start, Py_ssize_t room):
        """Put ``messages[start:]`` on the queue (``_set_queue``) while it has
        ``room``, as ``_feed_queue`` does; the index of the first not queued:
        ``len(messages)``, one with no room left, or a control message."""
        cdef _Queue q
        cdef Py_ssize_t i = start, size
        cdef PyObject *item
        cdef Message m
        cdef object data
        cdef int opcode
        with cython.critical_section(self):  # _set_queue may swap it meanwhile
            q = self._queue
        if q is None:
            raise RuntimeError("no queue was given (_set_queue)")
        if i < 0:
            raise IndexError("start must not be negative")
        while room >= 0:
            item = wsf_list_item(messages, i)  # the queue's call may shrink the list
            if item is NULL:
                break
            data = <object>item
            Py_DECREF(data)  # the helper's reference: data holds it now
            m = <Message?>data
            if m.opcode is not _OPCODES[1] and m.opcode is not _OPCODES[2]:
                break
            opcode = 1 if m.opcode is _OPCODES[1] else 2
            data = m.data
            size = _utf8_size(data) if PyUnicode_CheckExact(data) else PyBytes_GET_SIZE(data)
            room -= q.put(opcode, data, size)
            i += 1
        return i

    cdef int _start_feed(self, bint to_queue, Py_ssize_t room) except -1:
        self._to_queue = to_queue
        self._room = room
        self._queued = 0
        self._idle_end = -1
        self._since_idle = 0
        return 0

    cdef void _end_feed(self) noexcept:
        self._to_queue = False

    cdef int _emit(self, list out, int opcode, object data, Py_ssize_t size) except -1:
        """A message is complete: to the queue, or to the list."""
        cdef _Queue q
        self._since_idle += 1
        if self._to_queue:
            if (opcode == 1 or opcode == 2) and self._room >= 0:
                q = self._queue  # held: the call may run code that drops self._queue
                self._room -= q.put(opcode, data, size)
                self._queued += 1
                return 0
            self._to_queue = False  # the rest keep their order, in the list
        PyList_Append(out, _new_message(opcode, data))
        return 0

    cdef inline void _frame_done(self, Py_ssize_t pos) noexcept:
        if self._opcode < 0:
            self._idle_end = pos
            self._since_idle = 0

    cdef int _decode(self, const uint8_t *p, Py_ssize_t n, list out) except -1:
        cdef Py_ssize_t pos = 0, take, used
        cdef Header h
        if self._closed:
            return 0  # RFC 6455 section 5.5.1: nothing is read after a CLOSE
        while True:
            if not self._in_payload:
                if pos >= n:
                    return 0
                used = self._header(p + pos, n - pos, &h, self._opcode >= 0,
                                    self._max_message - self._wire
                                    if self._max_message >= 0 else NO_LIMIT)
                pos += used
                if h.header_length == 0:
                    return 0
                if (h.opcode == 1 or h.opcode == 2) and (h.b0 & 0xC0) == 0x80 \
                        and <uint64_t>(n - pos) >= h.length:
                    # A whole single-frame message in this input: no buffering.
                    self._emit(out, h.opcode, self._whole_message(&h, p + pos),
                               <Py_ssize_t>h.length)
                    pos += <Py_ssize_t>h.length
                    self._frame_done(pos)
                    continue
                self._h = h
                self._in_payload = True
                self._got = 0
                if h.opcode == 1 or h.opcode == 2:
                    self._opcode = h.opcode
                    self._compressed = (h.b0 & 0x40) != 0
                    if self._compressed:
                        # JSON-like text inflates 4-10x; a bigger guess costs
                        # only address space (the piece is cut at the end).
                        self._hint = <Py_ssize_t>(h.length * INFLATE_GUESS
                                                  if h.length < (<uint64_t>1 << 40) else 0)
                    if (h.b0 & 0xC0) == 0x80 and h.length <= UPFRONT:
                        self._start_payload(h.opcode, <Py_ssize_t>h.length)
                if h.opcode < 8 and self._payload_p == NULL and not self._compressed:
                    # A fragment: room for all of it at once (within the limit).
                    self._reserve(<Py_ssize_t>(h.length if h.length < UPFRONT else UPFRONT),
                                  self._max_message)
            take = n - pos
            if <uint64_t>take > self._h.length - self._got:
                take = <Py_ssize_t>(self._h.length - self._got)
            if take:
                self._consume(p + pos, take)
                pos += take
            if self._got < self._h.length:
                return 0  # the rest of this payload comes in a later feed
            self._in_payload = False
            if self._h.opcode >= 8:
                self._control_done(out)
                if self._closed:
                    return 0  # RFC 6455 section 5.5.1: nothing is read after a CLOSE
            elif self._h.b0 & 0x80:
                self._message_done(out)
            self._frame_done(pos)

    cdef object _whole_message(self, Header *h, const uint8_t *src):
        """The data of a TEXT or BINARY message whose one frame is all in src."""
        cdef Py_ssize_t n = <Py_ssize_t>h.length
        cdef bytes raw
        cdef uint8_t *tmp
        cdef object text
        if h.opcode == 2:
            return _payload_bytes(src, n, h)
        if not self._decode_text:
            raw = _payload_bytes(src, n, h)
            if not _utf8_valid(<const uint8_t *>PyBytes_AS_STRING(raw), n):
                raise InvalidDataError("text message is not valid UTF-8")
            return raw
        if not h.masked:
            if not _utf8_valid(src, n):
                raise InvalidDataError("text message is not valid UTF-8")
            return _str_from_valid_utf8(src, n, _level, False)
        # Unmask straight into a one-byte-kind str: when every byte is ASCII
        # (most text) it is valid UTF-8 and the str is the result; otherwise
        # validate the bytes and decode them into the real str.
        text = PyUnicode_New(n, 127)
        tmp = <uint8_t *>PyUnicode_DATA(text)
        _unmask(tmp, src, n, h.key, 0)
        if not _high_bits(tmp, n):
            return text
        if not _utf8_valid(tmp, n):
            raise InvalidDataError("text message is not valid UTF-8")
        return _str_from_valid_utf8(tmp, n, _level, True)

    cdef int _start_payload(self, int opcode, Py_ssize_t n) except -1:
        if opcode == 1 and self._decode_text:
            self._direct_text = <str>PyUnicode_New(n, 127)
            self._payload_p = <uint8_t *>PyUnicode_DATA(self._direct_text)
        else:
            self._direct_bytes = PyBytes_FromStringAndSize(NULL, n)
            self._payload_p = <uint8_t *>PyBytes_AS_STRING(self._direct_bytes)
        self._high = 0
        self._shape.length = 0
        self._shape.maxchar = 0x7F
        self._end_ucs1()
        self._ucs1_tried = False
        return 0

    cdef void _end_ucs1(self) noexcept:
        self._ucs1 = None
        self._ucs1_p = NULL
        self._ucs1_len = 0
        self._carry_len = 0

    cdef int _start_ucs1(self) except -1:
        """Enter UCS1 mode: decode the payload so far into the Latin-1 str."""
        cdef Py_ssize_t got = <Py_ssize_t>self._got
        cdef Py_ssize_t end = _complete_prefix(self._payload_p, got)
        cdef Py_ssize_t m = <Py_ssize_t>self._shape.length - (1 if end < got else 0)
        self._ucs1_tried = True
        self._ucs1 = <str>PyUnicode_New(<Py_ssize_t>self._h.length, 0xFF)
        self._ucs1_p = <uint8_t *>PyUnicode_DATA(self._ucs1)
        wsf_utf8_to_ucs1(self._ucs1_p, <size_t>m, self._payload_p, <size_t>end, _level)
        self._ucs1_len = m
        self._carry_len = got - end
        memcpy(self._carry, self._payload_p + end, <size_t>self._carry_len)
        return 0

    cdef Py_ssize_t _consume_ucs1(self, const uint8_t *src, Py_ssize_t take) except -1:
        """UCS1 mode: take the next payload bytes a block at a time.  Returns how
        many were taken: all of them, or fewer when a code point wider than
        Latin-1 ended the mode (the rest then goes the usual way)."""
        cdef uint8_t block[UCS1_BLOCK + 4]
        cdef Py_ssize_t done = 0
        cdef Py_ssize_t k, c, total, end, m
        cdef wsf_utf8_shape shape
        while done < take:
            k = take - done
            if k > UCS1_BLOCK:
                k = UCS1_BLOCK
            c = self._carry_len
            memcpy(block, self._carry, <size_t>c)
            _copy_payload(block + c, src + done, k, &self._h, <unsigned>(self._got & 3))
            self._got += k
            done += k
            self._check_text(block + c, k)
            shape = wsf_utf8_measure(block + c, <size_t>k, _level)
            self._shape.length += shape.length
            if shape.maxchar > 0xFF:
                # Back to UTF-8 in the payload: the text so far, the cut code
                # point, this block; then the usual way.
                self._shape.maxchar = shape.maxchar
                end = _latin1_to_utf8(self._payload_p, self._ucs1_p, self._ucs1_len)
                memcpy(self._payload_p + end, block, <size_t>(c + k))
                self._end_ucs1()
                return done
            total = c + k
            end = _complete_prefix(block, total)
            m = (1 if c else 0) + <Py_ssize_t>shape.length - (1 if end < total else 0)
            wsf_utf8_to_ucs1(self._ucs1_p + self._ucs1_len, <size_t>m, block, <size_t>end,
                             _level)
            self._ucs1_len += m
            self._carry_len = total - end
            memcpy(self._carry, block + end, <size_t>self._carry_len)
        return done

    cdef object _finish_ucs1(self):
        """The Latin-1 str of UCS1 mode, cut to its length."""
        cdef PyObject *raw = <PyObject *>self._ucs1
        Py_INCREF(<object>raw)
        self._end_ucs1()  # raw is now the only reference, so it may be resized
        try:
            PyUnicode_Resize(&raw, <Py_ssize_t>self._shape.length)
            return <object>raw
        finally:
            Py_DECREF(<object>raw)

    cdef int _consume(self, const uint8_t *src, Py_ssize_t take) except -1:
        """Unmask the next take payload bytes into their buffer; check text."""
        cdef uint8_t *dst
        cdef bytes chunk
        cdef Py_ssize_t n
        cdef wsf_utf8_shape shape
        cdef bint last
        if self._h.opcode < 8:
            self._wire += take
            if self._compressed:
                # Unmasked and inflated a slice at a time: the copy of the
                # compressed bytes stays small however big the feed.  The last
                # slice of the message ends it in the same call (for a small
                # message, one backend call in all).
                while take > 0:
                    n = take if take < INFLATE_SLICE else INFLATE_SLICE
                    chunk = PyBytes_FromStringAndSize(NULL, n)
                    dst = <uint8_t *>PyBytes_AS_STRING(chunk)
                    _copy_payload(dst, src, n, &self._h, <unsigned>(self._got & 3))
                    self._got += n
                    src += n
                    take -= n
                    last = self._got == self._h.length and (self._h.b0 & 0x80) != 0
                    self._inflate(chunk, last)
                    self._inflated_all = last
                    chunk = None
                return 0
        if self._ucs1_p != NULL and self._h.opcode < 8:
            n = self._consume_ucs1(src, take)
            if n == take:
                return 0
            src += n  # UCS1 mode ended: the rest goes into the payload
            take -= n
        if self._h.opcode >= 8:
            dst = self._control + self._got
        elif self._payload_p != NULL:
            dst = self._payload_p + self._got
        else:
            self._reserve(take, self._max_message)
            dst = self._buf + self._buf_len
        _copy_payload(dst, src, take, &self._h, <unsigned>(self._got & 3))
        self._got += take
        if self._h.opcode >= 8:
            return 0
        if self._payload_p == NULL:
            self._buf_len += take
        if self._opcode == 1:
            self._check_text(dst, take)
            if self._payload_p != NULL and self._decode_text:
                shape = wsf_utf8_measure(dst, <size_t>take, _level)
                self._shape.length += shape.length
                if shape.maxchar > self._shape.maxchar:
                    self._shape.maxchar = shape.maxchar
                    self._high = 1
                    if (shape.maxchar == 0xFF and not self._ucs1_tried
                            and <Py_ssize_t>self._h.length >= UCS1_DIRECT_FROM
                            and self._got < self._h.length):
                        self._start_ucs1()
        return 0

    cdef int _control_done(self, list out) except -1:
        cdef Py_ssize_t n = <Py_ssize_t>self._h.length
        cdef int opcode = self._h.opcode
        payload = PyBytes_FromStringAndSize(<const char *>self._control, n)
        if opcode == 8:
            _check_close(self._control, n)
            # A CLOSE may interrupt a fragmented message: that message is dropped.
            self._closed = True
            self._reset_message()
        self._emit(out, opcode, payload, n)
        return 0

    cdef object _limit_obj(self):
        return None if self._max_message < 0 else self._max_message

    cdef int _check_text(self, const uint8_t *p, Py_ssize_t n) except -1:
        """Feed the next bytes of a text message to its UTF-8 check (fail-fast)."""
        if not wsf_utf8_stream_feed(&self._utf8, p, <size_t>n, 0, _level):
            raise InvalidDataError("text message is not valid UTF-8")
        return 0

    cdef int _inflate(self, object chunk, bint last) except -1:
        """The next compressed bytes of the message to the inflater, its output
        to _inflated (and, from the zlib C engine, _inflated_view)."""
        self._inflating = PyThread_get_thread_ident()
        try:
            if self._open_pieces:
                self._inflater._run_open(chunk, self._limit_obj(), last, self._inflated_view,
                                         self._inflated, self._hint)
            else:
                self._inflater._run(chunk, self._limit_obj(), last, self._inflated)
        finally:
            self._inflating = 0
        return 0

    cdef int _sink_call(self) except -1:
        """The two sinks below are methods only for the inflater to call back:
        a call from anywhere else (another thread, or outside a feed) would
        write the message's pieces under a feed, or with none."""
        if self._inflating == 0 or self._inflating != PyThread_get_thread_ident():
            raise RuntimeError("only the decoder's own inflater calls this, from a feed")
        return 0

    def _inflated_view(self, view):
        """``_run_open``'s check: inflated bytes still in the engine's piece."""
        cdef Py_buffer buf
        cdef Input inp
        self._sink_call()
        if self._opcode != 1:
            return
        _get_input(view, &buf, &inp)
        try:
            self._check_text(inp.p, inp.n)
        finally:
            _release_input(&buf, &inp)

    def _inflated(self, piece, Py_ssize_t told=0):
        """Sink of the inflater: the next inflated bytes of the message (of
        which the first ``told`` were checked already, by _inflated_view)."""
        cdef list pieces
        cdef Py_ssize_t n
        self._sink_call()
        pieces = self._pieces
        if type(piece) is not bytes:  # a backend of another make
            piece = bytes(piece)
        n = PyBytes_GET_SIZE(piece)
        if told < 0 or told > n:
            raise ValueError(f"told={told} is outside the piece's {n} bytes")
        if self._opcode == 1:
            self._check_text(<const uint8_t *>PyBytes_AS_STRING(piece) + told, n - told)
        PyList_Append(pieces, piece)
        if n >= GATHER:
            self._run_from = len(pieces)
            self._run_bytes = 0
            return
        self._run_bytes += n
        if self._run_bytes >= GATHER or len(pieces) - self._run_from >= GATHER_PIECES:
            piece = b"".join(pieces[self._run_from:])
            del pieces[self._run_from:]
            PyList_Append(pieces, piece)
            if self._run_bytes >= GATHER:  # a full run: the next one starts after it
                self._run_from = len(pieces)
                self._run_bytes = 0

    cdef int _message_done(self, list out) except -1:
        cdef int opcode = self._opcode
        cdef object data = (self._direct_text if self._direct_text is not None
                            else self._direct_bytes)
        cdef const char *p
        cdef Py_ssize_t n
        cdef bint inflated = self._compressed
        if inflated:
            if not self._inflated_all:  # an empty last frame
                self._inflate(b"", True)
            data = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
            self._drop_pieces()
            p = PyBytes_AS_STRING(data)
            n = PyBytes_GET_SIZE(data)
        elif data is not None:
            p = <const char *>self._payload_p
            n = <Py_ssize_t>self._h.length
        else:
            p = <const char *>self._buf
            n = self._buf_len
        if opcode == 1:
            if not wsf_utf8_stream_feed(&self._utf8, self._control, 0, 1, _level):
                raise InvalidDataError("text message ends inside a UTF-8 sequence")
            if self._ucs1_p != NULL:
                data = self._finish_ucs1()
            elif self._decode_text and (data is None or inflated):
                data = _str_from_valid_utf8(<const uint8_t *>p, n, _level, True)
            elif self._decode_text and self._high:
                # Measured as it came (see _shape): only the decoding pass is left.
                # (An all-ASCII str written in place is the message as it is.)
                data = _str_of_shape(<const uint8_t *>p, n, self._shape, _level, True)
            elif data is None:
                data = PyBytes_FromStringAndSize(p, n)
        elif data is None:
            data = PyBytes_FromStringAndSize(p, n)
        self._reset_message()
        self._emit(out, opcode, data, n)
        return 0

    cdef void _drop_pieces(self) noexcept:
        if self._pieces:
            self._pieces = []
        self._run_from = 0
        self._run_bytes = 0

    cdef void _reset_message(self) noexcept:
        self._drop_pieces()  # what a compressed message cut short left
        self._opcode = -1
        self._compressed = False
        self._inflated_all = False
        self._wire = 0
        self._direct_bytes = None
        self._direct_text = None
        self._payload_p = NULL
        self._end_ucs1()
        wsf_utf8_stream_reset(&self._utf8)
        self._drop_buffer(KEEP_BUFFER)
