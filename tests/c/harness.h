/* What every C kernel test (tests/c/test_*.c) shares: the check and failure
 * counters, FAIL (counts and prints the first 20 failures with their line),
 * the level list a run covers, and a fixed-seed xorshift64* generator so a
 * failure reproduces (--seed S changes it; a test may set WSF_TEST_SEED
 * before including this file for a default of its own), and the choice of
 * levels from --level.
 *
 * Header-only on purpose: each test is one translation unit, built by
 * run_c_tests.sh with one compiler command (this file is found beside the
 * test, the kernels through -I wsfast/_csrc). */
#ifndef WSF_TEST_HARNESS_H
#define WSF_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef WSF_TEST_SEED
#define WSF_TEST_SEED 0x2545F4914F6CDD1Dull
#endif

static unsigned long g_checks, g_failures;
static int g_quick;
/* The SIMD levels this run covers (--level NAME: that one only). */
static int g_levels[8];
static int g_nlevels;

#define FAIL(...)                                                \
    do {                                                         \
        g_failures++;                                            \
        if (g_failures <= 20) {                                  \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fputc('\n', stderr);                                 \
        }                                                        \
    } while (0)

/* Fill g_levels with the levels to run: every level up to `best` (the CPU's),
 * or only `only` (-1: all).  0 when `only` is a level this CPU lacks: the
 * test then says so and exits 0 (skipped, not failed).  Include this file
 * after the kernel header, which brings cpu.h. */
static int select_levels(int only, int best)
{
    int i;
    if (only > best) {
        printf("level %s not supported by this CPU: skipped\n", wsf_level_name(only));
        return 0;
    }
    for (i = 0; i <= best; i++)
        if (only < 0 || only == i)
            g_levels[g_nlevels++] = i;
    return 1;
}

static uint64_t rng_state = WSF_TEST_SEED;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

#endif
