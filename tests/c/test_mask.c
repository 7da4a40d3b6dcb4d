/* C-level tests of wsfast/_csrc/mask.h against a byte-at-a-time reference.
 *
 * Every kernel the CPU supports is checked (or the one named by --level),
 * each level in turn and from the same seed, so a failure seen in a run of
 * all levels reproduces with --level alone:
 *   - every length 0..300 with the source and the destination each at every
 *     misalignment 0..7 (independently), at every key phase 0..3, with four
 *     keys (00000000, ffffffff, RFC 6455's 37fa213d and a random one), copying
 *     and in place: every dispatch threshold (16, 32, 64 bytes) and every tail
 *     length of the 8-, 16-, 32- and 64-byte steps is taken;
 *   - every length 301..1100 (every remainder of the AVX-512 kernel's
 *     256-byte pipeline, one to three times round), then up to 4 KiB the
 *     lengths within 3 of a multiple of 8: every step the kernels take (8,
 *     16, 32, 64, 128, 256 bytes) is a multiple of 8, so each of their loops
 *     ends on whole blocks, a few bytes over and a few bytes short;
 *   - random lengths up to 1 MiB, at random misalignments, phases and keys;
 *   - chaining, as the streaming decoder and mask_inplace(offset=) do: a
 *     buffer masked in two pieces, split at every point, the second piece
 *     starting at phase (phase + first length) & 3, equals the buffer masked
 *     whole; and random buffers masked in many pieces, copying or in place;
 *   - n == 0 with NULL pointers (an empty buffer may have no memory at all);
 *   - on Linux, every length 0..1100 with the source and the destination
 *     ending right at an inaccessible page, then starting right after one.
 * Every input and output is a malloc'd block of exactly its size, the data
 * ending the block (misalignment k: malloc(n + k), data at block + k), so
 * that AddressSanitizer reports any access past the end.  Beyond that: the k
 * bytes before the data (inside the block) must keep their canary, the
 * source must be unchanged, and every destination byte is set beforehand to
 * the complement of its expected value, so a byte the kernel leaves
 * unwritten shows as a mismatch.  The guard pages are for what ASan does not
 * see: GCC (12) does not instrument AVX-512 masked loads and stores, so a
 * tail mask one lane too wide passes the malloc'd tests there (clang's ASan
 * checks every lane), and the clang and emulated builds have no ASan at all;
 * an access to the guard page kills the test with SIGSEGV in any build.
 *
 * Usage: test_mask [--level NAME] [--quick] [--seed S]
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c99 (glibc) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define HAVE_GUARD_PAGES 1
#endif

#include "mask.h"

#include "harness.h"

static void fill_random(uint8_t *p, size_t n)
{
    size_t i;
    uint64_t r = 0;
    for (i = 0; i < n; i++) {
        if ((i & 7) == 0)
            r = rnd();
        p[i] = (uint8_t)r;
        r >>= 8;
    }
}

/* All-zero and all-one keys (masking is then a copy or a NOT, whatever the
 * phase), RFC 6455's example key (four distinct bytes: a wrong phase or byte
 * order shows) and one drawn from the seed in main(). */
#define N_KEYS 4
#define KEY_RFC 2
#define KEY_RANDOM 3
static uint8_t g_keys[N_KEYS][4] = {
    {0x00, 0x00, 0x00, 0x00},
    {0xFF, 0xFF, 0xFF, 0xFF},
    {0x37, 0xFA, 0x21, 0x3D},
    {0, 0, 0, 0},
};

/* The bytes before the data in a misaligned block: the kernels must leave
 * them alone (ASan only sees accesses outside the block). */
#define CANARY 0xC3

/* ---------------------------------------------------------------------- */
/* Reference, from the definition (RFC 6455 section 5.3), one byte at a   */
/* time: byte i of the payload is XORed with key byte (phase + i) mod 4.  */
/* ---------------------------------------------------------------------- */

static void ref_mask(uint8_t *out, const uint8_t *in, size_t n, const uint8_t key[4],
                     unsigned phase)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (uint8_t)(in[i] ^ key[(phase + i) & 3]);
}

/* ---------------------------------------------------------------------- */
/* Exact-size blocks and the checks around one call.                      */
/* ---------------------------------------------------------------------- */

/* malloc of exactly `size` bytes: with n == 0 and no misalignment even a
 * zero-byte block, so that a one-byte access at p[0] is reported too. */
static uint8_t *xmalloc(size_t size)
{
    uint8_t *p = (uint8_t *)malloc(size);
    if (p == NULL && size == 0)
        p = (uint8_t *)malloc(1); /* a libc whose malloc(0) is NULL */
    if (p == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        exit(2);
    }
    return p;
}

/* A block holding n bytes at misalignment k, canary before them. */
static uint8_t *block_new(size_t n, size_t k, uint8_t **block)
{
    *block = xmalloc(n + k);
    memset(*block, CANARY, k);
    return *block + k;
}

static int canary_intact(const uint8_t *block, size_t k)
{
    size_t i;
    for (i = 0; i < k; i++)
        if (block[i] != CANARY)
            return 0;
    return 1;
}

/* Index of the first difference, n when none. */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i] != b[i])
            return i;
    return n;
}

/* Scratch: the expected output (and a second one for the chaining tests). */
static uint8_t *g_want, *g_whole;
static size_t g_want_cap;

static void want_room(size_t n)
{
    if (n > g_want_cap) {
        g_want_cap = n * 2 + 64;
        free(g_want);
        free(g_whole);
        g_want = xmalloc(g_want_cap);
        g_whole = xmalloc(g_want_cap);
    }
}

static void report_mismatch(const char *what, int level, size_t n, size_t smis, long dmis,
                            const uint8_t key[4], unsigned phase, const uint8_t *got,
                            const uint8_t *want, size_t bad)
{
    /* dmis < 0: in place.  The pre-fill is ~want: a byte equal to it was
     * most likely never written. */
    char where[48];
    if (dmis < 0)
        snprintf(where, sizeof where, "in place at +%zu", smis);
    else
        snprintf(where, sizeof where, "src +%zu dst +%ld", smis, dmis);
    FAIL("%s: level %s, n=%zu %s, phase %u, key %02x%02x%02x%02x: byte %zu is %02x, "
         "want %02x%s",
         what, wsf_level_name(level), n, where, phase, key[0], key[1], key[2], key[3], bad,
         got[bad], want[bad], (got[bad] ^ want[bad]) == 0xFF ? " (never written?)" : "");
}

/* data[0, n) copied to src, then masked into dst (src == dst: in place) at
 * `level`; a separate dst is first set to the complement of the expected
 * bytes, so a byte the kernel leaves unwritten differs.  The expected bytes
 * are left in g_want.  Returns the first wrong index of dst, or n. */
static size_t mask_against_ref(uint8_t *dst, uint8_t *src, const uint8_t *data, size_t n,
                               const uint8_t key[4], unsigned phase, int level)
{
    size_t i;
    want_room(n);
    ref_mask(g_want, data, n, key, phase);
    if (n)
        memcpy(src, data, n);
    if (dst != src)
        for (i = 0; i < n; i++)
            dst[i] = (uint8_t)~g_want[i];
    wsf_mask(dst, src, n, key, phase, level);
    g_checks++;
    return first_diff(dst, g_want, n);
}

/* data[0, n) masked from a block at misalignment smis into one at dmis. */
static void check_copy(const uint8_t *data, size_t n, size_t smis, size_t dmis,
                       const uint8_t key[4], unsigned phase, int level, const char *what)
{
    uint8_t *sblock, *dblock;
    uint8_t *src = block_new(n, smis, &sblock), *dst = block_new(n, dmis, &dblock);
    size_t bad = mask_against_ref(dst, src, data, n, key, phase, level);
    if (bad < n)
        report_mismatch(what, level, n, smis, (long)dmis, key, phase, dst, g_want, bad);
    else if ((bad = first_diff(src, data, n)) < n)
        FAIL("%s: level %s, n=%zu src +%zu dst +%zu, phase %u: source byte %zu was written", what,
             wsf_level_name(level), n, smis, dmis, phase, bad);
    if (!canary_intact(sblock, smis) || !canary_intact(dblock, dmis))
        FAIL("%s: level %s, n=%zu src +%zu dst +%zu, phase %u: wrote before the data", what,
             wsf_level_name(level), n, smis, dmis, phase);
    free(sblock);
    free(dblock);
}

/* data[0, n) masked in place in a block at misalignment mis. */
static void check_inplace(const uint8_t *data, size_t n, size_t mis, const uint8_t key[4],
                          unsigned phase, int level, const char *what)
{
    uint8_t *block, *p = block_new(n, mis, &block);
    size_t bad = mask_against_ref(p, p, data, n, key, phase, level);
    if (bad < n)
        report_mismatch(what, level, n, mis, -1, key, phase, p, g_want, bad);
    if (!canary_intact(block, mis))
        FAIL("%s: level %s, n=%zu in place at +%zu, phase %u: wrote before the data", what,
             wsf_level_name(level), n, mis, phase);
    free(block);
}

/* ---------------------------------------------------------------------- */

/* An empty buffer may come with no memory at all: _mask_c and _frames_c pass
 * a Py_buffer's buf straight through, and an exporter may give NULL with
 * len 0.  With n == 0 no kernel may touch (or offset) the pointers. */
static void test_empty_null(int level)
{
    unsigned phase;
    size_t k;
    for (k = 0; k < N_KEYS; k++)
        for (phase = 0; phase < 4; phase++) {
            wsf_mask(NULL, NULL, 0, g_keys[k], phase, level);
            g_checks++;
        }
}

/* Every length 0..300 (quick: 0..140), source and destination each at every
 * misalignment 0..7 (quick: 0, 1, 3, 7), every phase, every key; and in
 * place at the same lengths and misalignments. */
static void test_lengths_and_alignment(int level)
{
    static const size_t all_mis[] = {0, 1, 2, 3, 4, 5, 6, 7};
    static const size_t quick_mis[] = {0, 1, 3, 7};
    const size_t *mis = g_quick ? quick_mis : all_mis;
    size_t nmis = g_quick ? 4 : 8, nmax = g_quick ? 140 : 300;
    uint8_t data[300];
    size_t n, si, di, k;
    unsigned phase;
    for (n = 0; n <= nmax; n++) {
        fill_random(data, n);
        for (k = 0; k < N_KEYS; k++)
            for (phase = 0; phase < 4; phase++) {
                for (si = 0; si < nmis; si++) {
                    for (di = 0; di < nmis; di++)
                        check_copy(data, n, mis[si], mis[di], g_keys[k], phase, level,
                                   "lengths");
                    check_inplace(data, n, mis[si], g_keys[k], phase, level, "lengths");
                }
            }
    }
    fprintf(stderr, "  %s: lengths 0..%zu x misalignments x phases x keys: done\n",
            wsf_level_name(level), nmax);
}

/* Longer inputs, at a few layouts, every phase: every length up to 1100,
 * then those within 3 of a multiple of 8 up to 4 KiB.  Quick: only near
 * multiples of 64 beyond 1100, and below that one layout and phase per
 * length, except near multiples of 64. */
static int near_multiple(size_t n, size_t m)
{
    return n % m <= 3 || n % m >= m - 3;
}

static void test_block_lengths(int level)
{
    /* src/dst misalignments; dst == (size_t)-1: in place. */
    static const size_t layouts[][2] = {{0, 0}, {1, 0}, {0, 5}, {3, 7}, {0, (size_t)-1},
                                        {3, (size_t)-1}};
    size_t n, lo = g_quick ? 141 : 301, hi = 4096 + 3, l, k;
    uint8_t *data = xmalloc(hi);
    unsigned phase;
    for (n = lo; n <= hi; n++) {
        int around = near_multiple(n, g_quick ? 64 : 8);
        if (n > 1100 && !around)
            continue;
        fill_random(data, n);
        if (g_quick && !around) {
            /* Every remainder of the 256-byte pipeline still runs, once. */
            check_copy(data, n, n % 8, (n * 3) % 8, g_keys[KEY_RFC], (unsigned)n & 3, level,
                       "block lengths");
            continue;
        }
        for (l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
            if (g_quick && l != 0 && l != 3 && l != 5)
                continue;
            for (k = KEY_RFC; k <= KEY_RANDOM; k++)
                for (phase = 0; phase < 4; phase++) {
                    if (layouts[l][1] == (size_t)-1)
                        check_inplace(data, n, layouts[l][0], g_keys[k], phase, level,
                                      "block lengths");
                    else
                        check_copy(data, n, layouts[l][0], layouts[l][1], g_keys[k], phase,
                                   level, "block lengths");
                }
        }
    }
    free(data);
    fprintf(stderr, "  %s: lengths %zu..1100 and near multiples of %d up to %zu: done\n",
            wsf_level_name(level), lo, g_quick ? 64 : 8, hi);
}

/* Random lengths up to 1 MiB (quick: two of them; the rest up to 70000),
 * random layout, phase and key, copying and in place. */
static void test_random(int level)
{
    size_t iter, iters = g_quick ? 12 : 60, big = (size_t)1 << 20;
    uint8_t *data = xmalloc(big);
    for (iter = 0; iter < iters; iter++) {
        size_t n = iter % (g_quick ? 6 : 5) == 0 ? rnd_below(big + 1) : rnd_below(70000);
        uint8_t key[4];
        unsigned phase = (unsigned)rnd_below(4);
        fill_random(key, 4);
        fill_random(data, n);
        check_copy(data, n, rnd_below(8), rnd_below(8), key, phase, level, "random");
        check_inplace(data, n, rnd_below(8), key, phase, level, "random");
    }
    free(data);
    fprintf(stderr, "  %s: %zu random lengths up to 1 MiB: done\n", wsf_level_name(level),
            iters);
}

/* ---------------------------------------------------------------------- */
/* Guard pages: each area is [no access][body][no access], the body a     */
/* whole number of pages; data placed at the end of the body has the      */
/* guard page right after its last byte.                                  */
/* ---------------------------------------------------------------------- */

#define GUARD_MAX_N 1100

typedef struct {
    uint8_t *map, *body;
    size_t map_len, body_len;
} guarded_area;

#if defined(HAVE_GUARD_PAGES)
static int guarded_new(guarded_area *g, size_t min_body)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *m;
    g->body_len = (min_body + page - 1) / page * page;
    g->map_len = g->body_len + 2 * page;
    m = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    g->map = (uint8_t *)m;
    g->body = g->map + page;
    if (mprotect(g->map, page, PROT_NONE) != 0 ||
        mprotect(g->body + g->body_len, page, PROT_NONE) != 0) {
        munmap(m, g->map_len);
        return 0;
    }
    return 1;
}

static void guarded_free(guarded_area *g)
{
    munmap(g->map, g->map_len);
}
#endif

/* data[0, n) placed at the end of the source area (or at its start) and
 * masked into the same place in the destination area, or in place. */
static void check_guarded(const guarded_area *sa, const guarded_area *da, const uint8_t *data,
                          size_t n, int at_end, int inplace, const uint8_t key[4],
                          unsigned phase, int level)
{
    uint8_t *src = at_end ? sa->body + sa->body_len - n : sa->body;
    uint8_t *dst = inplace ? src : at_end ? da->body + da->body_len - n : da->body;
    const char *what = at_end ? (inplace ? "guard page after, in place" : "guard page after")
                              : (inplace ? "guard page before, in place" : "guard page before");
    size_t bad = mask_against_ref(dst, src, data, n, key, phase, level);
    if (bad < n)
        /* The bodies are page-aligned: offsets from them are alignments. */
        report_mismatch(what, level, n, (size_t)(src - sa->body) % 64,
                        inplace ? -1 : (long)((size_t)(dst - da->body) % 64), key, phase, dst,
                        g_want, bad);
}

static guarded_area g_guard_src, g_guard_dst;
static int g_have_guards;

static void test_guard_pages(int level)
{
    uint8_t data[GUARD_MAX_N];
    size_t n, nmax = g_quick ? 600 : GUARD_MAX_N;
    unsigned phase;
    int at_end;
    if (!g_have_guards) {
        fprintf(stderr, "  %s: guard pages: not available here: skipped\n",
                wsf_level_name(level));
        return;
    }
    for (n = 0; n <= nmax; n++) {
        fill_random(data, n);
        for (at_end = 1; at_end >= 0; at_end--)
            for (phase = 0; phase < 4; phase++) {
                const uint8_t *key = g_keys[phase & 1 ? KEY_RANDOM : KEY_RFC];
                check_guarded(&g_guard_src, &g_guard_dst, data, n, at_end, 0, key, phase, level);
                check_guarded(&g_guard_src, &g_guard_dst, data, n, at_end, 1, key, phase, level);
            }
    }
    fprintf(stderr, "  %s: lengths 0..%zu against guard pages: done\n", wsf_level_name(level),
            nmax);
}

/* ---------------------------------------------------------------------- */
/* Chaining.  The streaming decoder unmasks a payload as it arrives, each */
/* piece from phase (bytes so far) & 3; mask_inplace(offset=) does the    */
/* same.  Each piece is its own exact-size block, at the misalignment it  */
/* would have inside the whole buffer, so a kernel reading past the end   */
/* of a piece is reported even where the buffer goes on.                  */
/* ---------------------------------------------------------------------- */

/* Masks data[pos, pos + len) as one piece (phase: the whole buffer's),
 * copying or in place, into out[pos, pos + len).  A copy's destination is
 * set to the complement of want[] first, as in check_copy; in place, a byte
 * left unwritten shows wherever its key byte is not zero (where it is, the
 * input is the right answer). */
static void mask_piece(uint8_t *out, const uint8_t *data, const uint8_t *want, size_t pos,
                       size_t len, size_t smis, size_t dmis, int inplace, const uint8_t key[4],
                       unsigned phase, int level)
{
    uint8_t *sblock, *dblock = NULL;
    uint8_t *src = block_new(len, (smis + pos) & 7, &sblock), *dst = src;
    if (len)
        memcpy(src, data + pos, len);
    if (!inplace) {
        size_t i;
        dst = block_new(len, (dmis + pos) & 7, &dblock);
        for (i = 0; i < len; i++)
            dst[i] = (uint8_t)~want[pos + i];
    }
    wsf_mask(dst, src, len, key, (phase + (unsigned)pos) & 3, level);
    if (len)
        memcpy(out + pos, dst, len);
    if (!canary_intact(sblock, (smis + pos) & 7) ||
        (dblock && !canary_intact(dblock, (dmis + pos) & 7)))
        FAIL("chained piece at %zu (+%zu bytes): level %s, phase %u: wrote before the data",
             pos, len, wsf_level_name(level), phase);
    free(sblock);
    free(dblock);
}

static void test_chaining_split(int level)
{
    size_t nmax = g_quick ? 140 : 200, n, a, bad;
    uint8_t data[200];
    unsigned phase;
    for (n = 0; n <= nmax; n++) {
        /* RFC's key, or a random one. */
        uint8_t key[4];
        size_t smis = n % 8, dmis = (n * 5 + 3) % 8;
        memcpy(key, g_keys[KEY_RFC], 4);
        if (n % 2)
            fill_random(key, 4);
        fill_random(data, n);
        for (phase = 0; phase < 4; phase++) {
            uint8_t *block, *whole = block_new(n, smis, &block);
            want_room(n);
            ref_mask(g_want, data, n, key, phase);
            /* The whole buffer in one call: the result the pieces must give. */
            if (n)
                memcpy(whole, data, n);
            wsf_mask(whole, whole, n, key, phase, level);
            g_checks++;
            if ((bad = first_diff(whole, g_want, n)) < n)
                report_mismatch("chaining, whole", level, n, smis, -1, key, phase, whole, g_want,
                                bad);
            for (a = 0; a <= n; a++) {
                int inplace = (int)((a + phase) % 3 == 0);
                mask_piece(g_whole, data, g_want, 0, a, smis, dmis, inplace, key, phase, level);
                mask_piece(g_whole, data, g_want, a, n - a, smis, dmis, inplace, key, phase,
                           level);
                g_checks++;
                if ((bad = first_diff(g_whole, whole, n)) < n) {
                    FAIL("chaining: level %s, n=%zu split at %zu%s, phase %u: byte %zu is %02x, "
                         "whole gives %02x",
                         wsf_level_name(level), n, a, inplace ? " in place" : "", phase, bad,
                         g_whole[bad], whole[bad]);
                    break;
                }
            }
            free(block);
        }
    }
    fprintf(stderr, "  %s: lengths 0..%zu split in two at every point: done\n",
            wsf_level_name(level), nmax);
}

/* Random buffers cut into many pieces of random lengths (empty ones too),
 * as a payload arrives from the network. */
static void test_chaining_random(int level)
{
    size_t iter, iters = g_quick ? 60 : 400, cap = 70000;
    uint8_t *data = xmalloc(cap);
    for (iter = 0; iter < iters; iter++) {
        size_t n = rnd_below(iter % 10 == 0 ? cap : 5000), pos = 0, bad;
        size_t smis = rnd_below(8), dmis = rnd_below(8);
        int inplace = (int)(iter % 2);
        unsigned phase = (unsigned)rnd_below(4);
        uint8_t key[4];
        fill_random(key, 4);
        fill_random(data, n);
        want_room(n);
        ref_mask(g_want, data, n, key, phase);
        while (pos < n) {
            size_t len = rnd_below(8) == 0 ? rnd_below(2000) : rnd_below(300);
            if (len > n - pos)
                len = n - pos;
            mask_piece(g_whole, data, g_want, pos, len, smis, dmis, inplace, key, phase, level);
            pos += len;
        }
        g_checks++;
        if ((bad = first_diff(g_whole, g_want, n)) < n)
            report_mismatch("chaining, random pieces", level, n, smis,
                            inplace ? -1 : (long)dmis, key, phase, g_whole, g_want, bad);
    }
    free(data);
    fprintf(stderr, "  %s: %zu random buffers in random pieces: done\n", wsf_level_name(level),
            iters);
}

int main(int argc, char **argv)
{
    int i, only = -1;
    uint64_t seed;
    wsf_cpu_features cpu;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
            only = wsf_parse_level(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            g_quick = 1;
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            rng_state = strtoull(argv[++i], NULL, 0) | 1;
        else {
            fprintf(stderr, "usage: %s [--level NAME] [--quick] [--seed S]\n", argv[0]);
            return 2;
        }
    }
    cpu = wsf_detect();
    if (!select_levels(only, cpu.level))
        return 0;
    fill_random(g_keys[KEY_RANDOM], 4);
    seed = rng_state;
#if defined(HAVE_GUARD_PAGES)
    g_have_guards = guarded_new(&g_guard_src, GUARD_MAX_N);
    if (g_have_guards && !guarded_new(&g_guard_dst, GUARD_MAX_N)) {
        guarded_free(&g_guard_src);
        g_have_guards = 0;
    }
#endif
    fprintf(stderr, "mask tests, levels:");
    for (i = 0; i < g_nlevels; i++)
        fprintf(stderr, " %s", wsf_level_name(g_levels[i]));
    fprintf(stderr, "%s, random key %02x%02x%02x%02x\n", g_quick ? " (quick)" : "",
            g_keys[KEY_RANDOM][0], g_keys[KEY_RANDOM][1], g_keys[KEY_RANDOM][2],
            g_keys[KEY_RANDOM][3]);
    for (i = 0; i < g_nlevels; i++) {
        unsigned long checks = g_checks, failures = g_failures;
        rng_state = seed; /* the same inputs at every level */
        test_empty_null(g_levels[i]);
        test_lengths_and_alignment(g_levels[i]);
        test_block_lengths(g_levels[i]);
        test_random(g_levels[i]);
        test_guard_pages(g_levels[i]);
        test_chaining_split(g_levels[i]);
        test_chaining_random(g_levels[i]);
        printf("test_mask: level %s: %lu checks, %lu failures\n", wsf_level_name(g_levels[i]),
               g_checks - checks, g_failures - failures);
    }
    free(g_want);
    free(g_whole);
#if defined(HAVE_GUARD_PAGES)
    if (g_have_guards) {
        guarded_free(&g_guard_src);
        guarded_free(&g_guard_dst);
    }
#endif
    return g_failures ? 1 : 0;
}
