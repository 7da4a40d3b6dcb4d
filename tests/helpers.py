"""Helpers shared by the test modules (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from typing import Any


def simd_levels() -> list[str]:
    """SIMD levels this CPU supports (empty without the compiled twin)."""
    try:
        from wsfast import _mask_c  # type: ignore[attr-defined]
    except ImportError:
        return []
    return list(_mask_c._supported_levels())


#: Held while a test runs a twin at a level of its choosing: the level is
#: module-wide, and pytest-run-parallel runs a test in several threads at once.
_LEVEL_LOCK = threading.RLock()


_MODULES: tuple[Any, ...] | None = None


def _compiled_modules() -> tuple[Any, ...]:
    """The compiled topic modules, imported once: an import per call would
    look up ``sys.modules`` every time, a dict that free-threaded threads
    then contend for (pytest-run-parallel slowed to a crawl on it)."""
    global _MODULES
    if _MODULES is None:
        from wsfast import _codec

        _MODULES = tuple(importlib.import_module(f"wsfast.{t}_c") for t in _codec.TOPICS)
    return _MODULES


@contextlib.contextmanager
def at_level(level: str | None) -> Iterator[None]:
    """Every compiled module's kernels at SIMD ``level`` (a name from
    ``simd_levels()``) for the block, put back after; ``None``: as they are
    (the pure twin, or the level in use).  Through each module's one test
    hook, ``_set_level``.  Objects made inside (a ``Utf8Validator``, say) keep
    the level for their life."""
    if level is None:
        yield
        return
    modules = _compiled_modules()
    with _LEVEL_LOCK:
        previous = [module._set_level(level) for module in modules]
        try:
            yield
        finally:
            for module, name in zip(modules, previous, strict=True):
                module._set_level(name)


def level_names(twin: object) -> list[str | None]:
    """Every kernel level of the compiled twin; [None] (the default) for the pure one."""
    if twin.name != "c":  # type: ignore[attr-defined]
        return [None]
    levels = simd_levels()
    assert levels, "compiled twin without SIMD levels"
    return list(levels)


class StackPatch:
    """One stack patched through ``wsfast.patch()`` for (part of) a test and
    unpatched after: the integration tests' shared way in and out."""

    def __init__(self, stack: str) -> None:
        self.stack = stack

    def apply(self) -> str:
        """``wsfast.patch(stack)``: its description (or why it declined)."""
        import wsfast

        return wsfast.patch(self.stack)[self.stack]

    def restore(self) -> None:
        import wsfast

        wsfast.unpatch(self.stack)


# ---------------------------------------------------------------------------
# Frames and messages (API.md sections 4-6): feed harness, chunkings, and an
# independent, non-streaming reference decoder written from the contract.
# ---------------------------------------------------------------------------

import random as _random  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from itertools import pairwise  # noqa: E402
from typing import NamedTuple  # noqa: E402


def frame_tuple(frame: Any) -> tuple:
    """A decoded Frame as plain values (comparable across twins)."""
    from vectors import F

    return F(int(frame.opcode), frame.fin, frame.rsv1, frame.rsv2, frame.rsv3, frame.payload)


def message_tuple(message: Any) -> tuple:
    """A decoded Message as plain values (comparable across twins)."""
    from vectors import M

    return M(int(message.opcode), message.data)


class Outcome(NamedTuple):
    """What a decoder made of a stream fed in chunks."""

    items: list  # every returned item, then exc.decoded of the failing feed
    error: type | None  # exact exception class, None when no error
    close_code: int | None
    failed_at: int | None  # bytes fed when the error was raised (end of the failing chunk)
    per_feed: list  # per chunk: list of items, or ("error", type, close_code, decoded)


def feed_chunks(decoder: Any, chunks: Iterable[Any], convert: Callable[[Any], Any]) -> Outcome:
    """Feed ``chunks`` to ``decoder`` until the first error (wsfast errors only)."""
    from wsfast.errors import WebSocketError

    items: list = []
    per_feed: list = []
    fed = 0
    for chunk in chunks:
        fed += len(memoryview(chunk).cast("B"))
        try:
            out = decoder.feed(chunk)
        except WebSocketError as exc:
            assert type(exc.decoded) is list, "exc.decoded must be a list"
            decoded = [convert(x) for x in exc.decoded]
            items.extend(decoded)
            per_feed.append(("error", type(exc), exc.close_code, decoded))
            return Outcome(items, type(exc), exc.close_code, fed, per_feed)
        assert type(out) is list, f"feed must return a list, got {type(out)}"
        got = [convert(x) for x in out]
        items.extend(got)
        per_feed.append(got)
    return Outcome(items, None, None, None, per_feed)


def chunk_whole(data: bytes) -> list[bytes]:
    return [data]


def chunk_bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def chunk_random(data: bytes, seed: Any, max_pieces: int = 12) -> list[bytes]:
    """``data`` cut at random points (empty pieces included), reproducible by ``seed``."""
    rng = _random.Random(str(seed))
    n = len(data)
    cuts = sorted(rng.randint(0, n) for _ in range(rng.randint(1, max_pieces)))
    bounds = [0, *cuts, n]
    return [data[a:b] for a, b in pairwise(bounds)]


def chunk_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    bounds = [0, *sorted(c for c in cuts if 0 <= c <= len(data)), len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


class RefUtf8:
    """Incremental, fail-fast UTF-8 check (RFC 3629 table 3-7), independent of wsfast.

    ``feed`` returns the index (in the chunk) of the first byte that makes the
    stream invalid, or None; ``complete`` is True on a code point boundary.
    """

    def __init__(self) -> None:
        self.need = 0  # continuation bytes still expected
        self.lo, self.hi = 0x80, 0xBF  # range of the next continuation byte
        self.failed = False

    def feed(self, data: bytes) -> int | None:
        if self.failed:
            return 0
        for i, b in enumerate(data):
            if self.need:
                if not self.lo <= b <= self.hi:
                    self.failed = True
                    return i
                self.need -= 1
                self.lo, self.hi = 0x80, 0xBF
                continue
            if b < 0x80:
                continue
            if 0xC2 <= b <= 0xDF:
                self.need = 1
            elif b == 0xE0:
                self.need, self.lo = 2, 0xA0
            elif 0xE1 <= b <= 0xEC or 0xEE <= b <= 0xEF:
                self.need = 2
            elif b == 0xED:
                self.need, self.hi = 2, 0x9F
            elif b == 0xF0:
                self.need, self.lo = 3, 0x90
            elif 0xF1 <= b <= 0xF3:
                self.need = 3
            elif b == 0xF4:
                self.need, self.hi = 3, 0x8F
            else:
                self.failed = True
                return i
        return None

    @property
    def complete(self) -> bool:
        return not self.failed and self.need == 0


REF_VALID_CLOSE_CODES = frozenset([*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)])


class RefResult(NamedTuple):
    items: list
    error: type | None
    # The stream ends where a decoder may or may not already know of a violation
    # (inside an extended length field, or inside a CLOSE payload): any outcome with
    # the same items is acceptable there.
    uncertain: bool


def ref_decode(
    data: bytes,
    kind: str,
    *,
    client: bool = False,
    max_frame_size: int | None = 1 << 20,
    allow_rsv1: bool = False,
    allow_rsv2: bool = False,
    allow_rsv3: bool = False,
    max_message_size: int = 1 << 20,
    decode_text: bool = True,
) -> RefResult:
    """Decode a whole stream the way API.md sections 4-5 describe, in wire order.

    ``kind`` is "frames" (FrameDecoder rules) or "messages" (MessageDecoder
    rules; pass ``max_frame_size=None`` for its default).  Returns the items
    completed before the first violation and the violation's class.
    """
    from vectors import F, M, xor_mask
    from wsfast.errors import InvalidDataError, MessageTooBigError, ProtocolError

    messages = kind == "messages"
    if messages:
        allow_rsv1 = allow_rsv2 = allow_rsv3 = False
    items: list = []
    msg_opcode: int | None = None
    msg_buf = bytearray()
    utf8: RefUtf8 | None = None
    pos, n = 0, len(data)

    def result(error: type | None, uncertain: bool = False) -> RefResult:
        return RefResult(items, error, uncertain)

    while pos < n:
        b1 = data[pos]
        fin, rsv1, rsv2, rsv3 = bool(b1 & 0x80), bool(b1 & 0x40), bool(b1 & 0x20), bool(b1 & 0x10)
        opcode = b1 & 0x0F
        control = opcode >= 8
        # byte 1
        if (rsv1 and not allow_rsv1) or (rsv2 and not allow_rsv2) or (rsv3 and not allow_rsv3):
            return result(ProtocolError)
        if opcode in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
            return result(ProtocolError)
        if control and not fin:
            return result(ProtocolError)
        if messages and not control:
            if opcode == 0 and msg_opcode is None:
                return result(ProtocolError)
            if opcode != 0 and msg_opcode is not None:
                return result(ProtocolError)
        if pos + 1 >= n:
            return result(None)
        # byte 2
        b2 = data[pos + 1]
        masked, len7 = bool(b2 & 0x80), b2 & 0x7F
        if masked == client:
            return result(ProtocolError)
        if control and len7 > 125:
            return result(ProtocolError)
        so_far = len(msg_buf) if (messages and opcode == 0) else 0
        if len7 <= 125:
            length, hlen = len7, 2
        elif len7 == 126:
            if n - pos < 4:
                return result(None, uncertain=n - pos == 3)
            length, hlen = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
            if length < 126:
                return result(ProtocolError)
        else:
            if n - pos >= 3 and data[pos + 2] & 0x80:
                return result(ProtocolError)
            if n - pos < 10:
                return result(None, uncertain=n - pos >= 3)
            length, hlen = int.from_bytes(data[pos + 2 : pos + 10], "big"), 10
            if length < 65536:
                return result(ProtocolError)
        if max_frame_size is not None and length > max_frame_size:
            return result(MessageTooBigError)
        if messages and not control and so_far + length > max_message_size:
            return result(MessageTooBigError)
        if masked:
            if n - pos < hlen + 4:
                return result(None)
            key = bytes(data[pos + hlen : pos + hlen + 4])
            hlen += 4
        start = pos + hlen
        avail = min(length, n - start)
        payload = bytes(data[start : start + avail])
        if masked:
            payload = xor_mask(payload, key)
        is_text = messages and (opcode == 1 or (opcode == 0 and msg_opcode == 1))
        if is_text:
            if utf8 is None:
                utf8 = RefUtf8()
            if utf8.feed(payload) is not None:
                return result(InvalidDataError)
        if avail < length:
            return result(None, uncertain=messages and opcode == 8)
        pos = start + length
        if not messages:
            items.append(F(opcode, fin, rsv1, rsv2, rsv3, payload))
            continue
        if control:
            if opcode == 8:
                if len(payload) == 1:
                    return result(ProtocolError)
                if payload:
                    if int.from_bytes(payload[:2], "big") not in REF_VALID_CLOSE_CODES:
                        return result(ProtocolError)
                    check = RefUtf8()
                    if check.feed(payload[2:]) is not None or not check.complete:
                        return result(InvalidDataError)
                items.append(M(8, payload))
                return result(None)  # closing: every later byte is ignored
            items.append(M(opcode, payload))
            continue
        if opcode != 0:
            msg_opcode = opcode
        msg_buf += payload
        if fin:
            if is_text and not utf8.complete:
                return result(InvalidDataError)
            body = bytes(msg_buf)
            if msg_opcode == 1 and decode_text:
                items.append(M(1, body.decode("utf-8")))
            else:
                items.append(M(msg_opcode, body))
            msg_opcode, msg_buf, utf8 = None, bytearray(), None
    return result(None)


def decoder_for(twin: Any, vector: Any) -> tuple[Any, Callable[[Any], Any]]:
    """A fresh decoder of the vector's kind with its options, and the item converter."""
    if vector.decoder == "frames":
        return twin.FrameDecoder(**vector.options), frame_tuple
    return twin.MessageDecoder(**vector.options), message_tuple


def check_vector(twin: Any, vector: Any, chunks: list, how: str) -> Outcome:
    """Feed ``vector`` in ``chunks``; check items, error, timing and the failed state."""
    where = f"vector {vector.name!r} ({vector.reason}) fed {how}"
    decoder, convert = decoder_for(twin, vector)
    out = feed_chunks(decoder, chunks, convert)
    assert out.items == list(vector.expect), where
    assert out.error is vector.error, f"{where}: expected {vector.error}, got {out.error}"
    if vector.error is None:
        return out
    assert out.close_code == vector.error.close_code, where
    # the failing feed delivered a byte in (clean_until, raise_by]
    failing_chunk = chunks[len(out.per_feed) - 1]
    started_at = out.failed_at - len(failing_chunk)
    assert started_at < vector.raise_by, (
        f"{where}: raised by a feed that started at byte {started_at}, "
        f"but the violation is shown once {vector.raise_by} bytes are present"
    )
    assert out.failed_at > vector.clean_until, (
        f"{where}: raised after only {out.failed_at} bytes; the first "
        f"{vector.clean_until} bytes do not show the violation"
    )
    # after raising, the decoder is failed
    for later in (b"", b"\x81\x00", b"\x82\x80" + bytes(4)):
        try:
            decoder.feed(later)
        except Exception as exc:  # noqa: BLE001 - the class is checked
            assert type(exc) is vector.error, f"{where}: later feed raised {type(exc)}"
            assert exc.close_code == vector.error.close_code, where
            assert exc.decoded == [], f"{where}: later feed has decoded={exc.decoded!r}"
        else:
            raise AssertionError(f"{where}: a feed after the error did not raise")
    return out
