"""Build switches -> extensions -> cythonize.

Environment switches (see README):
  WSFAST_NO_EXTENSIONS=1      build no extension: a pure-Python install
  WSFAST_REQUIRE_EXTENSION=1  a failed compile fails the build instead of falling back
  WSFAST_DEBUG=1              keep debug info, no -O3 (for gdb / sanitizers)
  WSFAST_CYTHON_TRACE=1       line tracing for coverage of the compiled twin
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
    macros = [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")] if TRACE else []
    exts = [
        Extension(
            name="wsfast." + os.path.splitext(os.path.basename(pyx))[0],
            sources=[pyx],
            include_dirs=["wsfast/_csrc"],
            depends=glob.glob("wsfast/_csrc/*.h"),
            extra_compile_args=cflags,
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
