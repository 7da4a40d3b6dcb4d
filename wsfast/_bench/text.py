"""UTF-8 to ``str``: wsfast's decoders against CPython's ``bytes.decode``.

The same four kinds of text as the ``utf8`` topic (:data:`wsfast._bench.utf8.KINDS_OF_TEXT`:
ASCII, Latin (mostly ASCII), CJK, emoji).  Row groups:

``decode <kind>``, 16 B to 16 MiB (16 B, 64 B, 125 B, 4 KiB and 64 KiB with ``--quick``)
    one ``bytes`` text to a ``str``: wsfast ``decode_utf8`` (compiled, at the SIMD
    level in use; pure) against ``bytes.decode("utf-8")``, which every stack calls
    today.  From 4 KiB on, extra rows (kind ``wsfast-kernel``, shown with
    ``--kernels``) time the compiled twin at every other SIMD level this CPU
    supports: ``decode_utf8`` itself, the module put at that level (test hook
    ``_set_level``) around each timed sample.
``message <kind>, 1 TEXT frame in 64 KiB feeds``, 16 MiB (1 MiB with ``--quick``)
    one masked TEXT frame carrying the text, as a client sends it, fed in 64 KiB
    ``bytes`` chunks to a fresh ``MessageDecoder`` (server side) that yields the
    one message: with ``str`` data (the default, ``decode_text=True``; compiled and
    pure twins) and with ``bytes`` data (``decode_text=False``: unmasked and
    validated, not decoded; compiled twin).  The reference, ``bytes.decode`` of the
    payload alone, is what any stack pays on top of its framing to hand the
    message over as ``str``: above 1x, wsfast delivers the whole message faster
    than CPython only decodes it.

GB/s counts payload (text) bytes.  Every implementation is run once before it is
timed and must return the text (``str``, or the payload ``bytes`` for
``decode_text=False``).  :func:`discover`, :func:`message_wire` and the sizes are
shared with the pytest-benchmark suite in ``bench/``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import Case, Context, Group, at_level
from .frames import CHUNK, LIMIT, chunked, client_frame
from .utf8 import KINDS_OF_TEXT, text

__all__ = [
    "MESSAGE_SIZE",
    "QUICK_MESSAGE_SIZE",
    "QUICK_SIZES",
    "SIZES",
    "TITLE",
    "Discovery",
    "Impl",
    "Prepared",
    "discover",
    "groups",
    "message_group",
    "message_wire",
]

TITLE = "UTF-8 to str: decode_utf8 and text messages"

#: No library beyond CPython itself: every stack decodes text with ``bytes.decode``.
PEERS: tuple[str, ...] = ()

#: Text sizes of the ``decode`` groups, in a full run and with ``--quick``.
SIZES = (16, 64, 125, 1024, 4096, 64 * 1024, 1 << 20, 16 << 20)
QUICK_SIZES = (16, 64, 125, 4096, 64 * 1024)

#: Payload size of the ``message`` groups, in a full run and with ``--quick``.
MESSAGE_SIZE = 16 << 20
QUICK_MESSAGE_SIZE = 1 << 20

#: The first size with kernel rows (as in the ``utf8`` topic).
KERNEL_ROWS_FROM = 4096

#: Seed of the masking key of the message rows.
SEED = 3629

TEXT = 1


def message_group(kind: str) -> str:
    """The name of the message group of ``kind``."""
    return f"message {kind}, 1 TEXT frame in {CHUNK // 1024} KiB feeds"


def message_wire(payload: bytes) -> list[bytes]:
    """``payload`` as one masked TEXT frame (built without wsfast), in 64 KiB chunks."""
    key = random.Random(SEED + len(payload)).randbytes(4)
    return chunked(client_frame(TEXT, payload, key), CHUNK)


class Prepared(NamedTuple):
    """A ready call: ``func(*args)`` returns the decoded text (``str``, or the
    payload ``bytes`` for a row that keeps it as ``bytes``); ``around``, if any,
    is entered around it (see ``Case.around``)."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    around: Callable[[], contextlib.AbstractContextManager[Any]] | None = None


@dataclass(frozen=True)
class Impl:
    """One implementation: a short ``id`` (``"wsfast-c"``), the report label, its
    kind (see ``wsfast._bench.KINDS``), how to prepare a call on a payload, and
    whether its result is the payload as ``bytes`` rather than a ``str``."""

    id: str
    label: str
    kind: str
    prepare: Callable[[bytes], Prepared]
    keeps_bytes: bool = False

    def check(self, payload: bytes) -> Prepared:
        """Prepare a call and run it once; ``AssertionError`` naming the
        implementation unless it returns the text."""
        prepared = self.prepare(payload)
        with prepared.around() if prepared.around else contextlib.nullcontext():
            got = prepared.func(*prepared.args)
        expected: str | bytes = payload if self.keeps_bytes else payload.decode("utf-8")
        if type(got) is not type(expected) or got != expected:
            raise AssertionError(f"{self.label} does not return the text of {len(payload)} "
                                 f"bytes ({type(got).__name__} instead of "
                                 f"{type(expected).__name__} or a different value)")
        return prepared


@dataclass
class Discovery:
    """What is available: implementations per row group."""

    decode: list[Impl]
    levels: list[Impl]  # the compiled twin at the other SIMD levels (test hook)
    message: list[Impl]


def _call(func: Callable[..., Any], *extra: Any) -> Callable[[bytes], Prepared]:
    """prepare() for a one-shot call: func(payload, *extra)."""

    def prepare(payload: bytes) -> Prepared:
        return Prepared(func, (payload, *extra))

    return prepare


def _receive(new_decoder: Callable[[], Any], chunks: list[bytes]) -> Any:
    """Feed ``chunks`` to a fresh decoder; the data of its one message."""
    decoder = new_decoder()
    feed = decoder.feed
    messages: list[Any] = []
    for chunk in chunks:
        messages += feed(chunk)
    if len(messages) != 1:
        raise AssertionError(f"{len(messages)} messages instead of 1")
    return messages[0].data


def _messages(cls: Callable[..., Any], decode_text: bool) -> Callable[[bytes], Prepared]:
    """prepare() for a MessageDecoder class: the payload's wire, fed per call."""
    new_decoder = functools.partial(cls, max_message_size=LIMIT, decode_text=decode_text)

    def prepare(payload: bytes) -> Prepared:
        return Prepared(_receive, (new_decoder, message_wire(payload)))

    return prepare


def discover(twins: dict[str, dict[str, Any] | None]) -> Discovery:
    """The decoders available here, for ``twins`` (see ``wsfast._bench.load_twins``)."""
    found = Discovery([], [], [])
    c = twins.get("c") or {}
    py = twins["py"]
    assert py is not None
    simd = c.get("SIMD")
    compiled = f"compiled ({simd})" if simd else "compiled"
    if c.get("decode_utf8") is not None:
        found.decode.append(Impl("wsfast-c", f"wsfast decode_utf8, {compiled}", "wsfast-c",
                                 _call(c["decode_utf8"])))
        try:
            module = importlib.import_module("wsfast._utf8_c")
            levels = module._supported_levels()
        except (ImportError, AttributeError):
            levels = []
        for level in levels:
            if level == simd:
                continue

            around = functools.partial(at_level, module, level)

            def prepare(payload: bytes, around: Any = around) -> Prepared:
                return Prepared(module.decode_utf8, (payload,), around)

            found.levels.append(Impl(f"wsfast-c-{level}",
                                     f"wsfast decode_utf8, kernels at WSFAST_SIMD={level}",
                                     "wsfast-kernel", prepare))
    found.decode.append(Impl("wsfast-py", "wsfast decode_utf8, pure", "wsfast-py",
                             _call(py["decode_utf8"])))
    found.decode.append(Impl("bytes-decode", "bytes.decode('utf-8')", "lib-c",
                             _call(bytes.decode, "utf-8")))

    if c.get("MessageDecoder") is not None:
        found.message.append(Impl("wsfast-c", f"wsfast MessageDecoder.feed -> str, {compiled}",
                                  "wsfast-c", _messages(c["MessageDecoder"], True)))
    found.message.append(Impl("wsfast-py", "wsfast MessageDecoder.feed -> str, pure",
                              "wsfast-py", _messages(py["MessageDecoder"], True)))
    if c.get("MessageDecoder") is not None:
        found.message.append(Impl("wsfast-c-bytes",
                                  "wsfast MessageDecoder.feed -> bytes (decode_text=False), "
                                  f"{compiled}",
                                  "wsfast-c", _messages(c["MessageDecoder"], False), True))
    found.message.append(Impl("bytes-decode", "bytes.decode('utf-8') of the payload alone",
                              "lib-c", _call(bytes.decode, "utf-8")))
    return found


def _sizes(ctx: Context) -> tuple[tuple[int, ...], int]:
    if ctx.quick:
        return QUICK_SIZES, QUICK_MESSAGE_SIZE
    return SIZES, MESSAGE_SIZE


def count(ctx: Context) -> int:
    """How many groups :func:`groups` yields (for the progress line's ETA)."""
    sizes, _ = _sizes(ctx)
    return len(KINDS_OF_TEXT) * (len(sizes) + 1)


def groups(ctx: Context) -> Iterator[Group]:
    """Per kind of text: the ``decode`` groups at every size, then the ``message`` group."""
    found = discover(ctx.twins)
    sizes, message_size = _sizes(ctx)
    for kind in KINDS_OF_TEXT:
        for size in sizes:
            payload = text(kind, size)
            impls = found.decode + (found.levels if size >= KERNEL_ROWS_FROM else [])
            cases = []
            for impl in impls:
                prepared = impl.check(payload)
                cases.append(Case(impl.label, prepared.func, prepared.args, size, impl.kind,
                                  around=prepared.around))
            yield Group("text", f"decode {kind}", size, cases)
        payload = text(kind, message_size)
        cases = []
        for impl in found.message:
            prepared = impl.check(payload)
            cases.append(Case(impl.label, prepared.func, prepared.args, message_size,
                              impl.kind))
        yield Group("text", message_group(kind), message_size, cases)
