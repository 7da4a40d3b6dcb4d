"""Pure-Python twin of masking (RFC 6455 section 5.3).

    "Octet i of the transformed data ("transformed-octet-i") is the XOR of
     octet i of the original data ("original-octet-i") with octet at index
     i modulo 4 of the masking key ("masking-key-octet-j")"

Two pure-Python tricks, each the faster one in its size range (measured with
``python -m wsfast bench``): below a few KiB one big-integer XOR of the whole
payload; above it four ``bytes.translate`` calls, one per key phase, with
256-byte XOR tables.
"""

from __future__ import annotations

from typing import Any

from ._buffers import byte_view, key_bytes, writable_byte_view

__all__ = ["mask", "mask_inplace", "Masker"]

#: At and above this size the translate-table kernel beats the integer XOR.
_TRANSLATE_FROM = 8192

#: _XOR_TABLES[k] maps every byte b to b ^ k (built lazily, 256 bytes each).
_XOR_TABLES: dict[int, bytes] = {}


def _xor_table(k: int) -> bytes:
    table = _XOR_TABLES.get(k)
    if table is None:
        table = _XOR_TABLES[k] = bytes(b ^ k for b in range(256))
    return table


def _rotate(key: bytes, phase: int) -> bytes:
    """The key as seen from byte ``phase`` of the payload."""
    phase &= 3
    return key[phase:] + key[:phase] if phase else key


def _masked(data: Any, key: bytes) -> bytes:
    """``data`` (bytes or a byte view) XOR the repeated ``key``, as new bytes."""
    n = len(data)
    if n < _TRANSLATE_FROM:
        pattern = (key * ((n >> 2) + 1))[:n]
        value = int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")
        return value.to_bytes(n, "little")
    out = bytearray(data)
    # Read the strided slices from the bytearray copy: slicing a memoryview
    # with a step and copying it to bytes goes element by element (~5x slower).
    _translate_into(out, out, key)
    return bytes(out)


def _translate_into(out: Any, data: Any, key: bytes) -> None:
    """Write ``data ^ key`` into the same-sized writable byte buffer ``out``."""
    for j in range(4):
        out[j::4] = bytes(data[j::4]).translate(_xor_table(key[j]))


def _mask_tail(buf: bytearray, start: int, key: bytes) -> None:
    """XOR ``buf[start:]`` in place with the repeated ``key``."""
    n = len(buf) - start
    if n < _TRANSLATE_FROM:
        buf[start:] = _masked(buf[start:], key)
        return
    for j in range(4):
        buf[start + j :: 4] = buf[start + j :: 4].translate(_xor_table(key[j]))


def mask(data: Any, key: Any) -> bytes:
    """Return ``data`` XOR the 4-byte ``key`` repeated, as new ``bytes``."""
    if type(data) is not bytes:
        data = byte_view(data)
    return _masked(data, key_bytes(key))


def _phase(offset: Any) -> int:
    from operator import index

    value: int = index(offset)
    if value < 0:
        raise ValueError(f"offset must be >= 0, got {value}")
    return value & 3


def _mask_view(view: memoryview, key: bytes) -> None:
    if len(view) < _TRANSLATE_FROM:
        view[:] = _masked(view, key)
    else:
        _translate_into(view, view, key)


def mask_inplace(buf: Any, key: Any, offset: int = 0) -> None:
    """XOR ``buf`` in place with ``key``, starting at key phase ``offset % 4``."""
    view = writable_byte_view(buf)
    key = key_bytes(key)
    phase = _phase(offset)
    if len(view):
        _mask_view(view, _rotate(key, phase))


class Masker:
    """Masks a payload that arrives in pieces, keeping the key phase between them."""

    __slots__ = ("_key", "_offset")

    def __init__(self, key: Any) -> None:
        self._key = key_bytes(key)
        self._offset = 0

    @property
    def offset(self) -> int:
        """Bytes processed since creation or the last :meth:`reset`."""
        return self._offset

    def process(self, data: Any) -> bytes:
        """Return the next piece of the payload, masked, as new ``bytes``."""
        if type(data) is not bytes:
            data = byte_view(data)
        out = _masked(data, _rotate(self._key, self._offset))
        self._offset += len(data)
        return out

    def process_inplace(self, buf: Any) -> None:
        """Mask the next piece of the payload in place."""
        view = writable_byte_view(buf)
        if len(view):
            _mask_view(view, _rotate(self._key, self._offset))
        self._offset += len(view)

    def reset(self) -> None:
        """Start a new payload: the next byte is masked with key byte 0."""
        self._offset = 0

    def __repr__(self) -> str:
        return f"Masker(key={self._key!r}, offset={self._offset})"
