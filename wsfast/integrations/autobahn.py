"""autobahn: WebSocket masking and UTF-8 validation go through wsfast.

Supported: autobahn 23.1 up to (not including) 27.0.  Tested with 23.6.2,
24.4.2, 25.12.2 and 26.10.2 (the newest release, whose own test suite CI runs
patched under Twisted and asyncio, with daphne's).  This covers autobahn's
Twisted and asyncio WebSocket servers and clients, and so daphne and Django
Channels, whose WebSocket protocol is autobahn's.

autobahn does the byte work of a connection with two helpers, chosen when
``autobahn.websocket`` is imported: its NVX native code (CFFI, compiled when
autobahn was built) or, with ``AUTOBAHN_USE_NVX=0`` or without NVX, loops in
Python over every byte.  ``autobahn.websocket.protocol`` binds both names at
import (``from autobahn.websocket.xormasker import create_xor_masker``), so
replacing them anywhere else changes nothing for a connection.  Replaced:

``autobahn.websocket.protocol.create_xor_masker``
    the factory of the maskers that unmask every frame received and mask
    every frame sent (``sendFrame``, ``sendMessage``, ``beginMessageFrame``).
    It now returns an adapter over ``wsfast.Masker`` with autobahn's interface:
    ``process(data) -> bytes``, ``pointer()`` (bytes processed) and ``reset()``.
    autobahn's "simple" (under 128 bytes) and "shifted" maskers differ only in
    speed, never in output, so one adapter serves both.
``autobahn.websocket.protocol.Utf8Validator``
    the incremental validator of text messages and close reasons.  The
    adapter over ``wsfast.Utf8Validator`` returns autobahn's quad
    ``(valid, ends_on_codepoint, current_index, total_index)`` with autobahn's
    own indexes, exactly as its pure-Python validator gives them: on failure,
    ``current_index`` is the offset in this chunk of the byte that made the
    sequence invalid and ``total_index`` that offset counted from the start of
    the message; otherwise the length of the chunk and of everything validated.
    (autobahn's NVX validator only gives approximate positions.)  The exact
    position is worked out only after a failure, so valid text pays nothing.
``autobahn.websocket.xormasker.create_xor_masker`` and
``autobahn.websocket.utf8validator.Utf8Validator``
    the same replacements where autobahn defines them, for code that imports
    them from there after the patch.

Frame parsing, events, limits, close codes and close reasons stay autobahn's
own: only the two helpers change.  Differences a caller could observe: a
masking key that is not 4 bytes raises ``AssertionError`` as autobahn's
maskers do, but it is checked even under ``python -O``; and a validator that
has failed answers like autobahn's pure-Python one (NVX's goes on validating).

With only wsfast's pure-Python twin (PyPy, or no compiled wheel) and
autobahn's NVX helpers in use, ``targets()`` declines: NVX then masks large
frames faster.  Against autobahn's pure-Python helpers, the pure twin is used.

``AUTOBAHN_USE_NVX``: whatever it selects, the patch replaces it, so NVX's
native helpers are no longer called for masking or validation and wsfast's
kernels, chosen at run time for the CPU at hand, run instead.  That removes
the crashes from NVX code compiled for a newer CPU than the one it runs on
(``SIGILL`` in ``nvx/_xormasker.py`` or in the NVX UTF-8 validator).  autobahn
itself still loads (but no longer calls) the NVX modules when it probes for
them at import, whatever the variable says.  ``AUTOBAHN_USE_NVX=1`` with no
NVX built makes ``import autobahn.websocket`` fail: ``patch()`` then leaves
autobahn as it is and warns.
"""

from __future__ import annotations

import codecs
from typing import Any

import wsfast

from . import BenchPeer

__all__ = ["STACK", "DISTRIBUTION", "SUPPORTED", "targets", "describe"]

STACK = "autobahn"
DISTRIBUTION = "autobahn"
SUPPORTED = ((23, 1), (27, 0))

#: The codec the adapters run on (a test seam: the tests swap in each twin).
_CODEC: Any = wsfast

_utf8_decode = codecs.utf_8_decode


def make_masker_factory(codec: Any = None) -> Any:
    """autobahn's ``create_xor_masker(mask, length=None)``, on ``codec``'s ``Masker``."""
    Masker = (codec or _CODEC).Masker

    class XorMasker:
        """A masker with autobahn's interface: ``process``, ``pointer``, ``reset``.

        ``process(data)`` returns the next piece of the payload XOR the key
        (phase kept between calls) as ``bytes``; ``pointer()`` is the number of
        bytes processed; ``reset()`` starts the key over.
        """

        # Plain delegating methods: autobahn makes a masker per frame and calls
        # process() about once, so this is cheaper than copying bound methods.
        __slots__ = ("_masker",)

        def __init__(self, mask: Any) -> None:
            try:
                self._masker = Masker(mask)
            except ValueError:
                raise AssertionError("Mask must be exactly 4 bytes") from None

        def process(self, data: Any) -> bytes:
            """The next piece of the payload, masked, as new ``bytes``."""
            return self._masker.process(data)  # type: ignore[no-any-return]

        def pointer(self) -> int:
            """Bytes processed since creation or the last ``reset()``."""
            return self._masker.offset  # type: ignore[no-any-return]

        def reset(self) -> None:
            """Start the key over (the next byte is masked with its first byte)."""
            self._masker.reset()

    def create_xor_masker(mask: Any, length: int | None = None) -> XorMasker:
        """A masker for a payload masked with the 4-byte key ``mask``.

        ``length`` (the payload length) is accepted as autobahn's factory
        accepts it; wsfast picks its kernel per call, so it is not needed.
        """
        return XorMasker(mask)

    return create_xor_masker


def make_validator_class(codec: Any = None) -> type:
    """autobahn's ``Utf8Validator`` class, on ``codec``'s ``Utf8Validator``."""
    Validator = (codec or _CODEC).Utf8Validator

    class Utf8Validator:
        """Incremental UTF-8 validator with autobahn's interface.

        ``validate(ba)`` returns ``(valid, ends_on_codepoint, current_index,
        total_index)`` for the bytes validated so far; ``reset()`` starts a new
        message.  Strict RFC 3629 (no overlongs, no surrogates, nothing above
        U+10FFFF), as autobahn's validators are.
        """

        __slots__ = ("_validator", "_feed", "_index", "_tail", "_failed")

        def __init__(self) -> None:
            validator = Validator()
            self._validator = validator
            self._feed = validator.feed
            #: bytes validated (up to the failure, after one)
            self._index = 0
            #: the bytes of a code point that the last chunk left incomplete
            self._tail = b""
            self._failed = False

        def reset(self) -> None:
            """Start validating a new message."""
            self._validator.reset()
            self._index = 0
            self._tail = b""
            self._failed = False

        def validate(self, ba: Any) -> tuple[bool, bool, int, int]:
            """Validate the next chunk; autobahn's quad (see the class docstring)."""
            n = len(ba)
            if self._feed(ba):
                index = self._index = self._index + n
                if self._validator.complete:
                    if self._tail:
                        self._tail = b""
                    return (True, True, n, index)
                self._keep_tail(ba)
                return (True, False, n, index)
            return self._failure(ba, n)

        def _keep_tail(self, ba: Any) -> None:
            """Remember the incomplete code point the stream now ends with."""
            # At most 3 bytes of it are in, and its first byte is the last
            # byte from 0xC0 up: the bytes fed so far are a valid prefix.
            tail = self._tail + bytes(ba[-3:])
            for i in range(len(tail) - 1, max(len(tail) - 4, -1), -1):
                if tail[i] >= 0xC0:
                    self._tail = tail[i:]
                    return

        def _failure(self, ba: Any, n: int) -> tuple[bool, bool, int, int]:
            """The quad of a failed chunk, with autobahn's indexes."""
            if self._failed:
                # autobahn's validator stays failed: it rejects the first byte
                # of any later chunk, and an empty chunk reads as valid.
                return (n == 0, False, 0, self._index)
            self._failed = True
            data = self._tail + bytes(ba)
            try:
                # final=True: CPython's incremental mode lets an unfinished
                # surrogate (b"\xed\xa0") through at the end of its input.
                # The first error it reports is the one wsfast found: every
                # byte before that one is a valid prefix.
                _utf8_decode(data, "strict", True)
            except UnicodeDecodeError as exc:
                # The first invalid sequence starts at exc.start.  When its
                # first byte can start a code point (0xC2..0xF4), the byte
                # that made it invalid is the one after the valid part,
                # exc.end; otherwise that first byte itself.
                at = exc.end if 0xC2 <= data[exc.start] <= 0xF4 else exc.start
            else:  # pragma: no cover - wsfast and CPython agree on UTF-8
                raise AssertionError("wsfast rejected UTF-8 that CPython accepts")
            current = at - len(self._tail)
            self._tail = b""
            self._index += current
            return (False, False, current, self._index)

    return Utf8Validator


def _decline(reason: str) -> Exception:
    """The registry's ``Declined`` (a plain ``RuntimeError`` before it exists)."""
    try:
        from . import Declined  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return RuntimeError(reason)
    return Declined(reason)  # type: ignore[no-any-return, unused-ignore]


def targets() -> list[tuple[object, str, object]]:
    """Import autobahn; the attributes the patch replaces, with their replacements."""
    import autobahn.websocket

    if (
        _CODEC is wsfast
        and wsfast.IMPLEMENTATION != "c"
        and getattr(autobahn.websocket, "USES_NVX", False)
    ):
        raise _decline(
            "only wsfast's pure-Python twin is available, and autobahn's NVX masker is "
            "faster than it on large frames (bench/stacks_autobahn_wsclient.py)"
        )
    import autobahn.websocket.protocol as protocol
    import autobahn.websocket.utf8validator as utf8validator
    import autobahn.websocket.xormasker as xormasker

    create_xor_masker = make_masker_factory(_CODEC)
    validator_class = make_validator_class(_CODEC)
    return [
        (protocol, "create_xor_masker", create_xor_masker),
        (protocol, "Utf8Validator", validator_class),
        (xormasker, "create_xor_masker", create_xor_masker),
        (utf8validator, "Utf8Validator", validator_class),
    ]


def describe() -> str:
    """One line: what is now accelerated."""
    import importlib.metadata

    import autobahn.websocket
    import autobahn.websocket.xormasker as xormasker

    version = importlib.metadata.version(DISTRIBUTION)
    if getattr(autobahn.websocket, "USES_NVX", False):  # autobahn >= 25
        replaced = "autobahn's NVX helpers"
    elif hasattr(xormasker, "createXorMasker"):  # autobahn <= 24 with wsaccel installed
        replaced = "wsaccel"
    else:
        replaced = "autobahn's pure-Python helpers"
    return (
        f"autobahn {version}: masking and UTF-8 validation of WebSocket frames "
        f"(Twisted and asyncio; daphne, Django Channels) on wsfast "
        f"({wsfast.IMPLEMENTATION} twin), instead of {replaced}"
    )


# -- benchmark peers ---------------------------------------------------------------
#
# What ``python -m wsfast bench`` times wsfast against in autobahn (see
# ``wsfast.integrations.BenchPeer``): its ``Utf8Validator.validate``, built
# once and reused.  autobahn picks its fastest validator at import: its NVX (C,
# SIMD), then wsaccel's, then pure Python (a class of ``autobahn.websocket``);
# the row says which one it is.

BENCH_PEERS: dict[str, tuple[BenchPeer, ...]] = {
    "utf8": (
        BenchPeer("autobahn", "autobahn", "lib-c", ("validate", "feed"), "validator",
                  ("autobahn.websocket.utf8validator.Utf8Validator",), rank=20,
                  py_modules=("autobahn.websocket",)),
    ),
}
