# cython: language_level=3
# Compiled twin of the permessage-deflate compressor (_pmd.Deflater: read it
# first), over zlib's C API, for the standard library's zlib backend.  The
# compiled FrameEncoder uses it when that backend is chosen; any other backend
# goes through the shared pure engine.
#
# Behaviour is the pure engine's, call for call: a message (or fragment) is
# one deflate(Z_NO_FLUSH) over all of it, then one flush, Z_SYNC_FLUSH, or
# Z_FULL_FLUSH at the end of a message under no_context_takeover -- the calls
# the zlib module makes for compress() and flush() -- so the output is the
# same bytes at levels 1-9.  (At level 0 zlib cuts stored blocks by the output
# room it is given, so blocks may be cut elsewhere: the same data inflates
# from it, and the compiled FrameEncoder leaves level 0 to the pure engine.)  The settings are validated, and the window of 8 mapped to
# zlib's -9, by a _pmd.Deflater made for the purpose, which never compresses.
#
# What differs: the output goes straight into one `bytes` sized by
# deflateBound (grown if a flush needs more), where the zlib module makes one
# object for compress() and one for flush() and the pure engine joins them;
# and there is no Python call between the two zlib calls.

cimport cython
from libc.stdint cimport uint8_t
from libc.string cimport memcmp, memset

from ._buffers cimport Input, _get_input, _release_input
from ._buffers import byte_view as _byte_view
from ._pmd import (
    DEFAULT_LEVEL as _DEFAULT_LEVEL,
    DEFAULT_MEM_LEVEL as _DEFAULT_MEM_LEVEL,
    Deflater as _PyDeflater,
    own_settings as _own_settings,
)
from .errors import in_use_error

__all__ = ["Deflater", "ZLIB_RUNTIME_VERSION"]

cdef extern from "Python.h":
    # The output `bytes` is grown and cut in place: handled as a raw pointer,
    # as _PyBytes_Resize may move or free it.
    ctypedef struct PyObject
    PyObject *_new_bytes "PyBytes_FromStringAndSize"(const char *s, Py_ssize_t n) except NULL
    char *_bytes_data "PyBytes_AS_STRING"(PyObject *o)
    int _PyBytes_Resize(PyObject **o, Py_ssize_t n) except -1
    void Py_DECREF(PyObject *o)

from ._zlib cimport (
    Z_BUF_ERROR,
    Z_DEFAULT_STRATEGY,
    Z_DEFLATED,
    Z_FULL_FLUSH,
    Z_MEM_ERROR,
    Z_NO_FLUSH,
    Z_OK,
    Z_SYNC_FLUSH,
    _zalloc,
    _zfree,
    deflate,
    deflateBound,
    deflateEnd,
    deflateInit2,
    z_stream,
    zlibVersion,
)

cdef enum:
    # Messages at least this big are compressed without the GIL (a busy flag
    # refuses a second caller meanwhile), as the zlib module does.
    NOGIL_FROM = 64 * 1024
    # The most given to zlib at a time (it counts in unsigned int).
    MAX_STEP = 1 << 30

cdef const unsigned char *TAIL = b"\x00\x00\xff\xff"

#: The zlib this module runs with.
ZLIB_RUNTIME_VERSION = (<bytes>zlibVersion()).decode("ascii")


@cython.final
cdef class Deflater:
    """Compresses this endpoint's messages, one connection: the compiled twin of
    ``wsfast._pmd.Deflater`` (same constructor, methods and output), for the
    standard library's zlib backend only."""

    cdef object _settings         # the _pmd.Deflater that validated them
    cdef z_stream _z
    cdef bint _zinit
    cdef int _level
    cdef int _wbits
    cdef int _mem_level
    cdef int _end_flush
    cdef bint _busy

    def __cinit__(self):
        memset(&self._z, 0, sizeof(z_stream))
        self._zinit = False
        self._busy = False

    def __init__(self, window_bits=15, no_context_takeover=False, *, level=_DEFAULT_LEVEL,
                 mem_level=_DEFAULT_MEM_LEVEL, backend=None):
        settings = _PyDeflater(window_bits, no_context_takeover, level=level,
                               mem_level=mem_level,
                               backend="zlib" if backend is None else backend)
        if settings.backend.name != "zlib":
            raise ValueError(
                f"the compiled deflater runs on zlib only, not {settings.backend.name!r}")
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._settings = settings
            self._level = settings.level
            self._wbits = settings._wbits
            self._mem_level = settings.mem_level
            self._end_flush = Z_FULL_FLUSH if settings.no_context_takeover else Z_SYNC_FLUSH
            self._end_stream()

    def __dealloc__(self):
        self._end_stream()

    cdef object _current(self):
        """The settings, taken under the lock: __init__ may replace them meanwhile."""
        with cython.critical_section(self):
            return self._settings

    cdef void _end_stream(self) noexcept:
        if self._zinit:
            deflateEnd(&self._z)
            self._zinit = False

    @classmethod
    def for_endpoint(cls, params, *, client, **kwargs):
        """The deflater an endpoint needs for agreed ``params`` (a ``PerMessageDeflate``):
        its own window and no_context_takeover."""
        return cls(*_own_settings(params, client), **kwargs)

    @property
    def backend(self):
        """The backend in use (zlib)."""
        return self._current().backend

    @property
    def window_bits(self):
        """The agreed window, 8-15 (8 is compressed with a 9-bit window)."""
        return self._current().window_bits

    @property
    def level(self):
        """The compression level."""
        return self._level

    @property
    def mem_level(self):
        """The memLevel (1-9)."""
        return self._mem_level

    @property
    def no_context_takeover(self):
        """Whether every message is compressed from an empty window."""
        return self._current().no_context_takeover

    def compress(self, data, final=True):
        """Compress a message, or one fragment of it (``final=False`` for all but the
        last); return the payload to send (see ``wsfast._pmd.Deflater.compress``)."""
        cdef bint last = final
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._busy = True
            try:
                return self._compress(data, last)
            finally:
                self._busy = False

    cdef object _compress(self, object data, bint final):
        cdef Py_buffer view
        cdef Input inp
        if type(data) is not bytes:
            data = _byte_view(data)  # TypeError for str, BufferError if not contiguous
        _get_input(data, &view, &inp)
        try:
            return self._deflate(inp.p, inp.n, final)
        finally:
            _release_input(&view, &inp)

    cdef object _deflate(self, const uint8_t *p, Py_ssize_t n, bint final):
        cdef PyObject *raw
        cdef Py_ssize_t cap, done, size
        cdef bint nogil = n >= NOGIL_FROM
        cdef bint empty
        cdef int err
        if not self._zinit:
            self._z.zalloc = <void *>_zalloc  # tracemalloc sees zlib's memory
            self._z.zfree = <void *>_zfree
            err = deflateInit2(&self._z, self._level, Z_DEFLATED, self._wbits, self._mem_level,
                               Z_DEFAULT_STRATEGY)
            if err == Z_MEM_ERROR:
                raise MemoryError("cannot allocate a zlib stream")
            if err != Z_OK:
                raise RuntimeError(f"zlib could not start a stream (error {err})")
            self._zinit = True
        # deflateBound covers a Z_FINISH; a flush adds an empty stored block
        # (5 bytes) and may end a block early: 64 bytes more, grown if short.
        cap = <Py_ssize_t>deflateBound(&self._z, <unsigned long>n) + 64
        raw = _new_bytes(NULL, cap)
        try:
            self._z.next_out = <unsigned char *>_bytes_data(raw)
            self._z.avail_out = 0  # _step gives the room
            self._z.next_in = <unsigned char *>p
            self._z.avail_in = 0
            done = 0
            # compress(): Z_NO_FLUSH over all the input (called even with none,
            # as the zlib module does: it resets zlib's last flush).
            while True:
                size = n - done
                if size > MAX_STEP:
                    size = MAX_STEP
                self._z.avail_in = <unsigned int>size
                done += size
                self._step(&raw, &cap, Z_NO_FLUSH, nogil)
                self._z.next_in = <unsigned char *>p + done
                if done >= n:
                    break
            empty = n == 0 and self._used(raw) == 0
            self._step(&raw, &cap, self._end_flush if final else Z_SYNC_FLUSH, nogil)
            size = self._used(raw)
            self._z.next_out = NULL  # the output is handed over: no pointer into it kept
            self._z.next_in = NULL
            if not final:
                _PyBytes_Resize(&raw, size)
                return <object>raw
            if empty:
                # An empty message or final fragment: its flush (run to forget
                # the window under no_context_takeover) is replaced by 00.
                return b"\x00"
            if size >= 4 and memcmp(_bytes_data(raw) + size - 4, TAIL, 4) == 0:
                size -= 4
            elif size:
                raise RuntimeError("the zlib backend did not end its flush with 00 00 ff ff")
            if size == 0:
                return b"\x00"
            _PyBytes_Resize(&raw, size)
            return <object>raw
        finally:
            if raw != NULL:
                Py_DECREF(raw)

    cdef inline Py_ssize_t _used(self, PyObject *raw) noexcept:
        return <Py_ssize_t>(self._z.next_out - <unsigned char *>_bytes_data(raw))

    cdef int _step(self, PyObject **raw, Py_ssize_t *cap, int flush, bint nogil) except -1:
        """deflate(flush) until it leaves output room unused (all the input
        taken, the flush complete), growing the output as needed."""
        cdef int err
        cdef Py_ssize_t used, room
        while True:
            if self._z.avail_out == 0:
                used = self._used(raw[0])
                if used == cap[0]:
                    cap[0] += cap[0] // 2 + 64
                    _PyBytes_Resize(raw, cap[0])  # on failure raw is freed and NULL
                room = cap[0] - used
                self._z.next_out = <unsigned char *>_bytes_data(raw[0]) + used
                self._z.avail_out = <unsigned int>(room if room < MAX_STEP else MAX_STEP)
            if nogil:
                with nogil:
                    err = deflate(&self._z, flush)
            else:
                err = deflate(&self._z, flush)
            if err != Z_OK and err != Z_BUF_ERROR:
                raise RuntimeError(f"zlib could not compress (error {err})")
            if self._z.avail_out != 0:
                return 0

    def __repr__(self):
        return repr(self._current())

    def __reduce__(self):
        raise TypeError("cannot pickle a Deflater: it holds a zlib stream")
