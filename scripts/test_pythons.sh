#!/usr/bin/env bash
# The test suite under every CPython 3.10+ that pyenv has, and under PyPy:
#
#   scripts/test_pythons.sh [--no-pypy]
#
# One sdist is built from this tree; each interpreter gets a fresh venv, installs
# that sdist with its test extra (so the wheel is built from the sdist, as users
# get it) and runs `python -I -m pytest` from a copy of tests/, examples/ and
# pyproject.toml outside the source tree:
#   CPython (every $(pyenv root)/versions/3.X.Y with X >= 10): the compiled twin,
#       WSFAST_REQUIRE_EXTENSION=1 at install and at test time;
#   PyPy (Debian's pypy3, installed with apt when missing): the pure twin.
# Debian 12's PyPy is 3.9, older than requires-python (>=3.10), so pip refuses to
# install: the pure twin's tests then run against the source tree (PYTHONPATH,
# nothing installed) and the row says so. It is informational (WARN, not FAIL)
# there: that Python is not supported.
#
# Environment: WSFAST_CI_CACHE, PYTHON (host python for building the sdist).
set -uo pipefail

PYPY=1
for arg in "$@"; do
    case $arg in
        --no-pypy) PYPY=0 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 64 ;;
    esac
done

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${WSFAST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsfast-ci}
HOST_PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
unset WSFAST_NO_EXTENSIONS WSFAST_REQUIRE_EXTENSION WSFAST_SIMD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-pythons.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS

NAMES=() RESULTS=() TIMES=() NOTES=()
record() { NAMES+=("$1"); RESULTS+=("$2"); TIMES+=("$3"); NOTES+=("$4"); }

# --- the sdist ---------------------------------------------------------------
SRC=$WORK/src
mkdir -p "$SRC"
if git -C "$ROOT_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # shellcheck disable=SC2016
    (cd "$ROOT_DIR" && git ls-files -z -c -o --exclude-standard --deduplicate \
        | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' - \
        | xargs -0 cp --parents -t "$SRC")
else
    cp -a "$ROOT_DIR/." "$SRC/"
fi
BVENV=$CACHE/sdist-venv
if [[ ! -x $BVENV/bin/pyproject-build ]]; then
    mkdir -p "$CACHE"
    { "$HOST_PY" -m venv "$BVENV" && "$BVENV/bin/pip" install -q build; } >"$WORK/bvenv.log" 2>&1 \
        || { tail "$WORK/bvenv.log"; echo "### cannot install 'build' (network?): nothing was tested" >&2; exit 2; }
fi
echo "=== building the sdist"
"$BVENV/bin/python" -m build --sdist --outdir "$WORK/dist" "$SRC" >"$WORK/sdist.log" 2>&1 \
    || { tail -30 "$WORK/sdist.log"; echo "FAIL: sdist"; exit 1; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
echo "    $(basename "$SDIST")"

# Tests from a copy outside the tree (no source on sys.path): cibuildwheel's layout.
testdir() {
    local d=$WORK/t-$1
    mkdir -p "$d" && cp -r "$SRC/tests" "$SRC/pyproject.toml" "$d/" || return 1
    [[ ! -d $SRC/examples ]] || cp -r "$SRC/examples" "$d/"  # test_interop drives them
    echo "$d"
}
summary_line() { grep -E '(passed|failed|error)' "$1" | tail -1 | sed 's/=//g; s/^ *//; s/ *$//'; }

run_cpython() {  # run_cpython LABEL PYTHON
    local label=$1 py=$2 t=$SECONDS venv=$WORK/venv-$1 log=$WORK/$1.log d
    echo
    echo "=== [$label] $("$py" -VV 2>&1 | head -1)"
    if ! { "$py" -m venv "$venv" && WSFAST_REQUIRE_EXTENSION=1 "$venv/bin/python" -m pip install -q "${SDIST}[test]"; } \
        >"$log.install" 2>&1; then
        tail -30 "$log.install"
        record "$label" FAIL $((SECONDS - t)) "install (compiled twin required) failed"
        return
    fi
    d=$(testdir "$label")
    local info
    info=$(cd "$d" && WSFAST_REQUIRE_EXTENSION=1 "$venv/bin/python" -I -c \
        'import wsfast; print(wsfast.IMPLEMENTATION, wsfast.SIMD)' 2>&1)
    echo "    twin, kernels: $info"
    if (cd "$d" && WSFAST_REQUIRE_EXTENSION=1 "$venv/bin/python" -I -m pytest -p no:cacheprovider) >"$log" 2>&1; then
        record "$label" PASS $((SECONDS - t)) "$info; $(summary_line "$log")"
    else
        tail -40 "$log"
        record "$label" FAIL $((SECONDS - t)) "$info; $(summary_line "$log")"
    fi
    tail -1 "$log"
}

# --- every pyenv CPython 3.10+ ----------------------------------------------------
PYENV_ROOT_DIR=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
found=0
while IFS= read -r v; do
    py=$PYENV_ROOT_DIR/versions/$v/bin/python3
    [[ -x $py ]] || continue
    found=1
    run_cpython "cpython-$v" "$py"
done < <(find "$PYENV_ROOT_DIR/versions" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null \
         | grep -E '^3\.(1[0-9]|[2-9][0-9])\.[0-9]+t?$' | sort -V)
((found)) || record "cpython (pyenv)" FAIL 0 "no CPython 3.10+ under $PYENV_ROOT_DIR/versions"

# --- PyPy: the pure twin -------------------------------------------------------------
run_pypy() {
    local t=$SECONDS venv=$WORK/venv-pypy log=$WORK/pypy.log d pypy
    pypy=$(command -v pypy3 || true)
    if [[ -z $pypy ]] || ! "$pypy" -c 'import venv, ensurepip' 2>/dev/null; then
        echo "    installing Debian's pypy3 + pypy3-venv"
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pypy3 pypy3-venv; } \
                >"$WORK/apt.log" 2>&1 || tail -5 "$WORK/apt.log"
        fi
        pypy=$(command -v pypy3 || true)
    fi
    if [[ -z $pypy ]]; then
        echo "### PyPy NOT TESTED: pypy3 is missing and could not be installed" >&2
        record pypy3 FAIL $((SECONDS - t)) "pypy3 could not be installed"
        return
    fi
    local ver
    ver=$("$pypy" -c 'import sys; print("%d.%d" % sys.version_info[:2], sys.pypy_version_info.major, sys.pypy_version_info.minor, sys.pypy_version_info.micro, sep=" ")' | awk '{print $1" (PyPy "$2"."$3"."$4")"}')
    local label="pypy-${ver%% *}"
    echo
    echo "=== [$label] Python $ver: the pure twin"
    "$pypy" -m venv "$venv" >"$log.install" 2>&1 || { tail "$log.install"; record "$label" FAIL $((SECONDS - t)) "venv failed"; return; }
    d=$(testdir pypy)
    # --no-deps first: pip then says at once whether requires-python lets it in
    # (resolving the test extra first, it backtracks through every hypothesis).
    if "$venv/bin/python" -m pip install -q --no-deps "$SDIST" >>"$log.install" 2>&1; then
        "$venv/bin/python" -m pip install -q "${SDIST}[test]" >>"$log.install" 2>&1 \
            || { tail "$log.install"; record "$label" FAIL $((SECONDS - t)) "test deps failed"; return; }
        if (cd "$d" && "$venv/bin/python" -I -m pytest -p no:cacheprovider) >"$log" 2>&1; then
            record "$label" PASS $((SECONDS - t)) "installed sdist; $(summary_line "$log")"
        else
            tail -40 "$log"; record "$label" FAIL $((SECONDS - t)) "installed sdist; $(summary_line "$log")"
        fi
    elif grep -q 'requires a different Python' "$log.install"; then
        # Not installable: requires-python excludes it. Run the pure twin's tests
        # against the source tree instead (nothing installed, nothing compiled).
        grep -m1 'requires a different Python' "$log.install" | sed 's/^/    pip: /'
        echo "    -> tests of the pure twin against the source tree (PYTHONPATH)"
        local reqs
        reqs=$("$HOST_PY" -c 'import sys, tomllib; print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]["test"]))' "$SRC/pyproject.toml")
        # shellcheck disable=SC2086
        "$venv/bin/python" -m pip install -q $reqs >>"$log.install" 2>&1 || { tail "$log.install"; record "$label" FAIL $((SECONDS - t)) "test deps failed"; return; }
        if (cd "$d" && PYTHONPATH=$SRC WSFAST_NO_EXTENSIONS=1 "$venv/bin/python" -m pytest -p no:cacheprovider) >"$log" 2>&1; then
            record "$label" PASS $((SECONDS - t)) "pip refused (requires-python); source tree: $(summary_line "$log")"
        else
            tail -40 "$log"
            record "$label" WARN $((SECONDS - t)) "pip refused (requires-python); source tree: $(summary_line "$log") (unsupported Python)"
        fi
    else
        tail -30 "$log.install"; record "$label" FAIL $((SECONDS - t)) "install failed"
    fi
    tail -1 "$log"
}
((PYPY)) && run_pypy

echo
echo "=== test_pythons summary ($((SECONDS - T0)) s in all)"
printf '%-18s %-5s %5s  %s\n' python result time notes
failed=0
for i in "${!NAMES[@]}"; do
    printf '%-18s %-5s %4ss  %s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}" "${NOTES[$i]}"
    [[ ${RESULTS[$i]} != FAIL ]] || failed=$((failed + 1))
done
echo "=== ${#NAMES[@]} interpreters: $failed FAIL"
((failed == 0))
