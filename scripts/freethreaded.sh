#!/usr/bin/env bash
# The compiled twin on a free-threaded CPython (3.14t, else 3.13t):
#
#   scripts/freethreaded.sh [--parallel-subset] [--no-parallel]
#
#   1. the interpreter: ../shared/freethreaded/build-cpython-ft.sh 3.14 3.13
#      (built once from Debian's source package, ~4-8 min on 2 cores, then
#      reused from ~/.cache/cpython-3.1Xt without network access);
#   2. wsfast built for it, from a copy of the tree, into a fresh venv;
#   3. importing wsfast (and each compiled module) leaves the GIL disabled;
#   4. the whole suite, `python -I -m pytest`, compiled twin required;
#   5. the whole suite again under pytest-run-parallel, every test run by 4
#      threads at once (--parallel-threads=4); --parallel-subset runs only the
#      files in PARALLEL_SUBSET below, --no-parallel skips this step;
#   6. the concurrency stress test (tests/test_threads.py) with
#      WSFAST_STRESS_SECONDS=${WSFAST_FT_STRESS_SECONDS:-3} per scenario.
#
# Exit: 0 passed; 1 a check failed (or the interpreter build failed); 2 the
# job could not be prepared: the Debian mirror is unreachable or serves none
# of the sources, or PyPI is unreachable (loud banner, CI lists it NOT RUN).
# Environment: WSFAST_FT_BUILDER (the build script; default
# ../shared/freethreaded/build-cpython-ft.sh beside the checkout), WSFAST_CI_CACHE.
set -euo pipefail
CI_JOB=free-threaded
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PARALLEL=all
while (($#)); do
    case $1 in
        --parallel-subset) PARALLEL=subset ;;
        --no-parallel) PARALLEL=none ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
    shift
done
# The files whose objects carry state across calls (the thread-safety risk).
PARALLEL_SUBSET=(tests/test_mask.py tests/test_utf8.py tests/test_frames.py tests/test_messages.py
                 tests/test_close.py tests/test_vectors_fed.py tests/test_message_queue.py)
unset WSFAST_NO_EXTENSIONS WSFAST_SIMD WSFAST_SANITIZE

BUILDER=${WSFAST_FT_BUILDER:-$CI_ROOT/../shared/freethreaded/build-cpython-ft.sh}
[[ -f $BUILDER ]] || ci_unprepared "no free-threaded CPython builder at $BUILDER (set WSFAST_FT_BUILDER)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-ft.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CI_CACHE"

ci_say "free-threaded interpreter ($BUILDER 3.14 3.13; cached after the first build)"
rc=0
# One build at a time on this machine: a second job waits for the first.
FTPY=$(flock "$CI_CACHE/ft-build.lock" bash "$BUILDER" 3.14 3.13) || rc=$?
case $rc in
    0) ;;
    2) ci_unprepared "the Debian mirror is unreachable: no free-threaded CPython to test on" ;;
    3) ci_unprepared "the Debian mirror serves the source of neither python3.14 nor python3.13" ;;
    *) echo "FAIL: building the free-threaded CPython failed (exit $rc)" >&2; exit 1 ;;
esac
ci_say "interpreter: $FTPY ($("$FTPY" -VV 2>&1 | head -n 1))"
"$FTPY" -c 'import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED"), "not a free-threaded build"
assert not sys._is_gil_enabled(), "the GIL is enabled at startup"' \
    || { echo "FAIL: $FTPY is not a free-threaded interpreter with the GIL off" >&2; exit 1; }

ci_say "fresh venv; build and test requirements, pytest-run-parallel"
"$FTPY" -m venv "$WORK/venv"
V=$WORK/venv/bin
mapfile -t reqs < <(ci_reqs build; ci_reqs test)
# --prefer-binary: the newest release of a dependency may have no wheel for a
# free-threaded ABI yet (numpy, hypothesis's dependencies), and building it from
# source takes long or needs tools (Rust) this machine lacks; an older wheel does.
ci_retry 3 "$V/python" -m pip install -q --prefer-binary "${reqs[@]}" \
    pytest-run-parallel >"$WORK/pip.log" 2>&1 \
    || { tail -5 "$WORK/pip.log" >&2; ci_unprepared "pip install ${reqs[*]} pytest-run-parallel failed"; }

ci_say "building wsfast for $("$FTPY" -c 'import sys; print(sys.implementation.cache_tag)')t"
ci_copy_tree "$WORK/src"
if ! WSFAST_REQUIRE_EXTENSION=1 "$V/python" -m pip install -v --no-build-isolation --no-deps \
        "$WORK/src" >"$WORK/build.log" 2>&1; then
    tail -30 "$WORK/build.log" >&2
    echo "FAIL: building wsfast for the free-threaded interpreter failed" >&2
    exit 1
fi
export WSFAST_REQUIRE_EXTENSION=1
ci_run_dir "$WORK/src" "$WORK/run"
cd "$WORK/run"

ci_say "importing wsfast leaves the GIL disabled"
"$V/python" -I -W error::RuntimeWarning - <<'EOF' || { echo "FAIL: the GIL check" >&2; exit 1; }
import importlib, sys
assert not sys._is_gil_enabled(), "GIL enabled before importing wsfast"
import wsfast
from wsfast import _codec
assert wsfast.IMPLEMENTATION == "c", wsfast.IMPLEMENTATION
for topic in _codec.TOPICS:  # each compiled module must declare Py_mod_gil_not_used
    importlib.import_module(f"wsfast.{topic}_c")
    assert not sys._is_gil_enabled(), f"importing wsfast.{topic}_c enabled the GIL"
print(f"    wsfast {wsfast.__version__} {wsfast.IMPLEMENTATION}/{wsfast.SIMD} on "
      f"{sys.version.split()[0]}: GIL disabled after import")
EOF

status=0
step() {  # step LABEL CMD...: run, time and record; a failure fails the job at the end
    local label=$1 t=$SECONDS rc=0
    shift
    ci_say "$label"
    "$@" || rc=$?
    ci_say "$label: exit $rc in $((SECONDS - t)) s"
    [[ $rc -eq 0 ]] || status=1
}
step "the suite" "$V/python" -I -m pytest -p no:cacheprovider -q
case $PARALLEL in
    all) step "the suite, each test in 4 threads at once (pytest-run-parallel)" \
        "$V/python" -I -m pytest -p no:cacheprovider -q --parallel-threads=4 ;;
    subset) step "${PARALLEL_SUBSET[*]}, each test in 4 threads at once (pytest-run-parallel)" \
        "$V/python" -I -m pytest -p no:cacheprovider -q --parallel-threads=4 "${PARALLEL_SUBSET[@]}" ;;
esac
step "concurrency stress (tests/test_threads.py)" env \
    WSFAST_STRESS_SECONDS="${WSFAST_FT_STRESS_SECONDS:-3}" \
    "$V/python" -I -m pytest -p no:cacheprovider -q tests/test_threads.py

if [[ $status -eq 0 ]]; then ci_say "PASSED"; else ci_say "FAILED"; fi
exit "$status"
