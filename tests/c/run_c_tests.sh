#!/usr/bin/env bash
# Builds and runs the C-level kernel tests (tests/c/test_*.c).
#
#  1. gcc (or $CC) with AddressSanitizer + UBSan, once per SIMD level this CPU
#     supports (levels run in parallel, one log each);
#  2. clang, optimised, when it is installed (a second compiler's view of the
#     intrinsics and of undefined behaviour);
#  3. aarch64 (the NEON kernels) and s390x (big-endian) with Debian's cross
#     compilers (gcc-aarch64-linux-gnu, gcc-s390x-linux-gnu), linked
#     statically and run under qemu-user-static, when installed.
# Steps whose tools are missing are skipped with a note, never failed.
#
# Environment: QUICK=1 runs a reduced set (what the emulated steps always
# use); CROSS=0 skips the emulated steps (CI: they take over ten minutes on two
# cores, and the qemu jobs run the kernels on those CPUs through the suite); CC
# picks the native compiler; KEEP=1 keeps the build dir.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
INC="$ROOT/wsfast/_csrc"
OUT=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$OUT"' EXIT; else echo "build dir: $OUT"; fi
CC=${CC:-gcc}
QUICKARG=()
[ -n "${QUICK:-}" ] && QUICKARG=(--quick)
WARN=(-std=c99 -Wall -Wextra -Werror)
TESTS=("$HERE"/test_*.c)
status=0

case "$(uname -m)" in
    x86_64 | amd64 | i?86) LEVELS=(scalar sse2 avx2 avx512) ;;
    aarch64 | arm64) LEVELS=(scalar neon) ;;
    *) LEVELS=(scalar) ;;
esac

run_levels() {  # $1 = binary, $2 = label; every level in parallel
    local bin=$1 label=$2 level pids=() logs=() i rc
    for level in "${LEVELS[@]}"; do
        "$bin" --level "$level" "${QUICKARG[@]}" >"$OUT/$label-$level.log" 2>&1 &
        pids+=($!)
        logs+=("$OUT/$label-$level.log")
    done
    for i in "${!pids[@]}"; do
        rc=0
        wait "${pids[$i]}" || rc=$?
        echo "--- $label, level ${LEVELS[$i]} (exit $rc)"
        grep -v '^  ' "${logs[$i]}" || true
        [ "$rc" -eq 0 ] || { status=1; cat "${logs[$i]}"; }
    done
}

for src in "${TESTS[@]}"; do
    name=$(basename "$src" .c)
    echo "=== $name: $CC -O2 -fsanitize=address,undefined"
    "$CC" "${WARN[@]}" -O2 -g -fno-omit-frame-pointer \
        -fsanitize=address,undefined -fno-sanitize-recover=all \
        -I"$INC" "$src" -o "$OUT/$name-asan"
    run_levels "$OUT/$name-asan" "$name-asan"

    if [ "$name" = test_utf8 ] || [ "$name" = test_utf8_decode ]; then
        # Every input length through the SIMD kernels (no scalar shortcut for
        # short inputs), and the x86 paths taken when SSSE3 is missing.
        echo "=== $name: same, every length through SIMD, quick"
        "$CC" "${WARN[@]}" -O2 -g -fno-omit-frame-pointer \
            -fsanitize=address,undefined -fno-sanitize-recover=all \
            -DWSF_UTF8_SIMD_FROM=1 -DWSF_UTF8_DECODE_SIMD_FROM=1 \
            -I"$INC" "$src" -o "$OUT/$name-simd0"
        QUICKARG_SAVED=("${QUICKARG[@]}")
        QUICKARG=(--quick)
        run_levels "$OUT/$name-simd0" "$name-simd0"
        case "$(uname -m)" in
            x86_64 | amd64 | i?86)
                echo "=== $name: same, as if the CPU had no SSSE3/SSE4.1"
                QUICKARG=(--quick --no-ssse3)
                run_levels "$OUT/$name-simd0" "$name-nossse3"
                if [ "$name" = test_utf8_decode ]; then
                    echo "=== $name: same, AVX-512 without AVX512-VBMI2"
                    QUICKARG=(--quick --no-vbmi2)
                    run_levels "$OUT/$name-simd0" "$name-novbmi2"
                fi
                ;;
        esac
        QUICKARG=("${QUICKARG_SAVED[@]}")
    fi

    if command -v clang >/dev/null 2>&1; then
        echo "=== $name: clang -O2"
        clang "${WARN[@]}" -O2 -I"$INC" "$src" -o "$OUT/$name-clang"
        run_levels "$OUT/$name-clang" "$name-clang"
    else
        echo "=== $name: clang not installed: skipped"
    fi

    # Other architectures, emulated: aarch64 runs the NEON kernel, s390x is
    # big-endian (the word-at-a-time ASCII check must not care).
    for cross in "aarch64:scalar neon" "s390x:scalar"; do
        arch=${cross%%:*}
        if [ "${CROSS:-1}" = 0 ]; then
            echo "=== $name: $arch emulated: skipped (CROSS=0)"
            continue
        fi
        read -r -a levels <<<"${cross#*:}"
        if ! command -v "$arch-linux-gnu-gcc" >/dev/null 2>&1 ||
            ! command -v "qemu-$arch-static" >/dev/null 2>&1; then
            echo "=== $name: $arch-linux-gnu-gcc or qemu-$arch-static not installed: skipped"
            continue
        fi
        echo "=== $name: $arch-linux-gnu-gcc -O2 -static, under qemu-$arch-static, quick"
        "$arch-linux-gnu-gcc" "${WARN[@]}" -O2 -static -I"$INC" "$src" -o "$OUT/$name-$arch"
        # ... and once more with every length through the SIMD kernels.
        "$arch-linux-gnu-gcc" "${WARN[@]}" -O2 -static -DWSF_UTF8_SIMD_FROM=1 \
            -DWSF_UTF8_DECODE_SIMD_FROM=1 -I"$INC" "$src" -o "$OUT/$name-$arch-simd0"
        for level in "${levels[@]}"; do
            for bin in "$name-$arch" "$name-$arch-simd0"; do
                rc=0
                "qemu-$arch-static" "$OUT/$bin" --level "$level" --quick \
                    >"$OUT/$bin-$level.log" 2>&1 || rc=$?
                echo "--- $bin, level $level (exit $rc)"
                grep -v '^  ' "$OUT/$bin-$level.log" || true
                [ "$rc" -eq 0 ] || { status=1; cat "$OUT/$bin-$level.log"; }
            done
        done
    done
done

if [ "$status" -eq 0 ]; then echo "=== C tests passed"; else echo "=== C tests FAILED"; fi
exit "$status"
