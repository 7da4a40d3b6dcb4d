# Compiled twin of UTF-8 validation: a thin shell over _csrc/utf8.h.
# Behaviour is the pure twin's (_utf8_py.py); comments here explain only what
# differs.
#
# Buffers come in through the shared helpers of _buffers.pxd (an exact-bytes
# fast path, else the buffer protocol), not typed memoryviews, which cost more
# than validating a short text.  The
# streaming state is the kernel's DFA state (a few bytes in the object), so a
# feed never allocates.

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t

from .errors import in_use_error

include "_simd.pxi"

__all__ = ["validate_utf8", "Utf8Validator", "decode_utf8"]

from ._buffers cimport Input, _get_buffer, _get_input, _release_input
from ._kernels cimport (
    wsf_utf8_kernel_name,
    wsf_utf8_stream,
    wsf_utf8_stream_complete,
    wsf_utf8_stream_feed,
    wsf_utf8_stream_reset,
    wsf_utf8_valid,
)

include "_text.pxi"

# Inputs at least this big are validated without the GIL.  Dropping and
# retaking an uncontended GIL costs 40-110 ns here (validate_utf8 of 65535 vs
# 65536 bytes: 857 vs 899 ns for ASCII, 4.57 vs 4.69 us for CJK at the
# AVX-512 level), i.e. 5% of the work at 64 KiB of ASCII; and a thread that
# gives the GIL up may wait a switch interval to get it back when others are
# busy, so only inputs that take microseconds are worth it.
cdef Py_ssize_t NOGIL_FROM = _nogil_from(65536)


cdef inline int _run(const uint8_t *p, Py_ssize_t n, int level) noexcept:
    cdef int ok
    if n < NOGIL_FROM:
        return wsf_utf8_valid(p, <size_t>n, level)
    with nogil:
        ok = wsf_utf8_valid(p, <size_t>n, level)
    return ok


cdef int _valid(object data, int level) except -1:
    cdef Py_buffer view
    cdef int ok
    if PyBytes_CheckExact(data):
        return _run(<const uint8_t *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), level)
    # PyBUF_SIMPLE: TypeError for str and non-buffers, BufferError for
    # non-contiguous ones; any item format is read as raw bytes.
    _get_buffer(data, &view, PyBUF_SIMPLE)
    ok = _run(<const uint8_t *>view.buf, view.len, level)
    PyBuffer_Release(&view)
    return ok


# The public functions are plain builtins (no binding), called through
# CPython's specialised call of METH_FASTCALL builtins: see _mask_c.pyx.

@cython.binding(False)
@cython.embedsignature(False)
def validate_utf8(data):
    """validate_utf8(data)
--

validate_utf8(data: Buffer) -> bool

True exactly when ``bytes(data).decode("utf-8")`` would succeed."""
    return _valid(data, _level) == 1


@cython.binding(False)
@cython.embedsignature(False)
def decode_utf8(data):
    """decode_utf8(data)
--

decode_utf8(data: Buffer) -> str

``bytes(data).decode("utf-8")``, faster: the same ``str``, or the same
``UnicodeDecodeError`` (positions and reason included)."""
    cdef Py_buffer view
    if PyBytes_CheckExact(data):
        return _str_from_utf8(<const uint8_t *>PyBytes_AS_STRING(data),
                              PyBytes_GET_SIZE(data), _level, True)
    _get_buffer(data, &view, PyBUF_SIMPLE)
    try:
        # Another thread may write to a shared buffer: never without the GIL.
        return _str_from_utf8(<const uint8_t *>view.buf, view.len, _level, False)
    finally:
        PyBuffer_Release(&view)


def _kernel_name(level):
    """The kernel validate_utf8() runs at a level from _supported_levels(), named
    for the instructions it needs ("ssse3+sse4.1" at x86's "sse2" level).  For
    the benchmark's labels; inputs under 16 bytes always take the scalar DFA."""
    return wsf_utf8_kernel_name(_level_from_name(level)).decode("ascii")


@cython.final
@cython.auto_pickle(False)
@cython.embedsignature(False)  # the docstring's clinic line is the signature
cdef class Utf8Validator:
    """Utf8Validator()
--

Incremental, fail-fast validator for a text message arriving in fragments."""

    cdef wsf_utf8_stream _state
    cdef int _lv
    cdef bint _busy      # a feed is running (see feed)

    def __init__(self):
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._lv = _level
            wsf_utf8_stream_reset(&self._state)

    # feed and reset are plain method descriptors (no binding): a bound method
    # of one is a builtin that CPython calls through its specialised path,
    # where a bound Cython function takes the generic one (see _mask_c.pyx).
    @cython.binding(False)
    def feed(self, data, final=False):
        """feed($self, data, final=False)
--

feed(data: Buffer, final: bool = False) -> bool

Add the next bytes; False as soon as the bytes fed so far cannot begin
valid UTF-8, and from then on until reset().  With final=True the
stream must also end on a code-point boundary; the state is kept."""
        cdef Py_buffer view
        cdef Input inp
        cdef int ok
        cdef int fin = 1 if final else 0
        # One feed at a time: the critical section serialises feeds on
        # free-threaded builds (where kernels never detach, so it is never
        # suspended by them); the busy flag turns an overlapping feed (another
        # thread while a big input is checked with the GIL released, a
        # re-entrant buffer exporter) into RuntimeError instead of a race on
        # the state.
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            if PyBytes_CheckExact(data) and PyBytes_GET_SIZE(data) < NOGIL_FROM:
                # The common feed: exact bytes, kernel run with the GIL held.
                # Nothing here can run Python code or let another thread in,
                # so the busy flag and the buffer request can be skipped.
                ok = wsf_utf8_stream_feed(&self._state,
                                          <const uint8_t *>PyBytes_AS_STRING(data),
                                          <size_t>PyBytes_GET_SIZE(data), fin, self._lv)
                return ok == 1
            self._busy = True
            try:
                _get_input(data, &view, &inp)
                try:
                    if inp.n < NOGIL_FROM:
                        ok = wsf_utf8_stream_feed(&self._state, inp.p, <size_t>inp.n, fin,
                                                  self._lv)
                    else:
                        with nogil:
                            ok = wsf_utf8_stream_feed(&self._state, inp.p, <size_t>inp.n,
                                                      fin, self._lv)
                finally:
                    _release_input(&view, &inp)
            finally:
                self._busy = False
        return ok == 1

    @property
    def complete(self):
        """The bytes fed so far are valid and end on a code-point boundary."""
        with cython.critical_section(self):  # not mid-feed on free-threaded builds
            return wsf_utf8_stream_complete(&self._state) == 1

    @cython.binding(False)
    def reset(self):
        """reset($self)
--

Forget everything fed so far: the next byte starts a new text."""
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            wsf_utf8_stream_reset(&self._state)
