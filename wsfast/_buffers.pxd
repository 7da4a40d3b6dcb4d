# Borrowing bytes from Python objects: the compiled twin's buffer rules,
# cimported by the compiled topic modules (`from ._buffers cimport ...`), and
# the only place that calls PyObject_GetBuffer.  Exact bytes are read
# directly; anything else goes through PyObject_GetBuffer with PyBUF_SIMPLE,
# which gives the API's errors: TypeError for str and non-buffers, BufferError
# for non-contiguous buffers.  The pure twin's rules are in _buffers.py (never
# compiled, so this file declares no module of its own: everything here is
# inline and lives in the modules that cimport it).
from cpython.buffer cimport (
    PyBUF_FULL_RO,
    PyBUF_SIMPLE,
    PyBuffer_Release,
    PyObject_CheckBuffer,
    PyObject_GetBuffer,
)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t
from libc.string cimport memcpy


cdef inline int _get_buffer(object data, Py_buffer *view, int flags) except -1:
    """PyObject_GetBuffer with the API's errors, whoever the exporter is.

    An exporter may refuse PyBUF_SIMPLE with an error of its own (numpy raises
    ValueError for a strided array): when the object does export a buffer,
    just not a contiguous one, that becomes the contract's BufferError."""
    cdef Py_buffer probe
    try:
        PyObject_GetBuffer(data, view, flags)
    except (TypeError, BufferError):
        raise
    except Exception as exc:
        if not PyObject_CheckBuffer(data):
            raise
        try:
            PyObject_GetBuffer(data, &probe, PyBUF_FULL_RO)
        except Exception:
            raise exc
        contiguous = probe.strides == NULL or _c_contiguous(&probe)
        PyBuffer_Release(&probe)
        if contiguous:
            raise
        raise BufferError("wsfast needs a C-contiguous buffer") from exc
    return 0


cdef inline bint _c_contiguous(Py_buffer *v) noexcept:
    cdef Py_ssize_t expected = v.itemsize
    cdef int i
    for i in range(v.ndim - 1, -1, -1):
        if v.shape[i] > 1 and v.strides[i] != expected:
            return False
        expected *= v.shape[i]
    return True


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
    _get_buffer(data, view, PyBUF_SIMPLE)
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
        _get_buffer(key, &view, PyBUF_SIMPLE)
        n = view.len
        if n == 4:
            memcpy(out, view.buf, 4)
        PyBuffer_Release(&view)
        if n == 4:
            return 0
    raise ValueError(f"mask key must be 4 bytes, got {n}")
