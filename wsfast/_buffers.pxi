# Borrowing bytes from Python objects, shared by the compiled topic modules
# (included).  Exact bytes are read directly; anything else goes through
# PyObject_GetBuffer with PyBUF_SIMPLE, which gives the API's errors: TypeError
# for str and non-buffers, BufferError for non-contiguous buffers.
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t
from libc.string cimport memcpy

cdef struct Input:
    const uint8_t *p
    Py_ssize_t n
    bint has_view   # a buffer view to release (not for exact bytes)


cdef inline int _get_input(object data, Py_buffer *view, Input *inp) except -1:
    """Borrow data's bytes: exact bytes without a buffer request."""
    if PyBytes_CheckExact(data):
        inp.has_view = False
        inp.p = <const uint8_t *>PyBytes_AS_STRING(data)
        inp.n = PyBytes_GET_SIZE(data)
        return 0
    PyObject_GetBuffer(data, view, PyBUF_SIMPLE)
    inp.has_view = True
    inp.p = <const uint8_t *>view.buf
    inp.n = view.len
    return 0


cdef inline void _release_input(Py_buffer *view, Input *inp) noexcept:
    if inp.has_view:
        inp.has_view = False
        PyBuffer_Release(view)


# A 4-byte mask key (bytes fast path); any other length is a ValueError.
cdef inline int _get_key(object key, uint8_t *out) except -1:
    cdef Py_buffer view
    cdef Py_ssize_t n
    if PyBytes_CheckExact(key):
        n = PyBytes_GET_SIZE(key)
        if n == 4:
            memcpy(out, PyBytes_AS_STRING(key), 4)
            return 0
    else:
        PyObject_GetBuffer(key, &view, PyBUF_SIMPLE)
        n = view.len
        if n == 4:
            memcpy(out, view.buf, 4)
        PyBuffer_Release(&view)
        if n == 4:
            return 0
    raise ValueError(f"mask key must be 4 bytes, got {n}")
