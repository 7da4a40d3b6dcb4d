"""Build switches -> extensions -> cythonize.

Environment switches (see README), parsed by wsfast/_env.py like at run time:
on for 1/true/yes/on, off for unset/empty/0/false/no/off, any case; any other
value is off with a warning.
  WSFAST_NO_EXTENSIONS=1      build no extension: a pure-Python install
  WSFAST_REQUIRE_EXTENSION=1  a failed compile fails the build instead of falling back
                              (without it a failed compile prints a banner, and when
                              nothing compiled the wheel is pure: py3-none-any)
  WSFAST_DEBUG=1              keep debug info, no -O3 (for gdb / sanitizers)
  WSFAST_CYTHON_TRACE=1       line tracing for coverage of the compiled twin
  WSFAST_SANITIZE=LIST        sanitizer build (gcc/clang): a comma list of address,
                              undefined, thread; -O1 -g, frame pointers kept
                              (scripts/sanitize.sh runs the suite on it)
"""

import atexit
import glob
import importlib.util
import os
import platform
import re
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.dist import Distribution

try:  # setuptools >= 70.1 (pyproject.toml asks for >= 77); else the `wheel` package's
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_env():
    """wsfast/_env.py, the package's one switch parser, loaded by path: the
    package being built cannot be imported."""
    path = os.path.join(HERE, "wsfast", "_env.py")
    spec = importlib.util.spec_from_file_location("_wsfast_env", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


env = _load_env()
NO_EXTENSIONS = env.flag("WSFAST_NO_EXTENSIONS")
REQUIRE_EXTENSION = env.flag("WSFAST_REQUIRE_EXTENSION")
DEBUG = env.flag("WSFAST_DEBUG")
TRACE = env.flag("WSFAST_CYTHON_TRACE")
CPYTHON = platform.python_implementation() == "CPython"
#: Left in the built package when the compile fails; wsfast/_codec.py reads it
#: (python -m wsfast info, and a warning at import).
BUILD_FAILURE_NOTE = "_build_failure.txt"


class BuildFailure:
    """Which extensions compiled, which failed and why (for the banner and the note)."""

    def __init__(self):
        self.built = set()
        self.errors = {}  # extension name (or "build_ext", "Cython") -> error text

    def add(self, name, exc):
        """Record a failure: one loud line now, the banner at the end of the step
        and again when the build ends."""
        if not self.errors:
            atexit.register(self.banner, "(repeated at the end of the build)")
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        # "Command '['gcc', ...]' returned non-zero exit status 1." -> "gcc exited with status 1"
        command = re.match(r"Command '\['([^']*)'.*exit status (-?\d+)", text)
        if command:
            text = f"{command[1]} exited with status {command[2]}"
        self.errors[name] = text if len(text) <= 200 else text[:197] + "..."
        sys.stderr.write(f"*** wsfast: {name} FAILED: {self.errors[name]}\n")

    @property
    def nothing_built(self):
        return bool(self.errors) and not self.built

    def summary(self):
        """One line: the failed steps grouped by error."""
        by_error = {}
        for name, error in self.errors.items():
            by_error.setdefault(error, []).append(name)
        return "; ".join(f"{', '.join(names)}: {error}" for error, names in by_error.items())

    def banner(self, when=""):
        rule = "*" * 78
        if self.built:  # e.g. only the zlib-linked inflater failed (no zlib headers)
            head = [
                f"*** wsfast: PART OF THE COMPILED TWIN WAS NOT BUILT {when}".rstrip(),
                f"***   {self.summary()}",
                "*** The rest was built; pure-Python code stands in for the parts listed",
                "*** (for the zlib modules: the shared deflate engine, slower on small messages).",
            ]
        else:
            head = [
                f"*** wsfast: THE COMPILED TWIN WAS NOT BUILT {when}".rstrip(),
                f"***   {self.summary()}",
                "*** This install gets the pure-Python twin only: the same API, many times slower.",
            ]
        lines = [
            rule,
            *head,
            "*** Install a C compiler, the Python and zlib headers (Debian: apt-get install",
            "*** gcc python3-dev zlib1g-dev), then reinstall. WSFAST_REQUIRE_EXTENSION=1",
            "*** makes this an error; WSFAST_NO_EXTENSIONS=1 builds the pure twin on purpose,",
            "*** silently.",
            rule,
        ]
        sys.stderr.write("\n" + "\n".join(lines) + "\n\n")
        sys.stderr.flush()


FAILURE = BuildFailure()

SANITIZERS = ("address", "undefined", "thread")
SANITIZE = [n.strip() for n in os.environ.get("WSFAST_SANITIZE", "").split(",") if n.strip()]
if set(SANITIZE) - set(SANITIZERS) or {"address", "thread"} <= set(SANITIZE):
    # A typo must not quietly give an uninstrumented build; ASan and TSan exclude each other.
    sys.exit(f"WSFAST_SANITIZE={os.environ['WSFAST_SANITIZE']!r}: expected a comma list of "
             f"{', '.join(SANITIZERS)} (address and thread exclude each other)")


class OptionalBuildExt(build_ext):
    """Fall back to the pure twin when a compile fails, unless it is required.

    The fallback is loud: a banner on standard error (again at the end of the
    build, as pip shows the build log only with -v), a note in the built
    package that ``python -m wsfast info`` shows and ``import wsfast`` warns
    about, and a pure wheel (py3-none-any) when no extension was built at all
    (``PureWhenNothingBuilt``).
    """

    def run(self):
        inplace = self.inplace  # build_ext.run clears it while compiling
        self._wsfast_inplace = inplace
        notes = [os.path.join(self.build_lib, "wsfast", BUILD_FAILURE_NOTE)]
        if inplace:
            notes.append(os.path.join(HERE, "wsfast", BUILD_FAILURE_NOTE))
        for path in notes:  # a stale note from an earlier failed build
            if os.path.exists(path):
                os.remove(path)
        try:
            super().run()
        except Exception as exc:  # no compiler at all, missing headers, ...
            if not FAILURE.errors:  # else a consequence (e.g. copying what did not compile)
                self._fallback("build_ext", exc)
        if FAILURE.errors:
            FAILURE.banner()
            for path in notes:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(FAILURE.summary() + "\n")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._fallback(ext.name, exc)
            self._remove_stale(ext)
        else:
            FAILURE.built.add(ext.name)

    def _remove_stale(self, ext):
        """Delete what an earlier build compiled for ``ext``: pip builds in the
        checkout's build/ folder, whose old module would otherwise be copied,
        out of date, into this (pure-tagged) wheel, and an in-place build's old
        module would keep being imported from the source tree."""
        paths = [self.get_ext_fullpath(ext.name)]
        if getattr(self, "_wsfast_inplace", False):
            paths.append(os.path.join(HERE, self.get_ext_filename(ext.name)))
        for path in paths:
            if os.path.exists(path):
                os.remove(path)

    def _fallback(self, name, exc):
        if REQUIRE_EXTENSION:
            raise
        FAILURE.add(name, exc)


class WsfastDistribution(Distribution):
    """No extension modules once every one of them failed to compile, so the
    install lays the package out as pure Python (purelib)."""

    def has_ext_modules(self):
        return super().has_ext_modules() and not FAILURE.nothing_built


cmdclass = {"build_ext": OptionalBuildExt}

if bdist_wheel is not None:

    class PureWhenNothingBuilt(bdist_wheel):
        """Tag the wheel py3-none-any when no extension was built (every compile
        failed): a wheel tagged for one CPython and platform must hold its
        compiled twin.  bdist_wheel decides ``root_is_pure`` before the build;
        here it is read from the distribution after the build, when the tag and
        the install layout are chosen."""

        @property
        def root_is_pure(self):
            return not (self.distribution.has_ext_modules() or self.distribution.has_c_libraries())

        @root_is_pure.setter
        def root_is_pure(self, value):
            pass  # always derived, see above

    cmdclass["bdist_wheel"] = PureWhenNothingBuilt


#: Extensions that link the system zlib (its headers: Debian zlib1g-dev, Fedora
#: zlib-devel; the manylinux and musllinux images and macOS have them).
ZLIB_MODULES = {"_inflate_c", "_deflate_c"}


def extensions():
    if NO_EXTENSIONS or not CPYTHON:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        if REQUIRE_EXTENSION:
            raise
        FAILURE.add("Cython", exc)
        FAILURE.banner()
        return []

    msvc = sys.platform == "win32" and "GCC" not in sys.version
    if msvc:
        cflags = ["/O2"]
    elif DEBUG:
        cflags = ["-O0", "-g3", "-std=c99"]
    else:
        # Baseline ISA only: faster kernels are chosen at run time through
        # per-function target attributes (never -march=native).
        cflags = ["-O3", "-g0", "-std=c99", "-fno-strict-aliasing"]
    ldflags = []
    if SANITIZE and not msvc:
        # Readable reports: little inlining, line numbers, whole stacks.
        san = "-fsanitize=" + ",".join(SANITIZE)
        cflags = ["-O1", "-g", "-std=c99", "-fno-strict-aliasing", "-fno-omit-frame-pointer", san]
        ldflags = [san, "-g"]
    macros = [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")] if TRACE else []
    exts = []
    for pyx in sorted(glob.glob("wsfast/_*_c.pyx")):
        name = os.path.splitext(os.path.basename(pyx))[0]
        libraries = []
        if name in ZLIB_MODULES:
            if msvc:
                # No system zlib to link against on Windows: the compiled decoder
                # inflates through the shared pure engine there.
                continue
            libraries = ["z"]
        exts.append(
            Extension(
                name="wsfast." + name,
                sources=[pyx],
                include_dirs=["wsfast/_csrc"],
                depends=glob.glob("wsfast/_csrc/*.h"),
                extra_compile_args=cflags,
                extra_link_args=ldflags,
                define_macros=macros,
                libraries=libraries,
            )
        )
    directives = {
        "language_level": 3,
        "boundscheck": False,
        "wraparound": False,
        "cdivision": True,
        "embedsignature": True,
        "freethreading_compatible": True,
        "linetrace": TRACE,
    }
    return cythonize(exts, compiler_directives=directives, quiet=True)


setup(ext_modules=extensions(), cmdclass=cmdclass, distclass=WsfastDistribution)
