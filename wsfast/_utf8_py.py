"""Pure-Python twin of UTF-8 validation (RFC 3629, as strict as bytes.decode)."""

from __future__ import annotations

import codecs
from typing import Any

from ._buffers import byte_view

__all__ = ["validate_utf8", "Utf8Validator"]

_IncrementalDecoder = codecs.getincrementaldecoder("utf-8")


def validate_utf8(data: Any) -> bool:
    """True exactly when ``bytes(data).decode("utf-8")`` would succeed."""
    if type(data) is not bytes:
        data = byte_view(data)
    try:
        str(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Utf8Validator:
    """Incremental, fail-fast validator for text arriving in fragments."""

    __slots__ = ("_decoder", "_failed")

    def __init__(self) -> None:
        self._decoder = _IncrementalDecoder()
        self._failed = False

    def feed(self, data: Any, final: bool = False) -> bool:
        """False as soon as the bytes so far cannot start valid UTF-8 (sticky)."""
        if type(data) is not bytes:
            data = byte_view(data)
        if self._failed:
            return False
        try:
            self._decoder.decode(data, bool(final))
        except UnicodeDecodeError:
            self._failed = True
            return False
        # CPython's decoder waits for the third byte before rejecting a
        # surrogate (ED A0..BF): a valid prefix must rule it out now.
        pending = self._decoder.getstate()[0]
        if len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0:
            self._failed = True
            return False
        return True

    @property
    def complete(self) -> bool:
        """The bytes so far are valid and end on a code-point boundary."""
        return not self._failed and not self._decoder.getstate()[0]

    def reset(self) -> None:
        """Forget everything fed so far."""
        self._decoder.reset()
        self._failed = False
