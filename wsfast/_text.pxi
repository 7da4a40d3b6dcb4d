# Building a str from UTF-8 with the transcoding kernels of _csrc/utf8_decode.h.
# Included by the compiled topic modules that make text, after _simd.pxi and
# _kernels.pxi:
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
# wsf_utf8_decode fills it (Latin-1, UCS-2 or UCS-4 at SIMD speed).

cdef extern from "Python.h":
    object _wsf_str_new "PyUnicode_New"(Py_ssize_t size, Py_UCS4 maxchar)
    void *_wsf_str_data "PyUnicode_DATA"(object s) nogil
    object _wsf_cpython_decode "PyUnicode_DecodeUTF8"(const char *s, Py_ssize_t size,
                                                      const char *errors)

# Below this size CPython's decoder is used: for a few bytes its single
# scalar pass beats validate + measure + decode (see _utf8_c.pyx).
cdef Py_ssize_t TEXT_KERNELS_FROM = 0

# From this size the passes run without the GIL (pinned input only): one pass
# costs about 1 ns per 3 bytes of CJK, so 64 KiB is ~20 us of work against the
# 40-110 ns a release costs.
cdef Py_ssize_t TEXT_NOGIL_FROM = _nogil_from(65536)


cdef inline object _str_from_valid_utf8(const uint8_t *p, Py_ssize_t n, int level,
                                        bint pinned):
    cdef wsf_utf8_shape shape
    cdef object s
    if n >= TEXT_NOGIL_FROM and pinned:
        with nogil:
            shape = wsf_utf8_measure(p, <size_t>n, level)
        s = _wsf_str_new(<Py_ssize_t>shape.length, shape.maxchar)
        with nogil:
            wsf_utf8_decode(_wsf_str_data(s), shape, p, <size_t>n, level)
        return s
    shape = wsf_utf8_measure(p, <size_t>n, level)
    s = _wsf_str_new(<Py_ssize_t>shape.length, shape.maxchar)
    wsf_utf8_decode(_wsf_str_data(s), shape, p, <size_t>n, level)
    return s


cdef inline object _str_from_utf8(const uint8_t *p, Py_ssize_t n, int level, bint pinned):
    cdef int ok
    if n < TEXT_KERNELS_FROM:
        return _wsf_cpython_decode(<const char *>p, n, NULL)
    if n >= TEXT_NOGIL_FROM and pinned:
        with nogil:
            ok = wsf_utf8_valid(p, <size_t>n, level)
    else:
        ok = wsf_utf8_valid(p, <size_t>n, level)
    if not ok:
        # Raises the UnicodeDecodeError bytes.decode would (same decoder).
        return _wsf_cpython_decode(<const char *>p, n, NULL)
    return _str_from_valid_utf8(p, n, level, pinned)
