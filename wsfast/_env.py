"""The one parser of wsfast's environment switches (API section 1).

A switch is on for ``1``, ``true``, ``yes``, ``on`` (any case, surrounding
blanks ignored) and off when unset, empty, or ``0``, ``false``, ``no``,
``off``.  Any other value is off, with a ``RuntimeWarning`` that names the
variable and the value, so a typo never silently means "on".

Warnings from here point at the cause: :func:`warn` attributes them to the
first caller outside wsfast and outside the import machinery (the user's
``import wsfast`` line, ``setup.py``, a ``conftest.py``), not to
``<frozen importlib._bootstrap>``.

``setup.py`` loads this file by path (it cannot import the package being
built), so it imports nothing from wsfast.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Mapping
from types import FrameType

__all__ = ["ON", "OFF", "SIMD_LEVELS", "flag", "raw", "simd_cap", "warn"]

ON = frozenset({"1", "true", "yes", "on"})
OFF = frozenset({"", "0", "false", "no", "off"})

#: Kernel levels that WSFAST_SIMD may name, lowest first per architecture
#: (``neon`` is ARM64's only vector level; the x86 ones rise from ``sse2``).
SIMD_LEVELS = ("scalar", "sse2", "avx2", "avx512", "neon")

#: The folder of the wsfast package: frames in it are never blamed for a warning.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: Files of the import machinery, never blamed either: importlib is partly
#: frozen, partly not (``importlib/__init__.py``), and runpy is a plain file
#: before Python 3.11.
_MACHINERY_DIR = os.path.dirname(os.path.abspath(importlib.__file__ or "")) + os.sep
_RUNPY = os.path.abspath(getattr(sys.modules.get("runpy"), "__file__", None) or "<none>")
#: Messages already given by ``warn(..., once=True)``.
_given: set[str] = set()


def raw(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of the variable ``name`` as set (None when unset)."""
    return (os.environ if environ is None else environ).get(name)


def flag(
    name: str, environ: Mapping[str, str] | None = None, *, stacklevel: int | None = None
) -> bool:
    """Whether the switch ``name`` is on; warns for a value that is neither.

    The warning is attributed to the first caller outside wsfast (see
    :func:`warn`), or ``stacklevel`` frames up from the caller when given.
    """
    value = raw(name, environ)
    if value is None:
        return False
    normal = value.strip().lower()
    if normal in ON:
        return True
    if normal not in OFF:
        message = (
            f"{name}={value!r} is not a switch value (use 1/true/yes/on or "
            f"0/false/no/off); {name} is treated as off"
        )
        if stacklevel is None:
            warn(message)
        else:
            warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)
    return False


def simd_cap(environ: Mapping[str, str] | None = None) -> str | None:
    """The level named by ``WSFAST_SIMD``, lower-cased; None when unset or empty.

    The value is only normalised here: whether the CPU has that level is the
    compiled twin's to decide (it warns, naming the variable, and says which
    level it uses instead).  A name that is no level at all is returned as it
    is, lower-cased, for the same warning.
    """
    value = (raw("WSFAST_SIMD", environ) or "").strip().lower()
    return value or None


def _outside(filename: str) -> bool:
    """Whether a frame of ``filename`` is the user's: not wsfast, not frozen importlib."""
    if filename.startswith("<frozen "):  # importlib._bootstrap, runpy, ...
        return False
    if filename.startswith("<"):  # <string> (python -c), <stdin>: the user's code
        return True
    path = os.path.abspath(filename)
    return not (
        path.startswith(_PACKAGE_DIR + os.sep) or path.startswith(_MACHINERY_DIR) or path == _RUNPY
    )


def _blame() -> FrameType | None:
    """The frame to attribute a warning to.

    The innermost frame outside wsfast and the import machinery; when there is
    none (``python -m wsfast``: only runpy imports the package), the outermost
    wsfast frame, that is the package's own import line.
    """
    frame: FrameType | None = sys._getframe(1)
    fallback: FrameType | None = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if _outside(filename):
            return frame
        if not filename.startswith("<frozen "):
            fallback = frame
        frame = frame.f_back
    return fallback


def warn(message: str, category: type[Warning] = RuntimeWarning, *, once: bool = False) -> None:
    """Warn, attributing the warning to the code that caused it (see ``_blame``).

    ``once``: give this message at most once per process (the compiled topic
    modules share one SIMD check and each would repeat it).
    """
    if once:
        if message in _given:
            return
        _given.add(message)
    frame = _blame()
    if frame is None:
        warnings.warn(message, category, stacklevel=2)
        return
    module_globals = frame.f_globals
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=module_globals.get("__name__"),
        registry=module_globals.setdefault("__warningregistry__", {}),
        # No module_globals: its loader may not serve source (``python -c``
        # has BuiltinImporter, whose get_source raises ImportError).
    )
