/* C-level tests of wsfast/_csrc/utf8_decode.h against an independent reference.
 *
 * Every kernel the CPU supports is checked (or the one named by --level):
 *   - the compaction tables against their definition;
 *   - every Unicode scalar value, alone (1-4 bytes), and packed by the
 *     hundred thousand into long texts with fillers of several widths between
 *     them, so that each lands at many offsets inside the SIMD windows;
 *   - every length 0..300 at every misalignment 0..7, for texts of every mix
 *     of widths (pure 2-, 3-, 4-byte text, ASCII with sparse wide code
 *     points, everything mixed), so that multibyte sequences straddle the
 *     16/32/64-byte window edges and every tail length is taken;
 *   - random texts up to 1 MiB;
 *   - garbage (invalid UTF-8, the contract broken on purpose) with any output
 *     length: only that nothing outside the buffers is touched and that every
 *     call returns;
 *   - the optimistic ASCII copy, at every length, misalignment and position
 *     of the first non-ASCII byte.
 * The length and class from wsf_utf8_measure are checked, then every writer
 * wide enough for the text (Latin-1 only when every code point fits, UCS-2
 * for the BMP, UCS-4 always) and wsf_utf8_decode.  Inputs and outputs are
 * malloc'd blocks of exactly their size, so that AddressSanitizer reports any
 * access outside them.
 *
 * Usage: test_utf8_decode [--level NAME] [--quick] [--seed S] [--no-ssse3] [--no-vbmi2]
 *        test_utf8_decode --bench [--level NAME]  (GB/s per kernel, no checks)
 * --no-vbmi2 runs the AVX-512 level without AVX512-VBMI2 (the CPUs before
 * Ice Lake).  Building with -DWSF_UTF8_DECODE_SIMD_FROM=1 sends every non-empty input to
 * the SIMD kernels, so their own short-input paths get tested too.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8_decode.h"

#include "harness.h"

/* ---------------------------------------------------------------------- */
/* Reference, from the definition (RFC 3629 section 3): the number of     */
/* leading one bits of a lead byte is the sequence length; the code point */
/* is the lead's remaining bits followed by six bits per continuation.    */
/* Input must be valid (it comes from encode() below).                    */
/* ---------------------------------------------------------------------- */

static size_t encode(uint32_t c, uint8_t *out)
{
    if (c < 0x80) {
        out[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (uint8_t)(0xC0 | (c >> 6));
        out[1] = (uint8_t)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (c >> 12));
        out[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (c >> 18));
    out[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

static size_t ref_decode(const uint8_t *p, size_t n, uint32_t *out, uint32_t *maxcp)
{
    size_t i = 0, count = 0;
    *maxcp = 0;
    while (i < n) {
        unsigned ones = 0, k;
        uint32_t c;
        while (ones < 8 && (p[i] & (0x80u >> ones)))
            ones++;
        if (ones == 0) {
            c = p[i];
            ones = 1;
        } else {
            c = p[i] & (0xFFu >> (ones + 1));
            for (k = 1; k < ones; k++)
                c = (c << 6) | (p[i + k] & 0x3Fu);
        }
        i += ones;
        out[count++] = c;
        if (c > *maxcp)
            *maxcp = c;
    }
    return count;
}

static uint32_t class_of(uint32_t maxcp)
{
    return maxcp < 0x80 ? 0x7F : maxcp < 0x100 ? 0xFF : maxcp < 0x10000 ? 0xFFFF : 0x10FFFF;
}

static uint32_t unit_at(const uint8_t *buf, size_t k, int kind)
{
    uint16_t s;
    uint32_t w;
    if (kind == 1)
        return buf[k];
    if (kind == 2) {
        memcpy(&s, buf + 2 * k, 2);
        return s;
    }
    memcpy(&w, buf + 4 * k, 4);
    return w;
}

/* ---------------------------------------------------------------------- */
/* One input at one level: measure, then every writer wide enough.        */
/* ---------------------------------------------------------------------- */

static uint32_t *g_want;
static size_t g_want_cap;

static void check_at(const uint8_t *data, size_t n, size_t misalign, int level, const char *what)
{
    /* The n bytes end the block: a read past p + n is reported. */
    uint8_t *block = (uint8_t *)malloc(n + misalign ? n + misalign : 1);
    uint8_t *buf = block + misalign;
    uint32_t maxcp;
    size_t count, k;
    wsf_utf8_shape shape;
    int width;
    if (n)
        memcpy(buf, data, n);
    if (n > g_want_cap) {
        g_want_cap = n * 2 + 16;
        g_want = (uint32_t *)realloc(g_want, g_want_cap * sizeof(uint32_t));
    }
    count = ref_decode(buf, n, g_want, &maxcp);
    g_checks++;
    shape = wsf_utf8_measure(buf, n, level);
    if (shape.length != count || shape.maxchar != class_of(maxcp)) {
        FAIL("%s: level %s, n=%zu mis=%zu: measure gave %zu/%lx, want %zu/%lx", what,
             wsf_level_name(level), n, misalign, shape.length, (unsigned long)shape.maxchar,
             count, (unsigned long)class_of(maxcp));
        free(block);
        return;
    }
    /* Every writer wide enough for the text. */
    for (width = 1; width <= 4; width *= 2) {
        uint8_t *out;
        if ((width == 1 && maxcp > 0xFF) || (width == 2 && maxcp > 0xFFFF))
            continue;
        out = (uint8_t *)malloc(count ? count * (size_t)width : 1);
        if (width == 1)
            wsf_utf8_to_ucs1(out, count, buf, n, level);
        else if (width == 2)
            wsf_utf8_to_ucs2((uint16_t *)(void *)out, count, buf, n, level);
        else
            wsf_utf8_to_ucs4((uint32_t *)(void *)out, count, buf, n, level);
        g_checks++;
        for (k = 0; k < count; k++) {
            if (unit_at(out, k, width) != g_want[k]) {
                FAIL("%s: level %s, UCS-%d, n=%zu mis=%zu: unit %zu is %lx, want %lx", what,
                     wsf_level_name(level), width, n, misalign, k,
                     (unsigned long)unit_at(out, k, width), (unsigned long)g_want[k]);
                break;
            }
        }
        free(out);
    }
    /* wsf_utf8_decode at the measured width (ASCII is a copy). */
    {
        uint8_t *out;
        width = shape.maxchar <= 0xFF ? 1 : shape.maxchar <= 0xFFFF ? 2 : 4;
        out = (uint8_t *)malloc(count ? count * (size_t)width : 1);
        wsf_utf8_decode(out, shape, buf, n, level);
        g_checks++;
        for (k = 0; k < count; k++) {
            if (unit_at(out, k, width) != g_want[k]) {
                FAIL("%s: level %s, decode, n=%zu: unit %zu is %lx, want %lx", what,
                     wsf_level_name(level), n, k, (unsigned long)unit_at(out, k, width),
                     (unsigned long)g_want[k]);
                break;
            }
        }
        free(out);
    }
    free(block);
}

static void check_all_levels(const uint8_t *data, size_t n, size_t misalign, const char *what)
{
    int l;
    for (l = 0; l < g_nlevels; l++)
        check_at(data, n, misalign, g_levels[l], what);
}

/* ---------------------------------------------------------------------- */

static void test_tables(void)
{
    unsigned e, k;
    for (e = 0; e < 256; e++) {
        unsigned j = 0;
        g_checks++;
        for (k = 0; k < 8; k++)
            if (e & (1u << k)) {
                if (wsf_u8d_pack[e][j] != k)
                    FAIL("pack[%u][%u] = %u, want %u", e, j, wsf_u8d_pack[e][j], k);
                j++;
            }
        if (wsf_u8d_popc[e] != j)
            FAIL("popc[%u] = %u, want %u", e, wsf_u8d_popc[e], j);
        for (; j < 8; j++)
            if (wsf_u8d_pack[e][j] != 0x80)
                FAIL("pack[%u][%u] = %u, want 0x80", e, j, wsf_u8d_pack[e][j]);
    }
}

static int is_scalar_value(uint32_t c)
{
    return c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
}

/* Every scalar value alone, at every level. */
static void test_every_code_point_alone(void)
{
    uint32_t c, step = g_quick ? 97 : 1;
    uint8_t enc[4];
    for (c = 0; c <= 0x10FFFF; c += (c < 0x1000 ? 1 : step)) {
        if (!is_scalar_value(c))
            continue;
        check_all_levels(enc, encode(c, enc), 0, "code point alone");
    }
}

/* Every scalar value in [lo, hi], in long texts: before each one a filler of
 * 0..7 code points drawn from `fill` (cycling), so the values land at every
 * offset of the windows.  Texts of about 256 KiB each. */
static void test_every_code_point_packed(uint32_t lo, uint32_t hi, const uint32_t *fill,
                                         size_t nfill, const char *what)
{
    size_t cap = 300000, n = 0, f = 0;
    uint8_t *text = (uint8_t *)malloc(cap);
    uint32_t c, step = g_quick ? 13 : 1;
    unsigned k = 0;
    for (c = lo;; c += step) {
        int last = c > hi || c + step < c;
        if (!last && is_scalar_value(c)) {
            unsigned j;
            for (j = 0; j < (k % 8) && nfill; j++)
                n += encode(fill[f++ % nfill], text + n);
            k++;
            n += encode(c, text + n);
        }
        if (n > cap - 64 || last) {
            check_all_levels(text, n, 0, what);
            check_all_levels(text, n, (size_t)(c % 8), what);
            n = 0;
        }
        if (last)
            break;
    }
    free(text);
}

static void test_every_code_point(void)
{
    static const uint32_t ascii[] = {'a', ' ', '0'};
    static const uint32_t mixed[] = {'a', 0xE9, 0x20AC, 'b', 0x1F600, 0x3B1, 'c'};
    static const uint32_t latin[] = {0xE9, 'x', 0xFF, 0x80};
    static const uint32_t cjk[] = {0x65E5, 0x672C, 0x3002};
    static const uint32_t emoji[] = {0x1F600, 0x10FFFF, 0x10000};
    test_every_code_point_alone();
    /* Latin-1 texts (the UCS-1 writer), then the BMP, then everything. */
    test_every_code_point_packed(0, 0xFF, NULL, 0, "code points 0..FF");
    test_every_code_point_packed(0, 0xFF, ascii, 3, "code points 0..FF, ASCII between");
    test_every_code_point_packed(0, 0xFF, latin, 4, "code points 0..FF, Latin-1 between");
    test_every_code_point_packed(0x80, 0xFFFF, NULL, 0, "code points 80..FFFF");
    test_every_code_point_packed(0, 0xFFFF, ascii, 3, "BMP, ASCII between");
    test_every_code_point_packed(0, 0xFFFF, cjk, 3, "BMP, CJK between");
    test_every_code_point_packed(0x100, 0xFFFF, latin, 4, "BMP, Latin-1 between");
    test_every_code_point_packed(0, 0x10FFFF, NULL, 0, "all code points");
    test_every_code_point_packed(0, 0x10FFFF, mixed, 7, "all code points, mixed between");
    test_every_code_point_packed(0x10000, 0x10FFFF, emoji, 3, "astral, astral between");
    test_every_code_point_packed(0x10000, 0x10FFFF, ascii, 3, "astral, ASCII between");
}

/* Texts of exactly n bytes from an alphabet; ASCII fills a tail too short
 * for the next character. */
typedef struct {
    const char *name;
    const uint32_t *cps;
    size_t ncps;
    unsigned ascii_in; /* out of 16: chance of an ASCII character instead */
} alphabet;

static const uint32_t A_ASCII[] = {'a', 'Z', '~', 0, 0x7F};
static const uint32_t A_LATIN1[] = {0x80, 0xA9, 0xC7, 0xE9, 0xFF};
static const uint32_t A_TWO[] = {0x80, 0xE9, 0x100, 0x3B1, 0x436, 0x7FF};
static const uint32_t A_THREE[] = {0x800, 0x20AC, 0x65E5, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF};
static const uint32_t A_FOUR[] = {0x10000, 0x1F600, 0x1F44D, 0x10FFFF, 0x20000};
static const uint32_t A_ALL[] = {'a', 0xE9, 0xFF, 0x100, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
static const uint32_t A_BMP[] = {'a', 0xE9, 0x3B1, 0x20AC, 0x65E5, 0xFFFF};

static const alphabet ALPHABETS[] = {
    {"ascii", A_ASCII, 5, 0},
    {"latin1", A_LATIN1, 5, 8},
    {"latin1-sparse", A_LATIN1, 5, 14},
    {"two-byte", A_TWO, 6, 0},
    {"three-byte", A_THREE, 7, 0},
    {"cjk-with-spaces", A_THREE, 7, 3},
    {"four-byte", A_FOUR, 5, 0},
    {"emoji-in-ascii", A_FOUR, 5, 15},
    {"bmp-mixed", A_BMP, 6, 4},
    {"everything", A_ALL, 9, 4},
};
#define N_ALPHABETS (sizeof(ALPHABETS) / sizeof(ALPHABETS[0]))

static void make_text(uint8_t *out, size_t n, const alphabet *a)
{
    size_t i = 0;
    while (i < n) {
        uint8_t enc[4];
        uint32_t c = (rnd_below(16) < a->ascii_in) ? (uint32_t)('a' + rnd_below(26))
                                                    : a->cps[rnd_below(a->ncps)];
        size_t len = encode(c, enc);
        if (len > n - i) {
            out[i++] = 'z';
            continue;
        }
        memcpy(out + i, enc, len);
        i += len;
    }
}

static void test_lengths_and_alignment(void)
{
    static uint8_t text[320];
    size_t n, mis, a, rep;
    for (a = 0; a < N_ALPHABETS; a++) {
        for (n = 0; n <= 300; n++) {
            for (rep = 0; rep < (g_quick ? 1u : 3u); rep++) {
                make_text(text, n, &ALPHABETS[a]);
                for (mis = 0; mis < 8; mis++)
                    check_all_levels(text, n, mis, ALPHABETS[a].name);
            }
        }
        fprintf(stderr, "  lengths 0..300 x misalignment 0..7: %s done\n", ALPHABETS[a].name);
    }
}

static void test_random(void)
{
    size_t iter, iters = g_quick ? 40 : 300;
    uint8_t *text = (uint8_t *)malloc(1 << 20);
    for (iter = 0; iter < iters; iter++) {
        size_t n = iter % 10 == 0 ? (size_t)rnd_below(1 << 20) : (size_t)rnd_below(70000);
        const alphabet *a = &ALPHABETS[rnd_below(N_ALPHABETS)];
        alphabet mix = *a;
        mix.ascii_in = (unsigned)rnd_below(17);
        make_text(text, n, &mix);
        check_all_levels(text, n, iter % 8, "random text");
    }
    free(text);
}

/* wsf_utf8_ascii_copy: every length 0..300 at every misalignment, with no
 * non-ASCII byte or one at every position: returns n for ASCII, else a k at
 * or before the first non-ASCII byte, with dst[0..k) copied. */
static void test_ascii_copy(void)
{
    size_t n, mis, bad, k;
    int l;
    for (n = 0; n <= 300; n++) {
        for (mis = 0; mis < 8; mis++) {
            for (bad = 0; bad <= n; bad += (g_quick && bad > 2 ? 7 : 1)) {
                uint8_t *block = (uint8_t *)malloc(n + mis ? n + mis : 1);
                uint8_t *src = block + mis, *dst = (uint8_t *)malloc(n ? n : 1);
                for (k = 0; k < n; k++)
                    src[k] = (uint8_t)('a' + k % 26);
                if (bad < n)
                    src[bad] = (uint8_t)(0x80 + bad % 128);
                for (l = 0; l < g_nlevels; l++) {
                    size_t got;
                    memset(dst, 0, n);
                    got = wsf_utf8_ascii_copy(dst, src, n, g_levels[l]);
                    g_checks++;
                    if ((bad == n && got != n) || (bad < n && got > bad) ||
                        memcmp(dst, src, got) != 0)
                        FAIL("ascii copy: level %s, n=%zu mis=%zu bad=%zu: got %zu",
                             wsf_level_name(g_levels[l]), n, mis, bad, got);
                }
                free(dst);
                free(block);
            }
        }
    }
}

/* Garbage in: every writer, any output length; nothing may be touched
 * outside the buffers (ASan) and every call must return. */
static void test_garbage_is_bounded(void)
{
    size_t iter, iters = g_quick ? 300 : 3000;
    for (iter = 0; iter < iters; iter++) {
        size_t n = rnd_below(iter % 10 == 0 ? 5000 : 300), k, m;
        uint8_t *in = (uint8_t *)malloc(n ? n : 1);
        int l;
        if (iter % 2) {
            for (k = 0; k < n; k++)
                in[k] = (uint8_t)rnd();
        } else {
            make_text(in, n, &ALPHABETS[rnd_below(N_ALPHABETS)]);
            for (k = 0; k < 1 + n / 50 && n; k++)
                in[rnd_below(n)] = (uint8_t)(0x80 + rnd_below(128));
        }
        for (l = 0; l < g_nlevels; l++) {
            int level = g_levels[l];
            wsf_utf8_shape shape = wsf_utf8_measure(in, n, level);
            size_t lengths[4];
            lengths[0] = shape.length;
            lengths[1] = 0;
            lengths[2] = rnd_below(n + 1);
            lengths[3] = n + rnd_below(40);
            for (k = 0; k < 4; k++) {
                uint8_t *o1, *o2, *o4;
                m = lengths[k];
                o1 = (uint8_t *)malloc(m ? m : 1);
                o2 = (uint8_t *)malloc(m ? 2 * m : 1);
                o4 = (uint8_t *)malloc(m ? 4 * m : 1);
                wsf_utf8_to_ucs1(o1, m, in, n, level);
                wsf_utf8_to_ucs2((uint16_t *)(void *)o2, m, in, n, level);
                wsf_utf8_to_ucs4((uint32_t *)(void *)o4, m, in, n, level);
                free(o1);
                free(o2);
                free(o4);
            }
            g_checks++;
        }
        free(in);
    }
}

/* ---------------------------------------------------------------------- */
/* Benchmark mode: measure + decode, as a str would be built.             */
/* ---------------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double best_gbps(const uint8_t *buf, size_t n, int level, void *out)
{
    size_t reps = ((size_t)4 << 20) / n + 1, r, sink = 0;
    double best = 0.0;
    int run;
    for (run = 0; run < 15; run++) {
        double t0 = now(), t;
        for (r = 0; r < reps; r++) {
            wsf_utf8_shape s = wsf_utf8_measure(buf, n, level);
            wsf_utf8_decode(out, s, buf, n, level);
            sink += s.length;
        }
        t = (double)n * (double)reps / (now() - t0) / 1e9;
        if (t > best)
            best = t;
    }
    if (sink == 0)
        printf("!");
    return best;
}

static void bench(void)
{
    static const size_t sizes[] = {16, 64, 125, 1024, 4096, 65536, 1 << 20};
    static const alphabet kinds[] = {
        {"ascii", A_ASCII, 1, 0},
        {"latin", A_LATIN1, 5, 13},
        {"cjk", A_THREE, 7, 1},
        {"emoji", A_FOUR, 5, 0},
    };
    size_t si, k;
    int l;
    printf("measure + decode, best of 15 runs; GB/s of UTF-8 input\n");
    printf("%-8s %-6s %8s %8s\n", "level", "text", "size", "GB/s");
    for (k = 0; k < 4; k++) {
        for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            size_t n = sizes[si];
            uint8_t *buf = (uint8_t *)malloc(n);
            void *out = malloc(4 * n);
            make_text(buf, n, &kinds[k]);
            for (l = 0; l < g_nlevels; l++)
                printf("%-8s %-6s %8zu %8.2f\n", wsf_level_name(g_levels[l]), kinds[k].name, n,
                       best_gbps(buf, n, g_levels[l], out));
            free(buf);
            free(out);
        }
    }
}

/* An empty message may come with no buffer at all (p == NULL, n == 0): no
 * kernel may touch p (UBSan: memcpy's source must not be NULL). */
static void test_empty_null(void)
{
    uint8_t out[4] = {0xAA, 0xAA, 0xAA, 0xAA};
    int i;
    for (i = 0; i < g_nlevels; i++) {
        wsf_utf8_shape shape = wsf_utf8_measure(NULL, 0, g_levels[i]);
        g_checks++;
        if (shape.length != 0 || shape.maxchar > 0x7F)
            FAIL("empty input at level %s: length %lu, maxchar %lx", wsf_level_name(g_levels[i]),
                 (unsigned long)shape.length, (unsigned long)shape.maxchar);
        wsf_utf8_decode(out, shape, NULL, 0, g_levels[i]);
        if (out[0] != 0xAA)
            FAIL("empty input at level %s wrote to the output", wsf_level_name(g_levels[i]));
    }
}

int main(int argc, char **argv)
{
    int i, only = -1, do_bench = 0, no_ssse3 = 0, no_vbmi2 = 0;
    wsf_cpu_features cpu;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
            only = wsf_parse_level(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            g_quick = 1;
        else if (strcmp(argv[i], "--bench") == 0)
            do_bench = 1;
        else if (strcmp(argv[i], "--no-ssse3") == 0)
            no_ssse3 = 1;
        else if (strcmp(argv[i], "--no-vbmi2") == 0)
            no_vbmi2 = 1;
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            rng_state = strtoull(argv[++i], NULL, 0) | 1;
        else {
            fprintf(stderr, "usage: %s [--level NAME] [--quick] [--seed S] [--no-ssse3] [--no-vbmi2] [--bench]\n",
                    argv[0]);
            return 2;
        }
    }
    cpu = wsf_detect();
    if (no_ssse3)
        cpu.ssse3 = cpu.sse41 = 0;
    if (no_vbmi2)
        cpu.avx512vbmi2 = 0;
    wsf_utf8_init(&cpu);
    if (!select_levels(only, cpu.level))
        return 0;
    if (do_bench) {
        bench();
        return 0;
    }
    fprintf(stderr, "utf8_decode tests, levels:");
    for (i = 0; i < g_nlevels; i++)
        fprintf(stderr, " %s", wsf_level_name(g_levels[i]));
    fprintf(stderr, "%s%s, AVX512-VBMI2 %s, SIMD from %d bytes\n", g_quick ? " (quick)" : "",
            no_ssse3 ? " (no SSSE3)" : "", cpu.avx512vbmi2 ? "used" : "not used",
            (int)WSF_UTF8_DECODE_SIMD_FROM);
    test_tables();
    test_empty_null();
    test_lengths_and_alignment();
    test_random();
    test_garbage_is_bounded();
    test_ascii_copy();
    test_every_code_point();
    free(g_want);
    printf("test_utf8_decode: %lu checks, %lu failures\n", g_checks, g_failures);
    return g_failures ? 1 : 0;
}
