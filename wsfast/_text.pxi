# Building a str from UTF-8 with the transcoding kernels of _csrc/utf8_decode.h.
# Included by the compiled topic modules that make text, after _simd.pxi:
#
#   _str_from_utf8(p, n, level, pinned)
#       bytes(p[0:n]).decode("utf-8"): the same str, or the same
#       UnicodeDecodeError (raised by CPython's own decoder, so the positions
#       and reason are its own).
#   _str_from_valid_utf8(p, n, level, pinned)
#       the same for bytes already known to be valid UTF-8 (validated by
#       utf8.h, e.g. incrementally as they arrived): no second validation.
#
# `pinned`: the bytes cannot change during the call (an exact bytes object, or
# memory the caller owns), so large inputs may be converted without the GIL.
# For memory other threads might write to, pass False: the kernels stay within
# their buffers whatever the bytes are, but a str built from bytes that changed
# between the passes would be garbage.
#
# A str is made in two passes: wsf_utf8_measure (length and widest code point,
# from a SIMD count) sizes PyUnicode_New at its final kind, then
# wsf_utf8_decode fills it (Latin-1, UCS-2 or UCS-4 at SIMD speed).  Pure
# ASCII needs no validation: the measure pass shows it.

from ._kernels cimport (
    wsf_utf8_ascii_copy,
    wsf_utf8_decode,
    wsf_utf8_measure,
    wsf_utf8_shape,
    wsf_utf8_valid,
)

cdef extern from "Python.h":
    object _wsf_str_new "PyUnicode_New"(Py_ssize_t size, Py_UCS4 maxchar)
    void *_wsf_str_data "PyUnicode_DATA"(object s) nogil
    object _wsf_cpython_decode "PyUnicode_DecodeUTF8"(const char *s, Py_ssize_t size,
                                                      const char *errors)
    object _wsf_str_from_ordinal "PyUnicode_FromOrdinal"(int ordinal)

# Below this size CPython's decoder is used: it hands out its cached
# one-character strings.  From 2 bytes on the kernels are as fast for ASCII
# and faster for everything else, even at 16 bytes (see _utf8_c.pyx).
cdef Py_ssize_t TEXT_KERNELS_FROM = 2

# From this size the passes run without the GIL (pinned input only): one pass
# costs about 1 ns per 5 bytes of CJK, so 64 KiB is ~15 us of work against the
# 40-110 ns a release costs.
cdef Py_ssize_t TEXT_NOGIL_FROM = _nogil_from(65536)


cdef inline int _one_code_point(const uint8_t *p, Py_ssize_t n) noexcept:
    """The code point of valid UTF-8 p[0:n] holding exactly one (n is 1 to 4)."""
    if n == 1:
        return p[0]
    if n == 2:
        return (p[0] & 0x1F) << 6 | (p[1] & 0x3F)
    if n == 3:
        return (p[0] & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F)
    return (p[0] & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F)


cdef inline object _str_of_shape(const uint8_t *p, Py_ssize_t n, wsf_utf8_shape shape,
                                 int level, bint pinned):
    """A new str of `shape` (from wsf_utf8_measure) filled from valid p[0:n]."""
    if shape.length == 1:
        # One code point: CPython's own one-character str, as bytes.decode
        # gives (cached up to U+00FF; on 3.13 those carry their UTF-8 form).
        return _wsf_str_from_ordinal(_one_code_point(p, n))
    cdef object s = _wsf_str_new(<Py_ssize_t>shape.length, shape.maxchar)
    if n >= TEXT_NOGIL_FROM and pinned:
        with nogil:
            wsf_utf8_decode(_wsf_str_data(s), shape, p, <size_t>n, level)
    else:
        wsf_utf8_decode(_wsf_str_data(s), shape, p, <size_t>n, level)
    return s


cdef inline object _str_from_valid_utf8(const uint8_t *p, Py_ssize_t n, int level,
                                        bint pinned):
    cdef wsf_utf8_shape shape
    if n == 0:
        return ""  # the empty str singleton (p may be NULL)
    if n >= TEXT_NOGIL_FROM and pinned:
        with nogil:
            shape = wsf_utf8_measure(p, <size_t>n, level)
    else:
        shape = wsf_utf8_measure(p, <size_t>n, level)
    return _str_of_shape(p, n, shape, level, pinned)


# From this size text that starts with ASCII is first copied optimistically
# into a 1-byte str, checking as it copies (CPython's own approach): one pass
# instead of measure + copy, which matters once the copy is dominated by
# fresh pages (1 MiB of ASCII: 0.90x bytes.decode with two passes).  When a
# non-ASCII byte shows up, the work so far is kept: only the rest is measured
# and validated.
cdef Py_ssize_t TEXT_ASCII_COPY_FROM = 16384


cdef inline int _measure_and_check(const uint8_t *p, Py_ssize_t n, Py_ssize_t start, int level,
                                   wsf_utf8_shape *shape) noexcept nogil:
    """Shape of p[0:n] whose first `start` bytes are known ASCII; 1 if valid.
    Pure ASCII (a largest byte below 80) needs no validation pass."""
    shape[0] = wsf_utf8_measure(p + start, <size_t>(n - start), level)
    shape[0].length += <size_t>start
    if shape[0].maxchar > 0x7F:
        return wsf_utf8_valid(p + start, <size_t>(n - start), level)
    return 1


cdef inline object _str_from_utf8(const uint8_t *p, Py_ssize_t n, int level, bint pinned):
    cdef wsf_utf8_shape shape
    cdef Py_ssize_t start = 0
    cdef bint nogil = n >= TEXT_NOGIL_FROM and pinned
    cdef object s
    cdef int ok
    if n < TEXT_KERNELS_FROM:
        return _wsf_cpython_decode(<const char *>p, n, NULL)
    if n >= TEXT_ASCII_COPY_FROM and p[0] < 0x80:
        s = _wsf_str_new(n, 0x7F)
        if nogil:
            with nogil:
                start = <Py_ssize_t>wsf_utf8_ascii_copy(<uint8_t *>_wsf_str_data(s), p,
                                                        <size_t>n, level)
        else:
            start = <Py_ssize_t>wsf_utf8_ascii_copy(<uint8_t *>_wsf_str_data(s), p, <size_t>n,
                                                    level)
        if start == n:
            return s
        s = None
    if nogil:
        with nogil:
            ok = _measure_and_check(p, n, start, level, &shape)
    else:
        ok = _measure_and_check(p, n, start, level, &shape)
    if not ok:
        # Raises the UnicodeDecodeError bytes.decode would (same decoder).
        return _wsf_cpython_decode(<const char *>p, n, NULL)
    return _str_of_shape(p, n, shape, level, pinned)
