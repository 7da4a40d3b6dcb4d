# The C kernels as the compiled topic modules see them (included after
# _simd.pxi, which provides _cpu).  One declaration for every module that
# calls them, so a kernel's signature is written once.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "mask.h" nogil:
    void wsf_mask(uint8_t *dst, const uint8_t *src, size_t n,
                  const uint8_t *key, unsigned phase, int level)

cdef extern from "utf8.h" nogil:
    ctypedef struct wsf_utf8_stream:
        pass
    void wsf_utf8_init(const wsf_cpu_features *f)
    int wsf_utf8_valid(const uint8_t *p, size_t n, int level)
    const char *wsf_utf8_kernel_name(int level)
    void wsf_utf8_stream_reset(wsf_utf8_stream *s)
    int wsf_utf8_stream_feed(wsf_utf8_stream *s, const uint8_t *p, size_t n, int final,
                             int level)
    int wsf_utf8_stream_complete(const wsf_utf8_stream *s)

# Records SSSE3/SSE4.1 for the x86 base-level UTF-8 kernel (the level itself
# comes from _simd.pxi).
wsf_utf8_init(&_cpu)

cdef extern from "utf8_decode.h" nogil:
    ctypedef struct wsf_utf8_shape:
        size_t length
        uint32_t maxchar
    wsf_utf8_shape wsf_utf8_measure(const uint8_t *p, size_t n, int level)
    void wsf_utf8_decode(void *dst, wsf_utf8_shape shape, const uint8_t *p, size_t n, int level)
    size_t wsf_utf8_ascii_copy(uint8_t *dst, const uint8_t *p, size_t n, int level)
