#!/usr/bin/env bash
# The compiled twin under AddressSanitizer + UndefinedBehaviorSanitizer:
#
#   scripts/sanitize.sh [--no-ctest] [--no-suite] [-- PYTEST ARGS...]
#
#   1. the package is built with WSFAST_SANITIZE=address,undefined (setup.py adds
#      -fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g) into a fresh
#      venv, from a copy of the tree, with gcc ($CC);
#   2. a canary: a one-byte heap overflow through ctypes must be reported, so a
#      run that reports nothing really had the sanitizer armed;
#   3. the whole test suite, `python -s -P -m pytest` from a copy of tests/, with
#      the compiled twin required (-s -P rather than -I: -I would also ignore
#      PYTHONMALLOC, below; the copy holds no wsfast/, so the installed one is tested).
#      The twin fixture runs the compiled twin only (WSFAST_TEST_TWINS=c; the
#      pure twin runs no C code of wsfast's, and its pass doubled this job's
#      time); the differential tests still compare the two twins.  The tests
#      are spread over ASAN_JOBS pytest-xdist workers (one per CPU), each its
#      own instrumented process;
#   4. the C kernel tests, tests/c/run_c_tests.sh (their own ASan + UBSan builds).
#
# Under an uninstrumented CPython the ASan runtime must be the first library
# loaded, so it is LD_PRELOADed ($(gcc -print-file-name=libasan.so)).
# PYTHONMALLOC=malloc: CPython's small-object allocator carves objects out of
# its own arenas, where ASan sees no boundary; with malloc every object gets
# its own redzones. Note that a bytes or bytearray object keeps a NUL byte after
# its data, so a read of exactly one byte past one stays inside its allocation;
# array.array buffers (which the buffer-kind tests use) and the C tests'
# exact-size blocks have no such slack.
# ASAN_OPTIONS=detect_leaks=0: CPython itself does not free everything at exit
# (interned strings, static types, caches), so LeakSanitizer would report the
# interpreter's allocations, not wsfast's; leaks are not checked by this job.
# allocator_may_return_null=1: an allocation that fails returns NULL, as without
# ASan, so the tests that provoke MemoryError (under an RLIMIT_AS) still can.
# UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1: the first report fails the run.
#
# Exit: 0 passed; 1 a test failed, a sanitizer reported, or the build failed;
# 2 the job could not be prepared (PyPI unreachable, no libasan).
# Environment: CC (gcc), PYTHON (host python >= 3.11), WSFAST_CI_CACHE,
# WSFAST_TEST_TWINS (c; c,py runs the pure twin's pass too), ASAN_JOBS (nproc).
set -euo pipefail
CI_JOB=sanitize
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

CTEST=1 SUITE=1
PYTEST_ARGS=()
while (($#)); do
    case $1 in
        --no-ctest) CTEST=0 ;;
        --no-suite) SUITE=0 ;;
        --) shift; PYTEST_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
    shift
done
export CC=${CC:-gcc}
ASAN_JOBS=${ASAN_JOBS:-$(nproc)}
unset WSFAST_NO_EXTENSIONS WSFAST_SIMD WSFAST_DEBUG WSFAST_CYTHON_TRACE PYTHONPATH PYTHONHOME

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-sanitize.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
status=0

if ((SUITE)); then
    LIBASAN=$(readlink -f "$("$CC" -print-file-name=libasan.so)")
    [[ -f $LIBASAN ]] || ci_unprepared "$CC has no libasan.so (install libasan8 / the gcc package)"
    ci_say "fresh venv; build and test requirements from pyproject.toml"
    "$CI_HOST_PY" -m venv "$WORK/venv"
    V=$WORK/venv/bin
    mapfile -t reqs < <(ci_reqs build; ci_reqs test)
    ci_retry 3 "$V/python" -m pip install -q "${reqs[@]}" pytest-xdist >"$WORK/pip.log" 2>&1 \
        || { tail -5 "$WORK/pip.log" >&2; ci_unprepared "pip install ${reqs[*]} pytest-xdist failed"; }

    ci_say "building wsfast with WSFAST_SANITIZE=address,undefined ($CC)"
    ci_copy_tree "$WORK/src"
    if ! WSFAST_SANITIZE=address,undefined WSFAST_REQUIRE_EXTENSION=1 \
            "$V/python" -m pip install -v --no-build-isolation --no-deps "$WORK/src" \
            >"$WORK/build.log" 2>&1; then
        tail -30 "$WORK/build.log" >&2
        echo "FAIL: the sanitizer build failed" >&2
        exit 1
    fi
    # Every extension must really be instrumented (a cached or fallback build
    # would make a clean run mean nothing).
    SITE=$("$V/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    n=0
    for so in "$SITE"/wsfast/_*_c.*.so; do
        [[ -e $so ]] || continue
        n=$((n + 1))
        # Listings read whole, then grep: `readelf | grep -q` fails now and then
        # under pipefail, as grep exits at the first match and readelf dies of
        # SIGPIPE.
        if ! grep -q 'NEEDED.*libasan' <<<"$(readelf -d "$so")" \
                || ! grep -q '__ubsan_handle' <<<"$(nm -D "$so")"; then
            echo "FAIL: $so is not built with ASan and UBSan" >&2
            exit 1
        fi
    done
    [[ $n -gt 0 ]] || { echo "FAIL: no compiled module was installed" >&2; exit 1; }
    ci_say "$n extension modules instrumented (libasan + ubsan); runtime $LIBASAN"

    export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    export PYTHONMALLOC=malloc WSFAST_REQUIRE_EXTENSION=1
    export WSFAST_TEST_TWINS=${WSFAST_TEST_TWINS:-c}
    san() { LD_PRELOAD=$LIBASAN "$V/python" -s -P "$@"; }

    ci_say "canary: a one-byte heap overflow must be reported"
    if san -c '
import ctypes
buf = ctypes.create_string_buffer(64)  # 64 bytes from malloc (PYTHONMALLOC=malloc)
ctypes.string_at(ctypes.addressof(buf), 65)  # memcpy of 65: intercepted by ASan
' >"$WORK/canary.log" 2>&1 || ! grep -q 'heap-buffer-overflow' "$WORK/canary.log"; then
        cat "$WORK/canary.log" >&2
        echo "FAIL: ASan did not report the canary overflow: the runtime is not armed" >&2
        exit 1
    fi

    ci_run_dir "$WORK/src" "$WORK/run"
    ci_say "test suite on the instrumented build: WSFAST_TEST_TWINS=$WSFAST_TEST_TWINS python -s -P -m pytest -n $ASAN_JOBS ${PYTEST_ARGS[*]}"
    (cd "$WORK/run" && san -c 'import wsfast, sys; print(
        "    wsfast", wsfast.__version__, wsfast.IMPLEMENTATION, wsfast.SIMD, "python", sys.version.split()[0])')
    rc=0
    # A worker that ASan stops is only "crashed" to pytest-xdist, which drops
    # its stderr: the reports go to files (one per process), printed below.
    mkdir "$WORK/reports"
    (cd "$WORK/run" && ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$WORK/reports/asan \
        UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$WORK/reports/ubsan \
        san -m pytest -p no:cacheprovider -q -n "$ASAN_JOBS" "${PYTEST_ARGS[@]}") || rc=$?
    ci_say "suite: pytest exit $rc"
    # Allocation failures the MemoryError tests provoke leave warnings there
    # too; only errors are shown (and any error fails the job).
    for report in "$WORK"/reports/*; do
        [[ -e $report ]] || continue
        if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$report"; then
            echo "--- sanitizer report $(basename "$report"):" >&2
            head -80 "$report" >&2
            rc=1
        fi
    done
    [[ $rc -eq 0 ]] || status=1
fi

if ((CTEST)); then
    ci_say "C kernel tests: tests/c/run_c_tests.sh"
    rc=0
    # with their own sanitizer settings (leak checks included), not the suite's
    env -u ASAN_OPTIONS -u UBSAN_OPTIONS -u PYTHONMALLOC bash "$CI_ROOT/tests/c/run_c_tests.sh" || rc=$?
    ci_say "C tests: exit $rc"
    [[ $rc -eq 0 ]] || status=1
fi

if [[ $status -eq 0 ]]; then ci_say "PASSED"; else ci_say "FAILED"; fi
exit "$status"
