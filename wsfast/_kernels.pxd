# The C kernels of _csrc/ as the compiled topic modules see them, cimported
# (`from ._kernels cimport ...`): one declaration of every kernel signature
# for every module that calls it.  Declarations only; what runs at import
# (CPU detection, the WSFAST_SIMD cap, wsf_utf8_init) is in _simd.pxi.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "cpu.h":
    ctypedef struct wsf_cpu_features:
        int level
        int ssse3
        int sse41
    wsf_cpu_features wsf_detect()
    int wsf_parse_level(const char *name)
    const char *wsf_level_name(int level)
    int WSF_SIMD_SCALAR
    int WSF_SIMD_AVX512

cdef extern from "mask.h" nogil:
    void wsf_mask(uint8_t *dst, const uint8_t *src, size_t n,
                  const uint8_t *key, unsigned phase, int level)

cdef extern from "utf8.h" nogil:
    ctypedef struct wsf_utf8_stream:
        pass
    # Records SSSE3/SSE4.1 for the x86 base-level kernel: call once per
    # module, at import, before any other utf8.h kernel.
    void wsf_utf8_init(const wsf_cpu_features *f)
    int wsf_utf8_valid(const uint8_t *p, size_t n, int level)
    const char *wsf_utf8_kernel_name(int level)
    void wsf_utf8_stream_reset(wsf_utf8_stream *s)
    int wsf_utf8_stream_feed(wsf_utf8_stream *s, const uint8_t *p, size_t n, int final,
                             int level)
    int wsf_utf8_stream_complete(const wsf_utf8_stream *s)

cdef extern from "utf8_decode.h" nogil:
    ctypedef struct wsf_utf8_shape:
        size_t length
        uint32_t maxchar
    wsf_utf8_shape wsf_utf8_measure(const uint8_t *p, size_t n, int level)
    void wsf_utf8_decode(void *dst, wsf_utf8_shape shape, const uint8_t *p, size_t n, int level)
    size_t wsf_utf8_ascii_copy(uint8_t *dst, const uint8_t *p, size_t n, int level)
    void wsf_utf8_to_ucs1(uint8_t *dst, size_t m, const uint8_t *p, size_t n, int level)
