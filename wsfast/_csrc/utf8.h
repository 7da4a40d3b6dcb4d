/* Strict UTF-8 validation (RFC 3629), one-shot and streaming.
 *
 * "Valid" means exactly what CPython's bytes.decode("utf-8") accepts: no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF,
 * no bytes C0, C1, F5..FF, every continuation byte where one is expected and
 * nowhere else.  RFC 6455 section 8.1 requires a text message to be exactly
 * this.
 *
 * Well-formed byte sequences (RFC 3629 section 4, Unicode Table 3-7):
 *
 *     U+0000..U+007F     00..7F
 *     U+0080..U+07FF     C2..DF  80..BF
 *     U+0800..U+0FFF     E0      A0..BF  80..BF
 *     U+1000..U+CFFF     E1..EC  80..BF  80..BF
 *     U+D000..U+D7FF     ED      80..9F  80..BF
 *     U+E000..U+FFFF     EE..EF  80..BF  80..BF
 *     U+10000..U+3FFFF   F0      90..BF  80..BF  80..BF
 *     U+40000..U+FFFFF   F1..F3  80..BF  80..BF  80..BF
 *     U+100000..U+10FFFF F4      80..8F  80..BF  80..BF
 *
 * Kernels: a scalar DFA with a word-at-a-time ASCII skip (every platform),
 * and lookup-table SIMD validators after Keiser & Lemire, "Validating UTF-8
 * In Less Than One Instruction Per Byte" (Software: Practice and Experience,
 * 2021) for SSSE3/SSE4.1, AVX2, AVX-512 (F+BW) and NEON.
 *
 * No kernel reads outside [p, p + n).  The last partial block is either the
 * last full block of the input, overlapping bytes already checked, or, for
 * inputs shorter than two blocks, a copy in a zero-padded local block (on
 * AVX-512 a fault-suppressing masked load).  Zero padding is ASCII, so a
 * sequence cut short by the end of the input is reported by the padding byte
 * that follows it.
 *
 * Plain C99, no Python.h.  Everything is `static inline` so that a file using
 * only part of the interface compiles without unused-function warnings.
 */
#ifndef WSFAST_UTF8_H
#define WSFAST_UTF8_H

#include "cpu.h"

/* ------------------------------------------------------------------------ */
/* Scalar: a shift-based DFA.                                                */
/*                                                                          */
/* The state is the bit offset of a 6-bit field; wsf_utf8_dfa[b] packs, for  */
/* every state, the state that byte b leads to.  One table load (which does  */
/* not depend on the state) and one shift per byte keep the loop-carried     */
/* dependency to a shift and a mask.                                          */
/* ------------------------------------------------------------------------ */

#define WSF_U8_ACC 0u   /* on a code-point boundary */
#define WSF_U8_REJ 6u   /* invalid; absorbing */
#define WSF_U8_C1 12u   /* one more 80..BF */
#define WSF_U8_C2 18u   /* two more 80..BF */
#define WSF_U8_E0 24u   /* after E0: A0..BF, then one more */
#define WSF_U8_ED 30u   /* after ED: 80..9F (no surrogates), then one more */
#define WSF_U8_F0 36u   /* after F0: 90..BF (no overlongs), then two more */
#define WSF_U8_F1 42u   /* after F1..F3: 80..BF, then two more */
#define WSF_U8_F4 48u   /* after F4: 80..8F (<= U+10FFFF), then two more */

/* One table row: the next state from each state; REJ always stays REJ. */
#define WSF_U8_ROW(acc, c1, c2, e0, ed, f0, f1, f4)                          \
    (((uint64_t)(acc) << WSF_U8_ACC) | ((uint64_t)WSF_U8_REJ << WSF_U8_REJ) | \
     ((uint64_t)(c1) << WSF_U8_C1) | ((uint64_t)(c2) << WSF_U8_C2) |           \
     ((uint64_t)(e0) << WSF_U8_E0) | ((uint64_t)(ed) << WSF_U8_ED) |           \
     ((uint64_t)(f0) << WSF_U8_F0) | ((uint64_t)(f1) << WSF_U8_F1) |           \
     ((uint64_t)(f4) << WSF_U8_F4))

#define WSF_U8_R WSF_U8_REJ
/* Byte classes.                acc         c1          c2          e0          ed          f0          f1          f4 */
#define WSF_U8_ASCII WSF_U8_ROW(WSF_U8_ACC, WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)
#define WSF_U8_X80   WSF_U8_ROW(WSF_U8_R,   WSF_U8_ACC, WSF_U8_C1,  WSF_U8_R,   WSF_U8_C1,  WSF_U8_R,   WSF_U8_C2,  WSF_U8_C2) /* 80..8F */
#define WSF_U8_X90   WSF_U8_ROW(WSF_U8_R,   WSF_U8_ACC, WSF_U8_C1,  WSF_U8_R,   WSF_U8_C1,  WSF_U8_C2,  WSF_U8_C2,  WSF_U8_R)  /* 90..9F */
#define WSF_U8_XA0   WSF_U8_ROW(WSF_U8_R,   WSF_U8_ACC, WSF_U8_C1,  WSF_U8_C1,  WSF_U8_R,   WSF_U8_C2,  WSF_U8_C2,  WSF_U8_R)  /* A0..BF */
#define WSF_U8_BAD   WSF_U8_ROW(WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)  /* C0 C1 F5..FF */
#define WSF_U8_L2    WSF_U8_ROW(WSF_U8_C1,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)  /* C2..DF */
#define WSF_U8_LE0   WSF_U8_ROW(WSF_U8_E0,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)
#define WSF_U8_L3    WSF_U8_ROW(WSF_U8_C2,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)  /* E1..EC EE EF */
#define WSF_U8_LED   WSF_U8_ROW(WSF_U8_ED,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)
#define WSF_U8_LF0   WSF_U8_ROW(WSF_U8_F0,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)
#define WSF_U8_L4    WSF_U8_ROW(WSF_U8_F1,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)  /* F1..F3 */
#define WSF_U8_LF4   WSF_U8_ROW(WSF_U8_F4,  WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R,   WSF_U8_R)

#define WSF_U8_X1(r) r
#define WSF_U8_X2(r) r, r
#define WSF_U8_X3(r) r, r, r
#define WSF_U8_X4(r) WSF_U8_X2(r), WSF_U8_X2(r)
#define WSF_U8_X8(r) WSF_U8_X4(r), WSF_U8_X4(r)
#define WSF_U8_X16(r) WSF_U8_X8(r), WSF_U8_X8(r)
#define WSF_U8_X32(r) WSF_U8_X16(r), WSF_U8_X16(r)

static const uint64_t wsf_utf8_dfa[256] = {
    WSF_U8_X32(WSF_U8_ASCII), WSF_U8_X32(WSF_U8_ASCII),              /* 00..3F */
    WSF_U8_X32(WSF_U8_ASCII), WSF_U8_X32(WSF_U8_ASCII),              /* 40..7F */
    WSF_U8_X16(WSF_U8_X80), WSF_U8_X16(WSF_U8_X90),                  /* 80..9F */
    WSF_U8_X32(WSF_U8_XA0),                                          /* A0..BF */
    WSF_U8_X2(WSF_U8_BAD), WSF_U8_X16(WSF_U8_L2), WSF_U8_X8(WSF_U8_L2),
    WSF_U8_X4(WSF_U8_L2), WSF_U8_X2(WSF_U8_L2),                      /* C0..DF */
    WSF_U8_LE0, WSF_U8_X8(WSF_U8_L3), WSF_U8_X4(WSF_U8_L3), WSF_U8_LED,
    WSF_U8_X2(WSF_U8_L3),                                            /* E0..EF */
    WSF_U8_LF0, WSF_U8_X3(WSF_U8_L4), WSF_U8_LF4,
    WSF_U8_X8(WSF_U8_BAD), WSF_U8_X3(WSF_U8_BAD),                    /* F0..FF */
};

static inline uint32_t wsf_utf8_step(uint32_t state, uint8_t byte)
{
    return (uint32_t)(wsf_utf8_dfa[byte] >> state) & 63u;
}

/* Run the DFA over p[0..n) from `state`; REJ is absorbing, so callers may
 * check for it after a whole run. */
static inline uint32_t wsf_utf8_dfa_run(uint32_t state, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        state = wsf_utf8_step(state, p[i]);
    return state;
}

#define WSF_U8_HIGH_BITS 0x8080808080808080ull

/* Scalar kernel.  ASCII is skipped 16 then 8 bytes at a time (memcpy into a
 * uint64_t: one unaligned load, no aliasing problems), but only on a
 * code-point boundary; everything else goes through the DFA in bursts of 16
 * bytes, checking for REJ after each burst. */
static inline int wsf_utf8_valid_scalar(const uint8_t *p, size_t n)
{
    uint32_t st = WSF_U8_ACC;
    size_t i = 0, end;
    uint64_t a, b;
    while (i < n) {
        if (st == WSF_U8_ACC) {
            for (; n - i >= 16; i += 16) {
                memcpy(&a, p + i, 8);
                memcpy(&b, p + i + 8, 8);
                if ((a | b) & WSF_U8_HIGH_BITS)
                    break;
            }
            for (; n - i >= 8; i += 8) {
                memcpy(&a, p + i, 8);
                if (a & WSF_U8_HIGH_BITS)
                    break;
            }
            while (i < n && p[i] < 0x80)
                i++;
            if (i == n)
                break;
        }
        end = (n - i > 16) ? i + 16 : n;
        for (; i < end; i++)
            st = wsf_utf8_step(st, p[i]);
        if (st == WSF_U8_REJ)
            return 0;
    }
    return st == WSF_U8_ACC;
}

/* ------------------------------------------------------------------------ */
/* SIMD: the lookup-table method.                                            */
/*                                                                          */
/* Every byte is checked together with the byte before it (prev1): three    */
/* 16-entry table lookups, indexed by prev1's high nibble, prev1's low      */
/* nibble and the current byte's high nibble, return a bit set of the error */
/* kinds each nibble is compatible with; the AND of the three is non-zero   */
/* exactly when the pair (prev1, byte) is one of these errors:               */
/*                                                                          */
/*   TOO_SHORT   lead byte followed by a lead byte or ASCII                 */
/*   TOO_LONG    ASCII followed by a continuation byte                      */
/*   OVERLONG_2  C0/C1 followed by a continuation byte                      */
/*   OVERLONG_3  E0 followed by 80..9F                                      */
/*   OVERLONG_4  F0 followed by 80..8F                                      */
/*   SURROGATE   ED followed by A0..BF                                      */
/*   TOO_LARGE   F4 followed by 90..BF, or F5..FF followed by 90..BF        */
/*   TOO_LARGE_1000  F5..FF followed by 80..8F (shares OVERLONG_4's bit)    */
/*   TWO_CONTS   continuation followed by continuation                      */
/*                                                                          */
/* TWO_CONTS is an error only when the byte is not the third or fourth byte */
/* of a sequence; that is known from prev2 >= E0 or prev3 >= F0, and        */
/* XOR-ing that expectation with the TWO_CONTS bit leaves an error in both  */
/* directions (a continuation missing, or one too many).                    */
/*                                                                          */
/* A sequence cut by the end of a block is finished in the next block,      */
/* which sees it through prev1..prev3; if the next block is pure ASCII (the */
/* fast path skips the lookups), the carried "incomplete" flags of the      */
/* previous block's last three bytes are the error.                         */
/* ------------------------------------------------------------------------ */

#define WSF_U8_TOO_SHORT 0x01
#define WSF_U8_TOO_LONG 0x02
#define WSF_U8_OVERLONG_3 0x04
#define WSF_U8_TOO_LARGE 0x08
#define WSF_U8_SURROGATE 0x10
#define WSF_U8_OVERLONG_2 0x20
#define WSF_U8_TOO_LARGE_1000 0x40
#define WSF_U8_OVERLONG_4 0x40
#define WSF_U8_TWO_CONTS 0x80
#define WSF_U8_CARRY (WSF_U8_TOO_SHORT | WSF_U8_TOO_LONG | WSF_U8_TWO_CONTS)

/* Indexed by the high nibble of prev1. */
static const uint8_t wsf_utf8_t1_high[16] = {
    /* 0..7: ASCII */
    WSF_U8_TOO_LONG, WSF_U8_TOO_LONG, WSF_U8_TOO_LONG, WSF_U8_TOO_LONG,
    WSF_U8_TOO_LONG, WSF_U8_TOO_LONG, WSF_U8_TOO_LONG, WSF_U8_TOO_LONG,
    /* 8..B: continuation */
    WSF_U8_TWO_CONTS, WSF_U8_TWO_CONTS, WSF_U8_TWO_CONTS, WSF_U8_TWO_CONTS,
    /* C: 2-byte lead (C0, C1 overlong) */
    WSF_U8_TOO_SHORT | WSF_U8_OVERLONG_2,
    /* D: 2-byte lead */
    WSF_U8_TOO_SHORT,
    /* E: 3-byte lead */
    WSF_U8_TOO_SHORT | WSF_U8_OVERLONG_3 | WSF_U8_SURROGATE,
    /* F: 4-byte lead (and F5..FF) */
    WSF_U8_TOO_SHORT | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000 | WSF_U8_OVERLONG_4,
};

/* Indexed by the low nibble of prev1. */
static const uint8_t wsf_utf8_t1_low[16] = {
    /* x0: C0, E0, F0 */
    WSF_U8_CARRY | WSF_U8_OVERLONG_2 | WSF_U8_OVERLONG_3 | WSF_U8_OVERLONG_4,
    /* x1: C1 */
    WSF_U8_CARRY | WSF_U8_OVERLONG_2,
    WSF_U8_CARRY,
    WSF_U8_CARRY,
    /* x4: F4 */
    WSF_U8_CARRY | WSF_U8_TOO_LARGE,
    /* x5..xF: F5..FF (and ED for the surrogates) */
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000 | WSF_U8_SURROGATE,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
    WSF_U8_CARRY | WSF_U8_TOO_LARGE | WSF_U8_TOO_LARGE_1000,
};

/* Indexed by the high nibble of the current byte. */
static const uint8_t wsf_utf8_t2_high[16] = {
    /* 0..7: ASCII */
    WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT,
    WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT,
    /* 8: 80..8F */
    WSF_U8_TOO_LONG | WSF_U8_OVERLONG_2 | WSF_U8_TWO_CONTS | WSF_U8_OVERLONG_3 |
        WSF_U8_TOO_LARGE_1000 | WSF_U8_OVERLONG_4,
    /* 9: 90..9F */
    WSF_U8_TOO_LONG | WSF_U8_OVERLONG_2 | WSF_U8_TWO_CONTS | WSF_U8_OVERLONG_3 |
        WSF_U8_TOO_LARGE,
    /* A, B: A0..BF */
    WSF_U8_TOO_LONG | WSF_U8_OVERLONG_2 | WSF_U8_TWO_CONTS | WSF_U8_SURROGATE |
        WSF_U8_TOO_LARGE,
    WSF_U8_TOO_LONG | WSF_U8_OVERLONG_2 | WSF_U8_TWO_CONTS | WSF_U8_SURROGATE |
        WSF_U8_TOO_LARGE,
    /* C..F: leads */
    WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT, WSF_U8_TOO_SHORT,
};

/* Saturating-subtract thresholds for the "incomplete at the end of a block"
 * flags: a byte above them starts a sequence longer than what is left. */
static const uint8_t wsf_utf8_incomplete_max[64] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    0xF0 - 1, 0xE0 - 1, 0xC0 - 1,
};

/* Byte-shift indexes for a table lookup (pshufb / tbl): loading 16 bytes at
 * offset s gives idx[j] = j + s - 16, or 0x80 (a zero byte) where that is
 * negative.  Shuffling a block with them moves its last 16 - s bytes to the
 * top: the "bytes before" of a block starting s bytes later. */
static const uint8_t wsf_utf8_shift_idx[32] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
};

/* Recorded by wsf_utf8_init: pshufb (SSSE3) is not in the x86-64 baseline;
 * byte compress (AVX512-VBMI2) is not in the AVX-512 level (utf8_decode.h). */
static int wsf_utf8_x86_base_ok = 0;
static int wsf_utf8_x86_vbmi2_ok = 0;

/* ---------------------------- SSSE3 / SSE4.1 ---------------------------- */
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)

/* The tables as vectors; loaded once per call and kept in registers. */
typedef struct {
    __m128i t1h, t1l, t2h, lo4, max;
} wsf_utf8_sse_consts;

WSF_TARGET("ssse3,sse4.1")
static inline __m128i wsf_utf8_sse_check(const wsf_utf8_sse_consts *k, __m128i in,
                                         __m128i prev)
{
    __m128i p1 = _mm_alignr_epi8(in, prev, 15);
    __m128i p2 = _mm_alignr_epi8(in, prev, 14);
    __m128i p3 = _mm_alignr_epi8(in, prev, 13);
    /* srli_epi16 drags bits from the neighbour byte in: mask to a nibble. */
    __m128i a = _mm_shuffle_epi8(k->t1h, _mm_and_si128(_mm_srli_epi16(p1, 4), k->lo4));
    __m128i b = _mm_shuffle_epi8(k->t1l, _mm_and_si128(p1, k->lo4));
    __m128i c = _mm_shuffle_epi8(k->t2h, _mm_and_si128(_mm_srli_epi16(in, 4), k->lo4));
    __m128i special = _mm_and_si128(_mm_and_si128(a, b), c);
    /* The top bit of prev2 - 0x60 (saturating) is set iff prev2 >= E0;
     * likewise prev3 - 0x70 for prev3 >= F0. */
    __m128i must23 = _mm_or_si128(_mm_subs_epu8(p2, _mm_set1_epi8(0x60)),
                                  _mm_subs_epu8(p3, _mm_set1_epi8(0x70)));
    must23 = _mm_and_si128(must23, _mm_set1_epi8((char)0x80));
    return _mm_xor_si128(must23, special);
}

WSF_TARGET("ssse3,sse4.1")
static inline int wsf_utf8_valid_sse(const uint8_t *p, size_t n)
{
    wsf_utf8_sse_consts k;
    __m128i prev = _mm_setzero_si128(), inc = _mm_setzero_si128();
    __m128i err = _mm_setzero_si128();
    size_t i = 0;
    k.t1h = _mm_loadu_si128((const __m128i *)wsf_utf8_t1_high);
    k.t1l = _mm_loadu_si128((const __m128i *)wsf_utf8_t1_low);
    k.t2h = _mm_loadu_si128((const __m128i *)wsf_utf8_t2_high);
    k.lo4 = _mm_set1_epi8(0x0F);
    k.max = _mm_loadu_si128((const __m128i *)(wsf_utf8_incomplete_max + 48));
    for (; i + 64 <= n; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(p + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(p + i + 48));
        __m128i any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        if (_mm_movemask_epi8(any) == 0) {
            err = inc;
        } else {
            err = wsf_utf8_sse_check(&k, a, prev);
            err = _mm_or_si128(err, wsf_utf8_sse_check(&k, b, a));
            err = _mm_or_si128(err, wsf_utf8_sse_check(&k, c, b));
            err = _mm_or_si128(err, wsf_utf8_sse_check(&k, d, c));
        }
        if (!_mm_testz_si128(err, err))
            return 0;
        inc = _mm_subs_epu8(d, k.max);
        prev = d;
    }
    for (; n - i >= 16; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        err = _mm_or_si128(err, wsf_utf8_sse_check(&k, a, prev));
        inc = _mm_subs_epu8(a, k.max);
        prev = a;
    }
    if (i < n) {
        /* The last 16 bytes, overlapping bytes already checked: checking a
         * byte twice, with its real predecessors, changes nothing, and this
         * avoids copying (a copy costs a store-to-load stall). */
        __m128i a;
        if (n >= 32) {
            prev = _mm_loadu_si128((const __m128i *)(p + n - 32));
            a = _mm_loadu_si128((const __m128i *)(p + n - 16));
        } else if (n > 16) {
            /* prev holds p[0..16): shift the bytes before p[n - 16] to its top. */
            prev = _mm_shuffle_epi8(
                prev, _mm_loadu_si128((const __m128i *)(wsf_utf8_shift_idx + (n - 16))));
            a = _mm_loadu_si128((const __m128i *)(p + n - 16));
        } else {
            uint8_t pad[16] = {0};
            memcpy(pad, p, n);
            a = _mm_loadu_si128((const __m128i *)pad);
        }
        err = _mm_or_si128(err, wsf_utf8_sse_check(&k, a, prev));
        inc = _mm_subs_epu8(a, k.max);
    }
    err = _mm_or_si128(err, inc);
    return _mm_testz_si128(err, err);
}

/* -------------------------------- AVX2 ---------------------------------- */

typedef struct {
    __m256i t1h, t1l, t2h, lo4, max;
} wsf_utf8_avx2_consts;

WSF_TARGET("avx2")
static inline __m256i wsf_utf8_avx2_check(const wsf_utf8_avx2_consts *k, __m256i in,
                                          __m256i prev)
{
    /* alignr works per 128-bit lane: give each lane the lane before it
     * (the low lane gets the previous vector's high lane). */
    __m256i before = _mm256_permute2x128_si256(prev, in, 0x21);
    __m256i p1 = _mm256_alignr_epi8(in, before, 15);
    __m256i p2 = _mm256_alignr_epi8(in, before, 14);
    __m256i p3 = _mm256_alignr_epi8(in, before, 13);
    __m256i a = _mm256_shuffle_epi8(k->t1h, _mm256_and_si256(_mm256_srli_epi16(p1, 4), k->lo4));
    __m256i b = _mm256_shuffle_epi8(k->t1l, _mm256_and_si256(p1, k->lo4));
    __m256i c = _mm256_shuffle_epi8(k->t2h, _mm256_and_si256(_mm256_srli_epi16(in, 4), k->lo4));
    __m256i special = _mm256_and_si256(_mm256_and_si256(a, b), c);
    __m256i must23 = _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8(0x60)),
                                     _mm256_subs_epu8(p3, _mm256_set1_epi8(0x70)));
    must23 = _mm256_and_si256(must23, _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must23, special);
}

WSF_TARGET("avx2")
static inline int wsf_utf8_valid_avx2(const uint8_t *p, size_t n)
{
    wsf_utf8_avx2_consts k;
    __m256i prev = _mm256_setzero_si256(), inc = _mm256_setzero_si256();
    __m256i err = _mm256_setzero_si256();
    size_t i = 0;
    /* Below two blocks the SSE kernel's overlapping tail beats padding one. */
    if (n < 64 && wsf_utf8_x86_base_ok)
        return wsf_utf8_valid_sse(p, n);
    k.t1h = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)wsf_utf8_t1_high));
    k.t1l = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)wsf_utf8_t1_low));
    k.t2h = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)wsf_utf8_t2_high));
    k.lo4 = _mm256_set1_epi8(0x0F);
    k.max = _mm256_loadu_si256((const __m256i *)(wsf_utf8_incomplete_max + 32));
    for (; i + 64 <= n; i += 64) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(p + i + 32));
        if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
            err = inc;
        } else {
            err = _mm256_or_si256(wsf_utf8_avx2_check(&k, a, prev),
                                  wsf_utf8_avx2_check(&k, b, a));
        }
        if (!_mm256_testz_si256(err, err))
            return 0;
        inc = _mm256_subs_epu8(b, k.max);
        prev = b;
    }
    if (n - i >= 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
        err = _mm256_or_si256(err, wsf_utf8_avx2_check(&k, a, prev));
        inc = _mm256_subs_epu8(a, k.max);
        prev = a;
        i += 32;
    }
    if (i < n) {
        __m256i a;
        if (n >= 64) {
            /* Overlapping last block, as in the SSE kernel. */
            prev = _mm256_loadu_si256((const __m256i *)(p + n - 64));
            a = _mm256_loadu_si256((const __m256i *)(p + n - 32));
        } else {
            uint8_t pad[32] = {0};
            memcpy(pad, p + i, n - i);
            a = _mm256_loadu_si256((const __m256i *)pad);
        }
        err = _mm256_or_si256(err, wsf_utf8_avx2_check(&k, a, prev));
        inc = _mm256_subs_epu8(a, k.max);
    }
    err = _mm256_or_si256(err, inc);
    return _mm256_testz_si256(err, err);
}

/* ------------------------------ AVX-512 --------------------------------- */
/* F + BW only.  vpshufb and vpalignr stay inside 128-bit lanes, so the
 * "byte before" vector is built in two steps: valignq moves the previous
 * vector's top lane under the current vector's lanes 0..2 (crossing lanes,
 * AVX512F), then a per-lane vpalignr takes 1..3 bytes from it. */

typedef struct {
    __m512i t1h, t1l, t2h, lo4, max;
} wsf_utf8_avx512_consts;

WSF_TARGET("avx512f,avx512bw")
static inline __m512i wsf_utf8_avx512_check(const wsf_utf8_avx512_consts *k, __m512i in,
                                            __m512i prev)
{
    __m512i before = _mm512_alignr_epi64(in, prev, 6);
    __m512i p1 = _mm512_alignr_epi8(in, before, 15);
    __m512i p2 = _mm512_alignr_epi8(in, before, 14);
    __m512i p3 = _mm512_alignr_epi8(in, before, 13);
    __m512i a = _mm512_shuffle_epi8(k->t1h, _mm512_and_si512(_mm512_srli_epi16(p1, 4), k->lo4));
    __m512i b = _mm512_shuffle_epi8(k->t1l, _mm512_and_si512(p1, k->lo4));
    __m512i c = _mm512_shuffle_epi8(k->t2h, _mm512_and_si512(_mm512_srli_epi16(in, 4), k->lo4));
    /* vpternlogd 0x80 = a & b & c in one instruction. */
    __m512i special = _mm512_ternarylogic_epi32(a, b, c, 0x80);
    __m512i must23 = _mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8(0x60)),
                                     _mm512_subs_epu8(p3, _mm512_set1_epi8(0x70)));
    must23 = _mm512_and_si512(must23, _mm512_set1_epi8((char)0x80));
    return _mm512_xor_si512(must23, special);
}

WSF_TARGET("avx512f,avx512bw")
static inline int wsf_utf8_valid_avx512(const uint8_t *p, size_t n)
{
    wsf_utf8_avx512_consts k;
    __m512i prev = _mm512_setzero_si512(), inc = _mm512_setzero_si512();
    __m512i err = _mm512_setzero_si512();
    size_t i = 0;
    k.t1h = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)wsf_utf8_t1_high));
    k.t1l = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)wsf_utf8_t1_low));
    k.t2h = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)wsf_utf8_t2_high));
    k.lo4 = _mm512_set1_epi8(0x0F);
    k.max = _mm512_loadu_si512((const void *)wsf_utf8_incomplete_max);
    for (; i + 128 <= n; i += 128) {
        __m512i a = _mm512_loadu_si512((const void *)(p + i));
        __m512i b = _mm512_loadu_si512((const void *)(p + i + 64));
        if (_mm512_movepi8_mask(_mm512_or_si512(a, b)) == 0) {
            err = inc;
        } else {
            err = _mm512_or_si512(wsf_utf8_avx512_check(&k, a, prev),
                                  wsf_utf8_avx512_check(&k, b, a));
        }
        if (_mm512_test_epi8_mask(err, err) != 0)
            return 0;
        inc = _mm512_subs_epu8(b, k.max);
        prev = b;
    }
    for (; i < n; i += 64) {
        __m512i a;
        if (i + 64 <= n) {
            a = _mm512_loadu_si512((const void *)(p + i));
        } else {
            /* Masked-off lanes are neither read (faults are suppressed) nor
             * kept: they are zero, i.e. ASCII padding.  n - i < 64. */
            __mmask64 m = (((uint64_t)1) << (n - i)) - 1;
            a = _mm512_maskz_loadu_epi8(m, (const void *)(p + i));
        }
        err = _mm512_or_si512(err, wsf_utf8_avx512_check(&k, a, prev));
        inc = _mm512_subs_epu8(a, k.max);
        prev = a;
    }
    err = _mm512_or_si512(err, inc);
    return _mm512_test_epi8_mask(err, err) == 0;
}

#endif /* x86 */

/* -------------------------------- NEON ---------------------------------- */
#if defined(WSF_ARM64)

typedef struct {
    uint8x16_t t1h, t1l, t2h, lo4, max;
} wsf_utf8_neon_consts;

static inline uint8x16_t wsf_utf8_neon_check(const wsf_utf8_neon_consts *k, uint8x16_t in,
                                             uint8x16_t prev)
{
    uint8x16_t p1 = vextq_u8(prev, in, 15);
    uint8x16_t p2 = vextq_u8(prev, in, 14);
    uint8x16_t p3 = vextq_u8(prev, in, 13);
    /* NEON shifts bytes directly, and tbl returns 0 for indexes >= 16. */
    uint8x16_t a = vqtbl1q_u8(k->t1h, vshrq_n_u8(p1, 4));
    uint8x16_t b = vqtbl1q_u8(k->t1l, vandq_u8(p1, k->lo4));
    uint8x16_t c = vqtbl1q_u8(k->t2h, vshrq_n_u8(in, 4));
    uint8x16_t special = vandq_u8(vandq_u8(a, b), c);
    uint8x16_t must23 = vorrq_u8(vcgeq_u8(p2, vdupq_n_u8(0xE0)), vcgeq_u8(p3, vdupq_n_u8(0xF0)));
    must23 = vandq_u8(must23, vdupq_n_u8(0x80));
    return veorq_u8(must23, special);
}

static inline int wsf_utf8_valid_neon(const uint8_t *p, size_t n)
{
    wsf_utf8_neon_consts k;
    uint8x16_t prev = vdupq_n_u8(0), inc = vdupq_n_u8(0), err = vdupq_n_u8(0);
    size_t i = 0;
    k.t1h = vld1q_u8(wsf_utf8_t1_high);
    k.t1l = vld1q_u8(wsf_utf8_t1_low);
    k.t2h = vld1q_u8(wsf_utf8_t2_high);
    k.lo4 = vdupq_n_u8(0x0F);
    k.max = vld1q_u8(wsf_utf8_incomplete_max + 48);
    for (; i + 64 <= n; i += 64) {
        uint8x16_t a = vld1q_u8(p + i);
        uint8x16_t b = vld1q_u8(p + i + 16);
        uint8x16_t c = vld1q_u8(p + i + 32);
        uint8x16_t d = vld1q_u8(p + i + 48);
        uint8x16_t any = vorrq_u8(vorrq_u8(a, b), vorrq_u8(c, d));
        if (vmaxvq_u8(any) < 0x80) {
            err = inc;
        } else {
            err = wsf_utf8_neon_check(&k, a, prev);
            err = vorrq_u8(err, wsf_utf8_neon_check(&k, b, a));
            err = vorrq_u8(err, wsf_utf8_neon_check(&k, c, b));
            err = vorrq_u8(err, wsf_utf8_neon_check(&k, d, c));
        }
        if (vmaxvq_u8(err) != 0)
            return 0;
        inc = vqsubq_u8(d, k.max);
        prev = d;
    }
    for (; n - i >= 16; i += 16) {
        uint8x16_t a = vld1q_u8(p + i);
        err = vorrq_u8(err, wsf_utf8_neon_check(&k, a, prev));
        inc = vqsubq_u8(a, k.max);
        prev = a;
    }
    if (i < n) {
        /* Overlapping last block, as in the SSE kernel (tbl gives 0 for the
         * out-of-range 0x80 indexes, like pshufb). */
        uint8x16_t a;
        if (n >= 32) {
            prev = vld1q_u8(p + n - 32);
            a = vld1q_u8(p + n - 16);
        } else if (n > 16) {
            prev = vqtbl1q_u8(prev, vld1q_u8(wsf_utf8_shift_idx + (n - 16)));
            a = vld1q_u8(p + n - 16);
        } else {
            uint8_t pad[16] = {0};
            memcpy(pad, p, n);
            a = vld1q_u8(pad);
        }
        err = vorrq_u8(err, wsf_utf8_neon_check(&k, a, prev));
        inc = vqsubq_u8(a, k.max);
    }
    err = vorrq_u8(err, inc);
    return vmaxvq_u8(err) == 0;
}

#endif /* WSF_ARM64 */

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

/* Below this many bytes the scalar kernel wins: the SIMD kernels pay for
 * loading their tables and for a partial last block (measured: 2-4 ns for
 * 8..15 bytes of ASCII scalar, 5-12 ns SIMD).  Tests build with 1 to send
 * every input through the SIMD kernels. */
#ifndef WSF_UTF8_SIMD_FROM
#define WSF_UTF8_SIMD_FROM 16
#endif

/* Call once at module init with wsf_detect()'s result (records SSSE3 and
 * SSE4.1, which the x86 base-level kernel needs beyond SSE2, and VBMI2,
 * which utf8_decode.h uses at the AVX-512 level when present). */
static inline void wsf_utf8_init(const wsf_cpu_features *f)
{
    wsf_utf8_x86_base_ok = (f->ssse3 && f->sse41) ? 1 : 0;
    wsf_utf8_x86_vbmi2_ok = f->avx512vbmi2 ? 1 : 0;
}

/* 1 if p[0..n) is complete, valid UTF-8, else 0.  `level` is already capped
 * to what the CPU supports. */
static inline int wsf_utf8_valid(const uint8_t *p, size_t n, int level)
{
    (void)level;
    if (n < WSF_UTF8_SIMD_FROM)
        return wsf_utf8_valid_scalar(p, n);
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    if (level >= WSF_SIMD_AVX512)
        return wsf_utf8_valid_avx512(p, n);
    if (level >= WSF_SIMD_AVX2)
        return wsf_utf8_valid_avx2(p, n);
    if (level >= WSF_SIMD_BASE && wsf_utf8_x86_base_ok)
        return wsf_utf8_valid_sse(p, n);
#elif defined(WSF_ARM64)
    if (level >= WSF_SIMD_BASE)
        return wsf_utf8_valid_neon(p, n);
#endif
    return wsf_utf8_valid_scalar(p, n);
}

/* The kernel wsf_utf8_valid runs at `level` (already capped) for inputs of
 * WSF_UTF8_SIMD_FROM bytes and more, named for the instructions it needs:
 * the x86 base level (sse2) runs the SSSE3/SSE4.1 kernel, or the scalar DFA
 * on a CPU without them.  Kept beside the dispatch above: change both. */
static inline const char *wsf_utf8_kernel_name(int level)
{
    (void)level;
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    if (level >= WSF_SIMD_AVX512)
        return "avx512f+bw";
    if (level >= WSF_SIMD_AVX2)
        return "avx2";
    if (level >= WSF_SIMD_BASE && wsf_utf8_x86_base_ok)
        return "ssse3+sse4.1";
#elif defined(WSF_ARM64)
    if (level >= WSF_SIMD_BASE)
        return "neon";
#endif
    return "scalar";
}

/* ------------------------------------------------------------------------ */
/* Streaming                                                                 */
/*                                                                          */
/* The whole state is the DFA state: it says whether the bytes so far are a */
/* valid prefix, and which bytes may come next inside an unfinished code    */
/* point.  A feed (1) finishes a pending code point through the DFA, (2)    */
/* runs the one-shot SIMD kernel over the bulk up to the start of a code    */
/* point cut by the end of the feed, (3) runs the DFA over that cut code    */
/* point, so an impossible prefix such as ED A0 fails at once.              */
/*                                                                          */
/* Why (2) is exact: a byte >= C0 in valid UTF-8 always starts a code       */
/* point, so splitting there loses nothing; and if no sequence starting in  */
/* the last three bytes is cut, the bulk is either complete or invalid.     */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint32_t state; /* a WSF_U8_* DFA state */
} wsf_utf8_stream;

static inline void wsf_utf8_stream_reset(wsf_utf8_stream *s)
{
    s->state = WSF_U8_ACC;
}

/* Where the code point cut by the end of p[0..n) starts, or n if none is. */
static inline size_t wsf_utf8_cut_point(const uint8_t *p, size_t n)
{
    size_t back;
    for (back = 1; back <= 3 && back <= n; back++) {
        uint8_t b = p[n - back];
        if (b >= 0xC0) {
            size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            return need > back ? n - back : n;
        }
        if (b < 0x80)
            return n;
    }
    return n;
}

/* Feed the next n bytes.  1 while everything fed since the reset is a prefix
 * of valid UTF-8, 0 as soon as it cannot be (fail fast: "\xed\xa0" already is
 * a surrogate).  With `final` the stream must also end on a code-point
 * boundary; the state is kept either way.  Once 0, always 0 until reset. */
static inline int wsf_utf8_stream_feed(wsf_utf8_stream *s, const uint8_t *p, size_t n,
                                       int final, int level)
{
    uint32_t st = s->state;
    size_t i = 0, cut;
    if (st == WSF_U8_REJ)
        return 0;
    /* (1) Finish the pending code point (at most 3 bytes). */
    while (st != WSF_U8_ACC && st != WSF_U8_REJ && i < n)
        st = wsf_utf8_step(st, p[i++]);
    if (st == WSF_U8_ACC && i < n) {
        /* (2) The bulk, then (3) the cut code point, if any. */
        cut = i + wsf_utf8_cut_point(p + i, n - i);
        if (cut > i && !wsf_utf8_valid(p + i, cut - i, level))
            st = WSF_U8_REJ;
        else
            st = wsf_utf8_dfa_run(WSF_U8_ACC, p + cut, n - cut);
    }
    if (final && st != WSF_U8_ACC)
        st = WSF_U8_REJ;
    s->state = st;
    return st != WSF_U8_REJ;
}

/* 1 when not failed and the bytes so far end on a code-point boundary. */
static inline int wsf_utf8_stream_complete(const wsf_utf8_stream *s)
{
    return s->state == WSF_U8_ACC;
}

#endif /* WSFAST_UTF8_H */
