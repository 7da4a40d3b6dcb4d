#!/usr/bin/env bash
# The WebSocket stacks' own test suites, run as they are and with wsfast patched in:
# the outcomes must be the same, test by test.
#
#   scripts/stack_suites.sh [--only SUITE]... [--keep DIR]
#
#   websockets  websockets==17.0.1 from PyPI with the tests of its 17.0.1 tag (PyPI's
#               sdist has none): $WSFAST_STACK_SUITES, default ../shared/stack-suites/
#               websockets-17.0.1 beside this checkout.  Patched: websockets.
#   uvicorn     uvicorn==0.54.0, tests/protocols/test_websocket.py from its sdist (both
#               its websockets and its wsproto paths).  Patched: websockets, wsproto.
#   wsproto     wsproto==1.3.2, tests/ from its sdist.  Patched: wsproto.
#   runner      tests/test_run.py with uvicorn installed: python -m wsfast run with a
#               real uvicorn --workers 2 on loopback (skipped where uvicorn is absent).
#   versions    tests/test_integration_websockets.py (compiled twin) against every
#               websockets release line the integration supports (13.1, 14.2, 15.0.1,
#               16.0, the newest).
#
# Patched runs load scripts/stack_suites_plugin.py, which patches before the first
# test, checks that every replaced object is still wsfast's after the last one, and
# counts the frames wsfast decoded.  A stack wsfast has no integration for (yet)
# fails its patched run.  The suites run side by side (they mostly wait on
# sockets and timers); a test whose outcome differs is re-run alone, both ways,
# before it counts as a difference.  About 5 minutes on 2 idle cores.
#
# Excluded from both runs, with the reason:
#   websockets tests/test_protocol.py ErrorTests::test_{client,server}_hits_internal_error_reading_frame
#     mock struct.unpack to break websockets' own header reader, which wsfast replaces.
#
# Exit: 0 same outcomes everywhere, 1 a difference or a failed patched run, 2 the
# suites could not be prepared (PyPI unreachable, the websockets tests missing).
set -uo pipefail

ONLY=()
KEEP=""
while (($#)); do
    case $1 in
        --only) ONLY+=("$2"); shift ;;
        --keep) KEEP=$2; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 64 ;;
    esac
    shift
done
wanted() { ((${#ONLY[@]} == 0)) || [[ " ${ONLY[*]} " == *" $1 "* ]]; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
SUITES_DIR=${WSFAST_STACK_SUITES:-$ROOT/../shared/stack-suites}
WEBSOCKETS=17.0.1
WSPROTO=1.3.2
UVICORN=0.54.0
WS_VERSIONS=(13.1 14.2 15.0.1 16.0 "")  # "": the newest release
# What the suites import, pinned (uvicorn's test dependencies as its sdist names them).
DEPS=("websockets==$WEBSOCKETS" "wsproto==$WSPROTO" "uvicorn==$UVICORN" "pytest==9.2.0"
      "trio==0.35.0" "httpx2==2.16.2" "anyio==4.16.0" "a2wsgi==1.10.10" "httptools==0.9.0"
      "trustme==1.2.1" "cryptography==50.0.2" "pytest-mock==3.17.0" "zttp==0.0.35")
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 WSFAST_REQUIRE_EXTENSION=1
unset WSFAST_NO_EXTENSIONS WSFAST_SIMD WSFAST_PATCH PYTHONPATH
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-suites.XXXXXX")
trap '[[ -n $KEEP ]] && { rm -rf "$KEEP"; cp -a "$WORK" "$KEEP"; }; rm -rf "$WORK"' EXIT
T0=$SECONDS

unprepared() {  # loud: nothing was compared
    {
        echo
        echo "#####################################################################"
        echo "###  STACK SUITES NOT RUN: $*"
        echo "###  Nothing was compared. This is not a pass."
        echo "#####################################################################"
    } >&2
    exit 2
}

pip_retry() {  # $1 = log; the rest: pip arguments
    local log=$1 i
    shift
    for i in 1 2 3; do
        if "$@" >>"$log" 2>&1; then return 0; fi
        echo "    pip attempt $i failed; retrying in $((i * 5)) s"; tail -3 "$log"
        sleep $((i * 5))
    done
    return 1
}

if wanted websockets && [[ ! -d $SUITES_DIR/websockets-$WEBSOCKETS/tests ]]; then
    unprepared "websockets $WEBSOCKETS tests not found in $SUITES_DIR (set WSFAST_STACK_SUITES)"
fi

# --- one venv: the pinned stacks, their test dependencies, wsfast from this tree ---
echo "=== venv: ${DEPS[*]} + wsfast from $ROOT"
"$PY" -m venv "$WORK/venv" || unprepared "cannot create a venv with $PY"
VPY=$WORK/venv/bin/python
pip_retry "$WORK/pip.log" "$VPY" -m pip install -q "${DEPS[@]}" \
    || unprepared "pip could not install the pinned stacks (PyPI unreachable?), see above"
# wsfast itself, built once into a wheel: a build failure is a real failure, unless
# its build requirements could not be fetched.
if ! "$VPY" -m pip wheel -q --no-deps -w "$WORK/wheel" "$ROOT" >"$WORK/wsfast-build.log" 2>&1; then
    if grep -qiE "connection|network|resolve|timed out|HTTPSConnectionPool|No matching distribution" \
            "$WORK/wsfast-build.log"; then
        tail -5 "$WORK/wsfast-build.log"; unprepared "wsfast's build requirements could not be fetched"
    fi
    tail -20 "$WORK/wsfast-build.log" >&2; echo "### wsfast does not build" >&2; exit 1
fi
WHEEL=$(ls "$WORK"/wheel/wsfast-*.whl)
"$VPY" -m pip install -q --no-deps "$WHEEL" || { echo "### the wsfast wheel does not install" >&2; exit 1; }
mkdir -p "$WORK/sdists"
if wanted uvicorn || wanted wsproto; then
    pip_retry "$WORK/pip.log" "$VPY" -m pip download -q --no-deps --no-binary :all: \
        -d "$WORK/sdists" "uvicorn==$UVICORN" "wsproto==$WSPROTO" \
        || unprepared "pip could not download the uvicorn and wsproto sdists (PyPI unreachable?)"
    for f in "$WORK"/sdists/*.tar.gz; do tar -xzf "$f" -C "$WORK/sdists"; done
fi

# --- the runs ------------------------------------------------------------------------
# run_suite NAME PATCH DIR -- PYTEST-ARGS: one run in a copy of DIR; results in $WORK/NAME.*
run_suite() {
    local name=$1 patch=$2 src=$3 dir="$WORK/run-$1"
    shift 4
    rm -rf "$dir"; mkdir -p "$dir"; cp -a "$src"/. "$dir"/
    (cd "$dir" && WSFAST_SUITE_PATCH=$patch WSFAST_SUITE_RESULTS="$WORK/$name.json" \
        PYTHONPATH="$ROOT/scripts" "$VPY" -m pytest -p stack_suites_plugin \
        -p no:cacheprovider -o addopts="" -q -rfE "$@" >"$WORK/$name.log" 2>&1)
    echo $? >"$WORK/$name.rc"
}

# compare NAME PATCH SRC -- PYTEST-ARGS: reference vs patched, re-running what differs.
RESULTS=()
FAILED=0
compare() {
    local name=$1 patch=$2 src=$3 rc
    shift 4
    echo "=== $name: patched ($patch) vs reference"
    grep -h "^=== wsfast" "$WORK/$name-patched.log" | sed 's/^/    /'
    if [[ ! -s $WORK/$name-patched.json || ! -s $WORK/$name-reference.json ]]; then
        echo "    a run produced no results:"
        for f in "$WORK/$name-reference.log" "$WORK/$name-patched.log"; do
            grep -m3 -E "RuntimeError: wsfast|^E   |rror" "$f" | sed "s|^|    $(basename "$f"): |"
            tail -n 3 "$f" | sed "s|^|    $(basename "$f"): |"
        done
        RESULTS+=("$name: FAILED (no results)"); FAILED=1; return
    fi
    "$VPY" "$ROOT/scripts/stack_suites_plugin.py" compare "$WORK/$name-reference.json" \
        "$WORK/$name-patched.json" "$WORK/$name.diff"
    rc=$?
    if ((rc != 0)); then
        echo "    re-running the $(wc -l <"$WORK/$name.diff") differing test(s) alone, both ways"
        mapfile -t ids <"$WORK/$name.diff"
        run_suite "$name-reference-again" "" "$src" -- "${ids[@]}"
        run_suite "$name-patched-again" "$patch" "$src" -- "${ids[@]}"
        "$VPY" "$ROOT/scripts/stack_suites_plugin.py" compare "$WORK/$name-reference-again.json" \
            "$WORK/$name-patched-again.json" "$WORK/$name-again.diff"
        rc=$?
        if ((rc != 0)); then tail -40 "$WORK/$name-patched-again.log"; fi
    fi
    if [[ -n $patch ]] && ! grep -q "^=== wsfast: patch active to the end" "$WORK/$name-patched.log"; then
        echo "    the patched run did not prove the patch active to its end:"
        grep -m5 -E "RuntimeError|INTERNALERROR" "$WORK/$name-patched.log" | sed 's/^/    /'
        rc=1
    fi
    local line
    line=$(tail -1 "$WORK/$name-patched.log")
    if ((rc == 0)); then RESULTS+=("$name: same outcomes ($line)")
    else RESULTS+=("$name: DIFFERS ($line)"); FAILED=1; fi
}

WS_DESELECT=(--deselect tests/test_protocol.py::ErrorTests::test_client_hits_internal_error_reading_frame
             --deselect tests/test_protocol.py::ErrorTests::test_server_hits_internal_error_reading_frame)
WS_SRC=$WORK/websockets-src
UV_SRC=$WORK/uvicorn-src
PIDS=()
if wanted websockets; then
    mkdir -p "$WS_SRC"; cp -a "$SUITES_DIR/websockets-$WEBSOCKETS/tests" "$WS_SRC/"
    for mode in reference patched; do
        patch=""; [[ $mode == patched ]] && patch=websockets
        run_suite "websockets-$mode" "$patch" "$WS_SRC" -- tests "${WS_DESELECT[@]}" &
        PIDS+=($!)
    done
fi
if wanted uvicorn; then
    mkdir -p "$UV_SRC"; cp -a "$WORK/sdists/uvicorn-$UVICORN/tests" "$UV_SRC/"
    for mode in reference patched; do
        patch=""; [[ $mode == patched ]] && patch=websockets,wsproto
        run_suite "uvicorn-$mode" "$patch" "$UV_SRC" -- tests/protocols/test_websocket.py &
        PIDS+=($!)
    done
fi
if wanted wsproto; then
    for mode in reference patched; do
        patch=""; [[ $mode == patched ]] && patch=wsproto
        run_suite "wsproto-$mode" "$patch" "$WORK/sdists/wsproto-$WSPROTO" -- tests
    done
    compare wsproto wsproto "$WORK/sdists/wsproto-$WSPROTO" -- tests
fi

if wanted runner; then
    echo "=== runner: tests/test_run.py, uvicorn $UVICORN installed"
    if (cd "$ROOT" && "$VPY" -I -m pytest -q -p no:cacheprovider -rs tests/test_run.py \
            >"$WORK/runner.log" 2>&1) && ! grep -q "SKIPPED" "$WORK/runner.log"; then
        RESULTS+=("runner: $(tail -1 "$WORK/runner.log")")
    else
        tail -30 "$WORK/runner.log"
        RESULTS+=("runner: FAILED ($(tail -1 "$WORK/runner.log"))"); FAILED=1
    fi
fi

if wanted versions; then
    echo "=== versions: tests/test_integration_websockets.py against each websockets line"
    VV=$WORK/venv-versions
    "$PY" -m venv "$VV" || unprepared "cannot create a venv with $PY"
    pip_retry "$WORK/pip.log" "$VV/bin/python" -m pip install -q pytest==9.2.0 hypothesis \
        || unprepared "pip could not install pytest (PyPI unreachable?)"
    "$VV/bin/python" -m pip install -q --no-deps "$WHEEL" \
        || { echo "### the wsfast wheel does not install" >&2; exit 1; }
    for v in "${WS_VERSIONS[@]}"; do
        spec=websockets; [[ -n $v ]] && spec="websockets==$v"
        pip_retry "$WORK/pip.log" "$VV/bin/python" -m pip install -q --upgrade "$spec" \
            || unprepared "pip could not install $spec (PyPI unreachable?)"
        got=$("$VV/bin/python" -c "import websockets; print(websockets.__version__)")
        # The compiled twin's half (the pure twin's runs in the main suite).
        if (cd "$ROOT" && "$VV/bin/python" -I -m pytest -q -p no:cacheprovider -k "[c- or [c]" \
                tests/test_integration_websockets.py >"$WORK/versions-$got.log" 2>&1); then
            RESULTS+=("versions: websockets $got: $(tail -1 "$WORK/versions-$got.log")")
        else
            tail -30 "$WORK/versions-$got.log"
            RESULTS+=("versions: websockets $got: FAILED"); FAILED=1
        fi
    done
fi

for pid in "${PIDS[@]}"; do wait "$pid"; done
wanted websockets && compare websockets websockets "$WS_SRC" -- tests "${WS_DESELECT[@]}"
wanted uvicorn && compare uvicorn websockets,wsproto "$UV_SRC" -- tests/protocols/test_websocket.py

echo
echo "=== stack suites ($((SECONDS - T0)) s)"
for line in "${RESULTS[@]}"; do echo "    $line"; done
if ((FAILED)); then echo "=== FAILED"; exit 1; fi
echo "=== all the same, patched and not"
