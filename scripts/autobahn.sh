#!/usr/bin/env bash
# Run the Autobahn testsuite (wstest fuzzingclient) against examples/echo_server.py.
#
#   scripts/autobahn.sh [PROFILE] [HARNESS ARGS...]
#
# PROFILE: nocomp (default: sections 1-10, ~20 s), quick, perf (section 9 only),
# medium, full, deflate.  Extra arguments go to the harness, e.g. -c "6.4.*".
# The twin under test is the one `import wsfast` picks: set WSFAST_NO_EXTENSIONS=1
# to test the pure-Python twin.  Exit status: 0 no FAILED case, 1 some FAILED,
# 2 harness problem.
#
# Environment: PYTHON (default python3), AB_PORT (default 9010),
# AB_HARNESS (default ../shared/autobahn, relative to the repository),
# AB_HOME (where setup.sh installs wstest), AB_OUT (report directory).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE="${1:-nocomp}"
[[ $# -gt 0 ]] && shift
PYTHON="${PYTHON:-python3}"
PORT="${AB_PORT:-9010}"
HARNESS="${AB_HARNESS:-../shared/autobahn}"
AB_HOME="${AB_HOME:-$HOME/.cache/autobahn-testsuite}"
export AB_HOME

# wstest needs Python 2.7: setup.sh installs it once under $AB_HOME.
[[ -x "$AB_HOME/wstest" ]] || bash "$HARNESS/setup.sh"

# Asked of the server script itself: `python -c` run here would import the
# source folder ./wsfast (the pure twin when it holds no compiled modules) while
# the server, started as a script, imports the installed copy.
TWIN="$("$PYTHON" examples/echo_server.py --implementation)"
OUT="${AB_OUT:-$AB_HOME/reports/wsfast-$TWIN-$PROFILE}"
echo "wsfast twin: $TWIN   profile: $PROFILE   port: $PORT   reports: $OUT" >&2

exec "$PYTHON" "$HARNESS/run_fuzzingclient.py" "wsfast-$TWIN" "$PORT" -p "$PROFILE" -o "$OUT" \
    --server-cmd "$PYTHON examples/echo_server.py --port $PORT" "$@"
