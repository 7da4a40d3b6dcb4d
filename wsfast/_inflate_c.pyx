# Compiled twin of the permessage-deflate inflater (_pmd.Inflater: read it
# first), over zlib's C API, for the standard library's zlib backend.  The
# compiled MessageDecoder uses it when that backend is chosen; any other
# backend goes through the shared pure engine.
#
# Behaviour is the pure engine's, call for call: the input is cut into the
# same slices, each slice is asked for the same number of output bytes as
# `decompress(chunk, ask)` would be, and that call's output is one piece for
# the sink.  So the sink sees the same pieces, the limit is passed (and
# MessageTooBigError raised) at the same byte, and corrupt data gives the same
# message, formatted as CPython's zlib module formats zlib's errors.
#
# What differs:
# - A piece is inflated into a stack buffer (small output: one exact-size copy
#   into its `bytes`) or, past that, straight into its final `bytes` object,
#   where the zlib module goes through a growing list of blocks joined at the
#   end.  No Python call per piece besides the sink's.
# - The window kept for a stream restart after a BFINAL block is a C ring
#   written with memcpy (the pure engine's is a bytearray written through a
#   memoryview).  zlib's inflateGetDictionary would spare it, but it needs
#   zlib 1.2.7.1, newer than the oldest system zlib a wheel may meet.
# - The restart reuses the z_stream (inflateReset) where the pure engine
#   makes a new decompressor.
# - Large pieces are inflated without the GIL, as the zlib module does; a
#   busy flag refuses a second caller meanwhile.

cimport cython
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_FromString,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memcmp, memcpy, memset

from operator import index as _index

from ._buffers cimport Input, _get_input, _release_input
from ._buffers import byte_view as _byte_view
from ._pmd import (
    FREE_RESTARTS as _FREE_RESTARTS_OBJ,
    INPUT_CHUNK as _INPUT_CHUNK_OBJ,
    OUTPUT_CHUNK as _OUTPUT_CHUNK_OBJ,
    RESTART_INPUT as _RESTART_INPUT_OBJ,
    _JOIN_TAIL_BELOW as _JOIN_TAIL_BELOW_OBJ,
    _window_bits,
    get_backend as _get_backend,
)
from .errors import InvalidDataError, MessageTooBigError, in_use_error

__all__ = ["Inflater", "ZLIB_VERSION_COMPILED", "ZLIB_RUNTIME_VERSION"]

cdef extern from "Python.h":
    # A piece's bytes are shrunk in place to what was inflated: handled as a
    # raw pointer, as _PyBytes_Resize may move or free it.
    ctypedef struct PyObject
    PyObject *_new_bytes "PyBytes_FromStringAndSize"(const char *s, Py_ssize_t n) except NULL
    char *_bytes_data "PyBytes_AS_STRING"(PyObject *o)
    int _PyBytes_Resize(PyObject **o, Py_ssize_t n) except -1
    void Py_DECREF(PyObject *o)
    void Py_XDECREF(PyObject *o)
    object PyMemoryView_FromMemory(char *mem, Py_ssize_t size, int flags)
    int PyBUF_READ

from ._zlib cimport (
    ZLIB_VERSION,
    Z_BUF_ERROR,
    Z_DATA_ERROR,
    Z_MEM_ERROR,
    Z_NEED_DICT,
    Z_OK,
    Z_STREAM_END,
    Z_STREAM_ERROR,
    Z_SYNC_FLUSH,
    Z_VERSION_ERROR,
    _zalloc,
    _zfree,
    inflate,
    inflateEnd,
    inflateInit2,
    inflateReset,
    inflateSetDictionary,
    z_stream,
    zlibVersion,
)

# The pure engine's constants, checked against it at import (just below).
cdef enum:
    OUTPUT_CHUNK = 256 * 1024
    INPUT_CHUNK = 128 * 1024
    JOIN_TAIL_BELOW = 4096
    FREE_RESTARTS = 16
    RESTART_INPUT = 1024
    # Output inflated in a stack buffer first: a piece this small costs one
    # exact-size copy, where going straight to a `bytes` would mean allocating
    # the whole ask (up to OUTPUT_CHUNK) and shrinking it.
    # The part of a piece past it is inflated without the GIL.
    SMALL_OUT = 16 * 1024
    # The largest piece _run_open makes (zlib counts room in an unsigned int).
    OPEN_MAX = 1 << 30

if (_OUTPUT_CHUNK_OBJ, _INPUT_CHUNK_OBJ, _JOIN_TAIL_BELOW_OBJ, _FREE_RESTARTS_OBJ,
        _RESTART_INPUT_OBJ) != (OUTPUT_CHUNK, INPUT_CHUNK, JOIN_TAIL_BELOW, FREE_RESTARTS,
                                RESTART_INPUT):
    raise ImportError("wsfast._inflate_c is out of step with wsfast._pmd: rebuild it")

cdef const unsigned char *TAIL = b"\x00\x00\xff\xff"
cdef object _NO_OUTPUT = b""

#: The zlib this module was compiled against, and the one it runs with.
ZLIB_VERSION_COMPILED = PyBytes_FromString(ZLIB_VERSION).decode("ascii")
ZLIB_RUNTIME_VERSION = PyBytes_FromString(zlibVersion()).decode("ascii")


cdef str _zlib_error(int err, const char *msg):
    """zlib's error as CPython's zlib module words it (zlib_error in
    Modules/zlibmodule.c), so that both engines give the same message."""
    cdef const char *text = NULL
    if err == Z_VERSION_ERROR:
        text = b"library version mismatch"
    elif msg != NULL:
        text = msg
    elif err == Z_BUF_ERROR:
        text = b"incomplete or truncated stream"
    elif err == Z_STREAM_ERROR:
        text = b"inconsistent stream state"
    elif err == Z_DATA_ERROR:
        text = b"invalid input data"
    if text == NULL:
        return f"Error {err} while decompressing data"
    return f"Error {err} while decompressing data: {PyBytes_FromString(text)[:200].decode('latin-1')}"


@cython.final
cdef class Inflater:
    """Inflates the peer's compressed messages, one connection direction: the
    compiled twin of ``wsfast._pmd.Inflater`` (same constructor, methods and
    behaviour), for the standard library's zlib backend only."""

    cdef z_stream _z
    cdef bint _zinit             # _z is initialised (inflateInit2 done, no inflateEnd)
    cdef bint _live              # ...and is the current stream (the pure engine's _d)
    cdef int _wbits
    cdef Py_ssize_t _window
    cdef bint _reset
    cdef uint8_t *_ring          # the last output bytes: _ring_len of them, up to _window,
    cdef Py_ssize_t _ring_len    # the oldest at _ring_pos once full
    cdef Py_ssize_t _ring_pos
    cdef int64_t _total
    cdef int64_t _input
    cdef int64_t _restarts
    cdef bint _ended
    cdef bint _busy
    cdef object _broken
    cdef object _backend
    # _run_open's piece in progress (owned, or NULL): a bytes of _open_cap
    # bytes, of which _open_len are inflated and _open_told were shown to the
    # `check` callback.
    cdef PyObject *_open
    cdef Py_ssize_t _open_cap
    cdef Py_ssize_t _open_len
    cdef Py_ssize_t _open_told

    def __cinit__(self):
        self._open = NULL
        memset(&self._z, 0, sizeof(z_stream))
        self._zinit = False
        self._live = False
        self._ring = NULL
        self._ring_len = 0
        self._ring_pos = 0
        self._busy = False

    def __init__(self, window_bits=15, no_context_takeover=False, *, backend=None):
        cdef int bits = _window_bits(window_bits)
        chosen = _get_backend("zlib" if backend is None else backend)
        if chosen.name != "zlib":
            raise ValueError(f"the compiled inflater runs on zlib only, not {chosen.name!r}")
        cdef bint reset = bool(no_context_takeover)
        # Under the lock: another thread's feed could otherwise pass its busy
        # test while the stream and the window it inflates with are freed.
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._backend = chosen
            self._drop_open()
            self._wbits = -bits
            self._window = 1 << bits
            self._reset = reset
            self._end_stream()
            self._forget()
            self._total = 0
            self._input = 0
            self._restarts = 0
            self._ended = False
            self._broken = None

    def __dealloc__(self):
        if self._zinit:
            inflateEnd(&self._z)
        PyMem_Free(self._ring)
        Py_XDECREF(self._open)

    @classmethod
    def for_endpoint(cls, params, *, client, **kwargs):
        """The inflater an endpoint needs for agreed ``params`` (a ``PerMessageDeflate``):
        a client inflates the server's messages, a server the client's."""
        if client:
            bits, reset = params.server_max_window_bits, params.server_no_context_takeover
        else:
            bits, reset = params.client_max_window_bits, params.client_no_context_takeover
        return cls(bits, reset, **kwargs)

    @property
    def backend(self):
        """The backend in use."""
        with cython.critical_section(self):  # __init__ may replace it meanwhile
            return self._backend

    @property
    def window_bits(self):
        """The peer's window, 8-15."""
        return -self._wbits

    @property
    def no_context_takeover(self):
        """Whether the state is dropped at the end of every message."""
        return self._reset

    @property
    def total(self):
        """Bytes inflated so far for the current message."""
        return self._total

    def feed(self, data, limit=None, *, final=False):
        """Inflate a chunk of the current message; return its output (see
        ``wsfast._pmd.Inflater.feed``)."""
        return self._run(data, limit, final, None)

    def feed_to(self, data, limit, sink, *, final=False):
        """Like :meth:`feed`, but call ``sink`` with each piece of output as it is
        produced; return the number of bytes produced (see
        ``wsfast._pmd.Inflater.feed_to``)."""
        return self._run(data, limit, final, sink)

    def finish(self, limit=None):
        """End the current message: inflate the ``00 00 ff ff`` tail the sender
        stripped, return any output still due, and start the next message."""
        return self._run(b"", limit, True, None)

    def __repr__(self):
        with cython.critical_section(self):
            bits, reset, backend = -self._wbits, self._reset, self._backend
        return (f"Inflater(window_bits={bits}, "
                f"no_context_takeover={reset}, backend={backend.name!r})")

    def __reduce__(self):
        raise TypeError("cannot pickle an Inflater: it holds a zlib stream")

    # -- the loop -----------------------------------------------------------------

    def _run(self, data, limit, bint final, sink):
        """The pure engine's ``_run``, with its positional arguments: what the
        compiled decoder calls (a keyword argument costs more than the rest of
        a small message's bookkeeping)."""
        # As MessageDecoder.feed: the critical section serialises callers on
        # free-threaded builds; the busy flag refuses the one that comes in
        # while a large piece is inflated without the GIL, or from a sink.
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._busy = True
            try:
                if self._open != NULL:
                    raise RuntimeError("this inflater is driven by _run_open")
                return self._feed(data, limit, final, sink, None, 0)
            finally:
                self._busy = False

    def _run_open(self, data, limit, bint final, check, keep, Py_ssize_t hint):
        """``_run`` for the compiled decoder: the output of a message goes into
        one piece for as long as it fits, across calls, instead of a piece per
        call and per input slice, so that a message in one piece needs no join.

        The piece is made as big as ``hint`` (the decoder's guess at the
        message's size, from its compressed size), ``OUTPUT_CHUNK`` at least
        and, when the message outgrows it, as big as the message so far; never
        more than the limit leaves room for, so the memory bound is the same
        as ``_run``'s.  A piece is handed to ``keep(piece, told)`` when it is
        full or the message ends (cut to what was inflated); output still in
        the piece at the end of a call is shown to ``check(view)`` first (a
        memoryview valid only during the call), so the decoder checks text as
        it comes; ``told`` is how much of a kept piece ``check`` has seen.  A
        message that stays within the stack buffer gives ``keep`` one exact
        piece, as ``_run`` would."""
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._busy = True
            try:
                return self._feed(data, limit, final, keep, check, hint)
            except BaseException:
                self._drop_open()
                raise
            finally:
                self._busy = False

    cdef void _drop_open(self) noexcept:
        Py_XDECREF(self._open)
        self._open = NULL
        self._open_cap = self._open_len = self._open_told = 0

    cdef int _keep_open(self, object keep) except -1:
        """Hand the open piece to ``keep``, cut to what was inflated."""
        cdef PyObject *raw = self._open
        cdef Py_ssize_t n = self._open_len
        cdef Py_ssize_t cap = self._open_cap
        cdef Py_ssize_t told = self._open_told
        self._open = NULL
        self._open_cap = self._open_len = self._open_told = 0
        if raw == NULL:
            return 0
        if n == 0:
            Py_DECREF(raw)
            return 0
        if n != cap:
            _PyBytes_Resize(&raw, n)  # on failure raw is freed and NULL
        try:
            keep(<object>raw, told)
        finally:
            Py_DECREF(raw)
        return 0

    cdef int _tell_open(self, object check) except -1:
        """Show ``check`` the open piece's output it has not seen."""
        cdef Py_ssize_t told = self._open_told
        if self._open == NULL or self._open_len == told:
            return 0
        self._open_told = self._open_len
        view = PyMemoryView_FromMemory(_bytes_data(self._open) + told, self._open_len - told,
                                       PyBUF_READ)
        try:
            check(view)
        finally:
            # The view owns nothing and the piece may be resized or freed
            # next: one that ``check`` kept must fail, not read freed memory.
            # (A buffer exported from it keeps it alive: then a BufferError.)
            view.release()
        return 0

    cdef Py_ssize_t _inflate_open(self, const uint8_t **chunk, Py_ssize_t *chunk_len,
                                  bint *eof) except -1:
        """Inflate ``chunk`` into the open piece's free room; the bytes produced.
        On return ``chunk`` is the input left, as for ``_decompress``."""
        cdef Py_ssize_t room = self._open_cap - self._open_len
        cdef int err
        self._z.next_in = <unsigned char *>chunk[0]
        self._z.avail_in = <unsigned int>chunk_len[0]
        self._z.next_out = <unsigned char *>_bytes_data(self._open) + self._open_len
        self._z.avail_out = <unsigned int>room
        err = self._inflate(True)
        chunk[0] = self._z.next_in
        chunk_len[0] = self._z.avail_in
        eof[0] = err == Z_STREAM_END
        room -= self._z.avail_out  # now: the bytes produced
        self._open_len += room
        return room

    cdef object _feed(self, object data, object limit, bint final, object sink,
                      object check, Py_ssize_t hint):
        cdef Py_buffer view
        cdef Input inp
        cdef const uint8_t *p
        cdef Py_ssize_t size
        cdef int64_t cap = -1            # the limit; -1: none
        cdef uint8_t joined[JOIN_TAIL_BELOW + 4]
        # The inputs, as the pure engine's tuple: the data, then the tail.
        cdef const uint8_t *bufs[2]
        cdef Py_ssize_t lens[2]
        cdef int nbufs, i
        cdef bint tail
        cdef const uint8_t *chunk
        cdef Py_ssize_t chunk_len, buf_len, pos
        cdef int64_t total, before, ask
        cdef Py_ssize_t got
        cdef bint eof
        cdef object out
        cdef list pieces = None
        cdef bint opened = check is not None  # _run_open: sink is its `keep`
        cdef int64_t want
        if self._broken is not None:
            cls, reason = self._broken
            raise cls(f"inflater failed earlier: {reason}")
        if limit is not None:
            if type(limit) is not int:
                limit = _index(limit)
            if limit < 0:
                raise ValueError(f"limit must be >= 0, got {limit}")
            # A limit no message can reach is none.
            cap = limit if limit < (<int64_t>1 << 62) else -1
        if type(data) is not bytes:
            data = _byte_view(data)  # TypeError for str, BufferError if not contiguous
        _get_input(data, &view, &inp)
        p = inp.p
        size = inp.n
        try:
            self._input += size
            nbufs = 1
            bufs[0] = p
            lens[0] = size
            if final:
                if size >= JOIN_TAIL_BELOW:
                    bufs[1] = TAIL
                    lens[1] = 4
                    nbufs = 2
                elif size:
                    memcpy(joined, p, size)
                    memcpy(joined + size, TAIL, 4)
                    bufs[0] = joined
                    lens[0] = size + 4
                else:
                    bufs[0] = TAIL
                    lens[0] = 4
            if sink is None:
                pieces = []
            total = before = self._total
            try:
                for i in range(nbufs):
                    tail = final and i == nbufs - 1
                    buf_len = lens[i]
                    if (not self._live and self._ended and tail and buf_len == 4
                            and memcmp(bufs[i], TAIL, 4) == 0):
                        break  # the stream ended with the message's last bytes
                    pos = 0
                    while True:
                        chunk = bufs[i] + pos
                        if buf_len - pos > INPUT_CHUNK:
                            chunk_len = INPUT_CHUNK
                        else:
                            chunk_len = buf_len - pos
                        pos += chunk_len
                        while True:
                            if not self._live:
                                self._start()
                            if opened and self._open == NULL:
                                # A new piece: the guess at what is left, or as
                                # much as the message so far, within the limit.
                                want = hint - total
                                if want < total:
                                    want = total
                                if want < OUTPUT_CHUNK:
                                    want = OUTPUT_CHUNK
                                if want > OPEN_MAX:
                                    want = OPEN_MAX
                                if cap >= 0 and cap - total + 1 < want:
                                    want = cap - total + 1
                                if want > SMALL_OUT and (hint > SMALL_OUT or total > 0):
                                    self._open = _new_bytes(NULL, <Py_ssize_t>want)
                                    self._open_cap = <Py_ssize_t>want
                            if self._open != NULL:
                                ask = self._open_cap - self._open_len
                                got = self._inflate_open(&chunk, &chunk_len, &eof)
                                out = None
                            else:
                                ask = OUTPUT_CHUNK
                                if cap >= 0 and cap - total < OUTPUT_CHUNK:
                                    ask = cap - total + 1
                                out = self._decompress(&chunk, &chunk_len, <Py_ssize_t>ask,
                                                       &eof)
                                got = PyBytes_GET_SIZE(out)
                            if got:
                                total += got
                                if cap >= 0 and total > cap:
                                    raise MessageTooBigError(
                                        f"message inflates to more than the limit of "
                                        f"{limit} bytes")
                                if out is None:
                                    self._remember(<const uint8_t *>_bytes_data(self._open)
                                                   + self._open_len - got, got)
                                    if self._open_len == self._open_cap:
                                        self._keep_open(sink)
                                else:
                                    self._remember(<const uint8_t *>PyBytes_AS_STRING(out),
                                                   got)
                                    if opened:
                                        sink(out, 0)
                                    elif pieces is None:
                                        sink(out)
                                    else:
                                        pieces.append(out)
                            if eof:
                                # A BFINAL block ended the zlib stream, not the
                                # message's (see the pure engine).
                                self._live = False
                                self._ended = True
                                if not chunk_len or (tail and pos >= buf_len and chunk_len == 4
                                                     and memcmp(chunk, TAIL, 4) == 0):
                                    break
                                continue
                            if not chunk_len and got < ask:
                                break
                        if pos >= buf_len:
                            break
                if opened:
                    if final:
                        self._keep_open(sink)
                    else:
                        self._tell_open(check)
            except (InvalidDataError, MessageTooBigError) as exc:
                self._broken = (type(exc), str(exc))
                self._end_stream()
                raise
            finally:
                self._total = total
        finally:
            _release_input(&view, &inp)
        if final:
            self._total = self._input = self._restarts = 0
            if self._reset:
                self._end_stream()
                self._forget()
        if pieces is None:
            return total - before
        if not pieces:
            return _NO_OUTPUT
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    cdef object _decompress(self, const uint8_t **chunk, Py_ssize_t *chunk_len,
                            Py_ssize_t ask, bint *eof):
        """``decompress(chunk, ask)`` on the current stream: at most ``ask`` bytes
        of output, inflated until the input is used up, the output is full or the
        stream ends.  On return ``chunk`` is the input left: the unconsumed tail,
        or the unused data when the stream ended (``eof``)."""
        cdef uint8_t small[SMALL_OUT]
        cdef Py_ssize_t first = ask if ask < SMALL_OUT else SMALL_OUT
        cdef Py_ssize_t got
        cdef int err
        cdef object out
        cdef PyObject *raw
        cdef uint8_t *dst
        self._z.next_in = <unsigned char *>chunk[0]  # zlib's next_in is const only with ZLIB_CONST
        self._z.avail_in = <unsigned int>chunk_len[0]
        self._z.next_out = small
        self._z.avail_out = <unsigned int>first
        err = self._inflate()
        got = first - self._z.avail_out
        if err == Z_STREAM_END or self._z.avail_out != 0 or got == ask:
            out = PyBytes_FromStringAndSize(<const char *>small, got) if got else _NO_OUTPUT
        else:
            # More to come: the rest goes straight into the piece's bytes.
            raw = _new_bytes(NULL, ask)
            dst = <uint8_t *>_bytes_data(raw)
            memcpy(dst, small, got)
            self._z.next_out = dst + got
            self._z.avail_out = <unsigned int>(ask - got)
            # One call: inflate returns early only with the output full, the
            # input used up, the stream ended or an error.
            try:
                err = self._inflate(True)
            except BaseException:
                Py_DECREF(raw)
                raise
            got = ask - self._z.avail_out
            if got != ask:
                _PyBytes_Resize(&raw, got)  # on failure raw is freed and NULL
            out = <object>raw
            Py_DECREF(raw)
        chunk[0] = self._z.next_in
        chunk_len[0] = self._z.avail_in
        eof[0] = err == Z_STREAM_END
        return out

    cdef int _inflate(self, bint detach=False) except -1:
        """One inflate() call, zlib's errors raised; ``detach``: without the GIL
        (for output past the stack buffer, which the busy flag protects)."""
        cdef int err
        if detach:
            with nogil:
                err = inflate(&self._z, Z_SYNC_FLUSH)
        else:
            err = inflate(&self._z, Z_SYNC_FLUSH)
        if err != Z_OK and err != Z_BUF_ERROR and err != Z_STREAM_END:
            self._fail(err)
        return err

    cdef int _fail(self, int err) except -1:
        raise InvalidDataError(f"invalid compressed data: {_zlib_error(err, self._z.msg)}")

    cdef int _start(self) except -1:
        """A stream to inflate with: fresh, or, after a stream ended, primed with
        the window."""
        cdef uint8_t *history
        cdef int err
        if self._ended:
            self._restarts += 1
            if self._restarts > FREE_RESTARTS + self._input // RESTART_INPUT:
                raise MessageTooBigError(
                    f"too many DEFLATE streams in one message ({self._restarts}); "
                    "each costs a copy of the window")
            self._ended = False
        if self._zinit:
            err = inflateReset(&self._z)
        else:
            memset(&self._z, 0, sizeof(z_stream))
            # zlib's memory through Python's raw allocator, as the zlib module
            # does: tracemalloc sees it (the memory tests count it).
            self._z.zalloc = <void *>_zalloc
            self._z.zfree = <void *>_zfree
            err = inflateInit2(&self._z, self._wbits)
            if err == Z_OK:
                self._zinit = True
        if err == Z_MEM_ERROR:
            raise MemoryError("cannot allocate a zlib stream")
        if err != Z_OK:
            raise RuntimeError(f"zlib could not start a stream: {_zlib_error(err, NULL)}")
        if self._ring_len:
            # The window, oldest byte first (a restart is rare: a copy is fine).
            history = <uint8_t *>PyMem_Malloc(self._ring_len)
            if history == NULL:
                raise MemoryError()
            memcpy(history, self._ring + self._ring_pos, self._ring_len - self._ring_pos)
            memcpy(history + self._ring_len - self._ring_pos, self._ring, self._ring_pos)
            err = inflateSetDictionary(&self._z, history, <unsigned int>self._ring_len)
            PyMem_Free(history)
            if err != Z_OK:
                raise RuntimeError(f"zlib refused the window: {_zlib_error(err, NULL)}")
        self._live = True
        return 0

    cdef void _end_stream(self) noexcept:
        """Drop the stream and its memory (the pure engine drops its decompressor)."""
        if self._zinit:
            inflateEnd(&self._z)
            self._zinit = False
        self._live = False

    cdef int _remember(self, const uint8_t *p, Py_ssize_t n) except -1:
        """Keep the last ``_window`` bytes of output in the ring."""
        cdef Py_ssize_t window = self._window
        cdef Py_ssize_t room, first
        if self._ring == NULL:
            self._ring = <uint8_t *>PyMem_Malloc(window)
            if self._ring == NULL:
                raise MemoryError()
        if n >= window:
            memcpy(self._ring, p + n - window, window)
            self._ring_len = window
            self._ring_pos = 0
            return 0
        if self._ring_len < window:
            # Still filling up (the oldest byte at 0).
            room = window - self._ring_len
            if n <= room:
                memcpy(self._ring + self._ring_len, p, n)
                self._ring_len += n
                return 0
            memcpy(self._ring + self._ring_len, p, room)
            self._ring_len = window
            p += room
            n -= room
        first = window - self._ring_pos
        if n < first:
            memcpy(self._ring + self._ring_pos, p, n)
            self._ring_pos += n
        else:
            memcpy(self._ring + self._ring_pos, p, first)
            memcpy(self._ring, p + first, n - first)
            self._ring_pos = n - first
        return 0

    cdef void _forget(self) noexcept:
        """Drop the history: the next message starts from an empty window."""
        self._ended = False
        PyMem_Free(self._ring)
        self._ring = NULL
        self._ring_len = 0
        self._ring_pos = 0
