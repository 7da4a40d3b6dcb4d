# Compiled twin of masking: a thin shell over _csrc/mask.h.  Behaviour is the
# pure twin's (_mask_py.py); comments here only explain what differs.
#
# Buffers come in through the shared helpers of _buffers.pxd (a fast path for
# exact bytes, else the buffer protocol), not typed memoryviews: a typed memoryview costs hundreds of ns per
# call, which would dominate small frames.

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release
from cpython.long cimport PyLong_CheckExact
from cpython.number cimport PyNumber_Index
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_CheckExact, PyByteArray_GET_SIZE
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from libc.stdint cimport uint8_t
from libc.string cimport memcpy

from .errors import in_use_error

include "_simd.pxi"

__all__ = ["mask", "mask_inplace", "Masker"]

from ._buffers cimport _get_buffer, _get_key
from ._kernels cimport wsf_mask

# From this many bytes the kernel runs without the GIL.  Releasing costs a
# steady 22-35 ns a call (+23% at 4 KiB, +1.2% at 128 KiB, single thread), and
# with two masking threads it only paid off from 128 KiB (57 -> 92 GB/s; at
# 8 KiB it halved throughput): about 2.5 us of work per release.
cdef Py_ssize_t NOGIL_FROM = _nogil_from(131072)


cdef inline void _run(uint8_t *dst, const uint8_t *src, Py_ssize_t n,
                      const uint8_t *key, unsigned phase, int level) noexcept:
    if n >= NOGIL_FROM:
        with nogil:
            wsf_mask(dst, src, <size_t>n, key, phase, level)
    else:
        wsf_mask(dst, src, <size_t>n, key, phase, level)


cdef unsigned _phase(object offset) except 4:
    if offset is 0:
        return 0
    offset = PyNumber_Index(offset)
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    return <unsigned>(offset & 3)


cdef bytes _masked(object data, const uint8_t *key, unsigned phase, int level,
                   Py_ssize_t *length):
    """New bytes: data ^ key from key phase `phase`; stores len(data)."""
    cdef Py_buffer view
    cdef bytes out
    cdef Py_ssize_t n
    if PyBytes_CheckExact(data):
        n = PyBytes_GET_SIZE(data)
        out = PyBytes_FromStringAndSize(NULL, n)
        _run(<uint8_t *>PyBytes_AS_STRING(out), <const uint8_t *>PyBytes_AS_STRING(data),
             n, key, phase, level)
        length[0] = n
        return out
    _get_buffer(data, &view, PyBUF_SIMPLE)
    try:
        out = PyBytes_FromStringAndSize(NULL, view.len)
        _run(<uint8_t *>PyBytes_AS_STRING(out), <const uint8_t *>view.buf,
             view.len, key, phase, level)
        length[0] = view.len
        return out
    finally:
        PyBuffer_Release(&view)


cdef int _get_writable(object buf, Py_buffer *view) except -1:
    _get_buffer(buf, view, PyBUF_SIMPLE)
    if view.readonly:
        PyBuffer_Release(view)
        raise TypeError(
            f"a writable buffer is required, not read-only {type(buf).__name__}")
    return 0


cdef int _check_writable(object buf) except -1:
    """The errors a writable buffer request would raise, without keeping it."""
    cdef Py_buffer view
    _get_writable(buf, &view)
    PyBuffer_Release(&view)
    return 0


# The public functions are built without binding (plain builtin functions, as
# C extensions make them): CPython's interpreter then calls them directly
# through its specialised call of builtins with METH_FASTCALL, where a bound
# Cython function takes the generic vectorcall path and a result check (about
# 40 instructions of a ~550-instruction call of mask() on 125 bytes).  Their
# docstrings start with the signature in the form CPython reads for builtins.

@cython.binding(False)
@cython.embedsignature(False)
def mask(data, key):
    """mask(data, key)
--

mask(data: Buffer, key: Buffer) -> bytes

Return ``data`` XOR the 4-byte ``key`` repeated, as new ``bytes``."""
    cdef uint8_t k[4]
    cdef Py_ssize_t n
    cdef bytes out
    if (PyBytes_CheckExact(data) and PyBytes_CheckExact(key) and PyBytes_GET_SIZE(key) == 4
            and PyBytes_GET_SIZE(data) < NOGIL_FROM):
        # The common call, inline: exact bytes in, no buffer request, no copy
        # of the key, the kernel straight into the new bytes.
        n = PyBytes_GET_SIZE(data)
        out = PyBytes_FromStringAndSize(NULL, n)
        wsf_mask(<uint8_t *>PyBytes_AS_STRING(out), <const uint8_t *>PyBytes_AS_STRING(data),
                 <size_t>n, <const uint8_t *>PyBytes_AS_STRING(key), 0, _level)
        return out
    if not PyBytes_CheckExact(data):
        # Check the data before the key, as the pure twin does.
        _check_buffer(data)
    _get_key(key, k)
    return _masked(data, k, 0, _level, &n)


cdef int _check_buffer(object data) except -1:
    cdef Py_buffer view
    _get_buffer(data, &view, PyBUF_SIMPLE)
    PyBuffer_Release(&view)
    return 0


@cython.binding(False)
@cython.embedsignature(False)
def mask_inplace(buf, key, offset=0):
    """mask_inplace(buf, key, offset=0)
--

mask_inplace(buf: writable Buffer, key: Buffer, offset: int = 0) -> None

XOR ``buf`` in place with ``key``, starting at key phase ``offset % 4``."""
    cdef uint8_t k[4]
    cdef Py_buffer view
    cdef unsigned phase
    cdef uint8_t *p
    # Every argument is read before buf's memory is taken: converting the key
    # or the offset (__index__, a buffer exporter) may run Python code, and
    # that code may resize buf, which an export would forbid.
    if PyByteArray_CheckExact(buf):
        if PyBytes_CheckExact(key) and PyBytes_GET_SIZE(key) == 4:
            memcpy(k, PyBytes_AS_STRING(key), 4)  # _get_key's fast path, inline
        else:
            _get_key(key, k)
        phase = 0 if offset is 0 else _phase(offset)
        if not WSF_FREE_THREADED and PyByteArray_GET_SIZE(buf) < NOGIL_FROM:
            # The common case, without a buffer export: with the GIL held
            # throughout, nothing can resize buf while it is masked.  Not from
            # NOGIL_FROM: a kernel that runs detached needs the export to pin
            # the memory (another thread could resize or free it meanwhile),
            # and a free-threaded build has no GIL to rely on.
            p = <uint8_t *>PyByteArray_AS_STRING(buf)
            wsf_mask(p, p, <size_t>PyByteArray_GET_SIZE(buf), k, phase, _level)
            return
    elif PyBytes_CheckExact(key) and (offset is 0 or PyLong_CheckExact(offset)):
        # Reading these runs no Python code: one buffer request is enough
        # (taken first: the buffer's errors come before the key's).
        _get_writable(buf, &view)
        try:
            _get_key(key, k)
            phase = _phase(offset)
            _run(<uint8_t *>view.buf, <const uint8_t *>view.buf, view.len, k, phase, _level)
        finally:
            PyBuffer_Release(&view)
        return
    else:
        _check_writable(buf)  # the buffer's errors come before the key's
        _get_key(key, k)
        phase = _phase(offset)
    _get_writable(buf, &view)
    try:
        _run(<uint8_t *>view.buf, <const uint8_t *>view.buf, view.len, k, phase, _level)
    finally:
        PyBuffer_Release(&view)


@cython.final
@cython.auto_pickle(False)
@cython.embedsignature(False)  # the docstring's clinic line is the signature
cdef class Masker:
    """Masker(key)
--

Masks a payload that arrives in pieces, keeping the key phase between them."""

    cdef uint8_t _key[4]
    cdef object _offset  # a Python int: no overflow however long the stream
    cdef bint _busy      # a process call is running (see process)

    def __cinit__(self):
        self._offset = 0

    def __init__(self, key):
        cdef uint8_t k[4]
        _get_key(key, k)  # before the section: converting key may run user code
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            memcpy(self._key, k, 4)
            self._offset = 0

    # Every access to _offset (a Python int) holds the object's critical
    # section: on free-threaded builds a racing process() could otherwise free
    # the int being read or replaced.
    @property
    def offset(self):
        """Bytes processed since creation or the last reset()."""
        with cython.critical_section(self):
            return self._offset

    # One call at a time: the section serialises calls on free-threaded
    # builds; the busy flag turns an overlapping call (another thread while a
    # big buffer is masked with the GIL released, a re-entrant buffer
    # exporter) into RuntimeError, so the phase of a piece is never ambiguous.
    def process(self, data):
        """process(data: Buffer) -> bytes: the next piece of the payload, masked."""
        cdef Py_ssize_t n = 0
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._busy = True
            try:
                out = _masked(data, self._key, <unsigned>(self._offset & 3), _level, &n)
                self._offset += n
            finally:
                self._busy = False
        return out

    def process_inplace(self, buf):
        """process_inplace(buf: writable Buffer) -> None: mask the next piece in place."""
        cdef Py_buffer view
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._busy = True
            try:
                _get_writable(buf, &view)
                try:
                    _run(<uint8_t *>view.buf, <const uint8_t *>view.buf, view.len, self._key,
                         <unsigned>(self._offset & 3), _level)
                    self._offset += view.len
                finally:
                    PyBuffer_Release(&view)
            finally:
                self._busy = False

    def reset(self):
        """Start a new payload: the next byte is masked with key byte 0."""
        with cython.critical_section(self):
            if self._busy:
                raise in_use_error(self)
            self._offset = 0

    def __repr__(self):
        return f"Masker(key={bytes(self._key[:4])!r}, offset={self.offset})"


# --- Key-first entry point (for a stack whose mask function takes the key first) ---
# A compiled function rather than a Python wrapper swapping the arguments of
# mask(): the wrapper's extra call costs about 100 ns, as much as masking a
# small frame.  Not in __all__: an integration (wsfast/integrations/) installs it.

def _mask_key_first(key, data):
    """_mask_key_first(key: Buffer, data: Buffer) -> bytes

    ``mask(data, key)`` with the key first, for stacks that mask in that order."""
    cdef uint8_t k[4]
    cdef Py_ssize_t n
    _get_key(key, k)
    if not PyBytes_CheckExact(data):
        _check_buffer(data)
    return _masked(data, k, 0, _level, &n)
