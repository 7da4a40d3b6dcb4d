#!/usr/bin/env bash
# Run the test suite on another CPU under qemu-user, without Docker:
#   s390x    big-endian (the byte order bugs show up here)
#   aarch64  the NEON kernels
#
#   scripts/test_qemu.sh [--fast] s390x|aarch64
#
# How: a Debian CPython for the target is unpacked from .debs (debootstrap
# --foreign, never run as a system); the compiled twin is cythonized on the host
# (by setup.py itself, so the directives are the release ones) and the C is
# cross-compiled with Debian's cross gcc into the target's EXT_SUFFIX. The package
# goes into a venv of the target interpreter whose bin/python starts it under
# qemu-ARCH-static -L ROOT (binfmt_misc need not be registered), and the suite
# runs as on a real install: `python -I -m pytest` from a copy of tests/.
#
# --fast: only the masking, UTF-8 validation and frame/message/close test files
#         (whichever exist) and fewer hypothesis examples; the exhaustive
#         transcoding tests (test_utf8_decode.py) take too long emulated for CI.
#
# Cache (a rerun spends about 15 s before the tests start):
#   ${WSFAST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsfast-ci}/
#     rootfs-<debarch>-<suite>-v1/   target rootfs, built once (30-45 s, 200 MB)
#     qemu-host-venv/                 host Cython + setuptools (from build-system.requires)
#     pydeps-<hash>/                  the test extra (pure-Python wheels) for the target
#
# Host packages (installed with apt-get when missing and running as root):
# gcc-<triplet> and libc6-dev-<debarch>-cross (the cross C library headers and crt
# files), qemu-user-static, and, until the rootfs is cached, debootstrap and
# debian-archive-keyring.
#
# Exit codes: 0 tests passed; 1 tests (or a check) failed; 2 the target
# environment could not be prepared (network or host packages): a loud banner says
# so -- that is not a pass.
#
# Environment: WSFAST_QEMU_SUITE (bookworm), WSFAST_QEMU_MIRROR
# (http://deb.debian.org/debian), WSFAST_CI_CACHE, PYTHON (host python >= 3.11).
set -euo pipefail

usage() { echo "usage: $0 [--fast] s390x|aarch64" >&2; exit 64; }
FAST=0
ARCH=""
for arg in "$@"; do
    case $arg in
        --fast) FAST=1 ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) [[ -z $ARCH ]] || usage; ARCH=$arg ;;
    esac
done
case $ARCH in
    s390x) DEBARCH=s390x; TRIPLET=s390x-linux-gnu; QARCH=s390x ;;
    aarch64|arm64) ARCH=aarch64; DEBARCH=arm64; TRIPLET=aarch64-linux-gnu; QARCH=aarch64 ;;
    *) usage ;;
esac

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${WSFAST_QEMU_SUITE:-bookworm}
MIRROR=${WSFAST_QEMU_MIRROR:-http://deb.debian.org/debian}
CACHE=${WSFAST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsfast-ci}
HOST_PY=${PYTHON:-python3}
RECIPE=v1  # bump when the rootfs recipe below changes
ROOTFS=$CACHE/rootfs-$DEBARCH-$SUITE-$RECIPE
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
mkdir -p "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsfast-qemu-$ARCH.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS

say() { printf '=== [qemu %s %ss] %s\n' "$ARCH" "$((SECONDS - T0))" "$*"; }
banner() {  # loud: the target environment could not be prepared
    {
        echo
        echo "#####################################################################"
        echo "###  $ARCH TESTS DID NOT RUN: $*"
        echo "###  This is not a pass. Rerun when the network is back, or fix the"
        echo "###  host packages; scripts/test_qemu.sh exits 2 for this case."
        echo "#####################################################################"
        echo
    } >&2
}
unprepared() { banner "$*"; exit 2; }
retry() {  # retry N CMD...: for network steps
    local n=$1 i; shift
    for ((i = 1; i <= n; i++)); do
        "$@" && return 0
        [[ $i -lt $n ]] && { say "attempt $i failed: $*; retrying in $((i * 5)) s"; sleep $((i * 5)); }
    done
    return 1
}

# --- host tools ---------------------------------------------------------------
QEMU=$(command -v "qemu-$QARCH-static" || command -v "qemu-$QARCH" || true)
# The cross gcc alone is not enough: its C library headers (and crt files) come in
# libc6-dev-<debarch>-cross, which it only *recommends*. Without them the cross gcc
# silently falls back to the host's /usr/include and fails on the first
# <bits/...> header, so the package is named here, not left to Recommends.
CROSS_LIBC=libc6-dev-$DEBARCH-cross
CROSS_INC=/usr/$TRIPLET/include
need=()
command -v "$TRIPLET-gcc" >/dev/null || need+=("gcc-$TRIPLET")
[[ -f $CROSS_INC/stdlib.h ]] || need+=("$CROSS_LIBC")
[[ -n $QEMU ]] || need+=(qemu-user-static)
[[ -f $ROOTFS/.wsfast-rootfs-ok ]] || {
    command -v debootstrap >/dev/null || need+=(debootstrap)
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || need+=(debian-archive-keyring)
}
if ((${#need[@]})); then
    say "installing host packages: ${need[*]}"
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        unprepared "missing host packages (${need[*]}) and no root apt-get to install them"
    fi
    export DEBIAN_FRONTEND=noninteractive
    retry 3 apt-get update -q >/dev/null || unprepared "apt-get update failed"
    retry 3 apt-get install -y -q --no-install-recommends "${need[@]}" >"$WORK/apt.log" 2>&1 \
        || { tail -20 "$WORK/apt.log" >&2; unprepared "apt-get install ${need[*]} failed"; }
    QEMU=$(command -v "qemu-$QARCH-static" || command -v "qemu-$QARCH" || true)
    [[ -n $QEMU ]] || unprepared "no qemu-$QARCH-static after installing qemu-user-static"
fi
CC=$TRIPLET-gcc
# The target's own <stdlib.h> must be the one found, never the host's: a cross
# compile against the host's libc headers fails late and confusingly, or worse,
# succeeds with the wrong struct layouts.
hdr=$(printf '#include <stdlib.h>\n' | "$CC" -E -H -x c - -o /dev/null 2>&1 | sed -n 's/^\. //p' | head -n 1)
if [[ $hdr != "$CROSS_INC"/* ]]; then
    echo "FAIL: $CC takes <stdlib.h> from ${hdr:-nowhere}, not from $CROSS_INC ($CROSS_LIBC)" >&2
    exit 1
fi

# --- target rootfs (cached) -----------------------------------------------------
# shellcheck disable=SC2329  # called through retry
debootstrap_into() {  # a clean directory for every attempt
    rm -rf "$1"
    # minbase + the interpreter and its headers; --foreign: download and unpack
    # only, nothing runs under emulation. Dependencies are resolved by debootstrap.
    debootstrap --foreign --arch="$DEBARCH" --variant=minbase --include=python3,python3-dev \
        "$SUITE" "$1" "$MIRROR" >"$WORK/debootstrap.log" 2>&1
}
build_rootfs() {
    local tmp=$CACHE/.rootfs-$DEBARCH-$SUITE.$$
    if ! retry 3 debootstrap_into "$tmp"; then
        tail -20 "$WORK/debootstrap.log" >&2
        rm -rf "$tmp"
        return 1
    fi
    # The first stage unpacks only the required set: unpack every downloaded .deb
    # (python3 and its dependencies among them). --keep-directory-symlink keeps
    # the merged-/usr links (/lib -> usr/lib) instead of replacing them by dirs.
    local deb
    for deb in "$tmp"/var/cache/apt/archives/*.deb; do
        dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$tmp" \
            || { echo "cannot unpack $deb" >&2; rm -rf "$tmp"; return 1; }
    done
    rm -f "$tmp"/var/cache/apt/archives/*.deb
    rm -rf "$ROOTFS"
    mv "$tmp" "$ROOTFS"
}
if [[ ! -f $ROOTFS/.wsfast-rootfs-ok ]]; then
    say "building the $DEBARCH $SUITE rootfs from $MIRROR (cached in $ROOTFS)"
    build_rootfs || unprepared "debootstrap of $SUITE/$DEBARCH from $MIRROR failed"
fi
TPY=""
for f in "$ROOTFS"/usr/bin/python3.[0-9] "$ROOTFS"/usr/bin/python3.[0-9][0-9]; do
    [[ -x $f ]] && TPY=${f##*/}  # the newest: python3.1X sorts after python3.X
done
[[ -n $TPY ]] || { rm -rf "$ROOTFS"; unprepared "no python3.X in the $DEBARCH rootfs (removed; rerun)"; }
# aarch64: QEMU's default "max" CPU emulates pointer authentication the slow,
# architected way; the implementation-defined algorithm is much cheaper.
[[ $ARCH != aarch64 ]] || export QEMU_CPU=${QEMU_CPU:-max,pauth-impdef=on}
run_target() { "$QEMU" -L "$ROOTFS" "$ROOTFS/usr/bin/$TPY" "$@"; }
read -r TVER EXT_SUFFIX TINC TBYTEORDER < <(run_target -c \
    'import sys, sysconfig as s; print("%d.%d" % sys.version_info[:2], s.get_config_var("EXT_SUFFIX"), s.get_paths()["include"], sys.byteorder)') \
    || { rm -rf "$ROOTFS"; unprepared "the $DEBARCH python does not start under $QEMU (rootfs removed; rerun)"; }
# Byte-compile a tree once (cached dirs): Debian's .debs ship no .pyc (postinst
# makes them) and compiling pytest + hypothesis at every import costs ~15 s under
# emulation. The host python does it when its bytecode magic is the target's.
precompile() {
    local hmagic tmagic
    hmagic=$("$HOST_PY" -c 'import importlib.util as u; print(u.MAGIC_NUMBER.hex())')
    tmagic=$(run_target -c 'import importlib.util as u; print(u.MAGIC_NUMBER.hex())')
    if [[ $hmagic == "$tmagic" ]]; then
        "$HOST_PY" -m compileall -q -j0 "$@" >/dev/null || true
    else
        run_target -m compileall -q "$@" >/dev/null || true
    fi
}
# sys.prefix is computed from the interpreter's path, so it may already be under ROOTFS.
[[ $TINC == "$ROOTFS"/* ]] || TINC=$ROOTFS$TINC
[[ -f $TINC/Python.h ]] || { rm -rf "$ROOTFS"; unprepared "no Python.h in the $DEBARCH rootfs ($TINC; removed; rerun)"; }
if [[ ! -f $ROOTFS/.wsfast-rootfs-ok ]]; then
    say "byte-compiling the target stdlib"
    precompile "$ROOTFS/usr/lib/$TPY"
    touch "$ROOTFS/.wsfast-rootfs-ok"
fi
say "target: $TPY ($TVER, $TBYTEORDER-endian), EXT_SUFFIX $EXT_SUFFIX, via $QEMU"

# --- host venv: Cython + setuptools as build-system.requires says ----------------
HVENV=$CACHE/qemu-host-venv
BUILD_REQS=$("$HOST_PY" - "$ROOT_DIR/pyproject.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    reqs = tomllib.load(f)["build-system"]["requires"]
print(" ".join(r.split(";")[0].strip() for r in reqs))
EOF
)
TEST_REQS=$("$HOST_PY" - "$ROOT_DIR/pyproject.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(" ".join(tomllib.load(f)["project"]["optional-dependencies"]["test"]))
EOF
)
stamp="$BUILD_REQS | $("$HOST_PY" -V)"
if [[ ! -x $HVENV/bin/python || "$(cat "$HVENV/.stamp" 2>/dev/null)" != "$stamp" ]]; then
    say "host venv: $BUILD_REQS"
    rm -rf "$HVENV"
    "$HOST_PY" -m venv "$HVENV"
    # shellcheck disable=SC2086
    retry 3 "$HVENV/bin/pip" install -q $BUILD_REQS || unprepared "pip install $BUILD_REQS failed"
    echo "$stamp" >"$HVENV/.stamp"
fi

# --- the test extra for the target: pure-Python wheels, as pyproject.toml pins them
PYDEPS=$CACHE/pydeps-$(echo "$TVER $TEST_REQS" | sha256sum | cut -c1-12)
if [[ ! -f $PYDEPS/.ok ]]; then
    say "test dependencies for Python $TVER: $TEST_REQS"
    rm -rf "$PYDEPS"
    # One at a time: a requirement with no pure-Python wheel is left out (the
    # tests that need it skip); pytest and hypothesis are required.
    for req in $TEST_REQS; do
        if ! "$HVENV/bin/pip" install -q --target "$PYDEPS" --python-version "$TVER" \
                --implementation py --abi none --platform any --only-binary=:all: --no-compile \
                --upgrade "$req" >"$WORK/pydeps.log" 2>&1; then
            case $req in
                pytest*|hypothesis*)
                    retry 2 "$HVENV/bin/pip" install -q --target "$PYDEPS" --python-version "$TVER" \
                        --implementation py --abi none --platform any --only-binary=:all: \
                        --no-compile --upgrade "$req" || unprepared "pip install --target $req failed" ;;
                *) echo "    note: no pure-Python wheel of $req for the target: its tests will skip" ;;
            esac
        fi
    done
    precompile "$PYDEPS"
    touch "$PYDEPS/.ok"
fi

# --- cythonize (host) + cross-compile ---------------------------------------------
SRC=$WORK/src
mkdir -p "$SRC"
if git -C "$ROOT_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and new (not ignored) files: what a commit of this tree would hold
    # (tracked files deleted in the work tree are left out)
    # shellcheck disable=SC2016
    (cd "$ROOT_DIR" && git ls-files -z -c -o --exclude-standard --deduplicate \
        | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' - \
        | xargs -0 cp --parents -t "$SRC")
else
    cp -a "$ROOT_DIR/." "$SRC/"
fi
say "cythonizing with setup.py's own directives"
# Run setup.py with setup() captured: cythonize() runs as in a release build and
# the Extension objects (sources, include dirs, flags, macros) come back.
(cd "$SRC" && env -u WSFAST_NO_EXTENSIONS WSFAST_REQUIRE_EXTENSION=1 "$HVENV/bin/python" - >"$WORK/exts.txt") <<'EOF'
import runpy, setuptools
captured = {}
setuptools.setup = lambda **kw: captured.update(kw)
runpy.run_path("setup.py", run_name="__main__")
for ext in captured.get("ext_modules") or []:
    macros = " ".join(f"-D{n}" + ("" if v is None else f"={v}") for n, v in ext.define_macros)
    incs = " ".join("-I" + d for d in ext.include_dirs)
    libs = " ".join("-l" + lib for lib in ext.libraries)
    # Fields split on \x1f: unlike a tab (whitespace to `read`), it keeps empty fields.
    print("\x1f".join([ext.name, " ".join(ext.sources), incs, " ".join(ext.extra_compile_args),
                       macros, libs]))
EOF
[[ -s $WORK/exts.txt ]] || { echo "setup.py declared no extension" >&2; exit 1; }
# The host gcc flags setup.py chose are the cross gcc's too (same compiler family).
# -idirafter: the target's /usr/include last, after the cross toolchain's own libc
# headers, so only what they lack (Python.h's multiarch pyconfig.h) comes from it.
BASEFLAGS=(-fPIC -fwrapv -DNDEBUG -Wall -I"$TINC" -idirafter "$ROOTFS/usr/include")
pids=() names=()
while IFS=$'\x1f' read -r name sources incs cflags macros libs; do
    out=$SRC/${name//.//}$EXT_SUFFIX
    if grep -q -E -- '-march|-mavx|-mcpu|-mtune' <<<"$cflags"; then
        echo "FAIL: $name is compiled with flags above the baseline: $cflags" >&2; exit 1
    fi
    say "cross-compiling $name -> $(basename "$out")"
    # Libraries (zlib) are the target's shared objects from the rootfs (python3-dev
    # brings zlib1g-dev), named by path: a -L into the rootfs would also pick its
    # libc.so, a linker script with the target's absolute paths.
    objs=()
    for lib in $libs; do
        so=$(readlink "$ROOTFS/usr/lib/$TRIPLET/lib${lib#-l}.so") \
            || { echo "no lib${lib#-l}.so for $TRIPLET in the rootfs" >&2; exit 1; }
        if [[ $so == /* ]]; then so=$ROOTFS$so; else so=$ROOTFS/usr/lib/$TRIPLET/$so; fi
        objs+=("$so")
    done
    # shellcheck disable=SC2086
    (cd "$SRC" && "$CC" "${BASEFLAGS[@]}" $incs $cflags $macros -shared -o "$out" $sources \
        "${objs[@]}") \
        2>"$WORK/cc-$name.log" &
    pids+=($!) names+=("$name")
done <"$WORK/exts.txt"
for i in "${!pids[@]}"; do  # the modules compile in parallel
    wait "${pids[$i]}" || { cat "$WORK/cc-${names[$i]}.log" >&2; echo "cross-compile of ${names[$i]} failed" >&2; exit 1; }
done
for so in "$SRC"/wsfast/*"$EXT_SUFFIX"; do
    echo "    $(basename "$so"): $(readelf -h "$so" | grep -E 'Class|Data|Machine' | sed 's/^.*: *//' | paste -sd, -)"
done

# Install-like layout: a venv for the target interpreter whose site-packages
# holds the package (and, through a .pth, the test dependencies), and tests from a
# copy outside the tree, run with `python -I` as on a real install. Its bin/python
# is a host script that starts the target interpreter under qemu with argv[0]
# pointing back at itself: so sys.executable works for subprocesses (the CLI
# tests run `sys.executable -I -m wsfast ...`) with no binfmt_misc registration.
TVENV=$WORK/tvenv
SITE=$TVENV/lib/$TPY/site-packages
mkdir -p "$SITE" "$TVENV/bin" "$WORK/run" "$WORK/plugins"
printf 'home = %s\ninclude-system-site-packages = false\nversion = %s\n' \
    "$ROOTFS/usr/bin" "$TVER" >"$TVENV/pyvenv.cfg"
cat >"$TVENV/bin/python" <<EOF
#!/bin/sh
exec "$QEMU" -L "$ROOTFS" -0 "\$0" "$ROOTFS/usr/bin/$TPY" "\$@"
EOF
chmod +x "$TVENV/bin/python"
ln -s python "$TVENV/bin/python3"
ln -s python "$TVENV/bin/$TPY"
TARGET_PY=$TVENV/bin/python
cp -r "$SRC/wsfast" "$SITE/"
printf '%s\n' "$PYDEPS" "$WORK/plugins" >"$SITE/wsfast-qemu-test.pth"
cp -r "$SRC/tests" "$SRC/pyproject.toml" "$WORK/run/"
[[ ! -d $SRC/examples ]] || cp -r "$SRC/examples" "$WORK/run/"  # test_interop drives them
cat >"$WORK/plugins/wsfast_qemu_profile.py" <<EOF
# Loaded with -p: emulation is 10-50x slower, so no hypothesis deadline; --fast
# also runs fewer examples (tests with explicit @settings keep theirs).
from hypothesis import settings
settings.register_profile("qemu", deadline=None, max_examples=$([[ $FAST == 1 ]] && echo 20 || echo 100))
settings.load_profile("qemu")
EOF
export WSFAST_REQUIRE_EXTENSION=1
# The differential fuzzing campaign, scaled to emulation (tests/test_differential.py).
export WSFAST_FUZZ_EXAMPLES=${WSFAST_FUZZ_EXAMPLES:-$([[ $FAST == 1 ]] && echo 10 || echo 40)}
unset PYTHONDONTWRITEBYTECODE PYTHONPATH PYTHONHOME  # bytecode is written in $WORK only
unset WSFAST_NO_EXTENSIONS WSFAST_SIMD

say "import check"
(cd "$WORK/run" && "$TARGET_PY" -I - "$ARCH" <<'EOF'
import sys
import wsfast
assert wsfast.__file__.startswith(sys.prefix), (wsfast.__file__, sys.prefix)
from wsfast import _mask_c
arch = sys.argv[1]
levels = _mask_c._supported_levels()
print(f"    wsfast {wsfast.__version__}: IMPLEMENTATION={wsfast.IMPLEMENTATION} SIMD={wsfast.SIMD} "
      f"levels={levels} byteorder={sys.byteorder}")
assert wsfast.IMPLEMENTATION == "c", wsfast.IMPLEMENTATION
if arch == "aarch64":
    # the NEON kernels are the ones in use, and the tests run every level (scalar, neon)
    assert wsfast.SIMD == "neon", wsfast.SIMD
    assert levels == ["scalar", "neon"], levels
if arch == "s390x":
    assert sys.byteorder == "big"
    assert wsfast.SIMD == "scalar", wsfast.SIMD
    assert wsfast.mask(b"\x00\x01\x02\x03\x04\x05\x06\x07\x08", b"\x10\x20\x30\x40") == \
        bytes([0x10, 0x21, 0x32, 0x43, 0x14, 0x25, 0x36, 0x47, 0x18])
EOF
) || { echo "FAIL: import check on $ARCH" >&2; exit 1; }

files=()
if [[ $FAST == 1 ]]; then
    for pat in test_mask.py test_utf8.py 'test_frame*.py' 'test_message*.py' 'test_close*.py' \
            test_pmd.py; do
        for f in "$WORK"/run/tests/$pat; do [[ -e $f ]] && files+=("tests/${f##*/}"); done
    done
    say "pytest --fast: ${files[*]}"
else
    say "pytest (whole suite)"
fi
rc=0
(cd "$WORK/run" && "$TARGET_PY" -I -m pytest -p wsfast_qemu_profile -p no:cacheprovider \
    --durations=5 "${files[@]}") || rc=$?
say "done: pytest exit $rc"
exit $((rc == 0 ? 0 : 1))
