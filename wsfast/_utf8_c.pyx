# Compiled twin of UTF-8 validation: a thin shell over _csrc/utf8.h.
# Behaviour is the pure twin's (_utf8_py.py); comments here explain only what
# differs.  Buffers come in through PyObject_GetBuffer (plus an exact-bytes fast
# path), not typed memoryviews, which cost more than validating a short text.

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t

include "_simd.pxi"

__all__ = ["validate_utf8", "Utf8Validator"]

cdef extern from "utf8.h" nogil:
    ctypedef struct wsf_utf8_stream:
        pass
    void wsf_utf8_init(const wsf_cpu_features *f)
    int wsf_utf8_valid(const uint8_t *p, size_t n, int level)
    void wsf_utf8_stream_reset(wsf_utf8_stream *s)
    int wsf_utf8_stream_feed(wsf_utf8_stream *s, const uint8_t *p, size_t n, int final,
                             int level)
    int wsf_utf8_stream_complete(const wsf_utf8_stream *s)

wsf_utf8_init(&_cpu)

# Inputs at least this big are validated without the GIL.
cdef Py_ssize_t NOGIL_FROM = _nogil_from(65536)


cdef int _valid(object data, int level) except -1:
    cdef Py_buffer view
    cdef const uint8_t *p
    cdef Py_ssize_t n
    cdef int ok
    if PyBytes_CheckExact(data):
        p = <const uint8_t *>PyBytes_AS_STRING(data)
        n = PyBytes_GET_SIZE(data)
        if n < NOGIL_FROM:
            return wsf_utf8_valid(p, <size_t>n, level)
        with nogil:
            ok = wsf_utf8_valid(p, <size_t>n, level)
        return ok
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        p = <const uint8_t *>view.buf
        if view.len < NOGIL_FROM:
            return wsf_utf8_valid(p, <size_t>view.len, level)
        with nogil:
            ok = wsf_utf8_valid(p, <size_t>view.len, level)
        return ok
    finally:
        PyBuffer_Release(&view)


def validate_utf8(data):
    """validate_utf8(data: Buffer) -> bool

    True exactly when ``bytes(data).decode("utf-8")`` would succeed."""
    return _valid(data, _level) == 1


def _validate_utf8_at(level, data):
    """Test hook: validate_utf8() with an explicit SIMD level name."""
    return _valid(data, _level_from_name(level)) == 1


@cython.final
cdef class Utf8Validator:
    """Utf8Validator()

    Incremental, fail-fast validator for text arriving in fragments."""

    cdef wsf_utf8_stream _state
    cdef int _lv

    def __init__(self, *, _level_name=None):
        self._lv = _level if _level_name is None else _level_from_name(_level_name)
        wsf_utf8_stream_reset(&self._state)

    def feed(self, data, final=False):
        """feed(data: Buffer, final: bool = False) -> bool

        False as soon as the bytes so far cannot start valid UTF-8 (sticky)."""
        cdef Py_buffer view
        cdef int ok
        cdef int fin = 1 if final else 0
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            # One feed at a time per validator on free-threaded builds.
            with cython.critical_section(self):
                if view.len < NOGIL_FROM:
                    ok = wsf_utf8_stream_feed(&self._state, <const uint8_t *>view.buf,
                                              <size_t>view.len, fin, self._lv)
                else:
                    with nogil:
                        ok = wsf_utf8_stream_feed(&self._state, <const uint8_t *>view.buf,
                                                  <size_t>view.len, fin, self._lv)
        finally:
            PyBuffer_Release(&view)
        return ok == 1

    @property
    def complete(self):
        """The bytes so far are valid and end on a code-point boundary."""
        return wsf_utf8_stream_complete(&self._state) == 1

    def reset(self):
        """Forget everything fed so far."""
        wsf_utf8_stream_reset(&self._state)
