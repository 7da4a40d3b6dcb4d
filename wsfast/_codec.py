"""The one place that chooses between the compiled and the pure-Python twin.

Rules (read once, at import time; switches are parsed by ``wsfast._env``):
- ``WSFAST_NO_EXTENSIONS`` on: the pure twin.
- any interpreter but CPython: the pure twin.
- otherwise the compiled twin; if it cannot be imported, the pure twin, unless
  ``WSFAST_REQUIRE_EXTENSION`` is on: then a loud ``ImportError`` that says
  where wsfast was imported from and why the compiled twin is missing.

The pure twin is chosen for a missing compiled twin with a warning in two
cases a user would not want: wsfast was imported from a source tree (a
checkout, whose compiled modules are only built by ``pip install -e .``) while
another copy with the compiled twin is installed, usually because the current
directory comes first on ``sys.path``; or this copy was installed by a build
whose compile failed (setup.py leaves a note in the package).

Both twins are split by topic into ``_<topic>_c`` / ``_<topic>_py`` modules with
the same public names; a twin is only used whole, never mixed.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import platform
import sys
from typing import TYPE_CHECKING, Any

from . import _env

#: Topic modules making up a twin, in import order.
TOPICS = ("_mask", "_utf8", "_frames")

#: The folder wsfast was imported from.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: Left in the package by setup.py when the compile failed (see setup.py).
BUILD_FAILURE_NOTE = "_build_failure.txt"

__all__ = [
    "BUILD_FAILURE_NOTE",
    "COMPILED_ERROR",
    "IMPLEMENTATION",
    "PACKAGE_DIR",
    "REASON",
    "SIMD",
    "TOPICS",
    "build_failure",
    "diagnose",
    "has_compiled_modules",
    "load_twin",
    "other_copies",
    "source_tree",
]


def load_twin(impl: str) -> dict[str, Any]:
    """Import every topic module of twin ``impl`` ("c" or "py"); their public names.

    Raises ``ImportError`` when a module of the twin is missing.
    """
    if impl not in ("c", "py"):
        raise ValueError(f"unknown twin {impl!r}: expected 'c' or 'py'")
    names: dict[str, Any] = {}
    for topic in TOPICS:
        module = importlib.import_module(f"wsfast.{topic}_{impl}")
        for name in module.__all__:
            names[name] = getattr(module, name)
    names["SIMD"] = getattr(module, "SIMD", None) if impl == "c" else None
    return names


# --- where wsfast comes from --------------------------------------------------------


def source_tree(package_dir: str = PACKAGE_DIR) -> str | None:
    """The checkout a wsfast package folder belongs to, or None for an installed copy.

    A checkout is recognised by ``setup.py`` or ``pyproject.toml`` next to the
    package folder; an installed copy sits in site-packages, which has neither.
    """
    root = os.path.dirname(package_dir)
    for marker in ("setup.py", "pyproject.toml"):
        if os.path.isfile(os.path.join(root, marker)):
            return root
    return None


def has_compiled_modules(package_dir: str) -> bool:
    """Whether a wsfast package folder holds a compiled module file for every topic."""
    names = set(os.listdir(package_dir)) if os.path.isdir(package_dir) else set()
    return all(
        any(f"{topic}_c{suffix}" in names for suffix in importlib.machinery.EXTENSION_SUFFIXES)
        for topic in TOPICS
    )


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def other_copies() -> list[str]:
    """Folders of the other wsfast packages this interpreter could import.

    Looked for on ``sys.path``, in the site-packages folders (even under
    ``python -S``) and through import finders such as an editable install's.
    The folder wsfast was imported from is left out.
    """
    found: list[str] = []

    def add(folder: str) -> None:
        folder = os.path.abspath(folder)
        if (
            os.path.isfile(os.path.join(folder, "__init__.py"))
            and not _same(folder, PACKAGE_DIR)
            and not any(_same(folder, seen) for seen in found)
        ):
            found.append(folder)

    entries = [entry or os.getcwd() for entry in sys.path if isinstance(entry, str)]
    try:
        import site

        entries += [p for p in site.getsitepackages() + [site.getusersitepackages()] if p]
    except (ImportError, AttributeError):  # an embedded or virtualenv-patched site module
        pass
    for entry in entries:
        add(os.path.join(entry, "wsfast"))
    for finder in sys.meta_path:
        if finder is importlib.machinery.PathFinder:
            continue  # sys.path, done above
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec("wsfast", None)
        except Exception:  # a third-party finder: its trouble is not ours to report
            continue
        for location in getattr(spec, "submodule_search_locations", None) or []:
            add(location)
    return found


def build_failure(package_dir: str = PACKAGE_DIR) -> str | None:
    """What setup.py recorded when it installed this copy without its compiled
    twin because the compile failed (None when it did not)."""
    try:
        with open(os.path.join(package_dir, BUILD_FAILURE_NOTE), encoding="utf-8") as f:
            return f.read().strip() or "the compile failed"
    except OSError:
        return None


def diagnose(exc: ImportError) -> tuple[str, str | None]:
    """Why the compiled twin cannot be imported: (the reason, a warning or None).

    The warning is for the two cases a user would not choose: a source tree
    shadowing an installed copy that has the compiled twin, and a build whose
    compile failed.
    """
    reason = f"the compiled twin cannot be imported from {PACKAGE_DIR}: {exc}"
    failure = build_failure()
    if failure is not None:
        return (
            f"{reason} (the compile failed when this copy was built: {failure})",
            f"wsfast's compiled twin was not built when this copy was installed "
            f"({failure}), so the pure-Python twin is active (many times slower). "
            f"Install a C compiler and the Python headers, then reinstall (pip install -v "
            f"shows the build log); set WSFAST_NO_EXTENSIONS=1 to choose the pure twin and "
            f"silence this warning.",
        )
    tree = source_tree()
    if tree is None or has_compiled_modules(PACKAGE_DIR):
        return reason, None
    reason = (
        f"wsfast was imported from {PACKAGE_DIR}, in the source tree {tree}, whose "
        f"compiled modules are missing ({exc})"
    )
    built = [folder for folder in other_copies() if has_compiled_modules(folder)]
    if not built:
        return reason + "; build them in place with: pip install -e .", None
    hint = (
        f"the installed copy in {built[0]} has the compiled twin, but Python found the "
        f"source tree first on sys.path (the current directory or the script's folder "
        f"comes first). Run from outside the checkout, or with python -I (python -I -m "
        f"wsfast ..., python -I -m pytest), or build in place with: pip install -e ."
    )
    return (
        f"{reason}; {hint}",
        f"wsfast was imported from {PACKAGE_DIR}, in the source tree {tree}, whose "
        f"compiled modules are missing, so the pure-Python twin is active; {hint}",
    )


# --- the choice -----------------------------------------------------------------------


def _check_simd_name() -> None:
    """With the pure twin chosen up front the compiled modules, which check
    WSFAST_SIMD, are not imported: a value that names no level still warns."""
    name = _env.simd_cap()
    if name is not None and name not in _env.SIMD_LEVELS:
        _env.warn(
            f"WSFAST_SIMD={_env.raw('WSFAST_SIMD')!r} names no SIMD level "
            f"({', '.join(_env.SIMD_LEVELS)}, any case); the pure-Python twin is "
            "active and uses none"
        )


def _choose() -> tuple[str, str, ImportError | None, dict[str, Any]]:
    """(implementation, why, the compiled twin's ImportError if that is why, names)."""
    if _env.flag("WSFAST_NO_EXTENSIONS"):
        _check_simd_name()
        value = _env.raw("WSFAST_NO_EXTENSIONS")
        return "python", f"WSFAST_NO_EXTENSIONS={value} asks for it", None, load_twin("py")
    interpreter = platform.python_implementation()
    if interpreter != "CPython":
        _check_simd_name()
        why = f"the compiled twin is CPython-only and this is {interpreter}"
        return "python", why, None, load_twin("py")
    try:
        return "c", "the compiled modules import", None, load_twin("c")
    except ImportError as exc:
        reason, warning = diagnose(exc)
        if _env.flag("WSFAST_REQUIRE_EXTENSION"):
            raise ImportError(
                f"WSFAST_REQUIRE_EXTENSION is on but {reason}", name="wsfast"
            ) from exc
        if warning is not None:
            _env.warn(warning)
        return "python", reason, exc, load_twin("py")


if TYPE_CHECKING:
    # Type checkers see the pure twin: the compiled one has the same surface
    # (its .pyi stubs are checked against it with mypy.stubtest).
    from ._frames_py import Frame as Frame
    from ._frames_py import FrameDecoder as FrameDecoder
    from ._frames_py import FrameEncoder as FrameEncoder
    from ._frames_py import Message as Message
    from ._frames_py import MessageDecoder as MessageDecoder
    from ._frames_py import encode_close as encode_close
    from ._frames_py import encode_frame as encode_frame
    from ._frames_py import encode_header as encode_header
    from ._frames_py import parse_close as parse_close
    from ._frames_py import parse_header as parse_header
    from ._mask_py import Masker as Masker
    from ._mask_py import mask as mask
    from ._mask_py import mask_inplace as mask_inplace
    from ._utf8_py import Utf8Validator as Utf8Validator
    from ._utf8_py import decode_utf8 as decode_utf8
    from ._utf8_py import validate_utf8 as validate_utf8

    IMPLEMENTATION: str
    SIMD: str | None
    #: Why IMPLEMENTATION is the active twin, in words (``python -m wsfast info``).
    REASON: str
    #: The compiled twin's ImportError when that is why the pure twin is active.
    COMPILED_ERROR: ImportError | None
else:
    IMPLEMENTATION, REASON, COMPILED_ERROR, _names = _choose()
    globals().update(_names)
    del _names
