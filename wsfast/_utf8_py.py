"""Pure-Python twin of UTF-8 validation (RFC 3629; RFC 6455 section 8.1).

    "When an endpoint is to interpret a byte stream as UTF-8 but finds that
     the byte stream is not, in fact, a valid UTF-8 stream, that endpoint
     MUST _Fail the WebSocket Connection_."  (RFC 6455 section 8.1)

Valid means exactly what ``bytes.decode("utf-8")`` accepts (RFC 3629 section 4,
strict): no overlong forms, no surrogates U+D800..U+DFFF, nothing above
U+10FFFF.  The interpreter's own decoder is therefore the check, run through
``codecs.utf_8_decode``, which takes any buffer without copying it and, with
``final=False``, reports how many bytes form complete code points.

The one thing the decoder does not do for us is failing fast: with
``final=False`` CPython keeps ``ED A0`` (the start of a surrogate) pending
instead of rejecting it, although no byte can follow that makes it valid.  So
the bytes left pending at the end of a feed are checked here as a prefix,
against the table of well-formed sequences (RFC 3629 section 4)::

    C2..DF  80..BF
    E0      A0..BF  80..BF
    E1..EC  80..BF  80..BF
    ED      80..9F  80..BF
    EE..EF  80..BF  80..BF
    F0      90..BF  80..BF  80..BF
    F1..F3  80..BF  80..BF  80..BF
    F4      80..8F  80..BF  80..BF
"""

from __future__ import annotations

import threading
from codecs import utf_8_decode
from typing import TYPE_CHECKING

from ._buffers import byte_view
from .errors import in_use_error

if TYPE_CHECKING:
    from ._buffers import Buffer

__all__ = ["validate_utf8", "Utf8Validator", "decode_utf8"]

#: Allowed range of the second byte of a sequence, by lead byte, where it is
#: narrower than 80..BF (RFC 3629 section 4).
_SECOND_BYTE = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}


def _valid_prefix(tail: bytes) -> bool:
    """Whether ``tail`` (what the decoder left pending: the start of a single
    code point, 1 to 3 bytes) can still be completed into a valid sequence."""
    lead = tail[0]
    length = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4
    if not 0xC2 <= lead <= 0xF4 or len(tail) >= length:
        return False
    if len(tail) >= 2:
        low, high = _SECOND_BYTE.get(lead, (0x80, 0xBF))
        if not low <= tail[1] <= high:
            return False
    return len(tail) < 3 or 0x80 <= tail[2] <= 0xBF


def validate_utf8(data: Buffer) -> bool:
    """True exactly when ``bytes(data).decode("utf-8")`` would succeed."""
    # ``kind`` is tested once per call; mypy cannot narrow ``data`` through it,
    # hence the ignores on the bytes/bytearray branches below.
    kind = type(data)
    if kind is bytes or kind is bytearray:
        # isascii: a C loop over machine words, the common case, fast.
        if data.isascii():  # type: ignore[attr-defined]
            return True
    else:
        data = byte_view(data)
    try:
        utf_8_decode(data, "strict", True)
    except UnicodeDecodeError:
        return False
    return True


def decode_utf8(data: Buffer) -> str:
    """``bytes(data).decode("utf-8")``: the same ``str``, or the same
    ``UnicodeDecodeError`` (positions and reason included), without copying
    a buffer that is not ``bytes``."""
    kind = type(data)
    if kind is bytes or kind is bytearray:
        return data.decode("utf-8")  # type: ignore[attr-defined,no-any-return]  # narrowed by kind
    text: str = utf_8_decode(byte_view(data), "strict", True)[0]
    return text


class Utf8Validator:
    """Incremental, fail-fast validator for a text message arriving in fragments.

    The state is the 0..3 bytes of a code point cut by the end of the last
    feed (always a valid prefix), and whether the stream has failed.
    """

    __slots__ = ("_pending", "_failed", "_lock")

    def __init__(self) -> None:
        lock = getattr(self, "_lock", None) or threading.Lock()
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            self._lock = lock
            self._pending = b""
            self._failed = False
        finally:
            lock.release()

    def feed(self, data: Buffer, final: bool = False) -> bool:
        """Add the next bytes; ``False`` as soon as the bytes fed so far cannot
        begin valid UTF-8, and from then on until :meth:`reset`.  With
        ``final=True`` the stream must also end on a code-point boundary; the
        state is kept either way.

        One call at a time: a feed that overlaps another on the same validator
        (another thread, a re-entrant callback) raises ``RuntimeError``."""
        lock = self._lock
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            return self._feed(data, final)
        finally:
            lock.release()

    def _feed(self, data: Buffer, final: bool = False) -> bool:
        """feed() without the guard, for the decoders that own a validator."""
        # From here on ``data`` is bytes, bytearray or a byte memoryview (``kind``
        # says which); mypy cannot narrow through ``kind``, hence the ignores.
        kind = type(data)
        if kind is not bytes and kind is not bytearray:
            data = byte_view(data)
            kind = memoryview
        if self._failed:
            return False
        final = bool(final)
        pending = self._pending
        if pending:
            # Finish the code point cut by the previous feed: it needs at most
            # three more bytes, so only those are copied, never the fragment.
            head = pending + bytes(data[:3])  # type: ignore[index]
            try:
                _, used = utf_8_decode(head, "strict", False)
            except UnicodeDecodeError:
                return self._fail()
            if used == 0:
                # Still cut: then all of ``data`` is in ``head``.
                if final or not _valid_prefix(head):
                    return self._fail()
                self._pending = head
                return True
            data = memoryview(data)[used - len(pending) :]
            kind = memoryview
        elif kind is not memoryview and data.isascii():  # type: ignore[attr-defined]
            return True
        try:
            _, used = utf_8_decode(data, "strict", final)
        except UnicodeDecodeError:
            return self._fail()
        if used == len(data):  # type: ignore[arg-type]
            self._pending = b""
        else:
            tail = bytes(data[used:])  # type: ignore[index]
            if not _valid_prefix(tail):
                return self._fail()
            self._pending = tail
        return True

    def _copy(self) -> Utf8Validator:
        """A validator in the same state (for the encoder's fragmented text)."""
        twin = Utf8Validator()
        twin._pending, twin._failed = self._pending, self._failed
        return twin

    def _fail(self) -> bool:
        self._failed = True
        self._pending = b""
        return False

    @property
    def complete(self) -> bool:
        """The bytes fed so far are valid and end on a code-point boundary."""
        return not self._failed and not self._pending

    def reset(self) -> None:
        """Forget everything fed so far: the next byte starts a new text."""
        if not self._lock.acquire(False):
            raise in_use_error(self)
        self._pending = b""
        self._failed = False
        self._lock.release()
