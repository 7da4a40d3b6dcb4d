# Helpers shared by the CI job scripts (sourced, not run):
#   scripts/sanitize.sh, scripts/freethreaded.sh, scripts/fuzz.sh
#
# Exit-status convention of every job: 0 passed, 1 a check failed, 2 the job
# could not be prepared (PyPI or the Debian mirror unreachable, a host tool
# missing): a loud banner says so, and .ci/run lists the job as NOT RUN.
# shellcheck shell=bash

CI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034  # for the scripts that source this file
CI_CACHE=${WSFAST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsfast-ci}
CI_HOST_PY=${PYTHON:-python3}
CI_T0=$SECONDS
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

ci_say() { printf '=== [%s %ss] %s\n' "$CI_JOB" "$((SECONDS - CI_T0))" "$*"; }

ci_unprepared() {  # loud: nothing was checked; exit 2
    {
        echo
        echo "#####################################################################"
        echo "###  $CI_JOB DID NOT RUN: $*"
        echo "###  This is not a pass. Rerun when the network is back, or fix the"
        echo "###  host; this job exits 2 for this case."
        echo "#####################################################################"
        echo
    } >&2
    exit 2
}

ci_retry() {  # ci_retry N CMD...: for network steps
    local n=$1 i
    shift
    for ((i = 1; i <= n; i++)); do
        "$@" && return 0
        [[ $i -lt $n ]] && { ci_say "attempt $i failed: $*; retrying in $((i * 5)) s"; sleep $((i * 5)); }
    done
    return 1
}

# ci_copy_tree DEST: what a commit of this tree would hold (tracked and new,
# not ignored files), so no build product of the work tree leaks in.
ci_copy_tree() {
    mkdir -p "$1"
    if git -C "$CI_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # shellcheck disable=SC2016
        (cd "$CI_ROOT" && git ls-files -z -c -o --exclude-standard --deduplicate \
            | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' - \
            | xargs -0 cp --parents -t "$1")
    else
        cp -a "$CI_ROOT/." "$1/"
        rm -rf "$1"/build "$1"/wsfast/*.so "$1"/wsfast/_*_c.c
    fi
}

# ci_reqs build|test: the requirements pyproject.toml lists for the build
# (build-system.requires) or for the tests (the "test" extra), one per line.
ci_reqs() {
    "$CI_HOST_PY" - "$CI_ROOT/pyproject.toml" "$1" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    meta = tomllib.load(f)
if sys.argv[2] == "build":
    reqs = [r.split(";")[0].strip() for r in meta["build-system"]["requires"]]
else:
    reqs = meta["project"]["optional-dependencies"][sys.argv[2]]
print("\n".join(reqs))
EOF
}

# ci_run_dir SRC DEST: tests/, examples/ and pyproject.toml copied out of the tree, so
# `python -I -m pytest` there tests the installed package (cibuildwheel's layout).
ci_run_dir() {
    mkdir -p "$2"
    cp -r "$1/tests" "$1/pyproject.toml" "$2/"
    [[ ! -d $1/examples ]] || cp -r "$1/examples" "$2/"
}
