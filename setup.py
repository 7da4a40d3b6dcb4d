"""Build switches -> extensions -> cythonize.

Environment switches (see README):
  WSFAST_NO_EXTENSIONS=1      build no extension: a pure-Python install
  WSFAST_REQUIRE_EXTENSION=1  a failed compile fails the build instead of falling back
  WSFAST_DEBUG=1              keep debug info, no -O3 (for gdb / sanitizers)
  WSFAST_CYTHON_TRACE=1       line tracing for coverage of the compiled twin
  WSFAST_SANITIZE=LIST        sanitizer build (gcc/clang): a comma list of address,
                              undefined, thread; -O1 -g, frame pointers kept
                              (scripts/sanitize.sh runs the suite on it)
"""

import glob
import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = bool(os.environ.get("WSFAST_NO_EXTENSIONS"))
REQUIRE_EXTENSION = bool(os.environ.get("WSFAST_REQUIRE_EXTENSION"))
DEBUG = bool(os.environ.get("WSFAST_DEBUG"))
TRACE = bool(os.environ.get("WSFAST_CYTHON_TRACE"))
CPYTHON = platform.python_implementation() == "CPython"

SANITIZERS = ("address", "undefined", "thread")
SANITIZE = [n.strip() for n in os.environ.get("WSFAST_SANITIZE", "").split(",") if n.strip()]
if set(SANITIZE) - set(SANITIZERS) or {"address", "thread"} <= set(SANITIZE):
    # A typo must not quietly give an uninstrumented build; ASan and TSan exclude each other.
    sys.exit(f"WSFAST_SANITIZE={os.environ['WSFAST_SANITIZE']!r}: expected a comma list of "
             f"{', '.join(SANITIZERS)} (address and thread exclude each other)")


class OptionalBuildExt(build_ext):
    """Fall back to the pure twin when a compile fails, unless it is required."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all, missing headers, ...
            self._fallback(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._fallback(exc)

    def _fallback(self, exc):
        if REQUIRE_EXTENSION:
            raise
        sys.stderr.write(
            f"*** wsfast: compiled twin not built ({exc}); installing the pure-Python twin.\n"
        )


def extensions():
    if NO_EXTENSIONS or not CPYTHON:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_EXTENSION:
            raise
        sys.stderr.write("*** wsfast: Cython not available; installing the pure-Python twin.\n")
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
    exts = [
        Extension(
            name="wsfast." + os.path.splitext(os.path.basename(pyx))[0],
            sources=[pyx],
            include_dirs=["wsfast/_csrc"],
            depends=glob.glob("wsfast/_csrc/*.h"),
            extra_compile_args=cflags,
            extra_link_args=ldflags,
            define_macros=macros,
        )
        for pyx in sorted(glob.glob("wsfast/_*_c.pyx"))
    ]
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


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
