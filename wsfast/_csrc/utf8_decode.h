/* UTF-8 to the storage of a Python str, for input already validated.
 *
 * CPython keeps a str in one of three fixed-width forms, chosen by its widest
 * code point: 1 byte per code point (Latin-1; ASCII is the same storage),
 * 2 bytes (UCS-2) or 4 bytes (UCS-4).  Building one from UTF-8 that
 * utf8.h has already accepted takes two passes here:
 *
 *   wsf_utf8_measure   the number of code points (bytes that are not
 *                      continuation bytes 80..BF) and the widest class, from
 *                      the largest byte: < 80 ASCII, < C4 Latin-1 (only the
 *                      leads C2/C3 make code points 80..FF), < F0 UCS-2,
 *                      else UCS-4.  The class is exact, never just a bound.
 *   wsf_utf8_decode    writes exactly `m` units (the measured length) of
 *                      that width into native-endian storage.
 *
 * Transcoding works on fixed blocks of 16, 32 or 64 bytes.  Every code
 * point is written from the position of its LAST byte, where its value is
 * a function of that byte and the (up to) three before it, b0 = p[k],
 * b1 = p[k-1], b2 = p[k-2], b3 = p[k-3] (the first positions of a block
 * take them from the block before):
 *
 *   bits 0..7    lo  = b0                          if b0 is ASCII
 *                      (b0 & 3F) | (b1 << 6)        otherwise
 *   bits 8..15   hi  = 0                           if b0 is ASCII
 *                      ((b1 >> 2) & 0F)             b1 a lead (2 bytes)
 *                      ((b1 >> 2) & 0F) | (b2 << 4) b1 a continuation
 *   bits 16..20  top = ((b2 >> 4) & 3) | ((b3 & 7) << 2)
 *                                                  if b0, b1 and b2 are all
 *                                                  continuations (4 bytes),
 *                                                  else 0
 *
 * (shifts are within a byte).  The three "planes" are computed for every
 * byte of a block at once; the positions that end a code point are those
 * followed by a non-continuation byte (for the last one, the first byte of
 * the next block); the planes are compacted to those positions (a byte
 * shuffle per 8 positions from a 256-entry table of indexes, or AVX-512's
 * compress instructions) and interleaved into 1, 2 or 4-byte units.  The
 * blocks advance by a fixed stride, so that no block waits for the one
 * before it to be decoded (only the output position carries over), and a
 * block of pure ASCII is only widened.  This is the approach of the
 * published SIMD transcoders (an ASCII fast path; shuffles chosen by a bit
 * mask of code-point ends), written here for byte planes.
 *
 * Levels: scalar (every platform; endian-neutral), SSSE3/SSE4.1 (the x86
 * base level, 16-byte blocks), AVX2 (32), AVX-512 F+BW (64; with
 * AVX512-VBMI2 when the CPU has it), NEON (16, little-endian AArch64).
 *
 * Bounds: no kernel reads outside p[0..n) or writes outside dst[0..m) units,
 * whatever the bytes are.  The last, partial block is a zero-padded copy or a
 * masked load (zeros are ASCII: they end the last real code point and are
 * dropped), and a block whose output might pass dst + m goes through a local
 * buffer.  Input that is NOT valid UTF-8 (a contract violation, or a buffer
 * changed by another thread meanwhile) gives unspecified units, but the same
 * bounds.
 *
 * Plain C99, no Python.h; everything is `static inline`.
 */
#ifndef WSFAST_UTF8_DECODE_H
#define WSFAST_UTF8_DECODE_H

#include "utf8.h" /* cpu.h, and wsf_utf8_x86_base_ok (SSSE3 + SSE4.1 present) */

#if defined(_MSC_VER) && !defined(__clang__)
#define WSF_U8D_INLINE static __forceinline
#else
#define WSF_U8D_INLINE static inline __attribute__((always_inline))
#endif

/* Below this many bytes the scalar transcoder runs at every level.  Tests
 * build with 1 to send every input through the SIMD kernels. */
#ifndef WSF_UTF8_DECODE_SIMD_FROM
#define WSF_UTF8_DECODE_SIMD_FROM 16
#endif

typedef struct {
    size_t length;    /* code points */
    uint32_t maxchar; /* 0x7F, 0xFF, 0xFFFF or 0x10FFFF (the class of the widest) */
} wsf_utf8_shape;

/* The class of the widest code point, from the largest byte of valid UTF-8. */
static inline uint32_t wsf_utf8_maxchar_of(unsigned maxbyte)
{
    return maxbyte < 0x80 ? 0x7Fu : maxbyte < 0xC4 ? 0xFFu : maxbyte < 0xF0 ? 0xFFFFu : 0x10FFFFu;
}

/* ------------------------------------------------------------------------ */
/* Scalar                                                                    */
/* ------------------------------------------------------------------------ */

#define WSF_U8D_HIGH 0x8080808080808080ull
#define WSF_U8D_ONES 0x0101010101010101ull

/* Count continuation bytes and find the class bytes of p[0..n).  Words of 8
 * bytes: in each byte, bit 7 of w & (w << 1) & ... is the AND of the byte's
 * top bits (a shift by 1..5 never moves a bit into bit 7 of another byte,
 * whatever the byte order), so the thresholds 80, C4, E0, F0 are a few
 * ANDs, and the continuation bytes (10xxxxxx) are summed with a multiply. */
static inline size_t wsf_u8d_count_scalar(const uint8_t *p, size_t n, unsigned *maxbyte)
{
    uint64_t f80 = 0, fc4 = 0, fe0 = 0, ff0 = 0;
    size_t i = 0, conts = 0;
    unsigned mx = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w, w1, w2, c;
        memcpy(&w, p + i, 8);
        if (!(w & WSF_U8D_HIGH))
            continue;
        w1 = w & (w << 1);
        w2 = w1 & (w << 2);
        c = w & ~(w << 1) & WSF_U8D_HIGH;
        conts += (size_t)((((c >> 7) * WSF_U8D_ONES) >> 56) & 0xFF);
        f80 |= w;
        fc4 |= w1 & ((w << 2) | (w << 3) | (w << 4) | (w << 5));
        fe0 |= w2;
        ff0 |= w2 & (w << 3);
    }
    for (; i < n; i++) {
        unsigned b = p[i];
        conts += (b & 0xC0) == 0x80;
        mx = b > mx ? b : mx;
    }
    if (ff0 & WSF_U8D_HIGH)
        mx = 0xF0;
    else if ((fe0 & WSF_U8D_HIGH) && mx < 0xE0)
        mx = 0xE0;
    else if ((fc4 & WSF_U8D_HIGH) && mx < 0xC4)
        mx = 0xC4;
    else if ((f80 & WSF_U8D_HIGH) && mx < 0x80)
        mx = 0x80;
    *maxbyte = mx;
    return n - conts;
}

/* Store one unit of width `kind` (1, 2 or 4 bytes, native order). */
WSF_U8D_INLINE void wsf_u8d_put(uint8_t *dst, size_t o, uint32_t v, int kind)
{
    if (kind == 1)
        dst[o] = (uint8_t)v;
    else if (kind == 2)
        ((uint16_t *)(void *)dst)[o] = (uint16_t)v;
    else
        ((uint32_t *)(void *)dst)[o] = v;
}

/* Transcode from p[i..n) into units o..m of dst; returns nothing, fills all
 * of dst[o..m) (zeros if the input runs out, which valid input never does).
 * Runs of ASCII go 8 bytes at a time. */
WSF_U8D_INLINE void wsf_u8d_scalar(uint8_t *dst, size_t o, size_t m, const uint8_t *p, size_t i,
                                   size_t n, int kind)
{
    while (i < n && o < m) {
        uint32_t b = p[i], v;
        if (b < 0x80) {
            if (n - i >= 8 && m - o >= 8) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                if (!(w & WSF_U8D_HIGH)) {
                    size_t k;
                    if (kind == 1) {
                        memcpy(dst + o, p + i, 8);
                    } else {
                        for (k = 0; k < 8; k++)
                            wsf_u8d_put(dst, o + k, p[i + k], kind);
                    }
                    i += 8;
                    o += 8;
                    continue;
                }
            }
            v = b;
            i += 1;
        } else {
            /* Continuation bytes past the end read as 80 (no bits): only
             * invalid input gets there. */
            uint32_t c1 = i + 1 < n ? p[i + 1] & 0x3Fu : 0;
            uint32_t c2 = i + 2 < n ? p[i + 2] & 0x3Fu : 0;
            uint32_t c3 = i + 3 < n ? p[i + 3] & 0x3Fu : 0;
            if (b < 0xE0) {
                v = ((b & 0x1Fu) << 6) | c1;
                i += 2;
            } else if (b < 0xF0) {
                v = ((b & 0x0Fu) << 12) | (c1 << 6) | c2;
                i += 3;
            } else {
                v = ((b & 0x07u) << 18) | (c1 << 12) | (c2 << 6) | c3;
                i += 4;
            }
        }
        wsf_u8d_put(dst, o++, v, kind);
    }
    if (o < m)
        memset(dst + o * (size_t)kind, 0, (m - o) * (size_t)kind);
}

/* ------------------------------------------------------------------------ */
/* The compaction table: wsf_u8d_pack[e] lists the positions (0..7) of the  */
/* set bits of e, lowest first, then Z (0x80: a shuffle writes 0 there, and */
/* 0x80 + 8 does too); wsf_u8d_popc[e] is how many there are.  Checked      */
/* against this definition by tests/c/test_utf8_decode.c.                   */
/* ------------------------------------------------------------------------ */

#define Z 0x80
static const uint8_t wsf_u8d_pack[256][8] = {
    {Z, Z, Z, Z, Z, Z, Z, Z}, {0, Z, Z, Z, Z, Z, Z, Z}, {1, Z, Z, Z, Z, Z, Z, Z}, {0, 1, Z, Z, Z, Z, Z, Z},
    {2, Z, Z, Z, Z, Z, Z, Z}, {0, 2, Z, Z, Z, Z, Z, Z}, {1, 2, Z, Z, Z, Z, Z, Z}, {0, 1, 2, Z, Z, Z, Z, Z},
    {3, Z, Z, Z, Z, Z, Z, Z}, {0, 3, Z, Z, Z, Z, Z, Z}, {1, 3, Z, Z, Z, Z, Z, Z}, {0, 1, 3, Z, Z, Z, Z, Z},
    {2, 3, Z, Z, Z, Z, Z, Z}, {0, 2, 3, Z, Z, Z, Z, Z}, {1, 2, 3, Z, Z, Z, Z, Z}, {0, 1, 2, 3, Z, Z, Z, Z},
    {4, Z, Z, Z, Z, Z, Z, Z}, {0, 4, Z, Z, Z, Z, Z, Z}, {1, 4, Z, Z, Z, Z, Z, Z}, {0, 1, 4, Z, Z, Z, Z, Z},
    {2, 4, Z, Z, Z, Z, Z, Z}, {0, 2, 4, Z, Z, Z, Z, Z}, {1, 2, 4, Z, Z, Z, Z, Z}, {0, 1, 2, 4, Z, Z, Z, Z},
    {3, 4, Z, Z, Z, Z, Z, Z}, {0, 3, 4, Z, Z, Z, Z, Z}, {1, 3, 4, Z, Z, Z, Z, Z}, {0, 1, 3, 4, Z, Z, Z, Z},
    {2, 3, 4, Z, Z, Z, Z, Z}, {0, 2, 3, 4, Z, Z, Z, Z}, {1, 2, 3, 4, Z, Z, Z, Z}, {0, 1, 2, 3, 4, Z, Z, Z},
    {5, Z, Z, Z, Z, Z, Z, Z}, {0, 5, Z, Z, Z, Z, Z, Z}, {1, 5, Z, Z, Z, Z, Z, Z}, {0, 1, 5, Z, Z, Z, Z, Z},
    {2, 5, Z, Z, Z, Z, Z, Z}, {0, 2, 5, Z, Z, Z, Z, Z}, {1, 2, 5, Z, Z, Z, Z, Z}, {0, 1, 2, 5, Z, Z, Z, Z},
    {3, 5, Z, Z, Z, Z, Z, Z}, {0, 3, 5, Z, Z, Z, Z, Z}, {1, 3, 5, Z, Z, Z, Z, Z}, {0, 1, 3, 5, Z, Z, Z, Z},
    {2, 3, 5, Z, Z, Z, Z, Z}, {0, 2, 3, 5, Z, Z, Z, Z}, {1, 2, 3, 5, Z, Z, Z, Z}, {0, 1, 2, 3, 5, Z, Z, Z},
    {4, 5, Z, Z, Z, Z, Z, Z}, {0, 4, 5, Z, Z, Z, Z, Z}, {1, 4, 5, Z, Z, Z, Z, Z}, {0, 1, 4, 5, Z, Z, Z, Z},
    {2, 4, 5, Z, Z, Z, Z, Z}, {0, 2, 4, 5, Z, Z, Z, Z}, {1, 2, 4, 5, Z, Z, Z, Z}, {0, 1, 2, 4, 5, Z, Z, Z},
    {3, 4, 5, Z, Z, Z, Z, Z}, {0, 3, 4, 5, Z, Z, Z, Z}, {1, 3, 4, 5, Z, Z, Z, Z}, {0, 1, 3, 4, 5, Z, Z, Z},
    {2, 3, 4, 5, Z, Z, Z, Z}, {0, 2, 3, 4, 5, Z, Z, Z}, {1, 2, 3, 4, 5, Z, Z, Z}, {0, 1, 2, 3, 4, 5, Z, Z},
    {6, Z, Z, Z, Z, Z, Z, Z}, {0, 6, Z, Z, Z, Z, Z, Z}, {1, 6, Z, Z, Z, Z, Z, Z}, {0, 1, 6, Z, Z, Z, Z, Z},
    {2, 6, Z, Z, Z, Z, Z, Z}, {0, 2, 6, Z, Z, Z, Z, Z}, {1, 2, 6, Z, Z, Z, Z, Z}, {0, 1, 2, 6, Z, Z, Z, Z},
    {3, 6, Z, Z, Z, Z, Z, Z}, {0, 3, 6, Z, Z, Z, Z, Z}, {1, 3, 6, Z, Z, Z, Z, Z}, {0, 1, 3, 6, Z, Z, Z, Z},
    {2, 3, 6, Z, Z, Z, Z, Z}, {0, 2, 3, 6, Z, Z, Z, Z}, {1, 2, 3, 6, Z, Z, Z, Z}, {0, 1, 2, 3, 6, Z, Z, Z},
    {4, 6, Z, Z, Z, Z, Z, Z}, {0, 4, 6, Z, Z, Z, Z, Z}, {1, 4, 6, Z, Z, Z, Z, Z}, {0, 1, 4, 6, Z, Z, Z, Z},
    {2, 4, 6, Z, Z, Z, Z, Z}, {0, 2, 4, 6, Z, Z, Z, Z}, {1, 2, 4, 6, Z, Z, Z, Z}, {0, 1, 2, 4, 6, Z, Z, Z},
    {3, 4, 6, Z, Z, Z, Z, Z}, {0, 3, 4, 6, Z, Z, Z, Z}, {1, 3, 4, 6, Z, Z, Z, Z}, {0, 1, 3, 4, 6, Z, Z, Z},
    {2, 3, 4, 6, Z, Z, Z, Z}, {0, 2, 3, 4, 6, Z, Z, Z}, {1, 2, 3, 4, 6, Z, Z, Z}, {0, 1, 2, 3, 4, 6, Z, Z},
    {5, 6, Z, Z, Z, Z, Z, Z}, {0, 5, 6, Z, Z, Z, Z, Z}, {1, 5, 6, Z, Z, Z, Z, Z}, {0, 1, 5, 6, Z, Z, Z, Z},
    {2, 5, 6, Z, Z, Z, Z, Z}, {0, 2, 5, 6, Z, Z, Z, Z}, {1, 2, 5, 6, Z, Z, Z, Z}, {0, 1, 2, 5, 6, Z, Z, Z},
    {3, 5, 6, Z, Z, Z, Z, Z}, {0, 3, 5, 6, Z, Z, Z, Z}, {1, 3, 5, 6, Z, Z, Z, Z}, {0, 1, 3, 5, 6, Z, Z, Z},
    {2, 3, 5, 6, Z, Z, Z, Z}, {0, 2, 3, 5, 6, Z, Z, Z}, {1, 2, 3, 5, 6, Z, Z, Z}, {0, 1, 2, 3, 5, 6, Z, Z},
    {4, 5, 6, Z, Z, Z, Z, Z}, {0, 4, 5, 6, Z, Z, Z, Z}, {1, 4, 5, 6, Z, Z, Z, Z}, {0, 1, 4, 5, 6, Z, Z, Z},
    {2, 4, 5, 6, Z, Z, Z, Z}, {0, 2, 4, 5, 6, Z, Z, Z}, {1, 2, 4, 5, 6, Z, Z, Z}, {0, 1, 2, 4, 5, 6, Z, Z},
    {3, 4, 5, 6, Z, Z, Z, Z}, {0, 3, 4, 5, 6, Z, Z, Z}, {1, 3, 4, 5, 6, Z, Z, Z}, {0, 1, 3, 4, 5, 6, Z, Z},
    {2, 3, 4, 5, 6, Z, Z, Z}, {0, 2, 3, 4, 5, 6, Z, Z}, {1, 2, 3, 4, 5, 6, Z, Z}, {0, 1, 2, 3, 4, 5, 6, Z},
    {7, Z, Z, Z, Z, Z, Z, Z}, {0, 7, Z, Z, Z, Z, Z, Z}, {1, 7, Z, Z, Z, Z, Z, Z}, {0, 1, 7, Z, Z, Z, Z, Z},
    {2, 7, Z, Z, Z, Z, Z, Z}, {0, 2, 7, Z, Z, Z, Z, Z}, {1, 2, 7, Z, Z, Z, Z, Z}, {0, 1, 2, 7, Z, Z, Z, Z},
    {3, 7, Z, Z, Z, Z, Z, Z}, {0, 3, 7, Z, Z, Z, Z, Z}, {1, 3, 7, Z, Z, Z, Z, Z}, {0, 1, 3, 7, Z, Z, Z, Z},
    {2, 3, 7, Z, Z, Z, Z, Z}, {0, 2, 3, 7, Z, Z, Z, Z}, {1, 2, 3, 7, Z, Z, Z, Z}, {0, 1, 2, 3, 7, Z, Z, Z},
    {4, 7, Z, Z, Z, Z, Z, Z}, {0, 4, 7, Z, Z, Z, Z, Z}, {1, 4, 7, Z, Z, Z, Z, Z}, {0, 1, 4, 7, Z, Z, Z, Z},
    {2, 4, 7, Z, Z, Z, Z, Z}, {0, 2, 4, 7, Z, Z, Z, Z}, {1, 2, 4, 7, Z, Z, Z, Z}, {0, 1, 2, 4, 7, Z, Z, Z},
    {3, 4, 7, Z, Z, Z, Z, Z}, {0, 3, 4, 7, Z, Z, Z, Z}, {1, 3, 4, 7, Z, Z, Z, Z}, {0, 1, 3, 4, 7, Z, Z, Z},
    {2, 3, 4, 7, Z, Z, Z, Z}, {0, 2, 3, 4, 7, Z, Z, Z}, {1, 2, 3, 4, 7, Z, Z, Z}, {0, 1, 2, 3, 4, 7, Z, Z},
    {5, 7, Z, Z, Z, Z, Z, Z}, {0, 5, 7, Z, Z, Z, Z, Z}, {1, 5, 7, Z, Z, Z, Z, Z}, {0, 1, 5, 7, Z, Z, Z, Z},
    {2, 5, 7, Z, Z, Z, Z, Z}, {0, 2, 5, 7, Z, Z, Z, Z}, {1, 2, 5, 7, Z, Z, Z, Z}, {0, 1, 2, 5, 7, Z, Z, Z},
    {3, 5, 7, Z, Z, Z, Z, Z}, {0, 3, 5, 7, Z, Z, Z, Z}, {1, 3, 5, 7, Z, Z, Z, Z}, {0, 1, 3, 5, 7, Z, Z, Z},
    {2, 3, 5, 7, Z, Z, Z, Z}, {0, 2, 3, 5, 7, Z, Z, Z}, {1, 2, 3, 5, 7, Z, Z, Z}, {0, 1, 2, 3, 5, 7, Z, Z},
    {4, 5, 7, Z, Z, Z, Z, Z}, {0, 4, 5, 7, Z, Z, Z, Z}, {1, 4, 5, 7, Z, Z, Z, Z}, {0, 1, 4, 5, 7, Z, Z, Z},
    {2, 4, 5, 7, Z, Z, Z, Z}, {0, 2, 4, 5, 7, Z, Z, Z}, {1, 2, 4, 5, 7, Z, Z, Z}, {0, 1, 2, 4, 5, 7, Z, Z},
    {3, 4, 5, 7, Z, Z, Z, Z}, {0, 3, 4, 5, 7, Z, Z, Z}, {1, 3, 4, 5, 7, Z, Z, Z}, {0, 1, 3, 4, 5, 7, Z, Z},
    {2, 3, 4, 5, 7, Z, Z, Z}, {0, 2, 3, 4, 5, 7, Z, Z}, {1, 2, 3, 4, 5, 7, Z, Z}, {0, 1, 2, 3, 4, 5, 7, Z},
    {6, 7, Z, Z, Z, Z, Z, Z}, {0, 6, 7, Z, Z, Z, Z, Z}, {1, 6, 7, Z, Z, Z, Z, Z}, {0, 1, 6, 7, Z, Z, Z, Z},
    {2, 6, 7, Z, Z, Z, Z, Z}, {0, 2, 6, 7, Z, Z, Z, Z}, {1, 2, 6, 7, Z, Z, Z, Z}, {0, 1, 2, 6, 7, Z, Z, Z},
    {3, 6, 7, Z, Z, Z, Z, Z}, {0, 3, 6, 7, Z, Z, Z, Z}, {1, 3, 6, 7, Z, Z, Z, Z}, {0, 1, 3, 6, 7, Z, Z, Z},
    {2, 3, 6, 7, Z, Z, Z, Z}, {0, 2, 3, 6, 7, Z, Z, Z}, {1, 2, 3, 6, 7, Z, Z, Z}, {0, 1, 2, 3, 6, 7, Z, Z},
    {4, 6, 7, Z, Z, Z, Z, Z}, {0, 4, 6, 7, Z, Z, Z, Z}, {1, 4, 6, 7, Z, Z, Z, Z}, {0, 1, 4, 6, 7, Z, Z, Z},
    {2, 4, 6, 7, Z, Z, Z, Z}, {0, 2, 4, 6, 7, Z, Z, Z}, {1, 2, 4, 6, 7, Z, Z, Z}, {0, 1, 2, 4, 6, 7, Z, Z},
    {3, 4, 6, 7, Z, Z, Z, Z}, {0, 3, 4, 6, 7, Z, Z, Z}, {1, 3, 4, 6, 7, Z, Z, Z}, {0, 1, 3, 4, 6, 7, Z, Z},
    {2, 3, 4, 6, 7, Z, Z, Z}, {0, 2, 3, 4, 6, 7, Z, Z}, {1, 2, 3, 4, 6, 7, Z, Z}, {0, 1, 2, 3, 4, 6, 7, Z},
    {5, 6, 7, Z, Z, Z, Z, Z}, {0, 5, 6, 7, Z, Z, Z, Z}, {1, 5, 6, 7, Z, Z, Z, Z}, {0, 1, 5, 6, 7, Z, Z, Z},
    {2, 5, 6, 7, Z, Z, Z, Z}, {0, 2, 5, 6, 7, Z, Z, Z}, {1, 2, 5, 6, 7, Z, Z, Z}, {0, 1, 2, 5, 6, 7, Z, Z},
    {3, 5, 6, 7, Z, Z, Z, Z}, {0, 3, 5, 6, 7, Z, Z, Z}, {1, 3, 5, 6, 7, Z, Z, Z}, {0, 1, 3, 5, 6, 7, Z, Z},
    {2, 3, 5, 6, 7, Z, Z, Z}, {0, 2, 3, 5, 6, 7, Z, Z}, {1, 2, 3, 5, 6, 7, Z, Z}, {0, 1, 2, 3, 5, 6, 7, Z},
    {4, 5, 6, 7, Z, Z, Z, Z}, {0, 4, 5, 6, 7, Z, Z, Z}, {1, 4, 5, 6, 7, Z, Z, Z}, {0, 1, 4, 5, 6, 7, Z, Z},
    {2, 4, 5, 6, 7, Z, Z, Z}, {0, 2, 4, 5, 6, 7, Z, Z}, {1, 2, 4, 5, 6, 7, Z, Z}, {0, 1, 2, 4, 5, 6, 7, Z},
    {3, 4, 5, 6, 7, Z, Z, Z}, {0, 3, 4, 5, 6, 7, Z, Z}, {1, 3, 4, 5, 6, 7, Z, Z}, {0, 1, 3, 4, 5, 6, 7, Z},
    {2, 3, 4, 5, 6, 7, Z, Z}, {0, 2, 3, 4, 5, 6, 7, Z}, {1, 2, 3, 4, 5, 6, 7, Z}, {0, 1, 2, 3, 4, 5, 6, 7},
};
#undef Z

static const uint8_t wsf_u8d_popc[256] = {
    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5,
    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6,
    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6,
    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6, 3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7,
    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6,
    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6, 3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7,
    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6, 3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7,
    3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7, 4, 5, 5, 6, 5, 6, 6, 7, 5, 6, 6, 7, 6, 7, 7, 8,
};

/* ------------------------------------------------------------------------ */
/* Block ends                                                                */
/* ------------------------------------------------------------------------ */

/* Transcoding runs over fixed blocks of w bytes (16, 32, 64).  A code point
 * ends at position k of a block when the byte after it is not a
 * continuation byte: bit k + 1 of the block's lead mask, or, for the last
 * position, the first byte of the next block (or the end of the input).  A
 * short last block is a zero-padded copy: its padding counts as leads, and
 * the positions past the input are dropped. */
static inline uint32_t wsf_u8d_ends(uint32_t lead, unsigned w, const uint8_t *p, size_t i,
                                    size_t n)
{
    const size_t avail = n - i;
    if (avail > w)
        return (lead >> 1) | ((uint32_t)((p[i + w] & 0xC0) != 0x80) << (w - 1));
    if (avail == w)
        return (lead >> 1) | ((uint32_t)1 << (w - 1));
    return (lead >> 1) & (((uint32_t)1 << avail) - 1);
}

static inline uint64_t wsf_u8d_ends64(uint64_t lead, const uint8_t *p, size_t i, size_t n)
{
    const size_t avail = n - i;
    if (avail > 64)
        return (lead >> 1) | ((uint64_t)((p[i + 64] & 0xC0) != 0x80) << 63);
    if (avail == 64)
        return (lead >> 1) | ((uint64_t)1 << 63);
    return (lead >> 1) & ((((uint64_t)1) << avail) - 1);
}

/* ------------------------------------------------------------------------ */
/* x86                                                                       */
/* ------------------------------------------------------------------------ */
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)

/* Horizontal sum of two 64-bit lanes / largest byte of a vector. */
static inline uint64_t wsf_u8d_sse_sum64(__m128i v)
{
    uint64_t s[2];
    _mm_storeu_si128((__m128i *)(void *)s, v);
    return s[0] + s[1];
}

static inline unsigned wsf_u8d_sse_maxbyte(__m128i mx)
{
    mx = _mm_max_epu8(mx, _mm_srli_si128(mx, 8));
    mx = _mm_max_epu8(mx, _mm_srli_si128(mx, 4));
    mx = _mm_max_epu8(mx, _mm_srli_si128(mx, 2));
    mx = _mm_max_epu8(mx, _mm_srli_si128(mx, 1));
    return (unsigned)_mm_cvtsi128_si32(mx) & 0xFFu;
}

/* Count / class pass, SSE2 (the baseline): per byte lane a counter of
 * continuation bytes (the compare gives -1, subtracted), folded into 64-bit
 * sums with psadbw before a lane can wrap (255 blocks); the largest byte
 * with pmaxub.  The last n % 16 bytes go through the scalar pass. */
static inline size_t wsf_u8d_count_sse2(const uint8_t *p, size_t n, unsigned *maxbyte)
{
    const __m128i zero = _mm_setzero_si128(), c0 = _mm_set1_epi8(-64);
    __m128i mx = zero, sums = zero;
    size_t i = 0, points;
    unsigned mb, tail;
    while (n - i >= 16) {
        size_t blocks = (n - i) / 16, k;
        __m128i acc = zero;
        if (blocks > 255)
            blocks = 255;
        for (k = 0; k < blocks; k++, i += 16) {
            __m128i in = _mm_loadu_si128((const __m128i *)(p + i));
            mx = _mm_max_epu8(mx, in);
            acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(in, c0));
        }
        sums = _mm_add_epi64(sums, _mm_sad_epu8(acc, zero));
    }
    points = i - (size_t)wsf_u8d_sse_sum64(sums);
    points += wsf_u8d_count_scalar(p + i, n - i, &tail);
    mb = wsf_u8d_sse_maxbyte(mx);
    *maxbyte = tail > mb ? tail : mb;
    return points;
}

WSF_TARGET("avx2")
static inline size_t wsf_u8d_count_avx2(const uint8_t *p, size_t n, unsigned *maxbyte)
{
    const __m256i zero = _mm256_setzero_si256(), c0 = _mm256_set1_epi8(-64);
    __m256i mx = zero, sums = zero;
    size_t i = 0, points;
    unsigned mb, tail;
    __m128i m128, s128;
    while (n - i >= 64) {
        size_t blocks = (n - i) / 64, k;
        __m256i acc0 = zero, acc1 = zero;
        if (blocks > 255)
            blocks = 255;
        for (k = 0; k < blocks; k++, i += 64) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
            __m256i b = _mm256_loadu_si256((const __m256i *)(p + i + 32));
            mx = _mm256_max_epu8(mx, _mm256_max_epu8(a, b));
            acc0 = _mm256_sub_epi8(acc0, _mm256_cmpgt_epi8(c0, a));
            acc1 = _mm256_sub_epi8(acc1, _mm256_cmpgt_epi8(c0, b));
        }
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(acc0, zero));
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(acc1, zero));
    }
    s128 = _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
    m128 = _mm_max_epu8(_mm256_castsi256_si128(mx), _mm256_extracti128_si256(mx, 1));
    points = i - (size_t)wsf_u8d_sse_sum64(s128);
    points += wsf_u8d_count_sse2(p + i, n - i, &tail);
    mb = wsf_u8d_sse_maxbyte(m128);
    *maxbyte = tail > mb ? tail : mb;
    return points;
}

WSF_TARGET("avx512f,avx512bw")
static inline size_t wsf_u8d_count_avx512(const uint8_t *p, size_t n, unsigned *maxbyte)
{
    const __m512i zero = _mm512_setzero_si512(), c0 = _mm512_set1_epi8(-64);
    const __m512i one = _mm512_set1_epi8(1);
    __m512i mx = zero, sums = zero;
    size_t i = 0;
    uint64_t total;
    __m256i m256;
    __m128i m128;
    while (n - i >= 64) {
        size_t blocks = (n - i) / 64, b;
        __m512i acc = zero;
        if (blocks > 255)
            blocks = 255;
        for (b = 0; b < blocks; b++, i += 64) {
            __m512i in = _mm512_loadu_si512((const void *)(p + i));
            mx = _mm512_max_epu8(mx, in);
            acc = _mm512_mask_add_epi8(acc, _mm512_cmplt_epi8_mask(in, c0), acc, one);
        }
        sums = _mm512_add_epi64(sums, _mm512_sad_epu8(acc, zero));
    }
    if (i < n) {
        /* Masked-off lanes are not read (faults suppressed) and load as 0. */
        __mmask64 m = (((uint64_t)1) << (n - i)) - 1;
        __m512i in = _mm512_maskz_loadu_epi8(m, (const void *)(p + i));
        mx = _mm512_max_epu8(mx, in);
        sums = _mm512_add_epi64(
            sums, _mm512_sad_epu8(_mm512_maskz_mov_epi8(_mm512_cmplt_epi8_mask(in, c0), one), zero));
        i = n;
    }
    total = (uint64_t)_mm512_reduce_add_epi64(sums);
    m256 = _mm256_max_epu8(_mm512_castsi512_si256(mx), _mm512_extracti64x4_epi64(mx, 1));
    m128 = _mm_max_epu8(_mm256_castsi256_si128(m256), _mm256_extracti128_si256(m256, 1));
    *maxbyte = wsf_u8d_sse_maxbyte(m128);
    return n - (size_t)total;
}

/* -- 16-byte blocks (SSSE3 pshufb/palignr, SSE4.1 pblendvb) ----------------- */

/* The planes of a block; prev is the block before it (zeros at the start),
 * whose last bytes are b1..b3 of the first positions.  `kind` is a constant
 * after inlining: UCS-1 needs lo only, UCS-2 lo and hi, UCS-4 all three. */
WSF_TARGET("ssse3,sse4.1")
WSF_U8D_INLINE void wsf_u8d_sse_planes(__m128i in, __m128i prev, int kind, __m128i *lo,
                                       __m128i *hi, __m128i *top)
{
    const __m128i asc = _mm_cmpgt_epi8(in, _mm_set1_epi8(-1));
    const __m128i c0 = _mm_set1_epi8(-64); /* below: a continuation byte */
    __m128i b1 = _mm_alignr_epi8(in, prev, 15);
    /* 16-bit shifts drag bits over from the neighbour byte; the masks drop them. */
    __m128i v = _mm_or_si128(_mm_and_si128(in, _mm_set1_epi8(0x3F)),
                             _mm_and_si128(_mm_slli_epi16(b1, 6), _mm_set1_epi8((char)0xC0)));
    *lo = _mm_blendv_epi8(v, in, asc);
    if (kind >= 2) {
        __m128i b2 = _mm_alignr_epi8(in, prev, 14);
        __m128i c1 = _mm_cmplt_epi8(b1, c0);
        __m128i h = _mm_and_si128(_mm_srli_epi16(b1, 2), _mm_set1_epi8(0x0F));
        __m128i h2 = _mm_and_si128(_mm_slli_epi16(b2, 4), _mm_set1_epi8((char)0xF0));
        *hi = _mm_andnot_si128(asc, _mm_or_si128(h, _mm_and_si128(c1, h2)));
        if (kind == 4) {
            __m128i b3 = _mm_alignr_epi8(in, prev, 13);
            __m128i c12 = _mm_and_si128(c1, _mm_cmplt_epi8(b2, c0));
            __m128i t = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(b2, 4), _mm_set1_epi8(0x03)),
                                     _mm_and_si128(_mm_slli_epi16(b3, 2), _mm_set1_epi8(0x1C)));
            *top = _mm_andnot_si128(asc, _mm_and_si128(c12, t));
        }
    }
}

/* Write the units of the positions set in e (16 bits) to dst, in order;
 * returns how many.  Writes up to 16 units past dst whatever e is. */
WSF_TARGET("ssse3,sse4.1")
WSF_U8D_INLINE size_t wsf_u8d_sse_emit(uint8_t *dst, int kind, __m128i lo, __m128i hi,
                                       __m128i top, unsigned e)
{
    const unsigned e0 = e & 0xFFu, e1 = (e >> 8) & 0xFFu;
    const size_t n0 = wsf_u8d_popc[e0];
    const __m128i i0 = _mm_loadl_epi64((const __m128i *)(const void *)wsf_u8d_pack[e0]);
    const __m128i i1 = _mm_add_epi8(
        _mm_loadl_epi64((const __m128i *)(const void *)wsf_u8d_pack[e1]), _mm_set1_epi8(8));
    if (kind == 1) {
        _mm_storel_epi64((__m128i *)(void *)dst, _mm_shuffle_epi8(lo, i0));
        _mm_storel_epi64((__m128i *)(void *)(dst + n0), _mm_shuffle_epi8(lo, i1));
    } else if (kind == 2) {
        _mm_storeu_si128((__m128i *)(void *)dst,
                         _mm_unpacklo_epi8(_mm_shuffle_epi8(lo, i0), _mm_shuffle_epi8(hi, i0)));
        _mm_storeu_si128((__m128i *)(void *)(dst + 2 * n0),
                         _mm_unpacklo_epi8(_mm_shuffle_epi8(lo, i1), _mm_shuffle_epi8(hi, i1)));
    } else {
        const __m128i zero = _mm_setzero_si128();
        __m128i w = _mm_unpacklo_epi8(_mm_shuffle_epi8(lo, i0), _mm_shuffle_epi8(hi, i0));
        __m128i t = _mm_unpacklo_epi8(_mm_shuffle_epi8(top, i0), zero);
        _mm_storeu_si128((__m128i *)(void *)dst, _mm_unpacklo_epi16(w, t));
        _mm_storeu_si128((__m128i *)(void *)(dst + 16), _mm_unpackhi_epi16(w, t));
        w = _mm_unpacklo_epi8(_mm_shuffle_epi8(lo, i1), _mm_shuffle_epi8(hi, i1));
        t = _mm_unpacklo_epi8(_mm_shuffle_epi8(top, i1), zero);
        _mm_storeu_si128((__m128i *)(void *)(dst + 4 * n0), _mm_unpacklo_epi16(w, t));
        _mm_storeu_si128((__m128i *)(void *)(dst + 4 * n0 + 16), _mm_unpackhi_epi16(w, t));
    }
    return n0 + wsf_u8d_popc[e1];
}

/* 16 ASCII bytes as 16 units. */
WSF_TARGET("ssse3,sse4.1")
WSF_U8D_INLINE void wsf_u8d_sse_widen(uint8_t *dst, int kind, __m128i in)
{
    const __m128i zero = _mm_setzero_si128();
    if (kind == 1) {
        _mm_storeu_si128((__m128i *)(void *)dst, in);
    } else if (kind == 2) {
        _mm_storeu_si128((__m128i *)(void *)dst, _mm_unpacklo_epi8(in, zero));
        _mm_storeu_si128((__m128i *)(void *)(dst + 16), _mm_unpackhi_epi8(in, zero));
    } else {
        __m128i a = _mm_unpacklo_epi8(in, zero), b = _mm_unpackhi_epi8(in, zero);
        _mm_storeu_si128((__m128i *)(void *)dst, _mm_unpacklo_epi16(a, zero));
        _mm_storeu_si128((__m128i *)(void *)(dst + 16), _mm_unpackhi_epi16(a, zero));
        _mm_storeu_si128((__m128i *)(void *)(dst + 32), _mm_unpacklo_epi16(b, zero));
        _mm_storeu_si128((__m128i *)(void *)(dst + 48), _mm_unpackhi_epi16(b, zero));
    }
}

/* The units of a block's 16 positions at unit o of dst[0..m): through a
 * local buffer when fewer than 16 units of room are left.  Returns the new o. */
WSF_TARGET("ssse3,sse4.1")
WSF_U8D_INLINE size_t wsf_u8d_sse_put(uint8_t *dst, size_t o, size_t m, int kind, __m128i lo,
                                      __m128i hi, __m128i top, unsigned e)
{
    uint8_t tmp[16 * 4];
    size_t count;
    if (m - o >= 16)
        return o + wsf_u8d_sse_emit(dst + o * (size_t)kind, kind, lo, hi, top, e);
    count = wsf_u8d_sse_emit(tmp, kind, lo, hi, top, e);
    if (count > m - o)
        count = m - o;
    memcpy(dst + o * (size_t)kind, tmp, count * (size_t)kind);
    return o + count;
}

WSF_TARGET("ssse3,sse4.1")
static inline void wsf_u8d_sse(uint8_t *dst, size_t m, const uint8_t *p, size_t n, int kind)
{
    __m128i prev = _mm_setzero_si128();
    size_t i = 0, o = 0;
    while (i < n && o < m) {
        const size_t avail = n - i;
        __m128i in, lo, hi = _mm_setzero_si128(), top = _mm_setzero_si128();
        unsigned e;
        if (avail >= 16) {
            in = _mm_loadu_si128((const __m128i *)(p + i));
            if (_mm_movemask_epi8(in) == 0 && m - o >= 16) {
                wsf_u8d_sse_widen(dst + o * (size_t)kind, kind, in);
                prev = in;
                i += 16;
                o += 16;
                continue;
            }
        } else {
            uint8_t pad[16] = {0};
            memcpy(pad, p + i, avail);
            in = _mm_loadu_si128((const __m128i *)(void *)pad);
        }
        e = wsf_u8d_ends((unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(in, _mm_set1_epi8(-65))),
                         16, p, i, n);
        wsf_u8d_sse_planes(in, prev, kind, &lo, &hi, &top);
        o = wsf_u8d_sse_put(dst, o, m, kind, lo, hi, top, e);
        prev = in;
        i += 16;
    }
    if (o < m)
        memset(dst + o * (size_t)kind, 0, (m - o) * (size_t)kind);
}

/* -- 32-byte blocks (AVX2) --------------------------------------------------- */

/* x shifted up by k bytes (0 < k < 16) across the two lanes, the last
 * bytes of prev shifted in. */
#define WSF_U8D_AVX2_UP(x, prev, k) \
    _mm256_alignr_epi8((x), _mm256_permute2x128_si256((prev), (x), 0x21), 16 - (k))

WSF_TARGET("avx2")
WSF_U8D_INLINE void wsf_u8d_avx2_planes(__m256i in, __m256i prev, int kind, __m256i *lo,
                                        __m256i *hi, __m256i *top)
{
    const __m256i asc = _mm256_cmpgt_epi8(in, _mm256_set1_epi8(-1));
    const __m256i c0 = _mm256_set1_epi8(-64);
    __m256i b1 = WSF_U8D_AVX2_UP(in, prev, 1);
    __m256i v = _mm256_or_si256(
        _mm256_and_si256(in, _mm256_set1_epi8(0x3F)),
        _mm256_and_si256(_mm256_slli_epi16(b1, 6), _mm256_set1_epi8((char)0xC0)));
    *lo = _mm256_blendv_epi8(v, in, asc);
    if (kind >= 2) {
        __m256i b2 = WSF_U8D_AVX2_UP(in, prev, 2);
        __m256i c1 = _mm256_cmpgt_epi8(c0, b1);
        __m256i h = _mm256_and_si256(_mm256_srli_epi16(b1, 2), _mm256_set1_epi8(0x0F));
        __m256i h2 = _mm256_and_si256(_mm256_slli_epi16(b2, 4), _mm256_set1_epi8((char)0xF0));
        *hi = _mm256_andnot_si256(asc, _mm256_or_si256(h, _mm256_and_si256(c1, h2)));
        if (kind == 4) {
            __m256i b3 = WSF_U8D_AVX2_UP(in, prev, 3);
            __m256i c12 = _mm256_and_si256(c1, _mm256_cmpgt_epi8(c0, b2));
            __m256i t = _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(b2, 4), _mm256_set1_epi8(0x03)),
                _mm256_and_si256(_mm256_slli_epi16(b3, 2), _mm256_set1_epi8(0x1C)));
            *top = _mm256_andnot_si256(asc, _mm256_and_si256(c12, t));
        }
    }
}

WSF_TARGET("avx2")
WSF_U8D_INLINE void wsf_u8d_avx2_widen(uint8_t *dst, int kind, __m256i in)
{
    if (kind == 1) {
        _mm256_storeu_si256((__m256i *)(void *)dst, in);
    } else if (kind == 2) {
        _mm256_storeu_si256((__m256i *)(void *)dst,
                            _mm256_cvtepu8_epi16(_mm256_castsi256_si128(in)));
        _mm256_storeu_si256((__m256i *)(void *)(dst + 32),
                            _mm256_cvtepu8_epi16(_mm256_extracti128_si256(in, 1)));
    } else {
        __m128i a = _mm256_castsi256_si128(in), b = _mm256_extracti128_si256(in, 1);
        _mm256_storeu_si256((__m256i *)(void *)dst, _mm256_cvtepu8_epi32(a));
        _mm256_storeu_si256((__m256i *)(void *)(dst + 32),
                            _mm256_cvtepu8_epi32(_mm_srli_si128(a, 8)));
        _mm256_storeu_si256((__m256i *)(void *)(dst + 64), _mm256_cvtepu8_epi32(b));
        _mm256_storeu_si256((__m256i *)(void *)(dst + 96),
                            _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
    }
}

WSF_TARGET("avx2")
static inline void wsf_u8d_avx2(uint8_t *dst, size_t m, const uint8_t *p, size_t n, int kind)
{
    __m256i prev = _mm256_setzero_si256();
    size_t i = 0, o = 0;
    while (i < n && o < m) {
        const size_t avail = n - i;
        __m256i in, lo, hi = _mm256_setzero_si256(), top = _mm256_setzero_si256();
        uint32_t e;
        if (avail >= 32) {
            in = _mm256_loadu_si256((const __m256i *)(p + i));
            if (_mm256_movemask_epi8(in) == 0 && m - o >= 32) {
                wsf_u8d_avx2_widen(dst + o * (size_t)kind, kind, in);
                prev = in;
                i += 32;
                o += 32;
                continue;
            }
        } else {
            uint8_t pad[32] = {0};
            memcpy(pad, p + i, avail);
            in = _mm256_loadu_si256((const __m256i *)(void *)pad);
        }
        e = wsf_u8d_ends(
            (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(in, _mm256_set1_epi8(-65))), 32, p,
            i, n);
        wsf_u8d_avx2_planes(in, prev, kind, &lo, &hi, &top);
        o = wsf_u8d_sse_put(dst, o, m, kind, _mm256_castsi256_si128(lo),
                            _mm256_castsi256_si128(hi), _mm256_castsi256_si128(top),
                            e & 0xFFFFu);
        o = wsf_u8d_sse_put(dst, o, m, kind, _mm256_extracti128_si256(lo, 1),
                            _mm256_extracti128_si256(hi, 1), _mm256_extracti128_si256(top, 1),
                            e >> 16);
        prev = in;
        i += 32;
    }
    if (o < m)
        memset(dst + o * (size_t)kind, 0, (m - o) * (size_t)kind);
}

/* -- 64-byte blocks (AVX-512 F+BW; VBMI2 when present) ------------------------- */

/* x shifted up by k bytes (0 < k < 16) across the four lanes, the last
 * bytes of prev shifted in: valignq brings each lane's predecessor under
 * it, vpalignr takes k bytes of it. */
#define WSF_U8D_AVX512_UP(x, prev, k) \
    _mm512_alignr_epi8((x), _mm512_alignr_epi64((x), (prev), 6), 16 - (k))

WSF_TARGET("avx512f,avx512bw")
WSF_U8D_INLINE void wsf_u8d_avx512_widen(uint8_t *dst, int kind, __m512i in)
{
    if (kind == 1) {
        _mm512_storeu_si512((void *)dst, in);
    } else if (kind == 2) {
        _mm512_storeu_si512((void *)dst, _mm512_cvtepu8_epi16(_mm512_castsi512_si256(in)));
        _mm512_storeu_si512((void *)(dst + 64),
                            _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(in, 1)));
    } else {
        _mm512_storeu_si512((void *)dst, _mm512_cvtepu8_epi32(_mm512_castsi512_si128(in)));
        _mm512_storeu_si512((void *)(dst + 64),
                            _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(in, 1)));
        _mm512_storeu_si512((void *)(dst + 128),
                            _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(in, 2)));
        _mm512_storeu_si512((void *)(dst + 192),
                            _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(in, 3)));
    }
}

/* The planes of a 64-byte block (byte masks instead of mask vectors). */
WSF_TARGET("avx512f,avx512bw")
WSF_U8D_INLINE void wsf_u8d_avx512_planes(__m512i in, __m512i prev, uint64_t hb, int kind,
                                          __m512i *lo, __m512i *hi, __m512i *top)
{
    const __m512i c0 = _mm512_set1_epi8(-64);
    __m512i b1 = WSF_U8D_AVX512_UP(in, prev, 1);
    __m512i v = _mm512_or_si512(
        _mm512_and_si512(in, _mm512_set1_epi8(0x3F)),
        _mm512_and_si512(_mm512_slli_epi16(b1, 6), _mm512_set1_epi8((char)0xC0)));
    *lo = _mm512_mask_blend_epi8(~hb, v, in);
    if (kind >= 2) {
        __m512i b2 = WSF_U8D_AVX512_UP(in, prev, 2);
        uint64_t c1 = (uint64_t)_mm512_cmplt_epi8_mask(b1, c0);
        __m512i h = _mm512_and_si512(_mm512_srli_epi16(b1, 2), _mm512_set1_epi8(0x0F));
        __m512i h2 = _mm512_and_si512(_mm512_slli_epi16(b2, 4), _mm512_set1_epi8((char)0xF0));
        *hi = _mm512_maskz_mov_epi8(hb, _mm512_or_si512(h, _mm512_maskz_mov_epi8(c1, h2)));
        if (kind == 4) {
            __m512i b3 = WSF_U8D_AVX512_UP(in, prev, 3);
            uint64_t c12 = c1 & (uint64_t)_mm512_cmplt_epi8_mask(b2, c0);
            __m512i t = _mm512_or_si512(
                _mm512_and_si512(_mm512_srli_epi16(b2, 4), _mm512_set1_epi8(0x03)),
                _mm512_and_si512(_mm512_slli_epi16(b3, 2), _mm512_set1_epi8(0x1C)));
            *top = _mm512_maskz_mov_epi8(hb & c12, t);
        }
    }
}

/* Lane k (0..3) of a vector; extract needs a constant index. */
WSF_TARGET("avx512f,avx512bw")
WSF_U8D_INLINE __m128i wsf_u8d_avx512_lane(__m512i x, int k)
{
    switch (k) {
    case 0:
        return _mm512_castsi512_si128(x);
    case 1:
        return _mm512_extracti32x4_epi32(x, 1);
    case 2:
        return _mm512_extracti32x4_epi32(x, 2);
    default:
        return _mm512_extracti32x4_epi32(x, 3);
    }
}

/* Units of a block with 64 units of room: the F+BW way (byte shuffles per
 * 8 positions; vpcompressd for UCS-4, measured 1.5x the shuffles there). */
WSF_TARGET("avx512f,avx512bw")
WSF_U8D_INLINE size_t wsf_u8d_avx512_emit(uint8_t *dst, int kind, __m512i lo, __m512i hi,
                                          __m512i top, uint64_t e)
{
    size_t count = 0;
    int lane;
    for (lane = 0; lane < 4; lane++) {
        const unsigned e16 = (unsigned)(e >> (16 * lane)) & 0xFFFFu;
        const __m128i l = wsf_u8d_avx512_lane(lo, lane), h = wsf_u8d_avx512_lane(hi, lane);
        if (kind == 4) {
            __m512i v = _mm512_ternarylogic_epi32(
                _mm512_cvtepu8_epi32(l), _mm512_slli_epi32(_mm512_cvtepu8_epi32(h), 8),
                _mm512_slli_epi32(_mm512_cvtepu8_epi32(wsf_u8d_avx512_lane(top, lane)), 16),
                0xFE);
            _mm512_storeu_si512((void *)(dst + 4 * count),
                                _mm512_maskz_compress_epi32((__mmask16)e16, v));
            count += (size_t)wsf_u8d_popc[e16 & 0xFF] + wsf_u8d_popc[e16 >> 8];
        } else {
            count += wsf_u8d_sse_emit(dst + count * (size_t)kind, kind, l, h,
                                      _mm_setzero_si128(), e16);
        }
    }
    return count;
}

/* The same with AVX512-VBMI2 (Ice Lake, Zen 4 and later): vpcompressb packs
 * each plane of the block in one instruction; the packed bytes are then
 * widened 16 or 32 units at a time. */
WSF_TARGET("avx512f,avx512bw,avx512vbmi2,popcnt")
WSF_U8D_INLINE size_t wsf_u8d_avx512_emit_vbmi2(uint8_t *dst, int kind, __m512i lo,
                                                __m512i hi, __m512i top, uint64_t e)
{
    const size_t count = (size_t)_mm_popcnt_u64(e);
    lo = _mm512_maskz_compress_epi8((__mmask64)e, lo);
    if (kind == 1) {
        _mm512_storeu_si512((void *)dst, lo);
    } else if (kind == 2) {
        hi = _mm512_maskz_compress_epi8((__mmask64)e, hi);
        _mm512_storeu_si512(
            (void *)dst,
            _mm512_or_si512(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(lo)),
                            _mm512_slli_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(hi)),
                                              8)));
        if (count > 32)
            _mm512_storeu_si512(
                (void *)(dst + 64),
                _mm512_or_si512(
                    _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(lo, 1)),
                    _mm512_slli_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(hi, 1)),
                                      8)));
    } else {
        int g;
        hi = _mm512_maskz_compress_epi8((__mmask64)e, hi);
        top = _mm512_maskz_compress_epi8((__mmask64)e, top);
        for (g = 0; g < 4 && (size_t)(16 * g) < count; g++)
            _mm512_storeu_si512(
                (void *)(dst + 64 * g),
                _mm512_ternarylogic_epi32(
                    _mm512_cvtepu8_epi32(wsf_u8d_avx512_lane(lo, g)),
                    _mm512_slli_epi32(_mm512_cvtepu8_epi32(wsf_u8d_avx512_lane(hi, g)), 8),
                    _mm512_slli_epi32(_mm512_cvtepu8_epi32(wsf_u8d_avx512_lane(top, g)), 16),
                    0xFE));
    }
    return count;
}

/* The block loop of both flavours (a macro: the VBMI2 one may only be
 * inlined into a function compiled for VBMI2).  The last, partial block is
 * a masked load: masked-off lanes are neither read (faults suppressed) nor
 * kept (they are 0). */
#define WSF_U8D_AVX512_BLOCKS(EMIT)                                                        \
    do {                                                                                   \
        __m512i prev = _mm512_setzero_si512();                                             \
        size_t i = 0, o = 0;                                                               \
        while (i < n && o < m) {                                                           \
            const size_t avail = n - i;                                                    \
            __m512i in, lo, hi = _mm512_setzero_si512(), top = _mm512_setzero_si512();     \
            uint64_t hb, e;                                                                \
            if (avail >= 64)                                                               \
                in = _mm512_loadu_si512((const void *)(p + i));                            \
            else                                                                           \
                in = _mm512_maskz_loadu_epi8((((uint64_t)1) << avail) - 1,                 \
                                             (const void *)(p + i));                       \
            hb = (uint64_t)_mm512_movepi8_mask(in);                                        \
            if (hb == 0 && avail >= 64 && m - o >= 64) {                                   \
                wsf_u8d_avx512_widen(dst + o * (size_t)kind, kind, in);                    \
                prev = in;                                                                 \
                i += 64;                                                                   \
                o += 64;                                                                   \
                continue;                                                                  \
            }                                                                              \
            e = wsf_u8d_ends64(                                                            \
                (uint64_t)_mm512_cmpgt_epi8_mask(in, _mm512_set1_epi8(-65)), p, i, n);     \
            wsf_u8d_avx512_planes(in, prev, hb, kind, &lo, &hi, &top);                     \
            if (m - o >= 64) {                                                             \
                o += EMIT(dst + o * (size_t)kind, kind, lo, hi, top, e);                   \
            } else {                                                                       \
                uint8_t tmp[64 * 4];                                                       \
                size_t count = EMIT(tmp, kind, lo, hi, top, e);                            \
                if (count > m - o)                                                         \
                    count = m - o;                                                         \
                memcpy(dst + o * (size_t)kind, tmp, count * (size_t)kind);                 \
                o += count;                                                                \
            }                                                                              \
            prev = in;                                                                     \
            i += 64;                                                                       \
        }                                                                                  \
        if (o < m)                                                                         \
            memset(dst + o * (size_t)kind, 0, (m - o) * (size_t)kind);                     \
    } while (0)

WSF_TARGET("avx512f,avx512bw")
static inline void wsf_u8d_avx512(uint8_t *dst, size_t m, const uint8_t *p, size_t n, int kind)
{
    WSF_U8D_AVX512_BLOCKS(wsf_u8d_avx512_emit);
}

WSF_TARGET("avx512f,avx512bw,avx512vbmi2,popcnt")
static inline void wsf_u8d_avx512_vbmi2(uint8_t *dst, size_t m, const uint8_t *p, size_t n,
                                        int kind)
{
    WSF_U8D_AVX512_BLOCKS(wsf_u8d_avx512_emit_vbmi2);
}

#endif /* x86 */

/* ------------------------------------------------------------------------ */
/* NEON (little-endian AArch64: the units are interleaved byte planes)       */
/* ------------------------------------------------------------------------ */
#if defined(WSF_ARM64) && !defined(__ARM_BIG_ENDIAN)
#define WSF_U8D_NEON 1

static inline size_t wsf_u8d_count_neon(const uint8_t *p, size_t n, unsigned *maxbyte)
{
    const int8x16_t c0 = vdupq_n_s8(-64);
    uint8x16_t mx = vdupq_n_u8(0);
    uint64_t conts = 0;
    size_t i = 0, points;
    unsigned mb, tail;
    while (n - i >= 16) {
        size_t blocks = (n - i) / 16, k;
        uint8x16_t acc = vdupq_n_u8(0);
        if (blocks > 255)
            blocks = 255;
        for (k = 0; k < blocks; k++, i += 16) {
            uint8x16_t in = vld1q_u8(p + i);
            mx = vmaxq_u8(mx, in);
            acc = vsubq_u8(acc, vcltq_s8(vreinterpretq_s8_u8(in), c0));
        }
        conts += vaddlvq_u8(acc);
    }
    points = i - (size_t)conts;
    points += wsf_u8d_count_scalar(p + i, n - i, &tail);
    mb = vmaxvq_u8(mx);
    *maxbyte = tail > mb ? tail : mb;
    return points;
}

/* Bit k of the result is the top bit of byte k (a 0x00 / 0xFF mask). */
static inline unsigned wsf_u8d_neon_bits(uint8x16_t m)
{
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                        1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t t = vandq_u8(m, vld1q_u8(weights));
    return (unsigned)vaddv_u8(vget_low_u8(t)) | ((unsigned)vaddv_u8(vget_high_u8(t)) << 8);
}

static inline void wsf_u8d_neon_planes(uint8x16_t in, uint8x16_t prev, int kind,
                                       uint8x16_t *lo, uint8x16_t *hi, uint8x16_t *top)
{
    const uint8x16_t asc = vcltq_u8(in, vdupq_n_u8(0x80));
    const int8x16_t c0 = vdupq_n_s8(-64);
    uint8x16_t b1 = vextq_u8(prev, in, 15);
    uint8x16_t v = vorrq_u8(vandq_u8(in, vdupq_n_u8(0x3F)), vshlq_n_u8(b1, 6));
    *lo = vbslq_u8(asc, in, v);
    if (kind >= 2) {
        uint8x16_t b2 = vextq_u8(prev, in, 14);
        uint8x16_t c1 = vcltq_s8(vreinterpretq_s8_u8(b1), c0);
        uint8x16_t h = vandq_u8(vshrq_n_u8(b1, 2), vdupq_n_u8(0x0F));
        *hi = vbicq_u8(vorrq_u8(h, vandq_u8(c1, vshlq_n_u8(b2, 4))), asc);
        if (kind == 4) {
            uint8x16_t b3 = vextq_u8(prev, in, 13);
            uint8x16_t c12 = vandq_u8(c1, vcltq_s8(vreinterpretq_s8_u8(b2), c0));
            uint8x16_t t = vorrq_u8(vandq_u8(vshrq_n_u8(b2, 4), vdupq_n_u8(0x03)),
                                    vandq_u8(vshlq_n_u8(b3, 2), vdupq_n_u8(0x1C)));
            *top = vbicq_u8(vandq_u8(c12, t), asc);
        }
    }
}

static inline size_t wsf_u8d_neon_emit(uint8_t *dst, int kind, uint8x16_t lo, uint8x16_t hi,
                                       uint8x16_t top, unsigned e)
{
    const unsigned e0 = e & 0xFFu, e1 = (e >> 8) & 0xFFu;
    const size_t n0 = wsf_u8d_popc[e0];
    const uint8x8_t i0 = vld1_u8(wsf_u8d_pack[e0]);
    const uint8x8_t i1 = vadd_u8(vld1_u8(wsf_u8d_pack[e1]), vdup_n_u8(8));
    int half;
    for (half = 0; half < 2; half++) {
        const uint8x8_t idx = half ? i1 : i0;
        uint8_t *out = dst + (half ? n0 * (size_t)kind : 0);
        uint8x8_t l = vqtbl1_u8(lo, idx);
        if (kind == 1) {
            vst1_u8(out, l);
        } else {
            uint8x8_t h = vqtbl1_u8(hi, idx);
            uint8x16_t w = vcombine_u8(vzip1_u8(l, h), vzip2_u8(l, h));
            if (kind == 2) {
                vst1q_u8(out, w);
            } else {
                uint8x8_t t = vqtbl1_u8(top, idx), z = vdup_n_u8(0);
                uint16x8_t t16 = vreinterpretq_u16_u8(vcombine_u8(vzip1_u8(t, z), vzip2_u8(t, z)));
                uint16x8_t w16 = vreinterpretq_u16_u8(w);
                vst1q_u8(out, vreinterpretq_u8_u16(vzip1q_u16(w16, t16)));
                vst1q_u8(out + 16, vreinterpretq_u8_u16(vzip2q_u16(w16, t16)));
            }
        }
    }
    return n0 + wsf_u8d_popc[e1];
}

static inline void wsf_u8d_neon_widen(uint8_t *dst, int kind, uint8x16_t in)
{
    const uint8x16_t zero = vdupq_n_u8(0);
    if (kind == 1) {
        vst1q_u8(dst, in);
    } else if (kind == 2) {
        vst1q_u8(dst, vzip1q_u8(in, zero));
        vst1q_u8(dst + 16, vzip2q_u8(in, zero));
    } else {
        uint16x8_t a = vreinterpretq_u16_u8(vzip1q_u8(in, zero));
        uint16x8_t b = vreinterpretq_u16_u8(vzip2q_u8(in, zero));
        const uint16x8_t z16 = vdupq_n_u16(0);
        vst1q_u8(dst, vreinterpretq_u8_u16(vzip1q_u16(a, z16)));
        vst1q_u8(dst + 16, vreinterpretq_u8_u16(vzip2q_u16(a, z16)));
        vst1q_u8(dst + 32, vreinterpretq_u8_u16(vzip1q_u16(b, z16)));
        vst1q_u8(dst + 48, vreinterpretq_u8_u16(vzip2q_u16(b, z16)));
    }
}

static inline void wsf_u8d_neon(uint8_t *dst, size_t m, const uint8_t *p, size_t n, int kind)
{
    uint8x16_t prev = vdupq_n_u8(0);
    size_t i = 0, o = 0;
    while (i < n && o < m) {
        const size_t avail = n - i;
        uint8x16_t in, lo, hi = vdupq_n_u8(0), top = vdupq_n_u8(0);
        unsigned e;
        if (avail >= 16) {
            in = vld1q_u8(p + i);
            if (vmaxvq_u8(in) < 0x80 && m - o >= 16) {
                wsf_u8d_neon_widen(dst + o * (size_t)kind, kind, in);
                prev = in;
                i += 16;
                o += 16;
                continue;
            }
        } else {
            uint8_t pad[16] = {0};
            memcpy(pad, p + i, avail);
            in = vld1q_u8(pad);
        }
        e = wsf_u8d_ends(wsf_u8d_neon_bits(vcgtq_s8(vreinterpretq_s8_u8(in), vdupq_n_s8(-65))),
                         16, p, i, n);
        wsf_u8d_neon_planes(in, prev, kind, &lo, &hi, &top);
        if (m - o >= 16) {
            o += wsf_u8d_neon_emit(dst + o * (size_t)kind, kind, lo, hi, top, e);
        } else {
            uint8_t tmp[16 * 4];
            size_t count = wsf_u8d_neon_emit(tmp, kind, lo, hi, top, e);
            if (count > m - o)
                count = m - o;
            memcpy(dst + o * (size_t)kind, tmp, count * (size_t)kind);
            o += count;
        }
        prev = in;
        i += 16;
    }
    if (o < m)
        memset(dst + o * (size_t)kind, 0, (m - o) * (size_t)kind);
}

#endif /* NEON */

/* ------------------------------------------------------------------------ */
/* ASCII copy: copy while checking, one pass                                */
/* ------------------------------------------------------------------------ */

static inline size_t wsf_u8d_ascii_copy_scalar(uint8_t *dst, const uint8_t *p, size_t n)
{
    size_t i = 0, k;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & WSF_U8D_HIGH)
            return i;
        memcpy(dst + i, &w, 8);
    }
    for (k = i; k < n; k++)
        if (p[k] & 0x80)
            return i;
    memcpy(dst + i, p + i, n - i);
    return n;
}

#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
static inline size_t wsf_u8d_ascii_copy_sse2(uint8_t *dst, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; n - i >= 64; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(p + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(p + i + 48));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))))
            return i;
        _mm_storeu_si128((__m128i *)(dst + i), a);
        _mm_storeu_si128((__m128i *)(dst + i + 16), b);
        _mm_storeu_si128((__m128i *)(dst + i + 32), c);
        _mm_storeu_si128((__m128i *)(dst + i + 48), d);
    }
    return i + wsf_u8d_ascii_copy_scalar(dst + i, p + i, n - i);
}

WSF_TARGET("avx512f,avx512bw")
static inline size_t wsf_u8d_ascii_copy_avx512(uint8_t *dst, const uint8_t *p, size_t n)
{
    size_t i = 0;
    __mmask64 m;
    __m512i a;
    for (; n - i >= 128; i += 128) {
        __m512i b;
        a = _mm512_loadu_si512((const void *)(p + i));
        b = _mm512_loadu_si512((const void *)(p + i + 64));
        if (_mm512_movepi8_mask(_mm512_or_si512(a, b)))
            return i;
        _mm512_storeu_si512((void *)(dst + i), a);
        _mm512_storeu_si512((void *)(dst + i + 64), b);
    }
    for (; i < n; i += 64) {
        m = n - i >= 64 ? ~(__mmask64)0 : (((uint64_t)1) << (n - i)) - 1;
        a = _mm512_maskz_loadu_epi8(m, (const void *)(p + i));
        if (_mm512_movepi8_mask(a))
            return i;
        _mm512_mask_storeu_epi8((void *)(dst + i), m, a);
    }
    return n;
}
#endif

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

/* Length and class of p[0..n), which must be valid UTF-8 (else the numbers
 * mean nothing, but nothing outside p[0..n) is read).  `level` is already
 * capped to what the CPU supports. */
static inline wsf_utf8_shape wsf_utf8_measure(const uint8_t *p, size_t n, int level)
{
    wsf_utf8_shape s;
    unsigned mb = 0;
    (void)level;
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    /* Below 256 bytes the AVX-512 count's masked tail and reductions cost
     * more than they save: 6-10 ns over AVX2 at 65-200 bytes (Zen 4). */
    if (level >= WSF_SIMD_AVX512 && n >= 256)
        s.length = wsf_u8d_count_avx512(p, n, &mb);
    else if (level >= WSF_SIMD_AVX2 && n >= 64)
        s.length = wsf_u8d_count_avx2(p, n, &mb);
    else if (level >= WSF_SIMD_BASE && n >= 16)
        s.length = wsf_u8d_count_sse2(p, n, &mb);
    else
        s.length = wsf_u8d_count_scalar(p, n, &mb);
#elif defined(WSF_U8D_NEON)
    if (level >= WSF_SIMD_BASE && n >= 16)
        s.length = wsf_u8d_count_neon(p, n, &mb);
    else
        s.length = wsf_u8d_count_scalar(p, n, &mb);
#else
    s.length = wsf_u8d_count_scalar(p, n, &mb);
#endif
    s.maxchar = wsf_utf8_maxchar_of(mb);
    return s;
}

/* Units of `kind` bytes (1, 2, 4), native order, for valid p[0..n) whose
 * code points all fit: exactly dst[0..m) is written, m being the measured
 * length. */
WSF_U8D_INLINE void wsf_u8d_dispatch(uint8_t *dst, size_t m, const uint8_t *p, size_t n,
                                     int kind, int level)
{
    (void)level;
    if (n >= WSF_UTF8_DECODE_SIMD_FROM) {
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
        if (level >= WSF_SIMD_AVX512) {
            if (wsf_utf8_x86_vbmi2_ok)
                wsf_u8d_avx512_vbmi2(dst, m, p, n, kind);
            else
                wsf_u8d_avx512(dst, m, p, n, kind);
            return;
        }
        if (level >= WSF_SIMD_AVX2) {
            wsf_u8d_avx2(dst, m, p, n, kind);
            return;
        }
        if (level >= WSF_SIMD_BASE && wsf_utf8_x86_base_ok) {
            wsf_u8d_sse(dst, m, p, n, kind);
            return;
        }
#elif defined(WSF_U8D_NEON)
        if (level >= WSF_SIMD_BASE) {
            wsf_u8d_neon(dst, m, p, n, kind);
            return;
        }
#endif
    }
    wsf_u8d_scalar(dst, 0, m, p, 0, n, kind);
}

static inline void wsf_utf8_to_ucs1(uint8_t *dst, size_t m, const uint8_t *p, size_t n, int level)
{
    wsf_u8d_dispatch(dst, m, p, n, 1, level);
}

static inline void wsf_utf8_to_ucs2(uint16_t *dst, size_t m, const uint8_t *p, size_t n,
                                    int level)
{
    wsf_u8d_dispatch((uint8_t *)(void *)dst, m, p, n, 2, level);
}

static inline void wsf_utf8_to_ucs4(uint32_t *dst, size_t m, const uint8_t *p, size_t n,
                                    int level)
{
    wsf_u8d_dispatch((uint8_t *)(void *)dst, m, p, n, 4, level);
}

/* Copy p[0..n) to dst for as long as it is ASCII, checking as it copies
 * (for a str optimistically made 1 byte per code point).  Returns n when all
 * of it was ASCII; else some k before the first non-ASCII byte, after which
 * only ASCII was seen: a code-point boundary, where the general path can
 * take over.  dst has room for n bytes. */
static inline size_t wsf_utf8_ascii_copy(uint8_t *dst, const uint8_t *p, size_t n, int level)
{
    (void)level;
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    if (level >= WSF_SIMD_AVX512)
        return wsf_u8d_ascii_copy_avx512(dst, p, n);
    if (level >= WSF_SIMD_BASE)
        return wsf_u8d_ascii_copy_sse2(dst, p, n);
#endif
    return wsf_u8d_ascii_copy_scalar(dst, p, n);
}

/* Fill the storage of a str made for `shape` (the result of
 * wsf_utf8_measure on the same bytes): 1 byte per unit up to U+00FF
 * (ASCII is a copy), 2 up to U+FFFF, else 4. */
static inline void wsf_utf8_decode(void *dst, wsf_utf8_shape shape, const uint8_t *p, size_t n,
                                   int level)
{
    if (shape.maxchar <= 0x7F) {
        size_t copy = shape.length < n ? shape.length : n;
        if (copy) /* p may be NULL when n is 0 (an empty message) */
            memcpy(dst, p, copy);
        if (shape.length > n) /* only for invalid input */
            memset((uint8_t *)dst + n, 0, shape.length - n);
    } else if (shape.maxchar <= 0xFF) {
        wsf_utf8_to_ucs1((uint8_t *)dst, shape.length, p, n, level);
    } else if (shape.maxchar <= 0xFFFF) {
        wsf_utf8_to_ucs2((uint16_t *)dst, shape.length, p, n, level);
    } else {
        wsf_utf8_to_ucs4((uint32_t *)dst, shape.length, p, n, level);
    }
}

#endif /* WSFAST_UTF8_DECODE_H */
