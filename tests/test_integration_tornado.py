"""tornado patched with wsfast behaves exactly as tornado does.

Two parts:

- the mask function: tornado's own contract (its ``MaskFunctionMixin``
  vectors) for ``_mask_key_first`` on each twin, and every binding replaced;
- the frame reader: every byte stream below is fed to tornado's
  ``WebSocketProtocol13`` twice, as tornado is and patched (on each twin),
  through a scripted stream that delivers it in the given pieces; everything
  observable must be the same: the handler's events, the bytes tornado writes
  back (pongs, close frames), whether and how the connection ended, the close
  code and reason, the byte counters, and any exception that escapes.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import StackPatch
from wsfast.integrations import tornado as integration

tornado = pytest.importorskip("tornado")
import tornado.util  # noqa: E402, F811
import tornado.web  # noqa: E402
import tornado.websocket  # noqa: E402
from tornado.iostream import StreamClosedError  # noqa: E402
from tornado.websocket import WebSocketProtocol13, _WebSocketParams  # noqa: E402

KEY = b"\x37\xfa\x21\x3d"


# --- patching -----------------------------------------------------------------------


@pytest.fixture
def patch(twin: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StackPatch]:
    """The integration on ``twin``; tornado as it is around each test."""
    monkeypatch.setattr(integration, "_CODEC", twin)
    # A client masks what it sends with os.urandom keys: fixed, so both runs
    # write the same bytes.
    monkeypatch.setattr(tornado.websocket.os, "urandom", lambda n: (KEY * n)[:n])
    p = StackPatch(integration.STACK)
    yield p
    p.restore()


def test_targets_cover_every_binding_and_restore_by_identity(patch: StackPatch, twin: Any) -> None:
    owners = {
        "util": tornado.util,
        "websocket": tornado.websocket,
        "web": tornado.web,
    }
    before = {name: vars(module)["_websocket_mask"] for name, module in owners.items()}
    reader = vars(WebSocketProtocol13)["_receive_frame"]
    tornado_c = tornado.util._websocket_mask is not tornado.util._websocket_mask_python
    patch.apply()
    masks_replaced = twin.name == "c" or not tornado_c
    for name, module in owners.items():
        installed = vars(module)["_websocket_mask"]
        if masks_replaced:
            assert installed is twin.modules["_mask"]._mask_key_first, name
        else:
            # The pure twin is slower than tornado's C speedup: left alone.
            assert installed is before[name], name
    assert vars(WebSocketProtocol13)["_receive_frame"] is not reader
    patch.restore()
    for name, module in owners.items():
        assert vars(module)["_websocket_mask"] is before[name], name
    assert vars(WebSocketProtocol13)["_receive_frame"] is reader


def test_describe_names_version_and_twin(patch: StackPatch, twin: Any) -> None:
    patch.apply()
    line = integration.describe()
    assert line.startswith(f"tornado {tornado.version}:")
    assert ("c twin" if twin.name == "c" else "python twin") in line
    assert "\n" not in line


# --- the mask function: tornado's contract ---------------------------------------------


# tornado.test.websocket_test.MaskFunctionMixin's vectors, and its error rule.
MASK_VECTORS = [
    ("empty", b"abcd", b"", b""),
    ("one-byte", b"abcd", b"b", b"\x03"),
    ("five-bytes", b"abcd", b"54321", b"TVPVP"),
    ("eight-bytes", b"ZXCV", b"98765432", b"c`t`olpd"),
    ("nul-bytes-in-data", b"\x00\x01\x02\x03", b"\xff\xfb\xfd\xfc\xfe\xfa", b"\xff\xfa\xff\xff\xfe\xfb"),
    ("high-bit-key", b"\xff\xfb\xfd\xfc", b"\x00\x01\x02\x03\x04\x05", b"\xff\xfa\xff\xff\xfb\xfe"),
]


@pytest.mark.parametrize(("key", "data", "expected"), [v[1:] for v in MASK_VECTORS],
                         ids=[v[0] for v in MASK_VECTORS])
def test_mask_key_first_matches_tornado_vectors(twin: Any, key: bytes, data: bytes,
                                                expected: bytes) -> None:
    function = twin.modules["_mask"]._mask_key_first
    result = function(key, data)
    assert result == expected
    assert type(result) is bytes


@pytest.mark.parametrize("key", [b"", b"a", b"ab", b"abc", b"abcde", b"abcdef"])
def test_mask_key_first_rejects_keys_that_are_not_4_bytes(twin: Any, key: bytes) -> None:
    with pytest.raises(ValueError):
        twin.modules["_mask"]._mask_key_first(key, b"data asdf")


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 15, 16, 17, 125, 126, 1023, 4096, 65537])
def test_mask_key_first_equals_tornado_python_mask(twin: Any, size: int) -> None:
    data = bytes(random.Random(size).randrange(256) for _ in range(size))
    expected = tornado.util._websocket_mask_python(KEY, data)
    function = twin.modules["_mask"]._mask_key_first
    assert function(KEY, data) == expected
    assert function(KEY, bytearray(data)) == expected
    assert function(KEY, memoryview(data)) == expected


def test_mask_key_first_refuses_what_mask_refuses(twin: Any) -> None:
    function = twin.modules["_mask"]._mask_key_first
    with pytest.raises(TypeError):
        function(KEY, "text")
    with pytest.raises(BufferError):
        function(KEY, memoryview(b"abcdefgh")[::2])


# --- the frame reader: tornado's behaviour, byte for byte ------------------------------------


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
    return head + key + tornado.util._websocket_mask_python(key, payload)


def deflated(data: bytes) -> bytes:
    """``data`` as permessage-deflate sends it (raw deflate, tail removed)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


class ScriptedStream:
    """What ``WebSocketProtocol13`` needs of an ``IOStream``, fed from a list
    of pieces: each read takes buffered bytes, and a piece arrives only when
    a read needs more; after the last piece the stream is closed."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = deque(pieces)
        self.buffer = bytearray()
        self.written: list[bytes] = []
        self._closed = False
        from tornado.ioloop import IOLoop

        self.io_loop = IOLoop.current()

    async def _read(self, n: int, partial: bool) -> bytes:
        while True:
            if self._closed:
                raise StreamClosedError()
            if n == 0 and not partial:
                return b""
            if self.buffer and (partial or len(self.buffer) >= n):
                taken = bytes(self.buffer[:n])
                del self.buffer[: len(taken)]
                return taken
            if not self.pieces:
                self._closed = True
                raise StreamClosedError()
            self.buffer += self.pieces.popleft()
            await asyncio.sleep(0)

    def read_bytes(self, n: int, partial: bool = False) -> Any:
        return asyncio.ensure_future(self._read(n, partial))

    def write(self, data: bytes) -> Any:
        if self._closed:
            raise StreamClosedError()
        self.written.append(bytes(data))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def close(self) -> None:
        self._closed = True

    def closed(self) -> bool:
        return self._closed

    def set_nodelay(self, value: bool) -> None:
        pass


class Recorder:
    """The handler side: every event tornado delivers, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_message(self, message: Any) -> None:
        self.events.append(("message", type(message).__name__, message))

    def on_ping(self, data: bytes) -> None:
        self.events.append(("ping", data))

    def on_pong(self, data: bytes) -> None:
        self.events.append(("pong", data))

    def on_ws_connection_close(self, code: Any = None, reason: Any = None) -> None:
        self.events.append(("closed", code, reason))

    def log_exception(self, *args: Any) -> None:
        self.events.append(("logged", repr(args[1])))


def observe(pieces: list[bytes], *, client: bool = False, compress: bool = False,
            max_size: int = 1 << 20) -> dict[str, Any]:
    """Everything observable after tornado's frame loop ran over ``pieces``."""

    async def run() -> dict[str, Any]:
        handler = Recorder()
        protocol = WebSocketProtocol13(handler, client, _WebSocketParams(max_message_size=max_size))
        stream = ScriptedStream(pieces)
        protocol.stream = stream  # type: ignore[assignment]
        if compress:
            protocol._create_compressors("client" if client else "server", {})
        escaped = None
        try:
            await asyncio.wait_for(protocol._receive_frame_loop(), 10)
        except Exception as exc:  # what escapes tornado's loop
            escaped = (type(exc).__name__, str(exc))
        if protocol._waiting is not None:
            protocol.stream.io_loop.remove_timeout(protocol._waiting)
        return {
            "events": handler.events,
            "written": b"".join(stream.written),
            "escaped": escaped,
            "client_terminated": protocol.client_terminated,
            "server_terminated": protocol.server_terminated,
            "close": (protocol.close_code, protocol.close_reason),
            "wire_in": protocol._wire_bytes_in,
            "message_in": protocol._message_bytes_in,
            "stream_closed": stream.closed(),
            "unread": bytes(stream.buffer) + b"".join(stream.pieces),
        }

    return asyncio.run(run())


def splits(wire: bytes) -> Iterator[list[bytes]]:
    """``wire`` whole, one byte at a time, at every point once (short streams),
    and cut at random points (fixed seeds)."""
    yield [wire]
    if len(wire) <= 64:
        yield [wire[i : i + 1] for i in range(len(wire))]
        for cut in range(1, len(wire)):
            yield [wire[:cut], wire[cut:]]
    for seed in range(3):
        rng = random.Random(seed)
        cuts = sorted(rng.sample(range(1, len(wire)), min(len(wire) - 1, 6))) if len(wire) > 1 else []
        bounds = [0, *cuts, len(wire)]
        yield [wire[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


CLOSE = frame(0x8, (1000).to_bytes(2, "big") + b"bye")
HELLO = frame(0x1, "héllo".encode())

CASES: list[tuple[str, bytes, dict[str, Any]]] = [
    # name, the bytes the peer sends, observe() options
    ("text-then-close", HELLO + CLOSE, {}),
    ("binary-16-bit-length", frame(0x2, bytes(range(256)) * 2) + CLOSE, {}),
    ("binary-64-bit-length", frame(0x2, b"\x01" * 70_000) + CLOSE, {}),
    ("many-small", b"".join(frame(1 + i % 2, b"m%03d" % i) for i in range(60)) + CLOSE, {}),
    ("empty-messages", frame(0x1) + frame(0x2) + CLOSE, {}),
    ("ping-pong", frame(0x9, b"are you there") + frame(0xA, b"yes") + CLOSE, {}),
    ("fragmented-with-ping", frame(0x1, b"frag", fin=False) + frame(0x9, b"p")
     + frame(0x0, b"ment", fin=False) + frame(0x0, b"ed") + CLOSE, {}),
    ("fragmented-binary-large", frame(0x2, b"a" * 40_000, fin=False)
     + frame(0x0, b"b" * 40_000) + CLOSE, {}),
    ("close-empty", frame(0x8), {}),
    ("close-code-only", frame(0x8, (1001).to_bytes(2, "big")), {}),
    ("close-one-byte", frame(0x8, b"\x03"), {}),
    ("close-code-5000", frame(0x8, (5000).to_bytes(2, "big") + b"x"), {}),
    ("close-reason-not-utf8", frame(0x8, (1000).to_bytes(2, "big") + b"\xff"), {}),
    ("frames-after-close", CLOSE + HELLO + HELLO, {}),
    ("no-close-eof", HELLO + HELLO, {}),
    ("eof-inside-frame", HELLO + HELLO[:5], {}),
    ("unmasked-from-client", frame(0x1, b"plain", key=None) + CLOSE, {}),
    ("masked-to-client", frame(0x1, b"masked") + frame(0x8, key=None), {"client": True}),
    ("client-unmasked", frame(0x1, b"x" * 300, key=None) + frame(0x8, key=None), {"client": True}),
    ("non-minimal-16-bit", frame(0x1, b"short", width=16) + CLOSE, {}),
    ("non-minimal-64-bit", frame(0x2, b"short", width=64) + CLOSE, {}),
    ("length-msb-set", bytes((0x82, 0x80 | 127)) + b"\x80" + b"\x00" * 7 + KEY, {}),
    ("reserved-opcode-fin", frame(0x3, b"odd") + CLOSE, {}),
    ("reserved-opcode-fragmented", frame(0x3, b"odd", fin=False) + frame(0x0, b"ity") + CLOSE, {}),
    ("reserved-control-opcode", frame(0xB, b"odd") + CLOSE, {}),
    ("rsv2-set", frame(0x1, b"x", rsv=0x20) + CLOSE, {}),
    ("rsv1-without-deflate", frame(0x1, b"x", rsv=0x40) + CLOSE, {}),
    ("control-126-bytes", frame(0x9, b"p" * 126) + CLOSE, {}),
    ("control-fin-clear", frame(0x9, b"p", fin=False) + CLOSE, {}),
    ("continuation-without-start", frame(0x0, b"lost") + CLOSE, {}),
    ("text-inside-fragmented", frame(0x1, b"a", fin=False) + frame(0x1, b"b") + CLOSE, {}),
    ("too-big", frame(0x2, b"z" * 101) + CLOSE, {"max_size": 100}),
    ("exactly-max", frame(0x2, b"z" * 100) + CLOSE, {"max_size": 100}),
    ("too-big-across-fragments", frame(0x1, b"a" * 60, fin=False) + frame(0x0, b"b" * 60)
     + CLOSE, {"max_size": 100}),
    ("too-big-header-only", frame(0x2, b"z" * 1000)[:8], {"max_size": 100}),
    ("text-not-utf8", frame(0x1, b"ok\xc3") + CLOSE, {}),
    ("deflated", frame(0x1, deflated(b"squeeze " * 50), rsv=0x40) + frame(0x2, b"raw")
     + CLOSE, {"compress": True}),
    ("deflated-fragmented", frame(0x2, deflated(b"abc" * 100)[:5], rsv=0x40, fin=False)
     + frame(0x9, b"p") + frame(0x0, deflated(b"abc" * 100)[5:]) + CLOSE, {"compress": True}),
    ("deflated-rsv1-on-continuation", frame(0x2, b"x", fin=False)
     + frame(0x0, b"y", rsv=0x40) + CLOSE, {"compress": True}),
    ("deflated-rsv1-on-ping", frame(0x9, deflated(b"ping"), rsv=0x40) + CLOSE, {"compress": True}),
    ("deflated-too-big", frame(0x2, deflated(b"\x00" * 5000), rsv=0x40) + CLOSE,
     {"compress": True, "max_size": 1000}),
]


@pytest.mark.parametrize(("wire", "options"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_frame_reader_behaves_as_tornado(patch: StackPatch, wire: bytes, options: dict[str, Any]) -> None:
    for pieces in splits(wire):
        expected = observe(pieces, **options)
        patch.apply()
        try:
            got = observe(pieces, **options)
        finally:
            patch.restore()
        # Bytes tornado left unread stay in the read-ahead buffer instead.
        expected.pop("unread")
        got.pop("unread")
        assert got == expected, [len(p) for p in pieces]


def test_frame_reader_used_wsfast(patch: StackPatch, twin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoder runs ahead on the compiled twin (the pure one does not pay)."""
    made: list[Any] = []
    real = twin.FrameDecoder

    def counting(**kwargs: Any) -> Any:
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(twin, "FrameDecoder", counting, raising=False)
    patch.apply()
    got = observe([b"".join(frame(0x2, b"%d" % i) for i in range(100)) + CLOSE])
    assert [e for e in got["events"] if e[0] == "message"] == [
        ("message", "bytes", b"%d" % i) for i in range(100)]
    if twin.name == "c":
        assert made and made[0] == {"client": False, "max_frame_size": None, "allow_rsv1": False}
    else:
        assert made == []


def test_large_payload_is_read_whole(patch: StackPatch) -> None:
    """A payload beyond the read-ahead is asked of the stream in one read."""
    wire = frame(0x2, b"\x07" * 300_000) + CLOSE
    patch.apply()
    got = observe([wire[:100], wire[100:]])
    assert got["events"][0] == ("message", "bytes", b"\x07" * 300_000)
    assert got["close"] == (1000, "bye")
