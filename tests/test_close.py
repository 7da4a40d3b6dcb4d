"""Close codes and payloads (API.md sections 4-5): CloseCode, parse_close,
encode_close, FrameEncoder.close and CLOSE frames through MessageDecoder, for
every code from 0 to 5000 (and beyond)."""

from __future__ import annotations

import array
import mmap

import pytest

from helpers import message_tuple
from vectors import CLOSE, KEY, VALID_CLOSE_CODES, M, close_payload, frame
from wsfast.errors import InvalidDataError, MessageTooBigError, ProtocolError
from wsfast.protocol import CloseCode

ALL_CODES = [*range(0, 5001), 5001, 6000, 9999, 32768, 65534, 65535]


def test_close_code_members():
    assert issubclass(CloseCode, int)
    assert {m.name: m.value for m in CloseCode} == {
        "NORMAL_CLOSURE": 1000, "GOING_AWAY": 1001, "PROTOCOL_ERROR": 1002, "UNSUPPORTED_DATA": 1003,
        "NO_STATUS_RCVD": 1005, "ABNORMAL_CLOSURE": 1006, "INVALID_DATA": 1007, "POLICY_VIOLATION": 1008,
        "MESSAGE_TOO_BIG": 1009, "MANDATORY_EXTENSION": 1010, "INTERNAL_ERROR": 1011,
        "SERVICE_RESTART": 1012, "TRY_AGAIN_LATER": 1013, "BAD_GATEWAY": 1014, "TLS_HANDSHAKE": 1015,
    }
    with pytest.raises(ValueError):
        CloseCode(1004)  # reserved: no member


def test_valid_close_code_set():
    # the set the contract names: 1000-1003, 1007-1014, 3000-4999
    assert VALID_CLOSE_CODES == set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))


# ---------------------------------------------------------------------------
# Every code, every entry point
# ---------------------------------------------------------------------------

def test_parse_close_every_code(twin):
    wrong = []
    for code in ALL_CODES:
        payload = code.to_bytes(2, "big") + b"ok"
        try:
            got = twin.parse_close(payload)
        except ProtocolError as exc:
            assert type(exc) is ProtocolError
            if code in VALID_CLOSE_CODES:
                wrong.append((code, "raised ProtocolError"))
        else:
            if code not in VALID_CLOSE_CODES:
                wrong.append((code, f"returned {got!r}"))
            elif got != (code, "ok") or type(got[0]) not in (int, CloseCode) or type(got[1]) is not str:
                wrong.append((code, f"returned {got!r}"))
    assert wrong == [], f"{len(wrong)} codes misclassified, first: {wrong[:10]}"


def test_encode_close_every_code(twin):
    wrong = []
    for code in ALL_CODES:
        try:
            got = twin.encode_close(code)
            got_reason = twin.encode_close(code, "bye")
        except ValueError:
            if code in VALID_CLOSE_CODES:
                wrong.append((code, "raised ValueError"))
        else:
            if code not in VALID_CLOSE_CODES:
                wrong.append((code, f"returned {got!r}"))
            elif got != code.to_bytes(2, "big") or got_reason != code.to_bytes(2, "big") + b"bye":
                wrong.append((code, f"returned {got!r} / {got_reason!r}"))
    assert wrong == [], f"{len(wrong)} codes misclassified, first: {wrong[:10]}"


@pytest.mark.parametrize("client", [False, True], ids=["server", "client"])
def test_frame_encoder_close_every_code(twin, client):
    enc = twin.FrameEncoder(client=client)
    wrong = []
    for code in ALL_CODES:
        try:
            wire = enc.close(code, "r")
        except ValueError:
            if code in VALID_CLOSE_CODES:
                wrong.append((code, "raised ValueError"))
        else:
            if code not in VALID_CLOSE_CODES:
                wrong.append((code, "encoded"))
            elif not client and wire != frame(CLOSE, close_payload(code, b"r")):
                wrong.append((code, f"wire {wire!r}"))
    assert wrong == [], f"{len(wrong)} codes misclassified, first: {wrong[:10]}"


@pytest.mark.parametrize("client", [False, True], ids=["server", "client"])
def test_message_decoder_close_every_code(twin, client):
    key = None if client else KEY
    wrong = []
    for code in ALL_CODES:
        payload = close_payload(code, b"why")
        dec = twin.MessageDecoder(client=client)
        try:
            got = [message_tuple(m) for m in dec.feed(frame(CLOSE, payload, key=key))]
        except ProtocolError as exc:
            if code in VALID_CLOSE_CODES or type(exc) is not ProtocolError or exc.close_code != 1002:
                wrong.append((code, f"raised {exc!r}"))
        else:
            if code not in VALID_CLOSE_CODES or got != [M(CLOSE, payload)]:
                wrong.append((code, f"returned {got!r}"))
    assert wrong == [], f"{len(wrong)} codes misclassified, first: {wrong[:10]}"


def test_frame_decoder_does_not_judge_close_codes(twin):
    # FrameDecoder is frame-level (API section 4): the close payload is a message rule
    dec = twin.FrameDecoder(client=True)
    data = b"".join(frame(CLOSE, close_payload(code)) for code in (0, 999, 1005, 1006, 1015, 2999, 5000, 65535))
    assert len(dec.feed(data)) == 8


# ---------------------------------------------------------------------------
# parse_close
# ---------------------------------------------------------------------------

def test_parse_close_empty(twin):
    assert twin.parse_close(b"") == (None, "")
    assert twin.parse_close(bytearray()) == (None, "")


def test_parse_close_values(twin):
    assert twin.parse_close(b"\x03\xe8") == (1000, "")
    assert twin.parse_close(b"\x03\xe9bye") == (1001, "bye")
    assert twin.parse_close(close_payload(4999, "\u00e9t\u00e9 \u20ac \U0001f600".encode())) == (
        4999, "\u00e9t\u00e9 \u20ac \U0001f600")
    code, reason = twin.parse_close(b"\x0b\xb8x")
    assert code == 3000 and isinstance(code, int) and type(reason) is str


def test_parse_close_one_byte(twin):
    for payload in (b"\x03", b"\x00", b"\xff"):
        with pytest.raises(ProtocolError):
            twin.parse_close(payload)


def test_parse_close_length_limit(twin):
    assert twin.parse_close(close_payload(1000, b"r" * 123)) == (1000, "r" * 123)  # 125 bytes
    for n in (124, 200, 70000):
        with pytest.raises(ProtocolError):
            twin.parse_close(close_payload(1000, b"r" * n))


@pytest.mark.parametrize(
    "reason",
    [b"\xff", b"ok\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ab\xe2\x82", b"\xe2"],
    ids=["ff", "lone-continuation", "overlong", "surrogate", "above-10ffff", "truncated-3", "truncated-lead"],
)
def test_parse_close_reason_not_utf8(twin, reason):
    with pytest.raises(InvalidDataError) as info:
        twin.parse_close(close_payload(1000, reason))
    assert type(info.value) is InvalidDataError and info.value.close_code == 1007


def test_parse_close_code_checked_before_reason(twin):
    # wire order: the code comes before the reason
    with pytest.raises(ProtocolError):
        twin.parse_close(close_payload(1005, b"\xff"))
    # and the length limit covers the whole payload
    with pytest.raises(ProtocolError):
        twin.parse_close(close_payload(1000, b"\xff" * 124))


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "memoryview-slice", "array-B", "mmap"])
def test_parse_close_buffer_types(twin, kind):
    payload = close_payload(1001, b"bye")
    if kind == "mmap":
        buf = mmap.mmap(-1, len(payload))
        buf.write(payload)
    else:
        buf = {
            "bytes": payload, "bytearray": bytearray(payload), "memoryview": memoryview(payload),
            "memoryview-slice": memoryview(b"z" + payload + b"z")[1:-1], "array-B": array.array("B", payload),
        }[kind]
    assert twin.parse_close(buf) == (1001, "bye")


def test_parse_close_type_errors(twin):
    for bad in ("\x03\xe8", 1000, None):
        with pytest.raises(TypeError):
            twin.parse_close(bad)
    with pytest.raises(BufferError):
        twin.parse_close(memoryview(b"\x03\x00\xe8\x00")[::2])


# ---------------------------------------------------------------------------
# encode_close
# ---------------------------------------------------------------------------

def test_encode_close_values(twin):
    assert twin.encode_close() == b"\x03\xe8"
    assert type(twin.encode_close()) is bytes
    assert twin.encode_close(1000) == b"\x03\xe8"
    assert twin.encode_close(None) == b""
    assert twin.encode_close(None, "") == b""
    assert twin.encode_close(1001, "bye") == b"\x03\xe9bye"
    assert twin.encode_close(CloseCode.INTERNAL_ERROR, "\u00e9") == b"\x03\xf3" + "\u00e9".encode()
    assert twin.encode_close(3000, "r" * 123) == close_payload(3000, b"r" * 123)
    assert twin.encode_close(4000, "\u20ac" * 41) == close_payload(4000, "\u20ac".encode() * 41)  # 125 bytes


@pytest.mark.parametrize(
    "args",
    [(1000, "r" * 124), (1000, "\u20ac" * 42), (1000, "\U0001f600" * 31 + "r"), (None, "x"), (None, " "),
     (-1, ""), (65536, ""), (1 << 70, ""), (1005, ""), (1006, ""), (1015, ""), (1004, ""), (0, ""), (5000, ""),
     (1000, "\ud800")],
    ids=["reason-124", "reason-126-utf8", "reason-125-plus-1", "reason-without-code", "space-without-code",
         "negative", "65536", "2**70", "1005", "1006", "1015", "1004", "0", "5000", "lone-surrogate"],
)
def test_encode_close_refuses(twin, args):
    with pytest.raises(ValueError):
        twin.encode_close(*args)


@pytest.mark.parametrize(
    "args",
    [("1000",), (1000.0,), (1000, b"bytes"), (1000, 5)],
    ids=["str-code", "float-code", "bytes-reason", "int-reason"],
)
def test_encode_close_type_errors(twin, args):
    with pytest.raises(TypeError):
        twin.encode_close(*args)


def test_close_round_trip(twin):
    for code in (1000, 1003, 1007, 1014, 3000, 4321, 4999):
        for reason in ("", "bye", "\u00e9t\u00e9", "\U0001f600" * 30, "x" * 123):
            payload = twin.encode_close(code, reason)
            assert twin.parse_close(payload) == (code, reason)
            dec = twin.MessageDecoder(client=True)
            assert [message_tuple(m) for m in dec.feed(frame(CLOSE, payload))] == [M(CLOSE, payload)]
    assert twin.parse_close(twin.encode_close(None)) == (None, "")


def test_message_decoder_close_payload_errors(twin):
    cases = [
        (b"\x03", ProtocolError),
        (close_payload(1000, b"\xff"), InvalidDataError),
        (close_payload(1005, b"\xff"), ProtocolError),
        (close_payload(1000, b"ok\xe2\x82"), InvalidDataError),
    ]
    for payload, cls in cases:
        dec = twin.MessageDecoder(client=True)
        with pytest.raises(cls) as info:
            dec.feed(frame(CLOSE, payload))
        assert type(info.value) is cls
        with pytest.raises(cls):
            dec.feed(b"")


def test_close_payload_over_125_is_a_frame_rule(twin):
    dec = twin.MessageDecoder(client=True, max_message_size=1 << 20)
    with pytest.raises(ProtocolError):
        dec.feed(frame(CLOSE, close_payload(1000, b"r" * 124)))
    # even with a tiny max_frame_size, a control length code 126 is a ProtocolError
    dec = twin.MessageDecoder(client=True, max_frame_size=10)
    with pytest.raises(ProtocolError):
        dec.feed(frame(CLOSE, close_payload(1000, b"r" * 124)))
    dec = twin.MessageDecoder(client=True, max_frame_size=10)
    with pytest.raises(MessageTooBigError):
        dec.feed(frame(CLOSE, close_payload(1000, b"r" * 20)))
