"""The one parser of wsfast's environment switches (API section 1).

A switch is on for ``1``, ``true``, ``yes``, ``on`` (any case, surrounding
blanks ignored) and off when unset, empty, or ``0``, ``false``, ``no``,
``off``.  Any other value is off, with a ``RuntimeWarning`` that names the
variable and the value, so a typo never silently means "on".

``setup.py`` loads this file by path (it cannot import the package being
built), so it imports nothing from wsfast.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

__all__ = ["ON", "OFF", "SIMD_LEVELS", "flag", "simd_cap"]

ON = frozenset({"1", "true", "yes", "on"})
OFF = frozenset({"", "0", "false", "no", "off"})

#: Kernel levels that WSFAST_SIMD may name, lowest first per architecture
#: (``neon`` is ARM64's only vector level; the x86 ones rise from ``sse2``).
SIMD_LEVELS = ("scalar", "sse2", "avx2", "avx512", "neon")


def flag(name: str, environ: Mapping[str, str] | None = None, *, stacklevel: int = 2) -> bool:
    """Whether the switch ``name`` is on; warns for a value that is neither."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ON:
        return True
    if value not in OFF:
        warnings.warn(
            f"{name}={raw!r} is not a switch value (use 1/true/yes/on or "
            f"0/false/no/off); {name} is treated as off",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
    return False


def simd_cap(environ: Mapping[str, str] | None = None) -> str | None:
    """The level named by ``WSFAST_SIMD``, lower-cased; None when unset or empty.

    The value is only normalised here: whether the CPU has that level is the
    compiled twin's to decide (it warns, naming the variable, and says which
    level it uses instead).  A name that is no level at all is returned as it
    is, lower-cased, for the same warning.
    """
    raw = (os.environ if environ is None else environ).get("WSFAST_SIMD", "")
    value = raw.strip().lower()
    return value or None
