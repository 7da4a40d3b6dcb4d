"""aiohttp patched with wsfast behaves exactly as aiohttp does.

Every byte stream below is fed, in the given pieces, to aiohttp's own
``WebSocketReader`` and to wsfast's (on each twin), each over its own aiohttp
``WebSocketDataQueue``; everything observable must be the same after every
piece: what ``feed_data`` returned, the queued messages (their types, data
and the types of their data, the sizes aiohttp counts), the exception the
queue holds (type, close code, text), the queue's byte count and whether the
transport was paused.  Both aiohttp readers are the reference: the compiled
one (``reader_c``, with its queue) and the pure-Python one (``reader_py``),
since wsfast hands a connection over to whichever aiohttp uses.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

import wsfast
from helpers import StackPatch
from wsfast.integrations import aiohttp as integration

aiohttp = pytest.importorskip("aiohttp")
from aiohttp._websocket import reader_py  # noqa: E402
from aiohttp._websocket.models import WSMsgType  # noqa: E402

try:
    from aiohttp._websocket import reader_c
except ImportError:  # pragma: no cover - aiohttp without its extensions
    reader_c = None

KEY = b"\x37\xfa\x21\x3d"

READERS = [pytest.param(reader_py, id="reader_py")]
if reader_c is not None:
    READERS.insert(0, pytest.param(reader_c, id="reader_c"))


# --- patching -----------------------------------------------------------------------


@pytest.fixture
def patch(monkeypatch: pytest.MonkeyPatch) -> Iterator[StackPatch]:
    # aiohttp's compiled reader is replaced unless told not to (see
    # test_compiled_reader_is_replaced_unless_told_not_to); these tests drive both.
    monkeypatch.setattr(integration, "REPLACE_COMPILED_READER", True)
    p = StackPatch(integration.STACK)
    yield p
    p.restore()


def test_compiled_reader_is_replaced_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiohttp.web_ws
    from aiohttp._websocket import reader

    if wsfast.IMPLEMENTATION != "c":
        pytest.skip("the compiled twin's patch() decides this")
    original = vars(reader)["WebSocketReader"]
    if original.__module__.endswith("reader_py"):
        pytest.skip("aiohttp runs its pure-Python reader here (no extensions)")
    assert integration.REPLACE_COMPILED_READER is True  # the default
    try:
        assert not wsfast.patch("aiohttp")["aiohttp"].startswith("not accelerated")
        assert aiohttp.web_ws.WebSocketReader is integration.WebSocketReader
        wsfast.unpatch("aiohttp")
        assert aiohttp.web_ws.WebSocketReader is original
        monkeypatch.setattr(integration, "REPLACE_COMPILED_READER", False)
        with pytest.warns(RuntimeWarning, match="REPLACE_COMPILED_READER"):
            result = wsfast.patch("aiohttp")
        assert result["aiohttp"].startswith("not accelerated: ")
        assert "aiohttp" not in wsfast.patched()
        assert vars(reader)["WebSocketReader"] is original
        assert aiohttp.web_ws.WebSocketReader is original
    finally:
        wsfast.unpatch("aiohttp")
    assert aiohttp.web_ws.WebSocketReader is original


def test_targets_replace_every_binding_and_restore_by_identity(patch: StackPatch) -> None:
    import aiohttp.client
    import aiohttp.http
    import aiohttp.http_websocket
    import aiohttp.web_ws
    from aiohttp._websocket import reader

    bindings = [reader, aiohttp.http_websocket, aiohttp.http, aiohttp.web_ws, aiohttp.client]
    original = vars(reader)["WebSocketReader"]
    assert all(vars(module)["WebSocketReader"] is original for module in bindings)
    if wsfast.IMPLEMENTATION != "c":
        with pytest.warns(RuntimeWarning, match="pure-Python twin"):
            patch.apply()
        assert vars(reader)["WebSocketReader"] is original
        return
    patch.apply()
    for module in bindings:
        assert vars(module)["WebSocketReader"] is integration.WebSocketReader, module
    # aiohttp's own readers, asked for by name, stay aiohttp's.
    assert reader_py.WebSocketReader is not integration.WebSocketReader
    if reader_c is not None:
        assert reader_c.WebSocketReader is not integration.WebSocketReader
    assert integration.describe().startswith(f"aiohttp {aiohttp.__version__}:")
    patch.restore()
    for module in bindings:
        assert vars(module)["WebSocketReader"] is original, module


# --- byte streams -------------------------------------------------------------------------


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
          key: bytes | None = KEY, width: int | None = None) -> bytes:
    """One frame built by hand, valid or not; ``width`` forces the length's
    encoding (7, 16 or 64 bits) even when a shorter one would do."""
    n = len(payload)
    if width is None:
        width = 7 if n < 126 else 16 if n < 65536 else 64
    first = (0x80 if fin else 0) | rsv | opcode
    bit = 0x80 if key is not None else 0
    if width == 7:
        head = bytes((first, bit | n))
    elif width == 16:
        head = bytes((first, bit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, bit | 127)) + n.to_bytes(8, "big")
    if key is None:
        return head + payload
    return head + key + wsfast.mask(payload, key)


def header_only(opcode: int, length: int, *, key: bytes | None = KEY) -> bytes:
    """A 64-bit-length header announcing ``length`` (any 64-bit value)."""
    return bytes((0x80 | opcode, (0x80 if key else 0) | 127)) + length.to_bytes(8, "big") + (
        key or b"")


def deflated(data: bytes, *, keep_tail: bool = False) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out if keep_tail else out[:-4]


def close(code: int, reason: bytes = b"", **kw: Any) -> bytes:
    return frame(0x8, code.to_bytes(2, "big") + reason, **kw)


BYE = close(1000, b"bye")
TEXT = frame(0x1, "héllo".encode())

CASES: list[tuple[str, bytes, dict[str, Any]]] = [
    # name, the bytes the peer sends, reader options
    ("text-binary-close", TEXT + frame(0x2, b"\x00\xff" * 3) + BYE, {}),
    ("text-as-bytes", TEXT + BYE, {"decode_text": False}),
    ("many-small", b"".join(frame(1 + i % 2, b"m%03d" % i) for i in range(80)) + BYE, {}),
    ("many-small-client", b"".join(frame(2, b"c%03d" % i, key=None) for i in range(80)), {}),
    ("16-and-64-bit-lengths", frame(0x2, b"a" * 300) + frame(0x1, b"b" * 70_000) + BYE, {}),
    ("large-messages", frame(0x2, b"\x01" * 300_000) * 3 + BYE, {}),
    ("ping-pong-masked", frame(0x9, b"ping?") + frame(0xA, b"pong!") + BYE, {}),
    ("ping-pong-unmasked", frame(0x9, b"ping?", key=None) + frame(0xA, b"pong!", key=None), {}),
    ("fragmented-with-ping", frame(0x1, b"frag", fin=False) + frame(0x9, b"p")
     + frame(0x0, b"men", fin=False) + frame(0x0, b"ted") + BYE, {}),
    ("fragmented-large", frame(0x2, b"x" * 70_000, fin=False) + frame(0x0, b"y" * 70_000)
     + TEXT, {}),
    ("close-empty", frame(0x8) + TEXT, {}),
    ("close-1006", close(1006), {}),
    ("close-1004", close(1004), {}),
    ("close-2999", close(2999), {}),
    ("close-3000", close(3000, b"app"), {}),
    ("close-5000", close(5000), {}),
    ("close-65535", close(65535), {}),
    ("close-one-byte", frame(0x8, b"\x03"), {}),
    ("close-reason-not-utf8", close(1000, b"\xff\xfe"), {}),
    ("frames-after-close", BYE + TEXT + frame(0x2, b"after"), {}),
    ("close-inside-fragmented", frame(0x1, b"line1", fin=False) + BYE
     + frame(0x0, b"line2"), {}),
    ("unmasked-to-server", TEXT + frame(0x1, b"plain", key=None) + TEXT, {}),
    ("masked-after-unmasked", frame(0x1, b"plain", key=None) + TEXT, {}),
    ("non-minimal-16-bit", TEXT + frame(0x1, b"short", width=16) + TEXT, {}),
    ("non-minimal-64-bit", frame(0x2, b"short", width=64) + TEXT, {}),
    ("length-2-to-the-63", TEXT + header_only(0x2, 1 << 63), {}),
    ("length-2-to-the-64-minus-1", header_only(0x2, (1 << 64) - 1), {"max_msg_size": 0}),
    ("reserved-opcode", TEXT + frame(0x3, b"odd"), {}),
    ("reserved-control-opcode", frame(0xB, b"odd"), {}),
    ("rsv2", TEXT + frame(0x1, b"x", rsv=0x20), {}),
    ("rsv1-without-deflate", frame(0x1, b"x", rsv=0x40), {}),
    ("control-126-bytes", frame(0x9, b"p" * 126), {}),
    ("control-fin-clear", TEXT + frame(0x9, b"p", fin=False), {}),
    ("continuation-without-start", frame(0x0, b"lost"), {}),
    ("text-inside-fragmented", frame(0x1, b"a", fin=False) + frame(0x1, b"b"), {}),
    ("too-big", TEXT + frame(0x2, b"z" * 256), {"max_msg_size": 256}),
    ("one-under-max", frame(0x2, b"z" * 255) + BYE, {"max_msg_size": 256}),
    ("too-big-across-fragments", frame(0x1, b"a" * 100, fin=False)
     + frame(0x0, b"b" * 100, fin=False) + frame(0x0, b"c" * 100), {"max_msg_size": 256}),
    ("too-big-header-only", header_only(0x2, 1 << 20), {"max_msg_size": 256}),
    ("no-limit", frame(0x2, b"q" * 200_000) + BYE, {"max_msg_size": 0}),
    ("text-not-utf8", TEXT + frame(0x1, b"ok\xc3"), {}),
    ("text-not-utf8-as-bytes", frame(0x1, b"ok\xc3") + TEXT, {"decode_text": False}),
    ("text-ends-inside-code-point", frame(0x1, "€".encode()[:2], fin=False)
     + frame(0x0, "€".encode()[2:]) + BYE, {}),
    ("deflated", TEXT + frame(0x1, deflated(b"squeeze " * 50), rsv=0x40) + frame(0x2, b"raw"),
     {"compress": True}),
    ("deflated-context-takeover", frame(0x1, deflated(b"abc" * 40), rsv=0x40)
     + frame(0x1, deflated(b"abc" * 40), rsv=0x40), {"compress": True}),
    ("deflated-fragmented-with-ping", frame(0x2, deflated(b"abc" * 100)[:5], rsv=0x40,
                                            fin=False)
     + frame(0x9, b"p") + frame(0x0, deflated(b"abc" * 100)[5:]) + BYE, {"compress": True}),
    ("deflated-rsv1-on-continuation", frame(0x2, b"x", fin=False, rsv=0x40)
     + frame(0x0, b"y", rsv=0x40), {"compress": True}),
    ("rsv1-on-ping-with-deflate", frame(0x9, b"p", rsv=0x40) + TEXT, {"compress": True}),
    ("rsv1-on-ping-without-deflate", frame(0x9, b"p", rsv=0x40) + TEXT, {}),
    ("deflated-too-big", frame(0x2, deflated(b"\x00" * 5000), rsv=0x40),
     {"compress": True, "max_msg_size": 1000}),
    ("deflated-corrupt", frame(0x2, b"\xff\xff\xff\xff", rsv=0x40), {"compress": True}),
    ("uncompressed-under-deflate", TEXT + frame(0x2, b"plain") + BYE, {"compress": True}),
]


def splits(wire: bytes) -> Iterator[list[bytes]]:
    """``wire`` whole, one byte at a time and at every point once (short
    streams), and cut at random points (fixed seeds)."""
    yield [wire]
    if len(wire) <= 48:
        yield [wire[i : i + 1] for i in range(len(wire))]
        for cut in range(1, len(wire)):
            yield [wire[:cut], wire[cut:]]
    for seed in range(3):
        rng = random.Random(seed)
        count = min(len(wire) - 1, 8)
        cuts = sorted(rng.sample(range(1, len(wire)), count)) if count > 0 else []
        bounds = [0, *cuts, len(wire)]
        yield [wire[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


class Protocol:
    """What the data queue needs of a protocol: pause and resume, recorded."""

    def __init__(self) -> None:
        self._reading_paused = False

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False


def described(exc: BaseException | None) -> Any:
    if exc is None:
        return None
    return (type(exc).__name__, getattr(exc, "code", None), str(exc))


def snapshot(queue: Any, protocol: Protocol) -> dict[str, Any]:
    return {
        "queued": [(tuple(msg), type(msg).__name__, type(msg.data).__name__, size)
                   for msg, size in queue._buffer],
        "size": queue._size,
        "exception": described(queue.exception()),
        "paused": protocol._reading_paused,
    }


def observe(reader_module: Any, make: Any, pieces: list[bytes], *, max_msg_size: int = 1 << 20,
            compress: bool = False, decode_text: bool = True, limit: int = 1 << 16,
            raising: bool = False) -> list[Any]:
    """Feed ``pieces`` to the reader ``make`` builds over ``reader_module``'s
    queue; what was observable after each piece and after EOF."""

    async def run() -> list[Any]:
        protocol = Protocol()
        queue = reader_module.WebSocketDataQueue(protocol, limit, loop=asyncio.get_running_loop())
        reader = make(queue, max_msg_size, compress=compress, decode_text=decode_text)
        seen: list[Any] = []
        for piece in pieces:
            if raising:
                try:
                    reader._feed_data(piece)
                    result: Any = "ok"
                except Exception as exc:
                    result = described(exc)
            else:
                result = reader.feed_data(piece)
            seen.append((result, snapshot(queue, protocol)))
        reader.feed_eof()
        messages: list[Any] = []
        while True:
            try:
                msg = await asyncio.wait_for(queue.read(), 5)
            except Exception as exc:
                messages.append(described(exc))
                break
            # The queue's length and the transport's state after each read
            # show when the reader was re-driven (at half the queue's limit).
            messages.append((tuple(msg), type(msg.data).__name__, len(queue._buffer),
                             protocol._reading_paused))
        seen.append((messages, snapshot(queue, protocol)))
        return seen

    return asyncio.run(run())


@pytest.fixture(params=READERS)
def reference(request: pytest.FixtureRequest, twin: Any,
              monkeypatch: pytest.MonkeyPatch) -> Any:
    """aiohttp's reader module to compare with (and to hand over to); wsfast's
    reader decoding with ``twin``."""
    module = request.param
    integration._bind()
    monkeypatch.setattr(integration, "_ORIGINAL", module.WebSocketReader)
    monkeypatch.setattr(integration, "_AIOHTTP_COMPILED", module is not reader_py)
    monkeypatch.setattr(integration, "_CODEC", twin)
    return module


@pytest.mark.parametrize(("wire", "options"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reader_behaves_as_aiohttp(reference: Any, wire: bytes, options: dict[str, Any]) -> None:
    for pieces in splits(wire):
        expected = observe(reference, reference.WebSocketReader, pieces, **options)
        got = observe(reference, integration.WebSocketReader, pieces, **options)
        assert got == expected, [len(p) for p in pieces]


@pytest.mark.parametrize(("wire", "options"), [c[1:] for c in CASES if len(c[1]) < 2000],
                         ids=[c[0] for c in CASES if len(c[1]) < 2000])
def test_feed_data_internal_raises_as_aiohttp(reference: Any, wire: bytes,
                                              options: dict[str, Any]) -> None:
    """aiohttp's ``_feed_data`` raises instead of recording (its tests use it)."""
    for pieces in splits(wire):
        expected = observe(reference, reference.WebSocketReader, pieces, raising=True, **options)
        got = observe(reference, integration.WebSocketReader, pieces, raising=True, **options)
        assert got == expected, [len(p) for p in pieces]


# --- flow control: the queue's limit, draining, and what waits -----------------------------


def burst(count: int, size: int = 0) -> bytes:
    return frame(0x1, b"e" * size) * count


FLOWS = [
    ("empty-messages-over-the-limit", burst(3000), 1 << 12),
    ("small-messages-drained", burst(2000, 40), 1 << 12),
    ("large-messages-each-over-the-limit", frame(0x2, b"L" * 20_000) * 12, 1 << 12),
    ("burst-then-error", burst(1500) + frame(0x3, b"bad"), 1 << 12),
    ("burst-then-close-then-more", burst(1500) + BYE + TEXT, 1 << 12),
]


@pytest.mark.parametrize(("wire", "limit"), [f[1:] for f in FLOWS], ids=[f[0] for f in FLOWS])
def test_flow_control_as_aiohttp(reference: Any, wire: bytes, limit: int) -> None:
    """Past the queue's limit messages wait; draining the queue delivers them
    all, in order, then the error or EOF, as with aiohttp's reader."""
    for pieces in ([wire], [wire[i : i + 4096] for i in range(0, len(wire), 4096)]):
        expected = observe(reference, reference.WebSocketReader, pieces, limit=limit)
        got = observe(reference, integration.WebSocketReader, pieces, limit=limit)
        # How many messages are queued when the queue passes its limit is
        # aiohttp's rule; both stop right after the one that crosses it.
        assert got == expected, [len(p) for p in pieces]


def test_waiting_messages_pause_the_transport_until_drained(reference: Any) -> None:
    async def run() -> None:
        protocol = Protocol()
        loop = asyncio.get_running_loop()
        queue = reference.WebSocketDataQueue(protocol, 1 << 12, loop=loop)
        reader = integration.WebSocketReader(queue, 1 << 20, compress=False, decode_text=True)
        reader.feed_data(burst(5000))
        assert protocol._reading_paused
        assert 0 < len(queue._buffer) < 5000
        # Over the limit, a new read waits undecoded.
        reader.feed_data(frame(0x2, b"later"))
        got = 0
        while got < 5000:
            msg = await queue.read()
            assert (msg.type, msg.data) == (WSMsgType.TEXT, "")
            got += 1
            if got < 4000:
                assert protocol._reading_paused, got
        msg = await queue.read()
        assert (msg.type, msg.data) == (WSMsgType.BINARY, b"later")
        assert not protocol._reading_paused
        assert queue._size == 0
        assert queue._protocol is protocol

    asyncio.run(run())


# --- what the reader decodes itself, and when it hands over ----------------------------------


def test_decodes_with_wsfast_then_hands_over_at_close(reference: Any, twin: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    real = twin.MessageDecoder

    def counting(**kwargs: Any) -> Any:
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(twin, "MessageDecoder", counting, raising=False)

    async def run() -> Any:
        queue = reference.WebSocketDataQueue(Protocol(), 1 << 16,
                                             loop=asyncio.get_running_loop())
        reader = integration.WebSocketReader(queue, 1000, compress=False, decode_text=True)
        reader.feed_data(frame(0x2, b"x" * 10) * 5)
        assert reader._fallback is None
        reader.feed_data(BYE + TEXT)
        return reader

    reader = asyncio.run(run())
    assert made == [{"client": False, "max_message_size": 999, "decode_text": True}]
    assert type(reader._fallback) is reference.WebSocketReader


def test_messages_of_any_size_stay_on_wsfast(reference: Any) -> None:
    """Small and big messages alike are decoded by wsfast over either of
    aiohttp's queues, and the reader holds only the bytes since the last
    point where no message was open (what a hand-over would replay)."""

    async def run(payload: bytes, count: int) -> Any:
        queue = reference.WebSocketDataQueue(Protocol(), 1 << 30,
                                             loop=asyncio.get_running_loop())
        reader = integration.WebSocketReader(queue, 0, compress=False, decode_text=True)
        for _ in range(count):
            reader.feed_data(frame(0x2, payload))
            assert not reader._held_bytes() and reader._taken == 0
        assert len(queue._buffer) == count
        return reader._fallback

    assert asyncio.run(run(b"s" * 100, 40)) is None
    assert asyncio.run(run(b"B" * 300_000, 4)) is None


def test_reader_holds_bytes_since_idle(reference: Any) -> None:
    """Across reads: a message cut by a read, a fragmented one with a PING in
    it, and whole ones after: the reader holds the bytes from the start of the
    open message and counts the messages completed since then."""
    first, second = frame(0x1, b"ab", fin=False), frame(0x0, b"cd")
    ping = frame(0x9, b"p")
    whole = frame(0x2, b"x" * 200)

    async def run() -> list[tuple[int, int, int]]:
        queue = reference.WebSocketDataQueue(Protocol(), 1 << 30,
                                             loop=asyncio.get_running_loop())
        reader = integration.WebSocketReader(queue, 0, compress=False, decode_text=True)
        seen = []
        for piece in (whole[:50], whole[50:] + first, ping + second[:3], second[3:] + whole):
            reader.feed_data(piece)
            seen.append((len(reader._held_bytes()), reader._taken, len(queue._buffer)))
        return seen

    assert asyncio.run(run()) == [
        (50, 0, 0),
        (len(first), 0, 1),
        (len(first) + len(ping) + 3, 1, 2),
        (0, 0, 4),
    ]


def test_frame_walk_reads_aiohttp_framing() -> None:
    wire = (frame(0x1, b"a", fin=False) + frame(0x9, b"p") + frame(0x0, b"b")
            + frame(0x2, b"c" * 300, key=None, width=64) + b"\x81")
    found = integration._frames(wire)
    assert [(head, length, first) for _pos, head, length, first in found] == [
        (6, 1, 0x01), (6, 1, 0x89), (6, 1, 0x80), (10, 300, 0x82)]
    assert integration._completions(found) == [
        (found[1][0] + 7, 1, [0]), (found[2][0] + 7, 2, []), (len(wire) - 1, 3, [])]
