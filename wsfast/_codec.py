"""The one place that chooses between the compiled and the pure-Python twin.

Rules (read once, at import time):
- ``WSFAST_NO_EXTENSIONS`` (non-empty): the pure twin.
- any interpreter but CPython: the pure twin.
- otherwise the compiled twin; if it cannot be imported, the pure twin, unless
  ``WSFAST_REQUIRE_EXTENSION`` (non-empty) asks for a loud ``ImportError``.

Both twins are split by topic into ``_<topic>_c`` / ``_<topic>_py`` modules with
the same public names; a twin is only used whole, never mixed.
"""

from __future__ import annotations

import importlib
import os
import platform
from typing import TYPE_CHECKING, Any

#: Topic modules making up a twin, in import order.
TOPICS = ("_mask", "_utf8", "_frames")

__all__ = ["IMPLEMENTATION", "SIMD", "load_twin"]


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


def _choose() -> tuple[str, dict[str, Any]]:
    if os.environ.get("WSFAST_NO_EXTENSIONS"):
        return "python", load_twin("py")
    if platform.python_implementation() != "CPython":
        return "python", load_twin("py")
    try:
        return "c", load_twin("c")
    except ImportError as exc:
        if os.environ.get("WSFAST_REQUIRE_EXTENSION"):
            raise ImportError(
                "WSFAST_REQUIRE_EXTENSION is set but wsfast's compiled twin cannot be "
                f"imported: {exc}"
            ) from exc
        return "python", load_twin("py")


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
else:
    IMPLEMENTATION, _names = _choose()
    globals().update(_names)
    del _names
