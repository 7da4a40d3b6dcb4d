"""Buffer-protocol rules shared by the pure twin's modules.

The compiled twin gets the same behaviour from ``PyObject_GetBuffer`` with
``PyBUF_SIMPLE``: a ``str`` or a non-buffer raises ``TypeError``, a
non-contiguous buffer raises ``BufferError``, and every buffer is seen as raw
bytes (an ``array.array("H")`` of 300 items is 600 bytes).

For type checkers, every buffer parameter is a PEP 688 ``Buffer``
(``collections.abc.Buffer``, from ``typing_extensions`` before Python 3.12).
It is imported only under ``TYPE_CHECKING``: no runtime dependency, and no
public name (users write ``collections.abc.Buffer`` themselves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sys

    if sys.version_info >= (3, 12):
        from collections.abc import Buffer as Buffer
    else:
        from typing_extensions import Buffer as Buffer


def byte_view(data: Buffer) -> memoryview:
    """Return a flat, C-contiguous, unsigned-byte view of ``data``."""
    view = memoryview(data)  # TypeError for str and non-buffers
    if view.format == "B" and view.ndim == 1:
        if not view.c_contiguous:
            raise BufferError("wsfast needs a C-contiguous buffer")
        return view
    if not view.c_contiguous:
        raise BufferError("wsfast needs a C-contiguous buffer")
    return view.cast("B")


def writable_byte_view(data: Buffer) -> memoryview:
    """Like :func:`byte_view`, but a read-only buffer raises ``TypeError``."""
    view = byte_view(data)
    if view.readonly:
        raise TypeError(f"a writable buffer is required, not read-only {type(data).__name__}")
    return view


def key_bytes(key: Buffer) -> bytes:
    """Return a 4-byte mask key as ``bytes``; any other length is a ``ValueError``."""
    raw: bytes = key if type(key) is bytes else byte_view(key).tobytes()
    if len(raw) != 4:
        raise ValueError(f"mask key must be 4 bytes, got {len(raw)}")
    return raw
