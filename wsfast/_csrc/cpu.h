/* Run-time SIMD level selection shared by every wsfast kernel.
 *
 * Plain C99, no Python.h. The extension is compiled for the platform baseline
 * only (SSE2 on x86-64, NEON on AArch64); faster kernels carry per-function
 * `target` attributes and are only called after the CPU (and the OS, for the
 * AVX register state) has been checked here.
 *
 * Levels are ordered so that a cap can be applied with a simple min():
 *   scalar (0) < sse2 / neon (1) < avx2 (2) < avx512 (3)
 */
#ifndef WSFAST_CPU_H
#define WSFAST_CPU_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WSF_SIMD_SCALAR 0
#define WSF_SIMD_BASE 1   /* sse2 on x86-64, neon on aarch64 */
#define WSF_SIMD_AVX2 2
#define WSF_SIMD_AVX512 3

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define WSF_X86 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define WSF_ARM64 1
#endif

/* x86 kernels beyond the baseline need compiler support for target attributes
 * (GCC/Clang) or unrestricted intrinsics (MSVC). SSE2 itself is only assumed on
 * x86-64 (it is the baseline there) and on 32-bit builds that enable it. */
#if defined(WSF_X86) && (defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER))
#define WSF_HAVE_X86_SIMD 1
#include <immintrin.h>
#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define WSF_HAVE_SSE2_BASELINE 1
#endif
#endif

#if defined(WSF_ARM64)
#include <arm_neon.h>
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define WSF_TARGET(x)
#include <intrin.h>
#else
#define WSF_TARGET(x) __attribute__((target(x)))
#endif

/* Extra x86 features some kernels need at the base level (UTF-8 uses pshufb). */
typedef struct {
    int level;       /* best level usable on this CPU */
    int ssse3;       /* pshufb available (UTF-8 base-level kernel) */
    int sse41;
    int avx512vbmi2; /* byte/word compress (UTF-8 to str, AVX-512 level) */
} wsf_cpu_features;

#if defined(WSF_HAVE_X86_SIMD) && defined(_MSC_VER) && !defined(__clang__)
static void wsf_detect_x86(wsf_cpu_features *f)
{
    int r[4];
    unsigned long long xcr0 = 0;
    int max_leaf;
    __cpuid(r, 0);
    max_leaf = r[0];
    __cpuid(r, 1);
    f->ssse3 = (r[2] >> 9) & 1;
    f->sse41 = (r[2] >> 19) & 1;
    if ((r[2] >> 27) & 1) /* OSXSAVE */
        xcr0 = _xgetbv(0);
    if (max_leaf >= 7 && (xcr0 & 0x6) == 0x6 && ((r[2] >> 28) & 1)) {
        int e[4];
        __cpuidex(e, 7, 0);
        if ((e[1] >> 5) & 1) /* AVX2 */
            f->level = WSF_SIMD_AVX2;
        /* AVX-512 F + BW, and the OS saves opmask/ZMM state. */
        if (f->level == WSF_SIMD_AVX2 && (xcr0 & 0xe6) == 0xe6 &&
            ((e[1] >> 16) & 1) && ((e[1] >> 30) & 1)) {
            f->level = WSF_SIMD_AVX512;
            f->avx512vbmi2 = (e[2] >> 6) & 1; /* with POPCNT, CPUID.1:ECX[23] */
            f->avx512vbmi2 &= (r[2] >> 23) & 1;
        }
    }
}
#elif defined(WSF_HAVE_X86_SIMD)
static void wsf_detect_x86(wsf_cpu_features *f)
{
    /* libgcc / compiler-rt check XGETBV for the AVX and AVX-512 state too. */
    __builtin_cpu_init();
    f->ssse3 = __builtin_cpu_supports("ssse3") ? 1 : 0;
    f->sse41 = __builtin_cpu_supports("sse4.1") ? 1 : 0;
    if (__builtin_cpu_supports("avx2"))
        f->level = WSF_SIMD_AVX2;
    if (f->level == WSF_SIMD_AVX2 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw")) {
        f->level = WSF_SIMD_AVX512;
        f->avx512vbmi2 = __builtin_cpu_supports("avx512vbmi2") &&
                         __builtin_cpu_supports("popcnt");
    }
}
#endif

/* Parse a WSFAST_SIMD value; -1 when it names no level. */
static int wsf_parse_level(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return -1;
    if (strcmp(name, "scalar") == 0)
        return WSF_SIMD_SCALAR;
    if (strcmp(name, "sse2") == 0 || strcmp(name, "neon") == 0)
        return WSF_SIMD_BASE;
    if (strcmp(name, "avx2") == 0)
        return WSF_SIMD_AVX2;
    if (strcmp(name, "avx512") == 0)
        return WSF_SIMD_AVX512;
    return -1;
}

/* Detect the CPU. Pure function of the hardware: safe to call from any thread. */
static wsf_cpu_features wsf_detect(void)
{
    wsf_cpu_features f;
    f.level = WSF_SIMD_SCALAR;
    f.ssse3 = 0;
    f.sse41 = 0;
    f.avx512vbmi2 = 0;
#if defined(WSF_HAVE_X86_SIMD) && defined(WSF_HAVE_SSE2_BASELINE)
    f.level = WSF_SIMD_BASE;
    wsf_detect_x86(&f);
#elif defined(WSF_HAVE_X86_SIMD)
    /* 32-bit x86 without an SSE2 baseline: only scalar kernels. */
    (void)wsf_detect_x86;
#elif defined(WSF_ARM64)
    f.level = WSF_SIMD_BASE;
#endif
    return f;
}

/* The name of a level on this platform. */
static const char *wsf_level_name(int level)
{
    switch (level) {
    case WSF_SIMD_AVX512:
        return "avx512";
    case WSF_SIMD_AVX2:
        return "avx2";
    case WSF_SIMD_BASE:
#if defined(WSF_ARM64)
        return "neon";
#else
        return "sse2";
#endif
    default:
        return "scalar";
    }
}

#endif /* WSFAST_CPU_H */
