#!/usr/bin/env bash
# A bounded differential fuzzing run (fuzz/fuzz_wsfast.py, atheris from PyPI):
#
#   scripts/fuzz.sh [--seconds N] [--asan] [--jobs N] [-- LIBFUZZER ARGS...]
#
#   1. a fresh venv with atheris and the build requirements; wsfast built from a
#      copy of the tree (release flags, or --asan: WSFAST_SANITIZE=address,undefined
#      with gcc's libasan preloaded, as scripts/sanitize.sh does);
#   2. the seed corpus (fuzz/corpus) replayed once: every seed must pass;
#   3. atheris for N seconds (default 120) over a working corpus kept in
#      $WSFAST_CI_CACHE/fuzz-corpus (seeded from fuzz/corpus; it grows run
#      after run, so later runs start deeper). --jobs N runs N fuzzers at once.
# A difference between the twins, an internal exception or a sanitizer report
# stops the run: the input is saved under $WSFAST_CI_CACHE/fuzz-artifacts/ and
# printed in hex with the command that replays it.
#
# Longer campaigns (the numbers they reached are in fuzz/README.md):
#   scripts/fuzz.sh --seconds 3600 --asan
#
# Exit: 0 no finding; 1 a finding (or the build failed); 2 the job could not be
# prepared (PyPI unreachable).
# Environment: PYTHON (host python >= 3.11), WSFAST_CI_CACHE.
set -euo pipefail
CI_JOB=fuzz
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

SECONDS_BUDGET=120 ASAN=0 JOBS=1
EXTRA=()
while (($#)); do
    case $1 in
        --seconds) SECONDS_BUDGET=$2; shift ;;
        --asan) ASAN=1 ;;
        --jobs) JOBS=$2; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
    shift
done
unset WSFAST_NO_EXTENSIONS WSFAST_SIMD WSFAST_SANITIZE
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CORPUS=$CI_CACHE/fuzz-corpus
ARTIFACTS=$CI_CACHE/fuzz-artifacts
mkdir -p "$CORPUS" "$ARTIFACTS"

ci_say "fresh venv: atheris, build requirements"
"$CI_HOST_PY" -m venv "$WORK/venv"
V=$WORK/venv/bin
mapfile -t reqs < <(ci_reqs build)
ci_retry 3 "$V/python" -m pip install -q atheris "${reqs[@]}" >"$WORK/pip.log" 2>&1 \
    || { tail -5 "$WORK/pip.log" >&2; ci_unprepared "pip install atheris ${reqs[*]} failed"; }

ci_copy_tree "$WORK/src"
RUN=("$V/python" -s -P)  # not -I: it would ignore PYTHONMALLOC (--asan)
if ((ASAN)); then
    LIBASAN=$(readlink -f "$(gcc -print-file-name=libasan.so)")
    [[ -f $LIBASAN ]] || ci_unprepared "gcc has no libasan.so"
    export WSFAST_SANITIZE=address,undefined
    export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    export PYTHONMALLOC=malloc
    RUN=(env "LD_PRELOAD=$LIBASAN" "$V/python" -s -P)
fi
ci_say "building wsfast${WSFAST_SANITIZE:+ with WSFAST_SANITIZE=$WSFAST_SANITIZE}"
if ! WSFAST_REQUIRE_EXTENSION=1 "$V/python" -m pip install -v --no-build-isolation --no-deps \
        "$WORK/src" >"$WORK/build.log" 2>&1; then
    tail -30 "$WORK/build.log" >&2
    echo "FAIL: building wsfast failed" >&2
    exit 1
fi
unset WSFAST_SANITIZE

TARGET=$WORK/src/fuzz/fuzz_wsfast.py
ci_say "replaying the seed corpus ($(find "$WORK/src/fuzz/corpus" -type f | wc -l) seeds)"
if ! (cd "$WORK" && find "$WORK/src/fuzz/corpus" -type f -print0 \
        | xargs -0 "${RUN[@]}" "$TARGET" --replay >"$WORK/replay.log" 2>&1); then
    tail -30 "$WORK/replay.log" >&2
    echo "FAIL: a seed of fuzz/corpus fails" >&2
    exit 1
fi

ci_say "atheris for ${SECONDS_BUDGET} s ($JOBS job(s)); working corpus $CORPUS ($(find "$CORPUS" -type f | wc -l) inputs)"
rc=0
ARGS=(-max_total_time="$SECONDS_BUDGET" -print_final_stats=1 -max_len=8192 -timeout=20
      -rss_limit_mb=3072 -artifact_prefix="$ARTIFACTS/")
if ((JOBS > 1)); then
    ARGS+=(-jobs="$JOBS" -workers="$JOBS")
fi
(cd "$WORK" && "${RUN[@]}" "$TARGET" "${ARGS[@]}" "${EXTRA[@]}" "$CORPUS" "$WORK/src/fuzz/corpus") \
    >"$WORK/fuzz.log" 2>&1 || rc=$?
grep -E '^#[0-9]+ +(INITED|DONE)|^stat::|Uncaught|Mismatch|ERROR|SUMMARY' "$WORK/fuzz.log" || true
if [[ $rc -ne 0 ]]; then
    tail -60 "$WORK/fuzz.log" >&2
    newest=$(find "$ARTIFACTS" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
    if [[ -n $newest ]]; then
        echo "FINDING: $newest" >&2
        echo "  hex: $(od -An -tx1 -v "$newest" | tr -d ' \n' | cut -c1-400)" >&2
        echo "  replay: python fuzz/fuzz_wsfast.py --replay $newest" >&2
    fi
    ci_say "FAILED (atheris exit $rc)"
    exit 1
fi
ci_say "PASSED: no difference between the twins in ${SECONDS_BUDGET} s"
