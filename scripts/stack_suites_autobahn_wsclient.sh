#!/usr/bin/env bash
# The own test suites of autobahn, daphne and websocket-client, with wsfast.patch()
# applied, against pinned releases from PyPI, compared test by test with the same
# suites unpatched.
#
#   scripts/stack_suites_autobahn_wsclient.sh
#
# A fresh venv in a temporary directory gets the pinned stacks from PyPI and wsfast
# from this checkout (compiled twin required).  Each suite runs twice: unpatched
# (the reference), then patched.  scripts/stack_suites_ab/ is put on PYTHONPATH: its
# sitecustomize patches the stack in every interpreter that starts (daphne's forked
# test servers too) and logs every call that goes through wsfast, from every process.
#
#   autobahn, Twisted:  USE_TWISTED=1 python -m twisted.trial <its websocket tests>
#   autobahn, asyncio:  USE_ASYNCIO=1 python -m pytest --pyargs <its websocket tests>
#   daphne:             its sdist's tests/test_websocket.py (a real daphne, forked)
#   websocket-client:   python -m pytest --pyargs websocket.tests, with its
#                       websocket/tests/echo-server.py on LOCAL_WS_SERVER_PORT
#
# Exit status: 0 every suite passed patched, test for test as unpatched, and calls
# went through wsfast in each; 1 otherwise; 2 (with a loud banner) PyPI unreachable.
# Environment: PYTHON (default python3), WS_PORT (default 8765, echo server),
# AUTOBAHN_VERSION and WSCLIENT_VERSION (see PINS below), WSFAST_WHEEL (a wheel
# built from this checkout, installed instead of building it again), KEEP=1 (keep
# the temporary directory and every log).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
HOOK=$REPO/scripts/stack_suites_ab
PY=${PYTHON:-python3}
PORT=${WS_PORT:-8765}
LIMIT=900  # seconds for one run of a suite: a hung run fails instead of blocking CI

# The versions tested (the newest releases when this was written).  AUTOBAHN_VERSION
# and WSCLIENT_VERSION test other releases of the two stacks (their own dependencies
# are then left to pip).
AUTOBAHN_VERSION=${AUTOBAHN_VERSION:-26.10.2}
WSCLIENT_VERSION=${WSCLIENT_VERSION:-1.9.2}
if [ "$AUTOBAHN_VERSION" = 26.10.2 ]; then
    PINS=(autobahn==26.10.2 txaio==26.6.1 twisted==26.10.0)
else
    PINS=("autobahn==$AUTOBAHN_VERSION" twisted)
fi
PINS+=(
    daphne==4.2.3 asgiref==3.13.0 "websocket-client==$WSCLIENT_VERSION" websockets==17.4
    pytest==9.2.0 pytest-asyncio==1.5.0 hypothesis==6.170.17
)
DAPHNE_SDIST=daphne==4.2.3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-suites-ab.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "${KEEP:-}" ]; then echo "=== logs kept in $WORK/results"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

unreachable() {
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! STACK SUITES NOT RUN: PyPI is unreachable ($1)."
        echo "!!! autobahn, daphne and websocket-client were NOT tested with wsfast patched."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
    exit 2
}

echo "=== venv in $WORK: ${PINS[*]}"
"$PY" -m venv "$WORK/venv"
VPY=$WORK/venv/bin/python
"$VPY" -m pip download -q --no-deps --no-binary :all: -d "$WORK/sdist" "$DAPHNE_SDIST" \
    >"$WORK/pip-probe.log" 2>&1 || unreachable "pip download $DAPHNE_SDIST failed"
"$VPY" -m pip install -q "${PINS[@]}" >"$WORK/pip.log" 2>&1 || {
    cat "$WORK/pip.log" >&2
    grep -qiE "connection|resolve|network|timed out|No matching distribution" "$WORK/pip.log" \
        && unreachable "pip install failed"
    exit 1
}
echo "=== wsfast from ${WSFAST_WHEEL:-$REPO}"
WSFAST_REQUIRE_EXTENSION=1 "$VPY" -m pip install -q "${WSFAST_WHEEL:-$REPO}" \
    >"$WORK/pip-wsfast.log" 2>&1 || {
    cat "$WORK/pip-wsfast.log" >&2
    exit 1
}
"$VPY" -c 'import wsfast, autobahn.websocket as w; print("    wsfast", wsfast.__version__,
    wsfast.IMPLEMENTATION, wsfast.SIMD, "| autobahn NVX in use:", getattr(w, "USES_NVX", "-"))'

# daphne's tests, outside its sdist root (so the installed daphne is imported).
tar -xzf "$WORK"/sdist/daphne-*.tar.gz -C "$WORK/sdist"
mkdir -p "$WORK/daphne"
cp -r "$WORK"/sdist/daphne-*/tests "$WORK/daphne/tests"
printf '[pytest]\nasyncio_mode = strict\n' >"$WORK/daphne/pytest.ini"

FAILED=()
RESULTS=$WORK/results
mkdir -p "$RESULTS"

# wsfast's own tests of the two integrations, against these versions of the stacks.
echo "=== wsfast: tests/test_integration_autobahn.py, tests/test_integration_websocket_client.py"
WSFAST_REQUIRE_EXTENSION=1 timeout "$LIMIT" "$VPY" -I -m pytest -q -p no:cacheprovider \
    tests/test_integration_autobahn.py tests/test_integration_websocket_client.py \
    >"$RESULTS/wsfast.log" 2>&1 || FAILED+=("wsfast's integration tests")
tail -n 1 "$RESULTS/wsfast.log"

# run_pytest LABEL STACK DIR [pytest args...]: reference, patched, compare, proof.
run_pytest() {
    local label=$1 stack=$2 dir=$3 rc=0
    shift 3
    echo "=== $label: reference run (unpatched)"
    (cd "$dir" && PYTHONPATH=$HOOK WSFAST_SUITE_RESULTS=$RESULTS/$label.ref.json \
        timeout "$LIMIT" "$VPY" -m pytest -p wsfast_suite_plugin -p no:cacheprovider -q "$@" \
        >"$RESULTS/$label.ref.log" 2>&1) || true
    tail -n 1 "$RESULTS/$label.ref.log"
    echo "=== $label: patched ($stack)"
    (cd "$dir" && PYTHONPATH=$HOOK WSFAST_SUITE_PATCH=$stack \
        WSFAST_SUITE_LOG=$RESULTS/$label.calls WSFAST_SUITE_RESULTS=$RESULTS/$label.json \
        timeout "$LIMIT" "$VPY" -m pytest -p wsfast_suite_plugin -p no:cacheprovider -q "$@" \
        >"$RESULTS/$label.log" 2>&1) || rc=$?
    tail -n 1 "$RESULTS/$label.log"
    if [ ! -s "$RESULTS/$label.ref.json" ] || [ ! -s "$RESULTS/$label.json" ]; then
        cat "$RESULTS/$label.ref.log" "$RESULTS/$label.log" | tail -n 40
        FAILED+=("$label: no results")
        return
    fi
    if ! "$VPY" "$HOOK/wsfast_suite_hook.py" compare "$RESULTS/$label.ref.json" \
            "$RESULTS/$label.json"; then
        FAILED+=("$label: outcomes differ from the unpatched run")
        for run in ref ""; do
            echo "    --- failures in the ${run:-patched} run:"
            grep -m 20 -E "^(E  |FAILED|ERROR|SUBFAIL)" "$RESULTS/$label${run:+.$run}.log" || true
        done
    fi
    [ "$rc" -eq 0 ] || { grep -m 20 -E "^(FAILED|ERROR)" "$RESULTS/$label.log" || true
                         FAILED+=("$label: pytest exit $rc"); }
    echo "    calls through wsfast:"
    "$VPY" "$HOOK/wsfast_suite_hook.py" proof "$RESULTS/$label.calls" \
        || FAILED+=("$label: no proof the patch was active")
}

# run_trial LABEL STACK [trial args...]: the same for Twisted's trial.
run_trial() {
    local label=$1 stack=$2 rc=0
    shift 2
    mkdir -p "$WORK/trial"
    echo "=== $label: reference run (unpatched)"
    (cd "$WORK/trial" && PYTHONPATH=$HOOK \
        timeout "$LIMIT" "$VPY" -m twisted.trial --reporter=bwverbose "$@" \
        >"$RESULTS/$label.ref.log" 2>&1) || true
    tail -n 1 "$RESULTS/$label.ref.log"
    echo "=== $label: patched ($stack)"
    (cd "$WORK/trial" && PYTHONPATH=$HOOK WSFAST_SUITE_PATCH=$stack \
        WSFAST_SUITE_LOG=$RESULTS/$label.calls \
        timeout "$LIMIT" "$VPY" -m twisted.trial --reporter=bwverbose "$@" \
        >"$RESULTS/$label.log" 2>&1) || rc=$?
    tail -n 1 "$RESULTS/$label.log"
    grep -E ' \.\.\. \[[A-Z]+\]$' "$RESULTS/$label.ref.log" | sort >"$RESULTS/$label.ref.txt" || true
    grep -E ' \.\.\. \[[A-Z]+\]$' "$RESULTS/$label.log" | sort >"$RESULTS/$label.txt" || true
    echo "    patched: $(wc -l <"$RESULTS/$label.txt") tests ($(grep -c '\[OK\]$' \
        "$RESULTS/$label.txt" || true) ok, $(grep -c '\[SKIPPED\]$' "$RESULTS/$label.txt" \
        || true) skipped)"
    if [ ! -s "$RESULTS/$label.txt" ]; then
        tail -n 40 "$RESULTS/$label.log"
        FAILED+=("$label: no results")
    elif ! diff "$RESULTS/$label.ref.txt" "$RESULTS/$label.txt" >"$RESULTS/$label.diff"; then
        sed 's/^/    DIFFERS: /' "$RESULTS/$label.diff"
        FAILED+=("$label: outcomes differ from the unpatched run")
    fi
    [ "$rc" -eq 0 ] || FAILED+=("$label: trial exit $rc")
    echo "    calls through wsfast:"
    "$VPY" "$HOOK/wsfast_suite_hook.py" proof "$RESULTS/$label.calls" \
        || FAILED+=("$label: no proof the patch was active")
}

# autobahn's WebSocket tests (the WAMP and rawsocket ones do not reach the helpers;
# autobahn.twisted.test.test_tx_tls needs autobahn's [encryption] extra).
USE_TWISTED=1 run_trial autobahn-twisted autobahn \
    autobahn.websocket.test autobahn.nvx.test \
    autobahn.twisted.test.test_tx_protocol autobahn.twisted.test.test_tx_websocket_agent
mkdir -p "$WORK/aio"
USE_ASYNCIO=1 run_pytest autobahn-asyncio autobahn "$WORK/aio" \
    --pyargs autobahn.websocket.test autobahn.nvx.test autobahn.asyncio.test.test_aio_websocket

# daphne waits 2 s for its forked test server; on a loaded machine that is too short
# (the test fails and the orphaned server keeps pytest from exiting): 60 s, both runs.
WSFAST_SUITE_DAPHNE_STARTUP=60 run_pytest daphne autobahn "$WORK/daphne" tests/test_websocket.py

# websocket-client, with its echo server (websockets, unpatched) on loopback.
WSDIR=$("$VPY" -c 'import os, websocket; print(os.path.dirname(websocket.__file__))')
LOCAL_WS_SERVER_PORT=$PORT "$VPY" "$WSDIR/tests/echo-server.py" >"$RESULTS/echo.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do
    "$VPY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2).close()" \
        2>/dev/null && break
    sleep 0.2
done
mkdir -p "$WORK/wsc"
LOCAL_WS_SERVER_PORT=$PORT run_pytest websocket-client websocket-client "$WORK/wsc" \
    --pyargs websocket.tests
kill "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

echo
if [ "${#FAILED[@]}" -gt 0 ]; then
    printf '=== FAILED: %s\n' "${FAILED[@]}"
    exit 1
fi
echo "=== autobahn (Twisted, asyncio), daphne and websocket-client suites: all passed patched," \
     "test for test as unpatched"
