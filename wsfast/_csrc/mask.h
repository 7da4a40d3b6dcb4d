/* RFC 6455 section 5.3 masking: dst[i] = src[i] ^ key[(phase + i) % 4].
 *
 * dst may equal src (in place). Never reads or writes outside [0, n).
 * The repeated key pattern is built by copying the four key bytes into a
 * byte array and loading that, so the same code is right on big- and
 * little-endian machines (no shifts by byte position).
 */
#ifndef WSFAST_MASK_H
#define WSFAST_MASK_H

#include "cpu.h"

/* Scalar kernel: 8 bytes a step through memcpy'd 64-bit words. */
static void wsf_mask_scalar(uint8_t *dst, const uint8_t *src, size_t n,
                            const uint8_t rk[4])
{
    uint8_t pat[8];
    uint64_t k64, w;
    size_t i = 0;
    memcpy(pat, rk, 4);
    memcpy(pat + 4, rk, 4);
    memcpy(&k64, pat, 8);
    for (; i + 32 <= n; i += 32) {
        uint64_t a, b, c, d;
        memcpy(&a, src + i, 8);
        memcpy(&b, src + i + 8, 8);
        memcpy(&c, src + i + 16, 8);
        memcpy(&d, src + i + 24, 8);
        a ^= k64; b ^= k64; c ^= k64; d ^= k64;
        memcpy(dst + i, &a, 8);
        memcpy(dst + i + 8, &b, 8);
        memcpy(dst + i + 16, &c, 8);
        memcpy(dst + i + 24, &d, 8);
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, src + i, 8);
        w ^= k64;
        memcpy(dst + i, &w, 8);
    }
    /* i is a multiple of 8 here, so the key phase is back at rk[0]. */
    if (i + 4 <= n) {
        uint32_t k32, v;
        memcpy(&k32, rk, 4);
        memcpy(&v, src + i, 4);
        v ^= k32;
        memcpy(dst + i, &v, 4);
        i += 4;
    }
    for (; i < n; i++)
        dst[i] = (uint8_t)(src[i] ^ rk[i & 3]);
}

#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
static void wsf_mask_sse2(uint8_t *dst, const uint8_t *src, size_t n,
                          const uint8_t rk[4])
{
    uint8_t pat[16];
    __m128i k;
    size_t i = 0;
    memcpy(pat, rk, 4); memcpy(pat + 4, rk, 4);
    memcpy(pat + 8, pat, 8);
    k = _mm_loadu_si128((const __m128i *)pat);
    for (; i + 64 <= n; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
        _mm_storeu_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, k));
        _mm_storeu_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, k));
        _mm_storeu_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, k));
    }
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
    }
    /* i is a multiple of 16: the phase is unchanged for the tail. */
    wsf_mask_scalar(dst + i, src + i, n - i, rk);
}

WSF_TARGET("avx2")
static void wsf_mask_avx2(uint8_t *dst, const uint8_t *src, size_t n,
                          const uint8_t rk[4])
{
    uint8_t pat[32];
    __m256i k;
    size_t i = 0, j;
    for (j = 0; j < 32; j += 4)
        memcpy(pat + j, rk, 4);
    k = _mm256_loadu_si256((const __m256i *)pat);
    for (; i + 128 <= n; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= n; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
    }
    if (i + 16 <= n) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm_xor_si128(a, _mm256_castsi256_si128(k)));
        i += 16;
    }
    wsf_mask_scalar(dst + i, src + i, n - i, rk);
}

WSF_TARGET("avx512f,avx512bw")
static void wsf_mask_avx512(uint8_t *dst, const uint8_t *src, size_t n,
                            const uint8_t rk[4])
{
    uint32_t k32;
    __m512i k;
    size_t i = 0;
    memcpy(&k32, rk, 4);  /* native order in, native order out: endian-neutral */
    k = _mm512_set1_epi32((int)k32);
    if (n >= 512) {
        /* Software-pipelined: the next 256 bytes are loaded before the
         * previous 256 are stored. When dst sits just above src modulo
         * 4 KiB (two equal mallocs often do), a load issued after a store
         * whose address matches in the low 12 bits waits for it (4K
         * aliasing): 25-35% slower at 64 KiB on Zen 4 with the plain loop. */
        __m512i a = _mm512_loadu_si512((const void *)src);
        __m512i b = _mm512_loadu_si512((const void *)(src + 64));
        __m512i c = _mm512_loadu_si512((const void *)(src + 128));
        __m512i d = _mm512_loadu_si512((const void *)(src + 192));
        for (i = 256; i + 256 <= n; i += 256) {
            __m512i e = _mm512_loadu_si512((const void *)(src + i));
            __m512i f = _mm512_loadu_si512((const void *)(src + i + 64));
            __m512i g = _mm512_loadu_si512((const void *)(src + i + 128));
            __m512i h = _mm512_loadu_si512((const void *)(src + i + 192));
            _mm512_storeu_si512((void *)(dst + i - 256), _mm512_xor_si512(a, k));
            _mm512_storeu_si512((void *)(dst + i - 192), _mm512_xor_si512(b, k));
            _mm512_storeu_si512((void *)(dst + i - 128), _mm512_xor_si512(c, k));
            _mm512_storeu_si512((void *)(dst + i - 64), _mm512_xor_si512(d, k));
            a = e; b = f; c = g; d = h;
        }
        _mm512_storeu_si512((void *)(dst + i - 256), _mm512_xor_si512(a, k));
        _mm512_storeu_si512((void *)(dst + i - 192), _mm512_xor_si512(b, k));
        _mm512_storeu_si512((void *)(dst + i - 128), _mm512_xor_si512(c, k));
        _mm512_storeu_si512((void *)(dst + i - 64), _mm512_xor_si512(d, k));
    }
    for (; i + 64 <= n; i += 64) {
        __m512i a = _mm512_loadu_si512((const void *)(src + i));
        _mm512_storeu_si512((void *)(dst + i), _mm512_xor_si512(a, k));
    }
    if (i < n) {
        /* Masked load/store: lanes past n are neither read nor written
         * (faults are suppressed for masked-off lanes). */
        __mmask64 m = (((uint64_t)1) << (n - i)) - 1;  /* n - i < 64 */
        __m512i a = _mm512_maskz_loadu_epi8(m, (const void *)(src + i));
        _mm512_mask_storeu_epi8((void *)(dst + i), m, _mm512_xor_si512(a, k));
    }
}
#endif

#if defined(WSF_ARM64)
static void wsf_mask_neon(uint8_t *dst, const uint8_t *src, size_t n,
                          const uint8_t rk[4])
{
    uint8_t pat[16];
    uint8x16_t k;
    size_t i = 0, j;
    for (j = 0; j < 16; j += 4)
        memcpy(pat + j, rk, 4);
    k = vld1q_u8(pat);
    for (; i + 64 <= n; i += 64) {
        uint8x16_t a = vld1q_u8(src + i);
        uint8x16_t b = vld1q_u8(src + i + 16);
        uint8x16_t c = vld1q_u8(src + i + 32);
        uint8x16_t d = vld1q_u8(src + i + 48);
        vst1q_u8(dst + i, veorq_u8(a, k));
        vst1q_u8(dst + i + 16, veorq_u8(b, k));
        vst1q_u8(dst + i + 32, veorq_u8(c, k));
        vst1q_u8(dst + i + 48, veorq_u8(d, k));
    }
    for (; i + 16 <= n; i += 16)
        vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), k));
    wsf_mask_scalar(dst + i, src + i, n - i, rk);
}
#endif

/* Mask n bytes with `key` starting at key phase `phase` (0..3), using the
 * best kernel allowed by `level` (already capped to what the CPU supports). */
static void wsf_mask(uint8_t *dst, const uint8_t *src, size_t n,
                     const uint8_t key[4], unsigned phase, int level)
{
    uint8_t rot[4];
    const uint8_t *rk = key;
    if (phase & 3) {
        rot[0] = key[phase & 3];
        rot[1] = key[(phase + 1) & 3];
        rot[2] = key[(phase + 2) & 3];
        rot[3] = key[(phase + 3) & 3];
        rk = rot;
    }
    (void)level;
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    if (n >= 16) {
        if (level >= WSF_SIMD_AVX512 && n >= 64) {
            wsf_mask_avx512(dst, src, n, rk);
            return;
        }
        if (level >= WSF_SIMD_AVX2 && n >= 32) {
            wsf_mask_avx2(dst, src, n, rk);
            return;
        }
        if (level >= WSF_SIMD_BASE) {
            wsf_mask_sse2(dst, src, n, rk);
            return;
        }
    }
#elif defined(WSF_ARM64)
    if (level >= WSF_SIMD_BASE && n >= 16) {
        wsf_mask_neon(dst, src, n, rk);
        return;
    }
#endif
    wsf_mask_scalar(dst, src, n, rk);
}

#endif /* WSFAST_MASK_H */
