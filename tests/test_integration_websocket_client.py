"""websocket-client patched with wsfast behaves as websocket-client does, only faster.

The one documented difference: a text message or close reason that ends
inside a code point is invalid with wsfast (RFC 6455 section 8.1), where
websocket-client's validator answers "valid so far".  Every test runs the
replacements on both wsfast twins.
"""

from __future__ import annotations

import itertools
import random
import types
from collections.abc import Iterator
from typing import Any

import pytest

import wsfast
from helpers import StackPatch
from wsfast.integrations import websocket_client as integration

websocket = pytest.importorskip("websocket")
import websocket._abnf as ws_abnf  # noqa: E402
import websocket._utils as ws_utils  # noqa: E402
from websocket import ABNF, WebSocketPayloadException, WebSocketProtocolException  # noqa: E402

ORIGINAL_MASK = vars(ABNF)["mask"].__func__
ORIGINAL_VALIDATE = vars(ws_utils)["validate_utf8"]


_PATCH = StackPatch(integration.STACK)


def _apply() -> None:
    """Patch websocket-client through wsfast.patch(); it must be accelerated."""
    description = _PATCH.apply()
    assert not description.startswith("not accelerated"), description


def _restore() -> None:
    _PATCH.restore()


@pytest.fixture
def codec(twin: Any, monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """The integration running on ``twin``."""
    monkeypatch.setattr(integration, "_CODEC", twin)
    return twin  # type: ignore[no-any-return]


@pytest.fixture
def patched(codec: Any) -> Iterator[None]:
    _apply()
    try:
        yield
    finally:
        _restore()


# --- mask ------------------------------------------------------------------------------

MASK_CASES = [
    (b"\x01\x02\x03\x04", b""),
    (b"\x01\x02\x03\x04", b"\x05\x06\x07\x08\t"),
    (b"abcd", bytes(range(256)) * 5 + b"xyz"),
    ("abcd", "latin-1 \xe9 text"),  # str key and data: taken as Latin-1
    (b"aaaa", None),  # None data: empty
    (b"aaaa", "a"),
    (bytearray(b"\xff\x00\xff\x00"), bytearray(b"0123456")),
    (b"\x10\x20\x30\x40", memoryview(b"memoryview payload")),
    (b"abc", b"short key goes to the original"),
    (b"", b"empty key goes to the original"),
    (b"abcd", [1, 2, 3, 4, 5]),  # a list of ints: the original's array.array takes it
]


def _outcome(func: Any, *args: Any) -> tuple[Any, ...]:
    """("ok", result, its type) or ("raises", the exception type): the
    original may refuse what it is given (wsaccel's masker: "mask should be
    4byte"), and then the patched function must refuse it the same way."""
    try:
        result = func(*args)
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        return "raises", type(exc)
    return "ok", result, type(result)


@pytest.mark.parametrize("key, data", MASK_CASES, ids=[f"case{i}" for i in range(len(MASK_CASES))])
def test_mask_same_result_as_websocket_client(codec: Any, key: Any, data: Any) -> None:
    mask = integration.make_mask(ORIGINAL_MASK, codec)
    expected = _outcome(ORIGINAL_MASK, key, data)
    assert _outcome(mask, key, data) == expected
    if (isinstance(key, (bytes, bytearray)) and len(key) == 4
            and isinstance(data, (bytes, bytearray, memoryview))):
        assert expected[0] == "ok"  # what wsfast masks, every original masks


def test_mask_random_payloads(codec: Any) -> None:
    mask = integration.make_mask(ORIGINAL_MASK, codec)
    rng = random.Random(5)
    for size in itertools.chain(range(70), (125, 126, 65535, 65536, 100_003)):
        key = rng.randbytes(4)
        data = rng.randbytes(size)
        assert mask(key, data) == ORIGINAL_MASK(key, data)
        assert mask(key, mask(key, data)) == data


def test_mask_bad_key_type_raises_like_the_original(codec: Any) -> None:
    mask = integration.make_mask(ORIGINAL_MASK, codec)
    for key in ("\u20ac\u20ac\u20ac\u20ac", 1234):
        with pytest.raises(Exception) as original:
            ORIGINAL_MASK(key, b"data")
        with pytest.raises(type(original.value)):
            mask(key, b"data")


# --- validate_utf8 ---------------------------------------------------------------------


def _ends_inside_code_point(data: bytes) -> bool:
    """Valid as a prefix, but the last code point is unfinished."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return False


def _check_validate(validate: Any, data: Any) -> None:
    expected = ORIGINAL_VALIDATE(data)
    got = validate(data)
    assert type(got) is bool
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if expected and not got:
        # The one difference: wsfast also requires the text to end on a code point.
        assert _ends_inside_code_point(raw), data
    else:
        assert got == expected, data
    try:
        raw.decode("utf-8")
        assert got
    except UnicodeDecodeError:
        assert not got


def test_validate_every_sequence_of_one_and_two_bytes(codec: Any) -> None:
    validate = integration.make_validate_utf8(ORIGINAL_VALIDATE, codec)
    for a in range(256):
        _check_validate(validate, bytes([a]))
        for b in range(256):
            _check_validate(validate, bytes([a, b]))


def test_validate_edge_bytes_in_three_and_four_byte_sequences(codec: Any) -> None:
    validate = integration.make_validate_utf8(ORIGINAL_VALIDATE, codec)
    edges = bytes([0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                   0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF])
    for seq in itertools.product(edges, repeat=3):
        for end in (b"", b"\x80", b"\xbfA"):
            _check_validate(validate, bytes(seq) + end)


@pytest.mark.parametrize(
    "data, valid",
    [
        ("κόσμε", True),
        ("a\ud800b", False),  # a lone surrogate in a str: encoded with surrogatepass
        ("", True),
        (b"\xf0\x90\x80\x80", True),
        (b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", False),
        (bytearray(b"caf\xc3\xa9"), True),
        (memoryview(b"\xc3\x28"), False),
        ([0x61, 0x62], None),  # not bytes-like: the original's answer (or error)
        (b"euro \xe2\x82", False),  # ends inside a code point: invalid (RFC 6455 8.1)
    ],
)
def test_validate_cases(codec: Any, data: Any, valid: bool | None) -> None:
    validate = integration.make_validate_utf8(ORIGINAL_VALIDATE, codec)
    if valid is None:
        assert _outcome(validate, data) == _outcome(ORIGINAL_VALIDATE, data)
    else:
        assert validate(data) is valid


# --- the patch -------------------------------------------------------------------------


def test_patch_replaces_every_binding_and_unpatch_restores_them(codec: Any) -> None:
    bindings = [(ABNF, "mask"), (ws_utils, "validate_utf8"), (ws_abnf, "validate_utf8")]
    originals = [vars(owner)[name] for owner, name in bindings]
    _apply()
    try:
        for (owner, name), original in zip(bindings, originals, strict=True):
            assert vars(owner)[name] is not original
        assert isinstance(vars(ABNF)["mask"], staticmethod)
        assert ws_abnf.validate_utf8 is ws_utils.validate_utf8
        assert ABNF.mask(b"\x00\x00\x00\x01", b"\x00" * 4) == b"\x00\x00\x00\x01"
    finally:
        _restore()
    for (owner, name), original in zip(bindings, originals, strict=True):
        assert vars(owner)[name] is original


def test_describe_names_version_and_twin() -> None:
    line = integration.describe()
    assert websocket.__version__ in line and wsfast.IMPLEMENTATION in line
    assert "\n" not in line


# --- a connection over a scripted socket ------------------------------------------------


class _Sock:
    """Serves ``data`` to recv() in pieces of at most ``step`` bytes; records send()."""

    def __init__(self, data: bytes = b"", step: int = 7) -> None:
        self.data, self.pos, self.step, self.sent = data, 0, step, bytearray()

    def gettimeout(self) -> None:
        return None

    def recv(self, bufsize: int) -> bytes:
        chunk = self.data[self.pos : self.pos + min(bufsize, self.step)]
        self.pos += len(chunk)
        return chunk

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def close(self) -> None:
        pass


def _connection(data: bytes = b"", step: int = 7) -> Any:
    ws = websocket.WebSocket()
    ws.sock = _Sock(data, step)
    ws.connected = True
    ws.set_mask_key(lambda n: b"\x5a\x01\xc3\x7e"[:n])  # the close it answers with
    return ws


def _frame(opcode: int, payload: bytes, fin: bool = True, key: bytes | None = None) -> bytes:
    return wsfast.encode_frame(opcode, payload, fin=fin, mask_key=key)


TEXT = "grüße € \U0001f600 ".encode() * 50


def _receive(stream: bytes, step: int) -> list[Any]:
    """Everything recv_data() gives until the close frame, or the error it raises."""
    ws = _connection(stream, step)
    out: list[Any] = []
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            out.append((type(exc).__name__, str(exc)))
            return out
        out.append((opcode, data))
        if opcode == ABNF.OPCODE_CLOSE:
            out.append(bytes(ws.sock.sent))
            return out


STREAMS = {
    "text-binary-ping-close": _frame(1, TEXT) + _frame(2, bytes(range(256)))
    + _frame(9, b"hi") + _frame(8, b"\x03\xe8bye \xc3\xa9"),
    "fragmented-text": _frame(1, TEXT[:5], fin=False) + _frame(0, TEXT[5:333], fin=False)
    + _frame(0, TEXT[333:]) + _frame(8, b"\x03\xe8"),
    "masked-by-server": _frame(1, TEXT, key=b"\x11\x22\x33\x44")
    + _frame(2, b"\x00" * 300, key=b"\xff\x00\xff\x00") + _frame(8, b""),
    "invalid-utf8": _frame(1, TEXT[:40] + b"\xed\xa0\x80"),
    "invalid-close-reason": _frame(8, b"\x03\xe8\xc0\xaf"),
    "big-text": _frame(1, TEXT * 500) + _frame(8, b"\x03\xe8"),
}


@pytest.mark.parametrize(
    "name, step",
    # Small pieces only for the short streams (the long ones take too long unpatched).
    [(name, step) for name in sorted(STREAMS) for step in (1, 7, 16384)
     if step == 16384 or len(STREAMS[name]) < 5000],
)
def test_receive_same_as_websocket_client(codec: Any, name: str, step: int) -> None:
    stream = STREAMS[name]
    reference = _receive(stream, step)
    _apply()
    try:
        got = _receive(stream, step)
    finally:
        _restore()
    assert got == reference


@pytest.mark.parametrize(
    "stream, error",
    [
        (_frame(1, TEXT + "€".encode()[:2]), WebSocketPayloadException),
        (_frame(1, b"ok \xe2", fin=False) + _frame(0, b"\x82"), WebSocketPayloadException),
        (_frame(8, b"\x03\xe8ok\xe2\x82"), WebSocketProtocolException),
    ],
    ids=["text-message", "fragmented-message", "close-reason"],
)
def test_message_ending_inside_a_code_point_is_invalid_only_patched(
    codec: Any, stream: bytes, error: type
) -> None:
    """The documented difference: websocket-client lets these through, wsfast does not."""
    unpatched = _receive(stream, 16384)
    assert unpatched[0][0] in (ABNF.OPCODE_TEXT, ABNF.OPCODE_CLOSE)
    _apply()
    try:
        got = _receive(stream, 16384)
    finally:
        _restore()
    assert got[0][0] == error.__name__


def test_send_same_bytes_as_websocket_client(codec: Any) -> None:
    """Frames sent (masked with the same keys) are byte for byte the same."""

    def send_all() -> bytes:
        keys = random.Random(3)
        ws = _connection()
        ws.set_mask_key(lambda n: keys.randbytes(n))
        ws.send("text ünïcode")
        ws.send_binary(bytes(range(256)) * 4096)
        ws.send_binary(b"bytes")
        ws.send(b"", opcode=ABNF.OPCODE_BINARY)
        ws.ping("ping as str")
        ws.pong(b"pong")
        ws.send_frame(ABNF.create_frame("frag", ABNF.OPCODE_TEXT, fin=0))
        ws.send_frame(ABNF.create_frame("ment", ABNF.OPCODE_CONT, fin=1))
        ws.send_close(1000, b"done")
        return bytes(ws.sock.sent)

    reference = send_all()
    _apply()
    try:
        got = send_all()
    finally:
        _restore()
    assert got == reference
    assert len(got) > 1 << 20
