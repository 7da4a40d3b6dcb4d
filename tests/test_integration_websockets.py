"""websockets patched with wsfast behaves exactly as websockets does.

Every byte stream below is fed to websockets' Sans-I/O ``Protocol`` twice, as
websockets is and patched (on each twin), split every way for short streams;
everything the user of ``Protocol`` can observe must be the same after every
chunk: the exception raised, the events (websockets' own ``Frame`` objects),
the bytes to send (so the close code and reason on the wire), the state, the
close frames, and the exception kept as ``parser_exc`` with its message.

The one documented difference is not observed here: on the client side
websockets' own reader gives ``Frame.data`` as a ``bytearray``, wsfast gives
``bytes`` (the frames compare equal).
"""

from __future__ import annotations

import functools
import itertools
import secrets
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import pytest

import wsfast
from wsfast.integrations import websockets as integration

websockets = pytest.importorskip("websockets")
from websockets.extensions.permessage_deflate import PerMessageDeflate  # noqa: E402
from websockets.frames import Frame  # noqa: E402
from websockets.protocol import CLIENT, SERVER, Protocol  # noqa: E402

KEY = b"\x37\xfa\x21\x3d"


# --- a codec that counts what went through wsfast ------------------------------


class _CountingDecoder:
    def __init__(self, codec: CountingCodec, decoder: Any) -> None:
        self._codec, self._decoder = codec, decoder

    def feed(self, data: Any) -> list[Any]:
        try:
            frames: list[Any] = self._decoder.feed(data)
        except wsfast.WebSocketError as exc:
            self._codec.frames += len(exc.decoded)
            raise
        self._codec.frames += len(frames)
        return frames


class CountingCodec:
    """One twin's codec, counting the frames its decoders returned."""

    def __init__(self, twin: Any) -> None:
        self.twin = twin
        self.frames = 0
        self.parse_header = twin.parse_header
        self.encode_frame = twin.encode_frame

    def FrameDecoder(self, **kwargs: Any) -> _CountingDecoder:  # noqa: N802
        return _CountingDecoder(self, self.twin.FrameDecoder(**kwargs))


@pytest.fixture
def codec(twin: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingCodec]:
    """The integration running on ``twin``; websockets unpatched around each test."""
    counting = CountingCodec(twin)
    monkeypatch.setattr(integration, "_CODEC", counting)
    # Client frames are masked with a fixed key, so both runs send the same bytes.
    monkeypatch.setattr(secrets, "token_bytes", lambda n: (KEY * n)[:n])
    wsfast.unpatch("websockets")
    yield counting
    wsfast.unpatch("websockets")


# --- building byte streams by hand (any header, valid or not) ----------------------


def _xor(data: bytes, key: bytes) -> bytes:
    """Masking as RFC 6455 section 5.3 says, with Python integers."""
    n = len(data)
    keys = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")


def raw(op: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
        key: bytes | None = KEY, width: int | None = None, length: int | None = None) -> bytes:
    """One frame: ``width`` forces the length encoding (7, 16 or 64 bits)."""
    n = len(payload) if length is None else length
    if width is None:
        width = 7 if n < 126 else 16 if n < 65536 else 64
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | op])
    mask_bit = 0x80 if key is not None else 0
    if width == 7:
        head += bytes([mask_bit | n])
    elif width == 16:
        head += bytes([mask_bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mask_bit | 127]) + n.to_bytes(8, "big")
    if key is None:
        return head + payload
    return head + key + _xor(payload, key)


def close(code: int | None, reason: bytes = b"", **kw: Any) -> bytes:
    payload = b"" if code is None else code.to_bytes(2, "big") + reason
    return raw(8, payload, **kw)


# --- what a user of Protocol observes ----------------------------------------------


def _exc(exc: BaseException | None) -> Any:
    if exc is None:
        return None
    cause = exc.__cause__
    return (type(exc).__name__, str(exc), type(cause).__name__ if cause else None)


def _frame(frame: Any) -> Any:
    assert type(frame) is Frame
    return (frame.opcode, type(frame.opcode), bytes(frame.data), frame.fin,
            frame.rsv1, frame.rsv2, frame.rsv3)


def _close(close_frame: Any) -> Any:
    return None if close_frame is None else (close_frame.code, close_frame.reason)


class Step(NamedTuple):
    raised: Any
    events: list[Any]
    sent: list[bytes]
    state: Any


def transcript(side: Any, chunks: Sequence[bytes], *, max_size: int | None = 2**20,
               extensions: Sequence[Callable[[], Any]] = (), eof: bool = False) -> Any:
    """Feed ``chunks`` (then EOF) to a fresh Protocol; all it let us observe."""
    protocol = Protocol(side, max_size=max_size)
    protocol.extensions = [make() for make in extensions]
    steps: list[Step] = []

    def step(action: Callable[[], None]) -> None:
        try:
            action()
            raised = None
        except Exception as exc:
            raised = _exc(exc)
        events = [_frame(event) for event in protocol.events_received()]
        steps.append(Step(raised, events, protocol.data_to_send(), protocol.state))

    for chunk in chunks:
        if callable(chunk):  # an action of the application between two reads
            step(functools.partial(chunk, protocol))
        else:
            step(functools.partial(protocol.receive_data, chunk))
    if eof:
        step(protocol.receive_eof)
    size = getattr(protocol, "current_size", getattr(protocol, "cur_size", None))
    final = (protocol.state, _close(protocol.close_rcvd), _close(protocol.close_sent),
             protocol.close_rcvd_then_sent, _exc(protocol.parser_exc),
             protocol.close_expected(), size)
    return steps, final


def compare(codec: CountingCodec, side: Any, chunks: Sequence[bytes], **kw: Any) -> Any:
    """The transcript as websockets is and patched; they must be equal."""
    assert "wsfast" not in Protocol.parse.__module__
    expected = transcript(side, chunks, **kw)
    wsfast.patch("websockets")
    try:
        assert Protocol.parse.__module__ == "wsfast.integrations.websockets"
        got = transcript(side, chunks, **kw)
    finally:
        wsfast.unpatch("websockets")
    assert got == expected
    return got


def splits(data: bytes) -> Iterator[list[bytes]]:
    """Whole, one byte at a time, and cut in two at every byte.

    In the middle of a long payload, where one cut is like the next, every
    seventh byte only.
    """
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for i in range(1, len(data)):
        if i < 64 or len(data) - i < 64 or i % 7 == 0:
            yield [data[:i], data[i:]]


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- the corpus ------------------------------------------------------------------

TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0

# (name, stream as sent by a client, i.e. masked); the server-side run feeds it
# as it is, the client-side run feeds the same frames unmasked.
STREAMS: list[tuple[str, Callable[[Any], bytes], dict[str, Any]]] = [
    ("text", lambda k: raw(TEXT, b"hello", key=k), {}),
    ("empty-binary", lambda k: raw(BINARY, key=k), {}),
    ("three-frames", lambda k: raw(TEXT, b"a", key=k) + raw(BINARY, b"bc", key=k)
     + raw(PING, b"p", key=k), {}),
    ("fragments-and-control", lambda k: raw(TEXT, b"hel", fin=False, key=k)
     + raw(PING, b"!", key=k) + raw(CONT, b"lo ", fin=False, key=k)
     + raw(PONG, b"", key=k) + raw(CONT, "wörld".encode(), key=k), {}),
    ("utf8-split-across-fragments", lambda k: raw(TEXT, b"\xe2\x82", fin=False, key=k)
     + raw(CONT, b"\xac", key=k), {}),
    ("len-125", lambda k: raw(BINARY, b"x" * 125, key=k), {}),
    ("len-126", lambda k: raw(BINARY, b"y" * 126, key=k), {}),
    ("ping-125", lambda k: raw(PING, b"z" * 125, key=k), {}),
    ("close-1000-reason", lambda k: close(1000, b"bye", key=k), {}),
    ("close-empty", lambda k: close(None, key=k), {}),
    ("close-4999", lambda k: close(4999, "é".encode(), key=k), {}),
    ("data-after-close", lambda k: raw(TEXT, b"a", key=k) + close(1001, key=k)
     + raw(TEXT, b"ignored", key=k) + b"\xff\xff", {}),
    ("non-minimal-length-16", lambda k: raw(TEXT, b"abc", width=16, key=k)
     + raw(TEXT, b"after", key=k), {}),
    ("non-minimal-length-64", lambda k: raw(BINARY, b"q" * 130, width=64, key=k)
     + raw(PING, b"", key=k), {}),
    ("max-size-exact", lambda k: raw(TEXT, b"x" * 10, key=k), {"max_size": 10}),
    ("max-size-no-limit", lambda k: raw(TEXT, b"x" * 300, key=k), {"max_size": None}),
    # errors
    ("reserved-opcode-3", lambda k: raw(TEXT, b"ok", key=k) + raw(3, b"", key=k), {}),
    ("reserved-opcode-11", lambda k: raw(11, b"x", key=k), {}),
    ("rsv1-without-extension", lambda k: raw(TEXT, b"a", rsv=4, key=k), {}),
    ("rsv2-without-extension", lambda k: raw(BINARY, b"a", rsv=2, key=k), {}),
    ("rsv3-on-ping", lambda k: raw(PING, b"", rsv=1, key=k), {}),
    ("fragmented-ping", lambda k: raw(PING, b"p", fin=False, key=k), {}),
    ("ping-126", lambda k: raw(PING, b"p" * 126, key=k), {}),
    ("close-too-long", lambda k: close(1000, b"r" * 124, key=k), {}),
    ("continuation-first", lambda k: raw(CONT, b"x", key=k), {}),
    ("text-inside-message", lambda k: raw(TEXT, b"a", fin=False, key=k)
     + raw(TEXT, b"b", key=k), {}),
    ("close-inside-message", lambda k: raw(BINARY, b"a", fin=False, key=k)
     + close(1000, key=k), {}),
    ("close-1-byte", lambda k: raw(CLOSE, b"\x03", key=k), {}),
    ("close-code-1005", lambda k: close(1005, key=k), {}),
    ("close-code-999", lambda k: close(999, key=k), {}),
    ("close-code-5000", lambda k: close(5000, key=k), {}),
    ("close-bad-utf8", lambda k: close(1000, b"\xff", key=k), {}),
    ("too-big", lambda k: raw(TEXT, b"ok", key=k) + raw(TEXT, b"x" * 11, key=k),
     {"max_size": 10}),
    ("too-big-fragment", lambda k: raw(TEXT, b"x" * 6, fin=False, key=k)
     + raw(CONT, b"y" * 6, key=k), {"max_size": 10}),
    ("too-big-16-bit", lambda k: raw(BINARY, b"x" * 200, key=k), {"max_size": 150}),
    ("length-msb-set", lambda k: raw(BINARY, b"", width=64, length=1 << 63, key=k), {}),
    ("length-msb-set-no-limit", lambda k: raw(BINARY, b"", width=64, length=1 << 63, key=k),
     {"max_size": None}),
    ("truncated-payload", lambda k: raw(TEXT, b"hello", key=k)[:-2], {}),
    ("truncated-header", lambda k: raw(TEXT, b"x" * 300, key=k)[:3], {}),
]


def _stream(name: str, side: Any) -> tuple[bytes, dict[str, Any]]:
    for n, build, kw in STREAMS:
        if n == name:
            return build(KEY if side is SERVER else None), kw
    raise KeyError(name)


@pytest.mark.parametrize("eof", [False, True], ids=["open", "eof"])
@pytest.mark.parametrize("side", [SERVER, CLIENT], ids=["server", "client"])
@pytest.mark.parametrize("name", [s[0] for s in STREAMS])
def test_streams_split_every_way(codec: CountingCodec, name: str, side: Any, eof: bool) -> None:
    data, kw = _stream(name, side)
    for chunks in splits(data):
        compare(codec, side, chunks, eof=eof, **kw)


@pytest.mark.parametrize("side", [SERVER, CLIENT], ids=["server", "client"])
def test_wrong_masking(codec: CountingCodec, side: Any) -> None:
    # A client sends masked frames, a server unmasked ones: each the other way here.
    key = None if side is SERVER else KEY
    data = raw(TEXT, b"hi", key=KEY if side is SERVER else None) + raw(TEXT, b"x", key=key)
    for chunks in splits(data):
        steps, final = compare(codec, side, chunks)
    assert final[4] == ("ProtocolError", "incorrect masking", None)


@pytest.mark.parametrize("side", [SERVER, CLIENT], ids=["server", "client"])
def test_frames_go_through_wsfast(codec: CountingCodec, side: Any) -> None:
    """The proof that the patch is active: the frames were decoded by wsfast."""
    data, _ = _stream("fragments-and-control", side)
    steps, final = compare(codec, side, [data * 3])
    assert sum(len(s.events) for s in steps) == 15
    assert codec.frames == 15


def test_close_codes_and_reasons_sent(codec: CountingCodec) -> None:
    """A few of websockets' own reason texts, as they go on the wire."""
    cases = {
        raw(3, b""): b"\x03\xeainvalid opcode",
        raw(PING, b"p", fin=False): b"\x03\xeafragmented control frame",
        raw(TEXT, b"a", rsv=4): b"\x03\xeareserved bits must be 0",
        raw(TEXT, b"x" * 11): b"\x03\xf1",  # 1009, then websockets' words for the sizes
    }
    for data, payload in cases.items():
        steps, final = compare(codec, SERVER, [data], max_size=10)
        (sent, eof) = steps[-1].sent
        assert sent[2:].startswith(payload) and sent[1] == len(sent) - 2, sent
        assert eof == b""  # and the server closes the TCP connection


# --- big frames: unmasked as they arrive -------------------------------------------


def _big(n: int, seed: int = 1) -> bytes:
    """n bytes of a pattern that repeats every 256 bytes."""
    period = bytes((i * 7 + seed) & 0xFF for i in range(256))
    return (period * (n // 256 + 1))[:n]


BIG: list[tuple[str, Callable[[Any], bytes], dict[str, Any], int]] = [
    ("1-mib-binary", lambda k: raw(BINARY, _big(1 << 20), key=k), {}, 65536),
    ("1-mib-binary-odd-chunks", lambda k: raw(BINARY, _big(1 << 20), key=k), {}, 65537),
    ("big-then-small-frames", lambda k: raw(TEXT, b"t" * 200_000, key=k)
     + raw(PING, b"p", key=k) + raw(BINARY, b"b", key=k) + close(1000, b"done", key=k),
     {}, 7000),
    ("small-then-big", lambda k: raw(PING, b"", key=k) + raw(BINARY, _big(70_000), key=k),
     {}, 1000),
    ("big-fragments", lambda k: raw(BINARY, _big(100_000), fin=False, key=k)
     + raw(CONT, _big(100_000, 2), key=k), {"max_size": 300_000}, 65536),
    ("big-truncated", lambda k: raw(BINARY, _big(300_000), key=k)[:150_000], {}, 65536),
    ("big-truncated-in-header", lambda k: raw(BINARY, _big(300_000), key=k)[:5], {}, 65536),
    ("big-over-limit", lambda k: raw(BINARY, _big(150_000), key=k), {"max_size": 100_000},
     65536),
    ("big-fragment-over-limit", lambda k: raw(BINARY, _big(60_000), fin=False, key=k)
     + raw(CONT, _big(70_000), key=k), {"max_size": 100_000}, 65536),
    ("big-then-error", lambda k: raw(BINARY, _big(80_000), key=k) + raw(CONT, b"x", key=k),
     {}, 65536),
    ("big-then-close-then-data", lambda k: raw(BINARY, _big(80_000), key=k)
     + close(1000, key=k) + raw(TEXT, b"late", key=k), {}, 65536),
]


@pytest.mark.parametrize("eof", [False, True], ids=["open", "eof"])
@pytest.mark.parametrize("side", [SERVER, CLIENT], ids=["server", "client"])
@pytest.mark.parametrize("name", [b[0] for b in BIG])
def test_big_frames(codec: CountingCodec, name: str, side: Any, eof: bool) -> None:
    (_, build, kw, size), = [b for b in BIG if b[0] == name]
    data = build(KEY if side is SERVER else None)
    compare(codec, side, chunked(data, size), eof=eof, **kw)
    compare(codec, side, [data], eof=eof, **kw)


@pytest.mark.parametrize("kind", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_big_frames_other_buffers(codec: CountingCodec, kind: Any) -> None:
    """receive_data() takes any bytes-like object, a big frame arriving or not."""
    data = raw(BINARY, _big(200_000)) + raw(PING, b"p") + raw(TEXT, b"t" * 70_000)
    compare(codec, SERVER, [kind(c) for c in chunked(data, 30_000)], eof=True)


def test_application_acts_while_a_big_frame_arrives(codec: CountingCodec) -> None:
    """The application closes, or fails the connection, in the middle of a big frame."""
    from websockets.frames import CloseCode

    data = raw(BINARY, _big(300_000)) + raw(TEXT, b"after")
    pieces: list[Any] = chunked(data, 65536)

    def close(protocol: Any) -> None:
        protocol.send_close(CloseCode.GOING_AWAY, "bye")

    def fail(protocol: Any) -> None:
        protocol.fail(CloseCode.INTERNAL_ERROR, "oops")

    for action in (close, fail):
        for at in (1, 2, len(pieces) - 1):
            compare(codec, SERVER, [*pieces[:at], action, *pieces[at:]], eof=True)


def test_big_frame_is_not_gathered_in_the_reader(codec: CountingCodec) -> None:
    """A big frame's payload never piles up in the reader's buffer."""
    wsfast.patch("websockets")
    protocol = Protocol(SERVER, max_size=None)
    data = raw(BINARY, _big(1 << 20))
    for chunk in chunked(data, 65536)[:-1]:
        protocol.receive_data(chunk)
        assert len(protocol.reader.buffer) == 0
    protocol.receive_data(chunked(data, 65536)[-1])
    (frame,) = protocol.events_received()
    assert frame.data == _big(1 << 20)


# --- permessage-deflate, through websockets' own extension ----------------------


def _deflate() -> Any:
    return PerMessageDeflate(False, False, 15, 15)


def _deflate_no_context() -> Any:
    return PerMessageDeflate(True, True, 15, 15)


def _compressed_stream(make: Callable[[], Any], side: Any) -> bytes:
    """Messages as websockets itself sends them with the extension on."""
    sender = Protocol(CLIENT if side is SERVER else SERVER)
    sender.extensions = [make()]
    sender.send_text(b"hello " * 50)
    sender.send_binary(_big(5000))
    sender.send_ping(b"ping")
    sender.send_text(b"first part ", fin=False)
    sender.send_continuation(b"second part " * 20, fin=False)
    sender.send_continuation(b"", fin=True)
    sender.send_binary(_big(200_000))  # barely compressible: a big compressed frame
    sender.send_text("ünïcödé".encode() * 100)
    sender.send_close(1000, "done")
    return b"".join(sender.data_to_send())


@pytest.mark.parametrize("make", [_deflate, _deflate_no_context], ids=["context", "no-context"])
@pytest.mark.parametrize("side", [SERVER, CLIENT], ids=["server", "client"])
def test_deflate(codec: CountingCodec, side: Any, make: Callable[[], Any]) -> None:
    data = _compressed_stream(make, side)
    for size in (len(data), 65536, 4096, 333):
        steps, final = compare(codec, side, chunked(data, size), extensions=[make])
    assert codec.frames >= 9
    assert final[1] == (1000, "done")
    events = [e for s in steps for e in s.events]
    assert any(e[4] is False for e in events)  # the rsv1 bit was cleared by the extension
    assert events[0][2] == b"hello " * 50


def _deflate_bytes(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


@pytest.mark.parametrize(
    ("name", "data", "max_size"),
    [
        ("garbage", raw(TEXT, b"\xff\xfe\xfd\xfc", rsv=4), 2**20),
        ("rsv1-on-continuation", raw(TEXT, _deflate_bytes(b"a"), rsv=4, fin=False)
         + raw(CONT, _deflate_bytes(b"b"), rsv=4), 2**20),
        ("rsv2", raw(TEXT, b"a", rsv=2), 2**20),
        ("bomb", raw(BINARY, _deflate_bytes(b"\x00" * 100_000), rsv=4), 1000),
        ("bomb-second-fragment", raw(BINARY, _deflate_bytes(b"a" * 600), rsv=4, fin=False)
         + raw(CONT, _deflate_bytes(b"b" * 600)), 1000),
        ("uncompressed-frame", raw(TEXT, b"plain") + raw(TEXT, _deflate_bytes(b"z"), rsv=4),
         2**20),
    ],
)
def test_deflate_errors(codec: CountingCodec, name: str, data: bytes, max_size: int) -> None:
    for chunks in itertools.islice(splits(data), 60):
        steps, final = compare(codec, SERVER, chunks, extensions=[_deflate], max_size=max_size)
    assert final[4] is not None or name == "uncompressed-frame"


# --- other entry points ------------------------------------------------------------


def test_replaced_frame_parse_is_honoured(codec: CountingCodec, monkeypatch: pytest.MonkeyPatch) -> None:
    """When Frame.parse is replaced (here: a spy), every frame goes through it."""
    seen: list[Any] = []
    original = Frame.parse

    def spy(*args: Any, **kwargs: Any) -> Any:
        frame = yield from original(*args, **kwargs)
        seen.append(frame)
        return frame

    monkeypatch.setattr(Frame, "parse", spy)
    data = raw(TEXT, b"a") + raw(BINARY, b"b")
    compare(codec, SERVER, [data])
    assert len(seen) == 4  # two frames, in each of the two runs
    assert codec.frames == 0


def test_server_and_client_protocols(codec: CountingCodec) -> None:
    """The handshake classes reach the patched parser through super().parse()."""
    from websockets.client import ClientProtocol
    from websockets.server import ServerProtocol
    from websockets.uri import parse_uri

    wsfast.patch("websockets")
    client = ClientProtocol(parse_uri("ws://localhost/"))
    server = ServerProtocol()
    request = client.connect()
    client.send_request(request)
    server.receive_data(b"".join(client.data_to_send()))
    (request_event,) = server.events_received()
    server.send_response(server.accept(request_event))
    client.receive_data(b"".join(server.data_to_send()))
    assert client.events_received()
    client.send_text(b"over the handshake")
    server.receive_data(b"".join(client.data_to_send()))
    (frame,) = server.events_received()
    assert frame == Frame(websockets.frames.Opcode.TEXT, b"over the handshake")
    assert codec.frames == 1


def test_serialize_matches(codec: CountingCodec) -> None:
    """The send path: the same bytes as websockets' own serializer."""
    from websockets.frames import Opcode

    frames = [
        Frame(Opcode.TEXT, b"hello"), Frame(Opcode.BINARY, b""), Frame(Opcode.PING, b"p" * 125),
        Frame(Opcode.BINARY, _big(70_000), fin=False), Frame(Opcode.CONT, bytearray(b"ba")),
        Frame(Opcode.CLOSE, b"\x03\xe8"), Frame(Opcode.TEXT, memoryview(b"view")),
        Frame(Opcode.BINARY, memoryview(b"strided data")[::2]),
    ]
    def serialized(mask: bool, deflate: bool) -> list[Any]:
        extensions = [_deflate()] if deflate else []
        out = []
        for frame in frames:
            try:
                out.append(frame.serialize(mask=mask, extensions=extensions))
            except Exception as exc:
                out.append(_exc(exc))
        return out

    for mask in (True, False):
        for deflate in (False, True):
            expected = serialized(mask, deflate)
            wsfast.patch("websockets")
            try:
                got = serialized(mask, deflate)
            finally:
                wsfast.unpatch("websockets")
            assert got == expected


def test_serialize_errors_match(codec: CountingCodec) -> None:
    from websockets.frames import Opcode

    bad = [Frame(Opcode.PING, b"p" * 126), Frame(Opcode.PING, b"", fin=False),
           Frame(Opcode.TEXT, b"", rsv1=True)]
    for frame in bad:
        with pytest.raises(websockets.exceptions.ProtocolError) as expected:
            frame.serialize(mask=True)
        wsfast.patch("websockets")
        with pytest.raises(websockets.exceptions.ProtocolError) as got:
            frame.serialize(mask=True)
        wsfast.unpatch("websockets")
        assert str(got.value) == str(expected.value)


def test_patch_describes_and_restores(codec: CountingCodec) -> None:
    originals = [(Protocol, "parse"), (Protocol, "receive_data"), (Frame, "serialize")]
    before = [vars(owner)[name] for owner, name in originals]
    description = wsfast.patch("websockets")["websockets"]
    assert description.startswith(f"websockets {websockets.version.version}:")
    for (owner, name), original in zip(originals, before, strict=True):
        assert vars(owner)[name] is not original
        assert vars(owner)[name].__module__ == "wsfast.integrations.websockets"
    wsfast.unpatch("websockets")
    for (owner, name), original in zip(originals, before, strict=True):
        assert vars(owner)[name] is original


def test_pure_twin_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    """With only the pure twin, websockets' own parser is faster: left untouched."""
    monkeypatch.setattr(integration, "_CODEC", wsfast)
    monkeypatch.setattr(wsfast, "IMPLEMENTATION", "python")
    parse = vars(Protocol)["parse"]
    with pytest.warns(RuntimeWarning, match="pure-Python twin"):
        result = wsfast.patch("websockets")
    assert result["websockets"].startswith("not accelerated:")
    assert vars(Protocol)["parse"] is parse
