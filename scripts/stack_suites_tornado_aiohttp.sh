#!/usr/bin/env bash
# The own test suites of tornado and aiohttp, as they are and patched with wsfast.
#
#   scripts/stack_suites_tornado_aiohttp.sh [tornado] [aiohttp]    (default: both)
#
# Into a fresh venv under a temporary directory: wsfast from this checkout (its
# compiled twin required), the pinned stacks and, for aiohttp, the test
# dependencies at the versions aiohttp's own sdist pins (requirements/test.txt).
# Then, for each stack, its WebSocket tests run unpatched and patched and must
# give the same counts; each patched run prints proof that wsfast did the work
# (tornado: frames read by the replaced reader, masking bound to wsfast; aiohttp:
# readers and messages decoded by wsfast), and wsfast's own integration tests
# run against the same pinned versions.
#
#   tornado  python -m tornado.test.runtests tornado.test.websocket_test
#            tornado.test.util_test (from the wheel), also with TORNADO_NO_EXTENSION=1
#   aiohttp  the sdist's tests/ copied out of the sdist root (so the uncompiled
#            source tree is not what gets imported), websocket parser, writer, data
#            queue, server and client tests (unit and functional), also with
#            AIOHTTP_NO_EXTENSIONS=1.  Deselected, patched and unpatched alike, with
#            the reason checked against each test's source (see ALL_DESELECTED):
#            tests that drive aiohttp's reader through its per-frame hook
#            _handle_frame (directly or via the tests' parse_frame helper), which
#            the wsfast reader does not have, and tests that probe the queue's
#            _stalled_reader slot, which aiohttp's compiled queue lets only aiohttp's
#            compiled reader set.  The five that only probe that slot also run
#            patched with the probe widened to the wsfast reader's stand-in and must
#            pass.
#
# Exit status: 0 all as unpatched; 1 a difference or a failure; 2 could not be
# prepared (PyPI unreachable, nothing was tested: a loud banner says so).
# Environment: PYTHON (default python3), TORNADO_VERSION, AIOHTTP_VERSION, KEEP=1
# keeps the temporary directory.  Takes about five minutes.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PY=${PYTHON:-python3}
TORNADO_VERSION=${TORNADO_VERSION:-6.6.1}
AIOHTTP_VERSION=${AIOHTTP_VERSION:-3.14.5}
STACKS=("$@")
[[ ${#STACKS[@]} -eq 0 ]] && STACKS=(tornado aiohttp)
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-stack-suites.XXXXXX")
[[ ${KEEP:-} == 1 ]] || trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS
FAILED=()

say() { printf '=== [%3ss] %s\n' "$((SECONDS - T0))" "$*"; }
banner() {
    {
        echo
        echo "#####################################################################"
        echo "###  STACK SUITES DID NOT RUN: $*"
        echo "###  This is not a pass. Rerun when PyPI is reachable;"
        echo "###  scripts/stack_suites_tornado_aiohttp.sh exits 2 for this case."
        echo "#####################################################################"
        echo
    } >&2
}
unprepared() { banner "$*"; exit 2; }
retry() {  # retry CMD...: for the steps that need PyPI
    local i
    for i in 1 2 3; do
        "$@" && return 0
        [[ $i -lt 3 ]] && { say "attempt $i failed; retrying in $((i * 5)) s"; sleep $((i * 5)); }
    done
    return 1
}
fail() { echo "!!! FAILED: $*" >&2; FAILED+=("$*"); }

# --- the venv ------------------------------------------------------------------
say "venv: $($PY -V 2>&1), wsfast from $ROOT"
"$PY" -m venv "$WORK/venv" || unprepared "cannot create a venv with $PY"
VPY=$WORK/venv/bin/python
retry "$VPY" -m pip install -q --upgrade pip >"$WORK/pip.log" 2>&1 \
    || { tail -5 "$WORK/pip.log"; unprepared "pip cannot reach PyPI"; }
WSFAST_REQUIRE_EXTENSION=1 retry "$VPY" -m pip install -q "$ROOT" >"$WORK/wsfast.log" 2>&1 \
    || { tail -20 "$WORK/wsfast.log"; unprepared "wsfast could not be built and installed (see above)"; }
(cd "$WORK" && WSFAST_REQUIRE_EXTENSION=1 "$VPY" -I -c \
    'import wsfast; assert wsfast.IMPLEMENTATION == "c"; print("wsfast", wsfast.__version__, wsfast.SIMD)') \
    || { fail "wsfast's compiled twin does not import"; exit 1; }

# --- tornado -------------------------------------------------------------------------
run_tornado() {
    say "tornado $TORNADO_VERSION"
    retry "$VPY" -m pip install -q "tornado==$TORNADO_VERSION" pytest >"$WORK/tornado-pip.log" 2>&1 \
        || { tail -5 "$WORK/tornado-pip.log"; unprepared "tornado $TORNADO_VERSION from PyPI"; }
    cat >"$WORK/run_tornado.py" <<'PY'
"""tornado's runtests with wsfast patched in (argv[1] == "patched"), with proof."""
import runpy
import sys

mode = sys.argv.pop(1)
proof = {}
if mode == "patched":
    import wsfast
    from wsfast.integrations import tornado as integration

    if hasattr(wsfast, "patch"):
        description = wsfast.patch("tornado")["tornado"]
    else:
        for owner, name, replacement in integration.targets():
            setattr(owner, name, replacement)
        description = integration.describe()
    import tornado.util
    import tornado.web
    import tornado.websocket

    masks = {m: vars(m)["_websocket_mask"] for m in (tornado.util, tornado.websocket, tornado.web)}
    assert all(f is integration._mask_function(wsfast) for f in masks.values()), masks
    reader = tornado.websocket.WebSocketProtocol13._receive_frame
    assert reader.__module__ == "wsfast.integrations.tornado"
    codes = {reader.__code__: "frame reads", integration._ReadAhead.decode_ahead.__code__:
             "decode-ahead runs (wsfast.FrameDecoder)"}
    proof = dict.fromkeys(codes.values(), 0)

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            proof[codes[frame.f_code]] += 1

    sys.setprofile(profile)
    print(f"wsfast: {description}", file=sys.stderr)
sys.argv = ["tornado.test.runtests", *sys.argv[1:]]
try:
    runpy.run_module("tornado.test.runtests", run_name="__main__", alter_sys=True)
finally:
    sys.setprofile(None)
    if mode == "patched":
        assert all(vars(m)["_websocket_mask"] is f for m, f in masks.items()), "unpatched?"
        assert tornado.websocket.WebSocketProtocol13._receive_frame is reader, "unpatched?"
        print("wsfast proof: " + ", ".join(f"{n} {k}" for k, n in proof.items())
              + "; masking bound to wsfast._mask_c._mask_key_first throughout", file=sys.stderr)
        if not all(proof.values()):
            sys.exit("wsfast proof: the patched reader was not used")
PY
    local mods=(tornado.test.websocket_test tornado.test.util_test) env ran
    for env in "" "TORNADO_NO_EXTENSION=1"; do
        for mode in unpatched patched; do
            local log="$WORK/tornado-$mode${env:+-noext}.log"
            (cd "$WORK" && env $env "$VPY" -I run_tornado.py "$mode" "${mods[@]}") >"$log" 2>&1
            local rc=$?
            ran="$(grep -oE "^Ran [0-9]+ tests" "$log" | tail -1), $(grep -E "^(OK|FAILED)" "$log" | tail -1)"
            say "tornado ${env:-(C speedups)} $mode: rc=$rc, $ran"
            grep "^wsfast" "$log" | sed 's/^/    /'
            if [[ $rc -ne 0 ]]; then tail -30 "$log"; fail "tornado $mode ${env}"; fi
            if [[ $mode == unpatched ]]; then local base=$ran
            elif [[ "$ran" != "$base" ]]; then fail "tornado ${env}: patched '$ran' vs unpatched '$base'"
            fi
        done
    done
    say "wsfast's tests/test_integration_tornado.py against tornado $TORNADO_VERSION"
    (cd "$ROOT" && WSFAST_REQUIRE_EXTENSION=1 "$VPY" -I -m pytest -q -p no:cacheprovider \
        tests/test_integration_tornado.py) >"$WORK/tornado-ours.log" 2>&1 \
        || { tail -30 "$WORK/tornado-ours.log"; fail "tests/test_integration_tornado.py"; }
    tail -1 "$WORK/tornado-ours.log" | sed 's/^/    /'
}

# --- aiohttp --------------------------------------------------------------------------
AIOHTTP_FILES=(test_websocket_parser.py test_websocket_writer.py test_websocket_data_queue.py
               test_web_websocket.py test_web_websocket_functional.py test_client_ws.py
               test_client_ws_functional.py)
# test id <TAB> the name in its source that says why (checked below)
ALL_DESELECTED="\
test_websocket_parser.py::test_parse_frame	parse_frame
test_websocket_parser.py::test_parse_frame_length0	parse_frame
test_websocket_parser.py::test_parse_frame_length2	parse_frame
test_websocket_parser.py::test_parse_frame_length2_multi_byte	parse_frame
test_websocket_parser.py::test_parse_frame_length2_multi_byte_multi_packet	parse_frame
test_websocket_parser.py::test_parse_frame_length4	parse_frame
test_websocket_parser.py::test_parse_frame_mask	parse_frame
test_websocket_parser.py::test_parse_frame_header_reversed_bits	parse_frame
test_websocket_parser.py::test_parse_frame_header_control_frame	parse_frame
test_websocket_parser.py::test_parse_frame_header_payload_size	parse_frame
test_websocket_parser.py::test_parse_compress_frame_single	parse_frame
test_websocket_parser.py::test_parse_compress_frame_multi	parse_frame
test_websocket_parser.py::test_parse_compress_error_frame	parse_frame
test_websocket_parser.py::test_parse_no_compress_frame_single	parse_frame
test_websocket_parser.py::test_ping_frame	_handle_frame
test_websocket_parser.py::test_pong_frame	_handle_frame
test_websocket_parser.py::test_close_frame	_handle_frame
test_websocket_parser.py::test_close_frame_info	_handle_frame
test_websocket_parser.py::test_close_frame_invalid	_handle_frame
test_websocket_parser.py::test_unknown_frame	_handle_frame
test_websocket_parser.py::test_continuation_err	_handle_frame
test_websocket_parser.py::test_continuation_non_fin_err	_handle_frame
test_websocket_parser.py::test_continuation_with_close	_handle_frame
test_websocket_parser.py::test_continuation_with_close_unicode_err	_handle_frame
test_websocket_parser.py::test_continuation_with_close_bad_code	_handle_frame
test_websocket_parser.py::test_continuation_with_close_bad_payload	_handle_frame
test_websocket_parser.py::test_continuation_with_close_empty	_handle_frame
test_websocket_parser.py::test_flow_control_binary	_handle_frame
test_websocket_parser.py::test_flow_control_multi_byte_text	_handle_frame
test_websocket_parser.py::test_stalled_reader_reference_released_after_drain	_stalled_reader
test_websocket_parser.py::test_parse_error_abandons_the_stash	_stalled_reader
test_websocket_parser.py::test_transport_stays_paused_while_stash_remains	_stalled_reader
test_web_websocket_functional.py::test_stashed_frames_survive_connection_loss	_stalled_reader
test_web_websocket_functional.py::test_stalled_parser_outlives_connection_lost	_stalled_reader
test_client_ws_functional.py::test_stashed_frames_survive_connection_loss	_stalled_reader
test_client_ws_functional.py::test_stalled_parser_outlives_connection_lost	_stalled_reader"
# The tests whose only obstacle is the _stalled_reader probe: run adapted.
ADAPTED=(test_websocket_parser.py::test_transport_stays_paused_while_stash_remains
         test_web_websocket_functional.py::test_stashed_frames_survive_connection_loss
         test_web_websocket_functional.py::test_stalled_parser_outlives_connection_lost
         test_client_ws_functional.py::test_stashed_frames_survive_connection_loss
         test_client_ws_functional.py::test_stalled_parser_outlives_connection_lost)

run_aiohttp() {
    say "aiohttp $AIOHTTP_VERSION"
    mkdir -p "$WORK/sdist"
    retry "$VPY" -m pip download -q --no-deps --no-binary :all: "aiohttp==$AIOHTTP_VERSION" \
        -d "$WORK/sdist" >"$WORK/aiohttp-dl.log" 2>&1 \
        || { tail -5 "$WORK/aiohttp-dl.log"; unprepared "aiohttp $AIOHTTP_VERSION sdist from PyPI"; }
    tar xzf "$WORK"/sdist/aiohttp-*.tar.gz -C "$WORK/sdist" || { fail "sdist unpacks"; return; }
    local found=("$WORK"/sdist/aiohttp-*/) pins=() name
    local src=${found[0]}
    # The test dependencies at the versions aiohttp pins for its own CI.
    for name in pytest pytest-mock pytest-timeout freezegun trustme isal zlib-ng blockbuster; do
        pins+=("$(grep -iE "^${name}==" "$src/requirements/test.txt" | head -1)")
    done
    retry "$VPY" -m pip install -q "aiohttp==$AIOHTTP_VERSION" "${pins[@]}" \
        >"$WORK/aiohttp-pip.log" 2>&1 \
        || { tail -5 "$WORK/aiohttp-pip.log"; unprepared "aiohttp and its test dependencies"; }
    say "installed: aiohttp $AIOHTTP_VERSION ${pins[*]}"
    # Out of the sdist root: the installed (compiled) aiohttp is what gets tested.
    local run=$WORK/aiohttp-tests
    mkdir -p "$run/plugins" && cp -r "$src/tests" "$run/tests"
    cat >"$run/pytest.ini" <<'INI'
[pytest]
addopts = -ra --strict-markers -m "not dev_mode and not autobahn and not internal"
testpaths = tests/
timeout = 120
xfail_strict = true
filterwarnings =
  error
  ignore:Unclosed client session <aiohttp.client.ClientSession object at 0x:ResourceWarning
  ignore:aiohttp.pytest_plugin will be removed in v4:DeprecationWarning
markers =
  autobahn: Autobahn testsuite.
  dev_mode: mark test to run in dev mode.
  internal: tests which may cause issues for packagers.
  skip_blockbuster: mark test to skip the blockbuster fixture.
INI
    cat >"$run/plugins/wsfast_stack_plugin.py" <<'PY'
"""aiohttp patched with wsfast for the whole run, counting what wsfast decoded."""
import sys
import types

import wsfast
from wsfast.integrations import aiohttp as integration

STATS = {"decoders": 0, "messages": 0, "hand_overs": 0}


class CountingDecoder:
    def __init__(self, decoder):
        self.decoder = decoder

    def __getattr__(self, name):
        return getattr(self.decoder, name)

    def feed(self, data):
        try:
            out = self.decoder.feed(data)
        except wsfast.WebSocketError as exc:
            STATS["messages"] += len(exc.decoded)
            raise
        STATS["messages"] += len(out)
        return out

    def _feed_queue(self, data, room):
        # Messages queued as they were decoded, and those returned.
        try:
            out = self.decoder._feed_queue(data, room)
        except wsfast.WebSocketError as exc:
            STATS["messages"] += len(exc.decoded) + self.decoder._last_feed()[0]
            raise
        STATS["messages"] += len(out) + self.decoder._last_feed()[0]
        return out


def counting_decoder(**kwargs):
    STATS["decoders"] += 1
    return CountingDecoder(wsfast.MessageDecoder(**kwargs))


def pytest_configure(config):
    # aiohttp's compiled reader too (patch()'s default, said here in case
    # it changes): the suite must pass over both of aiohttp's queues.
    integration.REPLACE_COMPILED_READER = True
    if hasattr(wsfast, "patch"):
        description = wsfast.patch("aiohttp")["aiohttp"]
    else:
        for owner, name, replacement in integration.targets():
            setattr(owner, name, replacement)
        description = integration.describe()
    import aiohttp.client
    import aiohttp.web_ws

    assert aiohttp.web_ws.WebSocketReader is integration.WebSocketReader
    assert aiohttp.client.WebSocketReader is integration.WebSocketReader
    # The same decoder, behind a counter: proof that the suite went through wsfast.
    integration._CODEC = types.SimpleNamespace(
        MessageDecoder=counting_decoder, Masker=wsfast.Masker)
    hand_over = integration.WebSocketReader._hand_over

    def counting_hand_over(self, raising):
        STATS["hand_overs"] += 1
        return hand_over(self, raising)

    integration.WebSocketReader._hand_over = counting_hand_over
    print(f"wsfast: {description}", file=sys.stderr)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        "wsfast proof: {decoders} readers decoded with wsfast, {messages} messages decoded "
        "by wsfast, {hand_overs} connections handed over to aiohttp's reader".format(**STATS))
    if not STATS["messages"]:
        terminalreporter.write_line("wsfast proof: NOTHING went through wsfast")
PY
    # Every deselected test exists and its source names the reason it is deselected.
    printf '%s\n' "$ALL_DESELECTED" >"$run/deselected.tsv"
    (cd "$run" && "$VPY" -I - <<'PY') || { fail "the deselection list no longer matches aiohttp's tests"; return; }
import re
for line in open("deselected.tsv"):
    test, why = line.rstrip("\n").split("\t")
    path, name = test.split("::")
    source = open(f"tests/{path}").read()
    match = re.search(rf"\n(?:async )?def {name}\(.*?(?=\n(?:async )?def |\n@|\Z)", source, re.S)
    assert match, f"{test}: no such test"
    assert why in match.group(0), f"{test}: does not use {why}"
PY
    local deselect=() id
    while IFS=$'\t' read -r id _; do deselect+=(--deselect "tests/$id"); done <"$run/deselected.tsv"
    local files=("${AIOHTTP_FILES[@]/#/tests/}") env mode summary base
    for env in "" "AIOHTTP_NO_EXTENSIONS=1"; do
        for mode in unpatched patched; do
            local log="$run/$mode${env:+-noext}.log" plugin=()
            [[ $mode == patched ]] && plugin=(-p wsfast_stack_plugin)
            (cd "$run" && env $env PYTHONPATH="$run/plugins" "$VPY" -m pytest -q \
                -p no:cacheprovider -p no:asyncio "${plugin[@]}" "${deselect[@]}" "${files[@]}") \
                >"$log" 2>&1
            local rc=$?
            summary=$(grep -E "^[0-9]+ (passed|failed)|^=+ .*(passed|failed)" "$log" | tail -1 \
                      | sed 's/ in [0-9.]*s.*//; s/=//g; s/^ *//')
            say "aiohttp ${env:-(compiled)} $mode: rc=$rc, $summary"
            grep "^wsfast" "$log" | sed 's/^/    /'
            if [[ $rc -ne 0 ]]; then grep -E "^(FAILED|ERROR)" "$log" | head -20; fail "aiohttp $mode $env"; fi
            if [[ $mode == unpatched ]]; then base=$summary
            elif [[ "$summary" != "$base" ]]; then fail "aiohttp ${env}: patched '$summary' vs unpatched '$base'"
            fi
            if [[ $mode == patched ]] && grep -q "NOTHING went through wsfast" "$log"; then
                fail "aiohttp $env: the patch was not active"
            fi
        done
    done
    say "aiohttp: the _stalled_reader probes widened to the wsfast reader's stand-in, patched"
    mkdir -p "$run/adapted"
    cp "$run/tests/conftest.py" "$run/adapted/"
    for f in test_websocket_parser.py test_web_websocket_functional.py test_client_ws_functional.py; do
        sed -E 's/(queue|ws\._reader|out)\._stalled_reader is not None/(\1._stalled_reader is not None or type(\1._protocol).__name__ == "_FlowHook")/g' \
            "$run/tests/$f" >"$run/adapted/$f"
    done
    (cd "$run" && PYTHONPATH="$run/plugins" "$VPY" -m pytest -q -p no:cacheprovider -p no:asyncio \
        -p wsfast_stack_plugin "${ADAPTED[@]/#/adapted/}") >"$run/adapted.log" 2>&1 \
        || { tail -30 "$run/adapted.log"; fail "aiohttp adapted stall tests"; }
    grep -E "passed|failed|^wsfast proof" "$run/adapted.log" | sed 's/^/    /'
    say "wsfast's tests/test_integration_aiohttp.py against aiohttp $AIOHTTP_VERSION"
    (cd "$ROOT" && WSFAST_REQUIRE_EXTENSION=1 "$VPY" -I -m pytest -q -p no:cacheprovider \
        -p no:asyncio tests/test_integration_aiohttp.py) >"$WORK/aiohttp-ours.log" 2>&1 \
        || { tail -30 "$WORK/aiohttp-ours.log"; fail "tests/test_integration_aiohttp.py"; }
    tail -1 "$WORK/aiohttp-ours.log" | sed 's/^/    /'
}

for stack in "${STACKS[@]}"; do
    case $stack in
        tornado) run_tornado ;;
        aiohttp) run_aiohttp ;;
        *) echo "unknown stack: $stack (tornado, aiohttp)" >&2; exit 1 ;;
    esac
done
if [[ ${#FAILED[@]} -gt 0 ]]; then
    printf '!!! %s\n' "${FAILED[@]}" >&2
    say "FAILED"
    exit 1
fi
say "all stack suites as unpatched, patched"
