"""Pure-Python twin of masking (RFC 6455 section 5.3).

    "Octet i of the transformed data ("transformed-octet-i") is the XOR of
     octet i of the original data ("original-octet-i") with octet at index
     i modulo 4 of the masking key ("masking-key-octet-j")"

Two pure-Python tricks, each used where it is the faster one (measured with
``python -m wsfast bench``): four ``translate`` calls on a bytearray, one per
key phase, with 256-byte XOR tables, for in-place masking and for new bytes
from 1 KiB up; below that, for new bytes, one big-integer XOR of the payload.
"""

from __future__ import annotations

import threading
from operator import index
from typing import TYPE_CHECKING, Any

from ._buffers import byte_view, key_bytes, writable_byte_view
from .errors import in_use_error

if TYPE_CHECKING:
    from ._buffers import Buffer

__all__ = ["mask", "mask_inplace", "Masker"]

#: At and above this size the translate-table kernel beats the integer XOR
#: for a new ``bytes`` result (``mask``, ``Masker.process``).
_TRANSLATE_FROM = 768


def _build_tables() -> tuple[bytes, ...]:
    """_XOR_TABLES[k] maps every byte b to b ^ k: 256 tables of 256 bytes, one
    integer XOR each (about 0.15 ms at import, 74 KB)."""
    identity = int.from_bytes(bytes(range(256)), "little")
    return tuple(
        (identity ^ int.from_bytes(bytes((k,)) * 256, "little")).to_bytes(256, "little")
        for k in range(256)
    )


#: Indexed by key byte: no lookup-or-build call per translate.
_XOR_TABLES = _build_tables()


def _rotate(key: bytes, phase: int) -> bytes:
    """The key as seen from byte ``phase`` of the payload."""
    phase &= 3
    return key[phase:] + key[:phase] if phase else key


def _xor_bytearray(buf: bytearray, key: bytes, start: int = 0) -> None:
    """XOR ``buf[start:]`` in place: one ``translate`` per key phase.

    Strided slices of a bytearray are copied by ``memcpy``-like loops in C,
    so this runs at memory speed for pure Python; a strided memoryview slice
    would go element by element (about 5x slower)."""
    t = _XOR_TABLES
    if len(buf) - start < 4:
        # No empty slice is assigned: that would count as a resize, which a
        # pinned bytearray refuses.
        for i in range(start, len(buf)):
            buf[i] ^= key[i - start]
        return
    k0, k1, k2, k3 = key
    buf[start::4] = buf[start::4].translate(t[k0])
    buf[start + 1 :: 4] = buf[start + 1 :: 4].translate(t[k1])
    buf[start + 2 :: 4] = buf[start + 2 :: 4].translate(t[k2])
    buf[start + 3 :: 4] = buf[start + 3 :: 4].translate(t[k3])


def _masked(data: bytes | bytearray | memoryview, key: bytes) -> bytes:
    """``data`` (bytes or a byte view) XOR the repeated ``key``, as new bytes."""
    n = len(data)
    if n < _TRANSLATE_FROM:
        pattern = (key * ((n >> 2) + 1))[:n]
        value = int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")
        return value.to_bytes(n, "little")
    out = bytearray(data)
    _xor_bytearray(out, key)
    return bytes(out)


def _mask_tail(buf: bytearray, start: int, key: bytes) -> None:
    """XOR ``buf[start:]`` in place with the repeated ``key``."""
    _xor_bytearray(buf, key, start)


def mask(data: Buffer, key: Buffer) -> bytes:
    """Return ``data`` XOR the 4-byte ``key`` repeated, as new ``bytes``."""
    if type(data) is not bytes:
        data = byte_view(data)
    return _masked(data, key_bytes(key))


def _phase(offset: Any) -> int:
    value: int = index(offset)
    if value < 0:
        raise ValueError(f"offset must be >= 0, got {value}")
    return value & 3


def _mask_writable(buf: Buffer, key: bytes) -> None:
    """XOR a writable buffer in place (``key`` already rotated to its phase)."""
    if type(buf) is bytearray:
        if buf:
            # Pinned while it is masked, as the compiled twin's buffer export
            # pins it: another thread's resize fails in that thread (with
            # BufferError), never halfway through this one.
            with memoryview(buf):
                _xor_bytearray(buf, key)
        return
    view = writable_byte_view(buf)
    if len(view):
        # Through a bytearray copy: strided slices of it are fast (see above).
        work = bytearray(view)
        _xor_bytearray(work, key)
        view[:] = work


def mask_inplace(buf: Buffer, key: Buffer, offset: int = 0) -> None:
    """XOR ``buf`` in place with ``key``, starting at key phase ``offset % 4``."""
    if type(buf) is not bytearray:
        writable_byte_view(buf)  # the buffer's errors come before the key's
    if type(key) is not bytes or len(key) != 4:
        key = key_bytes(key)
    if type(offset) is not int or offset:
        key = _rotate(key, _phase(offset))
    _mask_writable(buf, key)


class Masker:
    """Masks a payload that arrives in pieces, keeping the key phase between them."""

    __slots__ = ("_key", "_offset", "_lock")

    def __init__(self, key: Buffer) -> None:
        self._key = key_bytes(key)
        self._offset = 0
        self._lock = threading.Lock()

    @property
    def offset(self) -> int:
        """Bytes processed since creation or the last :meth:`reset`."""
        return self._offset

    # One call at a time: a call that overlaps another on the same Masker
    # (another thread, a re-entrant callback) raises RuntimeError, so the key
    # phase of a piece is never ambiguous.

    def process(self, data: Buffer) -> bytes:
        """Return the next piece of the payload, masked, as new ``bytes``."""
        lock = self._lock
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            if type(data) is not bytes:
                data = byte_view(data)
            out = _masked(data, _rotate(self._key, self._offset))
            self._offset += len(data)
            return out
        finally:
            lock.release()

    def process_inplace(self, buf: Buffer) -> None:
        """Mask the next piece of the payload in place."""
        lock = self._lock
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            n = len(buf) if type(buf) is bytearray else len(writable_byte_view(buf))
            _mask_writable(buf, _rotate(self._key, self._offset))
            self._offset += n
        finally:
            lock.release()

    def reset(self) -> None:
        """Start a new payload: the next byte is masked with key byte 0."""
        if not self._lock.acquire(False):
            raise in_use_error(self)
        self._offset = 0
        self._lock.release()

    def __repr__(self) -> str:
        return f"Masker(key={self._key!r}, offset={self._offset})"


# --- Key-first entry point (for a stack whose mask function takes the key first) ---


def _mask_key_first(key: Buffer, data: Buffer) -> bytes:
    """``mask(data, key)`` with the key first, for stacks that mask in that order.
    Not in ``__all__``: an integration (``wsfast/integrations/``) installs it."""
    key = key_bytes(key)
    if type(data) is not bytes:
        data = byte_view(data)
    return _masked(data, key)
