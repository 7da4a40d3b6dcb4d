# Shared by every compiled topic module (included, not imported): detects the
# CPU once at import and applies the WSFAST_SIMD cap, so every module uses the
# same kernel level.  The level is fixed after import, so free-threaded builds
# only ever read it.
import os as _os  # also used by the modules that include this file

from wsfast import _env as _wsf_env

from ._kernels cimport wsf_cpu_features, wsf_detect, wsf_level_name, wsf_parse_level, wsf_utf8_init

cdef wsf_cpu_features _cpu = wsf_detect()
# utf8.h's x86 base-level kernel needs SSSE3/SSE4.1 recorded (each module has
# its own copy of the header's state; harmless in a module without UTF-8).
wsf_utf8_init(&_cpu)


cdef int _capped_level() except -1:
    """The level after the WSFAST_SIMD cap (API section 1).

    A name that is no level, a level of another architecture (``neon`` on x86,
    ``sse2`` on ARM64) or one this CPU lacks warns once, naming the variable,
    the value and the level used instead: the CPU's best, as when unset."""
    cdef int cap
    name = _wsf_env.simd_cap()
    if name is None:
        return _cpu.level
    best = wsf_level_name(_cpu.level).decode("ascii")
    has = ", ".join([wsf_level_name(i).decode("ascii") for i in range(_cpu.level + 1)])
    setting = f"WSFAST_SIMD={_wsf_env.raw('WSFAST_SIMD')!r}"
    cap = wsf_parse_level(name.encode("ascii", "replace"))
    if cap < 0:
        problem = f"names no SIMD level ({', '.join(_wsf_env.SIMD_LEVELS)}, any case)"
    elif wsf_level_name(cap).decode("ascii") != name:
        problem = f"{name} is not a level of this CPU's architecture (it has {has})"
    elif cap > _cpu.level:
        problem = f"this CPU lacks {name} (it has {has})"
    else:
        return cap
    _wsf_env.warn(f"{setting}: {problem}; using {best}", once=True)
    return _cpu.level


cdef int _level = _capped_level()
cdef int _level_at_import = _level

#: The kernel set in use (after the WSFAST_SIMD cap).
SIMD = wsf_level_name(_level).decode("ascii")


def _supported_levels():
    """Every level name this CPU supports, lowest first (for tests and benchmarks)."""
    return [wsf_level_name(i).decode("ascii") for i in range(_cpu.level + 1)]


cdef int _level_from_name(name) except -1:
    """A level name from _supported_levels() -> its number (test hooks)."""
    cdef int level = wsf_parse_level(str(name).encode("ascii", "replace"))
    if level < 0 or level > _cpu.level:
        raise ValueError(f"SIMD level {name!r} is not supported on this CPU")
    return level


def _set_level(name):
    """Test hook: run this module's kernels at ``name``, a level from
    _supported_levels() (None: the level chosen at import), so one process
    tests every kernel.  Returns the previous level's name.  Module-wide and
    not for production: a call racing another thread's kernel is harmless
    (every level gives the same results) but makes that call's level moot.
    SIMD keeps the level chosen at import."""
    global _level
    cdef int new = _level_at_import if name is None else _level_from_name(name)
    previous = wsf_level_name(_level).decode("ascii")
    _level = new
    return previous


cdef extern from *:
    """
    #ifdef Py_GIL_DISABLED
    #define WSF_FREE_THREADED 1
    #else
    #define WSF_FREE_THREADED 0
    #endif
    """
    const int WSF_FREE_THREADED

from cpython.pyport cimport PY_SSIZE_T_MAX


cdef inline Py_ssize_t _nogil_from(Py_ssize_t threshold) noexcept:
    """Size from which kernels run detached from the interpreter.

    On free-threaded builds a critical section is suspended while its thread
    is detached, and the streaming objects call kernels inside one, so there
    kernels never detach (there is no GIL for other threads to wait on)."""
    return PY_SSIZE_T_MAX if WSF_FREE_THREADED else threshold
