/* C-level tests of wsfast/_csrc/utf8.h against an independent reference.
 *
 * Every kernel the CPU supports is checked (or the one named by --level):
 *   - every 1- and 2-byte sequence at every offset 0..130 inside ASCII
 *     padding, with several padding lengths after it, so that the sequence
 *     crosses each SIMD block boundary and lands in the padded tail;
 *   - every 3-byte sequence, and every 4-byte sequence drawn from a set of
 *     boundary bytes, at placements chosen to straddle 16/32/64/128-byte
 *     block boundaries and the end of the input;
 *   - random 4-byte sequences at every offset 0..130;
 *   - every length 0..300 with an error put at every position;
 *   - random text and random garbage, one-shot and streamed with random
 *     split points (each feed's verdict is checked, so fail-fast is too).
 * Each input is copied into a malloc'd block of exactly its size, so that
 * AddressSanitizer reports any read before or after it.
 *
 * Usage: test_utf8 [--level N] [--quick] [--seed S] [--no-ssse3]
 *        test_utf8 --bench [--level N]     (GB/s per kernel, no checks)
 *
 * --no-ssse3 pretends the CPU lacks SSSE3/SSE4.1 (the x86 base level then
 * runs the scalar kernel, and the AVX2 kernel pads short inputs itself).
 * Building with -DWSF_UTF8_SIMD_FROM=1 sends every non-empty input to
 * the SIMD kernels, so their own short-input paths get tested too.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

/* This test's inputs were drawn from its own seed from the start. */
#define WSF_TEST_SEED 0x9E3779B97F4A7C15ull
#include "harness.h"

/* ---------------------------------------------------------------------- */
/* Reference: decode each code point and check its value, written from the */
/* definition (RFC 3629 section 3) rather than from byte tables.           */
/* Returns 1: valid and complete; 0: a valid prefix that ends inside a     */
/* code point; -1: not a prefix of any valid UTF-8.                        */
/* ---------------------------------------------------------------------- */
static int ref_check(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        size_t len, k;
        uint32_t lo, hi, min, max;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xE0) == 0xC0)
            len = 2;
        else if ((b & 0xF0) == 0xE0)
            len = 3;
        else if ((b & 0xF8) == 0xF0)
            len = 4;
        else
            return -1; /* continuation byte or F8..FF */
        min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        max = len == 2 ? 0x7FF : len == 3 ? 0xFFFF : 0x10FFFF;
        /* The bits present so far; missing bytes contribute 000000 (lo)
         * or 111111 (hi): every completion lies in [lo, hi]. */
        lo = hi = b & (0x7Fu >> len);
        for (k = 1; k < len; k++) {
            lo <<= 6;
            hi <<= 6;
            if (i + k < n) {
                if ((p[i + k] & 0xC0) != 0x80)
                    return -1;
                lo |= p[i + k] & 0x3Fu;
                hi |= p[i + k] & 0x3Fu;
            } else {
                hi |= 0x3F;
            }
        }
        /* Some completion must be a scalar value of this length. */
        if (lo < min)
            lo = min;
        if (hi > max)
            hi = max;
        if (lo > hi)
            return -1;
        if (lo >= 0xD800 && hi <= 0xDFFF)
            return -1;
        if (i + len > n)
            return 0;
        i += len;
    }
    return 1;
}

/* ---------------------------------------------------------------------- */

static wsf_cpu_features g_cpu;

static const char *level_name(int level)
{
    return wsf_level_name(level);
}


/* Check one input at one level: one-shot against the reference. */
static void check_at(const uint8_t *data, size_t n, int level, const char *what)
{
    /* Exactly n bytes on the heap: ASan catches any read outside. */
    uint8_t *buf = (uint8_t *)malloc(n ? n : 1);
    int want, got;
    if (n)
        memcpy(buf, data, n);
    want = ref_check(data, n) == 1;
    got = wsf_utf8_valid(buf, n, level);
    g_checks++;
    if (got != want) {
        size_t j;
        FAIL("%s: level %s, n=%zu: got %d, want %d", what, level_name(level), n, got, want);
        if (g_failures <= 20) {
            for (j = 0; j < n && j < 160; j++)
                fprintf(stderr, "%02x ", buf[j]);
            fputc('\n', stderr);
        }
    }
    free(buf);
}

static void check_all_levels(const uint8_t *data, size_t n, const char *what)
{
    int l;
    for (l = 0; l < g_nlevels; l++)
        check_at(data, n, g_levels[l], what);
}

/* Sanity of the reference itself: counts of valid sequences computed with
 * CPython's bytes.decode("utf-8") over all 1-, 2- and 3-byte strings. */
static void test_reference_counts(void)
{
    unsigned long c1 = 0, c2 = 0, c3 = 0;
    uint8_t s[3];
    unsigned a, b, c;
    for (a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        c1 += ref_check(s, 1) == 1;
        for (b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            c2 += ref_check(s, 2) == 1;
            for (c = 0; c < 256; c++) {
                s[2] = (uint8_t)c;
                c3 += ref_check(s, 3) == 1;
            }
        }
    }
    g_checks += 3;
    if (c1 != 128 || c2 != 18304 || c3 != 2650112)
        FAIL("reference counts %lu %lu %lu, want 128 18304 2650112", c1, c2, c3);
}

/* A placement: `off` ASCII bytes, the sequence, `post` ASCII bytes. */
typedef struct {
    size_t off, post;
} placement;

/* Runs the sequences seq[0..count) of length len each (generated by gen)
 * at one placement, at one level.  One buffer of the exact size is reused,
 * so this loop is not dominated by malloc. */
static void run_placed(size_t len, unsigned long count,
                       void (*gen)(unsigned long idx, uint8_t *out), placement pl, int level,
                       const char *what)
{
    size_t n = pl.off + len + pl.post;
    uint8_t *buf = (uint8_t *)malloc(n);
    unsigned long idx;
    memset(buf, 'a', n);
    for (idx = 0; idx < count; idx++) {
        int want, got;
        gen(idx, buf + pl.off);
        want = ref_check(buf + pl.off, len) == 1;
        got = wsf_utf8_valid(buf, n, level);
        g_checks++;
        if (got != want) {
            size_t j;
            FAIL("%s: level %s, off=%zu post=%zu: got %d want %d for", what,
                 level_name(level), pl.off, pl.post, got, want);
            if (g_failures <= 20) {
                for (j = 0; j < len; j++)
                    fprintf(stderr, "%02x ", buf[pl.off + j]);
                fputc('\n', stderr);
            }
        }
    }
    free(buf);
}

static void gen_seq1(unsigned long idx, uint8_t *out)
{
    out[0] = (uint8_t)idx;
}

static void gen_seq2(unsigned long idx, uint8_t *out)
{
    out[0] = (uint8_t)(idx >> 8);
    out[1] = (uint8_t)idx;
}

static void gen_seq3(unsigned long idx, uint8_t *out)
{
    out[0] = (uint8_t)(idx >> 16);
    out[1] = (uint8_t)(idx >> 8);
    out[2] = (uint8_t)idx;
}

/* Bytes at the edges of every class of Table 3-7, plus a few inside. */
static const uint8_t edge_bytes[] = {
    0x00, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xD5,
    0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFF,
};
#define N_EDGE (sizeof(edge_bytes) / sizeof(edge_bytes[0]))

static void gen_edge4(unsigned long idx, uint8_t *out)
{
    out[0] = edge_bytes[idx % N_EDGE];
    out[1] = edge_bytes[(idx / N_EDGE) % N_EDGE];
    out[2] = edge_bytes[(idx / (N_EDGE * N_EDGE)) % N_EDGE];
    out[3] = edge_bytes[idx / (N_EDGE * N_EDGE * N_EDGE)];
}

/* Random 4-byte strings, biased to start with a 4-byte lead. */
static void gen_rand4(unsigned long idx, uint8_t *out)
{
    uint64_t r = rnd();
    (void)idx;
    out[0] = (r & 0x100) ? (uint8_t)(0xF0 + (r & 7)) : (uint8_t)r;
    out[1] = (r & 0x200) ? (uint8_t)(0x80 + ((r >> 16) & 0x3F)) : (uint8_t)(r >> 16);
    out[2] = (r & 0x400) ? (uint8_t)(0x80 + ((r >> 24) & 0x3F)) : (uint8_t)(r >> 24);
    out[3] = (r & 0x800) ? (uint8_t)(0x80 + ((r >> 32) & 0x3F)) : (uint8_t)(r >> 32);
}

static void test_short_sequences(void)
{
    static const size_t posts[] = {0, 1, 2, 3, 13, 47, 64};
    /* Straddle the 16-, 32-, 64- and 128-byte block edges and the end. */
    static const placement p3[] = {
        {0, 13}, {13, 0}, {14, 16}, {15, 0}, {30, 31}, {31, 1},
        {62, 63}, {63, 2}, {125, 0}, {126, 2}, {127, 64}, {40, 1},
    };
    size_t off, k;
    int l;
    for (l = 0; l < g_nlevels; l++) {
        int level = g_levels[l];
        for (off = 0; off <= 130; off++) {
            for (k = 0; k < sizeof(posts) / sizeof(posts[0]); k++) {
                placement pl;
                pl.off = off;
                pl.post = posts[k];
                if (g_quick && k % 3)
                    continue;
                run_placed(1, 256, gen_seq1, pl, level, "1-byte");
                if (!g_quick || off % 8 == 0)
                    run_placed(2, 65536, gen_seq2, pl, level, "2-byte");
                run_placed(4, g_quick ? 200 : 2000, gen_rand4, pl, level, "random 4-byte");
            }
        }
        for (k = 0; k < sizeof(p3) / sizeof(p3[0]); k++) {
            if (g_quick && k % 4)
                continue;
            run_placed(3, 1ul << 24, gen_seq3, p3[k], level, "3-byte");
            run_placed(4, (unsigned long)(N_EDGE * N_EDGE * N_EDGE * N_EDGE), gen_edge4, p3[k],
                       level, "edge 4-byte");
        }
        fprintf(stderr, "  short sequences: level %s done\n", level_name(level));
    }
}

/* ---------------------------------------------------------------------- */
/* Random text                                                             */
/* ---------------------------------------------------------------------- */

/* Append one random scalar value, at most `room` bytes; returns its size. */
static size_t put_char(uint8_t *out, size_t room)
{
    uint32_t cp;
    size_t len;
    unsigned kind = (unsigned)rnd_below(10);
    if (kind < 4 || room < 2)
        kind = 0;
    else if (kind < 6 || room < 3)
        kind = 1;
    else if (kind < 8 || room < 4)
        kind = 2;
    else
        kind = 3;
    switch (kind) {
    case 0:
        out[0] = (uint8_t)rnd_below(0x80);
        return 1;
    case 1:
        cp = 0x80 + (uint32_t)rnd_below(0x800 - 0x80);
        len = 2;
        break;
    case 2:
        do
            cp = 0x800 + (uint32_t)rnd_below(0x10000 - 0x800);
        while (cp >= 0xD800 && cp <= 0xDFFF);
        len = 3;
        break;
    default:
        cp = 0x10000 + (uint32_t)rnd_below(0x110000 - 0x10000);
        len = 4;
        break;
    }
    if (len == 2) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    } else if (len == 3) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    } else {
        out[0] = (uint8_t)(0xF0 | (cp >> 18));
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    }
    return len;
}

/* Exactly n bytes of valid text; `ascii_bias` in 0..3 makes runs of ASCII
 * more likely, so the ASCII fast paths and their exits get exercised. */
static void random_text(uint8_t *out, size_t n, int ascii_bias)
{
    size_t i = 0;
    while (i < n) {
        if (ascii_bias && rnd_below(4) < (unsigned)ascii_bias) {
            size_t run = 1 + rnd_below(80), j;
            for (j = 0; j < run && i < n; j++)
                out[i++] = (uint8_t)(0x20 + rnd_below(0x5F));
        } else {
            i += put_char(out + i, n - i);
        }
    }
}

/* Errors that can be written over text at a position. */
static size_t put_error(uint8_t *out, size_t room, unsigned kind)
{
    static const uint8_t errs[][4] = {
        {0x80}, {0xBF}, {0xC0, 0x80}, {0xC1, 0xBF}, {0xF5}, {0xFF}, {0xE0, 0x80, 0x80},
        {0xE0, 0x9F, 0xBF}, {0xED, 0xA0, 0x80}, {0xED, 0xBF, 0xBF}, {0xF0, 0x80, 0x80, 0x80},
        {0xF0, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90, 0x80, 0x80}, {0xC2, 0x41}, {0xE1, 0x80, 0x41},
        {0xF1, 0x80, 0x80, 0x41}, {0xC2}, {0xE1, 0x80}, {0xF1, 0x80, 0x80}, {0xF8, 0x88, 0x80, 0x80},
    };
    static const size_t lens[] = {1, 1, 2, 2, 1, 1, 3, 3, 3, 3, 4, 4, 4, 2, 3, 4, 1, 2, 3, 4};
    size_t nkinds = sizeof(lens) / sizeof(lens[0]);
    size_t len = lens[kind % nkinds];
    if (len > room)
        len = room;
    memcpy(out, errs[kind % nkinds], len);
    return len;
}

#define N_ERROR_KINDS 20

static void test_lengths_and_errors(void)
{
    uint8_t text[300], buf[300];
    size_t n, pos;
    unsigned kind;
    for (n = 0; n <= 300; n++) {
        random_text(text, n, (int)(n % 4));
        check_all_levels(text, n, "valid text");
        for (pos = 0; pos < n; pos++) {
            /* Truncated anywhere: usually inside a code point. */
            check_all_levels(text, pos, "truncated text");
            for (kind = 0; kind < N_ERROR_KINDS; kind++) {
                if (g_quick && (kind + pos) % 5)
                    continue;
                memcpy(buf, text, n);
                put_error(buf + pos, n - pos, kind);
                check_all_levels(buf, n, "error at position");
            }
        }
    }
    /* The same over pure ASCII, where only the fast paths run until the error. */
    for (n = 0; n <= 300; n++) {
        memset(text, 'x', n);
        check_all_levels(text, n, "ascii");
        for (pos = 0; pos < n; pos++) {
            for (kind = 0; kind < N_ERROR_KINDS; kind++) {
                if (g_quick && (kind + pos) % 5)
                    continue;
                memcpy(buf, text, n);
                put_error(buf + pos, n - pos, kind);
                check_all_levels(buf, n, "error in ascii");
            }
        }
    }
    fprintf(stderr, "  lengths 0..300 with errors: done\n");
}

/* Feed data[0..n) in random pieces; every feed's verdict must equal the
 * reference's "still a valid prefix" for the bytes fed so far. */
static void check_stream(const uint8_t *data, size_t n, int level, size_t max_piece)
{
    wsf_utf8_stream s;
    size_t i = 0;
    int failed = 0;
    wsf_utf8_stream_reset(&s);
    while (i < n) {
        size_t piece = 1 + rnd_below(max_piece), end;
        uint8_t *chunk;
        int got, want, ref;
        if (piece > n - i)
            piece = n - i;
        if (rnd_below(8) == 0)
            piece = 0; /* empty feeds are allowed */
        end = i + piece;
        chunk = (uint8_t *)malloc(piece ? piece : 1);
        if (piece)
            memcpy(chunk, data + i, piece);
        got = wsf_utf8_stream_feed(&s, chunk, piece, 0, level);
        free(chunk);
        ref = ref_check(data, end);
        want = !failed && ref >= 0;
        g_checks++;
        if (got != want) {
            FAIL("stream: level %s, n=%zu, feed [%zu, %zu): got %d want %d", level_name(level),
                 n, i, end, got, want);
            return;
        }
        if (wsf_utf8_stream_complete(&s) != (want && ref == 1)) {
            FAIL("stream complete: level %s, after %zu bytes", level_name(level), end);
            return;
        }
        if (!got)
            failed = 1;
        i = end;
    }
    {
        int got = wsf_utf8_stream_feed(&s, NULL, 0, 1, level);
        int want = !failed && ref_check(data, n) == 1;
        g_checks++;
        if (got != want)
            FAIL("stream final: level %s, n=%zu: got %d want %d", level_name(level), n, got,
                 want);
        /* Sticky: after a failure nothing brings it back. */
        if (!got && wsf_utf8_stream_feed(&s, (const uint8_t *)"a", 1, 0, level))
            FAIL("stream not sticky: level %s", level_name(level));
    }
}

static void test_random(void)
{
    static uint8_t data[70000];
    unsigned iter, iters = g_quick ? 300 : 3000;
    int l;
    for (iter = 0; iter < iters; iter++) {
        size_t n = rnd_below(iter % 10 == 0 ? sizeof(data) : 1200);
        unsigned shape = (unsigned)rnd_below(4);
        size_t k;
        if (shape == 0) {
            for (k = 0; k < n; k++)
                data[k] = (uint8_t)rnd(); /* garbage */
        } else {
            random_text(data, n, (int)rnd_below(4));
            if (shape >= 2 && n) /* a few corruptions */
                for (k = 0; k <= rnd_below(3); k++) {
                    size_t pos = rnd_below(n);
                    if (shape == 2)
                        put_error(data + pos, n - pos, (unsigned)rnd_below(N_ERROR_KINDS));
                    else
                        data[pos] = (uint8_t)rnd();
                }
        }
        for (l = 0; l < g_nlevels; l++) {
            check_at(data, n, g_levels[l], "random");
            check_stream(data, n, g_levels[l], iter % 3 == 0 ? 5 : iter % 3 == 1 ? 100 : 3000);
        }
    }
    fprintf(stderr, "  random one-shot and streaming: done\n");
}

/* wsf_utf8_stream_feed on an exact-size heap copy (ASan sees overreads).
 * Not inlined: gcc's -Warray-bounds would otherwise see the tiny malloc
 * next to the (unreachable for such sizes) 8-byte ASCII loads. */
__attribute__((noinline)) static int feed(wsf_utf8_stream *s, const void *bytes, size_t len, int final, int level)
{
    uint8_t *buf = (uint8_t *)malloc(len ? len : 1);
    int r;
    if (len)
        memcpy(buf, bytes, len);
    r = wsf_utf8_stream_feed(s, buf, len, final, level);
    free(buf);
    return r;
}

/* Named cases for the streaming contract. */
static void test_stream_contract(void)
{
    int l;
    for (l = 0; l < g_nlevels; l++) {
        int level = g_levels[l];
        wsf_utf8_stream s;
        static const struct {
            const char *bytes;
            size_t len;
        } fail_fast[] = {
            {"\xed\xa0", 2},  /* surrogate */
            {"\xf4\x90", 2},  /* above U+10FFFF */
            {"\xe0\x80", 2},  /* overlong 3-byte */
            {"\xf0\x80", 2},  /* overlong 4-byte */
            {"\xc0", 1},      /* always overlong */
            {"\xc1", 1},
            {"\xf5", 1},      /* above U+10FFFF */
            {"\xff", 1},
            {"\x80", 1},      /* lone continuation */
            {"\xc3\x41", 2},  /* cut by ASCII */
        };
        size_t k;
        for (k = 0; k < sizeof(fail_fast) / sizeof(fail_fast[0]); k++) {
            /* Both alone, and after 200 bytes of text (the SIMD path). */
            uint8_t buf[260];
            size_t pre;
            for (pre = 0; pre <= 200; pre += 200) {
                memset(buf, 'a', pre);
                memcpy(buf + pre, fail_fast[k].bytes, fail_fast[k].len);
                wsf_utf8_stream_reset(&s);
                g_checks++;
                if (feed(&s, buf, pre + fail_fast[k].len, 0, level))
                    FAIL("fail-fast %zu (pre %zu): level %s", k, pre, level_name(level));
                if (feed(&s, "a", 1, 0, level) ||
                    wsf_utf8_stream_complete(&s))
                    FAIL("fail-fast %zu not sticky: level %s", k, level_name(level));
            }
        }
        /* A code point split at every byte. */
        wsf_utf8_stream_reset(&s);
        g_checks++;
        if (!feed(&s, "\xf0", 1, 0, level) ||
            wsf_utf8_stream_complete(&s) ||
            !feed(&s, "\x9f", 1, 0, level) ||
            !feed(&s, "\x98", 1, 0, level) ||
            !feed(&s, "\x80", 1, 1, level) ||
            !wsf_utf8_stream_complete(&s))
            FAIL("split emoji: level %s", level_name(level));
        /* final does not reset: a continuation after a final feed fails. */
        g_checks++;
        if (feed(&s, "\x80", 1, 0, level))
            FAIL("final reset the state: level %s", level_name(level));
        /* final inside a code point fails, and stays failed. */
        wsf_utf8_stream_reset(&s);
        g_checks++;
        if (!feed(&s, "a\xe2\x82", 3, 0, level) ||
            feed(&s, "", 0, 1, level) ||
            feed(&s, "\xac", 1, 0, level) ||
            wsf_utf8_stream_complete(&s))
            FAIL("final inside a code point: level %s", level_name(level));
        /* Empty stream: complete, and valid when final. */
        wsf_utf8_stream_reset(&s);
        g_checks++;
        if (!wsf_utf8_stream_complete(&s) || !feed(&s, "", 0, 1, level))
            FAIL("empty stream: level %s", level_name(level));
    }
}

/* ---------------------------------------------------------------------- */
/* Benchmark mode                                                          */
/* ---------------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_kind(uint8_t *out, size_t n, int kind)
{
    /* 0 ASCII, 1 Latin (one 2-byte letter in five), 2 CJK (3-byte),
     * 3 emoji (4-byte); ASCII fills what is left at the end. */
    size_t i = 0;
    while (i < n) {
        size_t room = n - i;
        uint8_t v = (uint8_t)(i % 64);
        if (kind == 0 || room < (size_t)(kind + 1) || (kind == 1 && i % 5)) {
            out[i] = (uint8_t)('a' + v % 26);
            i += 1;
        } else if (kind == 1) {
            out[i] = 0xC3;
            out[i + 1] = (uint8_t)(0xA0 + v % 16);
            i += 2;
        } else if (kind == 2) {
            out[i] = 0xE4;
            out[i + 1] = (uint8_t)(0xB8 + v % 8);
            out[i + 2] = (uint8_t)(0x80 + v);
            i += 3;
        } else {
            out[i] = 0xF0;
            out[i + 1] = 0x9F;
            out[i + 2] = (uint8_t)(0x98 + v % 4);
            out[i + 3] = (uint8_t)(0x80 + v);
            i += 4;
        }
    }
}

/* Best of many short runs: robust against other load on the machine. */
static double best_gbps(const uint8_t *buf, size_t n, int level, int streamed)
{
    size_t reps = ((size_t)2 << 20) / n + 1, r, ok = 0;
    double best = 0.0;
    int run;
    for (run = 0; run < 25; run++) {
        double t0 = now(), t;
        for (r = 0; r < reps; r++) {
            if (!streamed) {
                ok += (size_t)wsf_utf8_valid(buf, n, level);
            } else {
                wsf_utf8_stream s;
                size_t i;
                wsf_utf8_stream_reset(&s);
                for (i = 0; i < n; i += 1024)
                    wsf_utf8_stream_feed(&s, buf + i, n - i < 1024 ? n - i : 1024, 0, level);
                ok += (size_t)wsf_utf8_stream_feed(&s, NULL, 0, 1, level);
            }
        }
        t = (double)n * (double)reps / (now() - t0) / 1e9;
        if (t > best)
            best = t;
    }
    if (ok != 25 * reps)
        printf("!! invalid benchmark input\n");
    return best;
}

static void bench(void)
{
    static const char *kinds[] = {"ascii", "latin", "cjk", "emoji"};
    static const size_t sizes[] = {64, 1024, 4096, 65536, 1 << 20};
    size_t si;
    int kind, l;
    printf("best of 25 runs; GB/s = 1e9 bytes/s\n");
    printf("%-8s %-6s %8s %10s %18s\n", "level", "kind", "size", "one-shot", "1 KiB feeds");
    for (kind = 0; kind < 4; kind++) {
        for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            size_t n = sizes[si];
            uint8_t *buf = (uint8_t *)malloc(n);
            make_kind(buf, n, kind);
            for (l = 0; l < g_nlevels; l++)
                printf("%-8s %-6s %8zu %10.2f %18.2f\n", level_name(g_levels[l]), kinds[kind], n,
                       best_gbps(buf, n, g_levels[l], 0), best_gbps(buf, n, g_levels[l], 1));
            free(buf);
        }
    }
}

int main(int argc, char **argv)
{
    int i, only = -1, do_bench = 0, no_ssse3 = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
            only = wsf_parse_level(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            g_quick = 1;
        else if (strcmp(argv[i], "--bench") == 0)
            do_bench = 1;
        else if (strcmp(argv[i], "--no-ssse3") == 0)
            no_ssse3 = 1;
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            rng_state = strtoull(argv[++i], NULL, 0) | 1;
        else {
            fprintf(stderr, "usage: %s [--level NAME] [--quick] [--seed S] [--no-ssse3] [--bench]\n",
                    argv[0]);
            return 2;
        }
    }
    g_cpu = wsf_detect();
    if (no_ssse3)
        g_cpu.ssse3 = g_cpu.sse41 = 0;
    wsf_utf8_init(&g_cpu);
    if (!select_levels(only, g_cpu.level))
        return 0;
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    if (!(g_cpu.ssse3 && g_cpu.sse41))
        fprintf(stderr, "note: no SSSE3/SSE4.1: level sse2 runs the scalar kernel\n");
#endif
    if (do_bench) {
        bench();
        return 0;
    }
    fprintf(stderr, "utf8 tests, levels:");
    for (i = 0; i < g_nlevels; i++)
        fprintf(stderr, " %s", level_name(g_levels[i]));
    fprintf(stderr, "%s%s, SIMD from %d bytes\n", g_quick ? " (quick)" : "",
            no_ssse3 ? " (no SSSE3)" : "", (int)WSF_UTF8_SIMD_FROM);
    test_reference_counts();
    test_stream_contract();
    test_lengths_and_errors();
    test_random();
    test_short_sequences();
    printf("test_utf8: %lu checks, %lu failures\n", g_checks, g_failures);
    return g_failures ? 1 : 0;
}
