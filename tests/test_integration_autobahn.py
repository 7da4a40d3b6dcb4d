"""autobahn patched with wsfast behaves exactly as autobahn does, only faster.

The reference is autobahn's own pure-Python masker and validator (what
``AUTOBAHN_USE_NVX=0`` selects), loaded from autobahn's installed sources: its
validator gives the exact failure positions the adapter must reproduce (NVX
gives approximate ones).  Each test runs the adapters on both wsfast twins.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import types
from collections.abc import Iterator
from typing import Any

import pytest

import wsfast
from helpers import StackPatch
from wsfast.integrations import autobahn as integration

pytest.importorskip("autobahn")
import autobahn.websocket  # noqa: E402
import autobahn.websocket.protocol as ab_protocol  # noqa: E402
import autobahn.websocket.utf8validator as ab_utf8validator  # noqa: E402
import autobahn.websocket.xormasker as ab_xormasker  # noqa: E402

# --- applying the patch ---------------------------------------------------------------


_PATCH = StackPatch(integration.STACK)


def _apply() -> None:
    """Patch autobahn through wsfast.patch(); it must be accelerated."""
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
    """autobahn patched (on ``codec``) for the test, restored after it."""
    _apply()
    try:
        yield
    finally:
        _restore()


_ABSENT = object()


def _load_pure(name: str) -> types.ModuleType:
    """autobahn's ``autobahn/websocket/<name>.py`` as it is without NVX."""
    path = os.path.join(os.path.dirname(autobahn.websocket.__file__), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_wsfast_test_autobahn_pure_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # autobahn >= 25 reads USES_NVX when the module runs (older ones have no NVX here).
    uses_nvx = vars(autobahn.websocket).get("USES_NVX", _ABSENT)
    autobahn.websocket.USES_NVX = False  # type: ignore[attr-defined]
    try:
        spec.loader.exec_module(module)
    finally:
        if uses_nvx is _ABSENT:
            del autobahn.websocket.USES_NVX
        else:
            autobahn.websocket.USES_NVX = uses_nvx
    return module


PURE_MASKERS = _load_pure("xormasker")
PURE_UTF8 = _load_pure("utf8validator")
if not hasattr(PURE_UTF8.Utf8Validator, "decode"):  # pragma: no cover - autobahn changed
    pytest.skip("autobahn's pure-Python validator could not be loaded", allow_module_level=True)


# --- the masker ------------------------------------------------------------------------


def _xor(data: bytes, key: bytes, start: int = 0) -> bytes:
    return bytes(b ^ key[(start + i) % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("length", [None, 0, 5, 127, 128, 1000])
def test_masker_pieces_keep_the_key_phase(codec: Any, length: int | None) -> None:
    create = integration.make_masker_factory(codec)
    rng = random.Random(length)
    key = bytes(rng.randrange(256) for _ in range(4))
    payload = bytes(rng.randrange(256) for _ in range(300))
    for cuts in ([300], [1, 2, 3, 294], [7, 0, 100, 193], [4] * 75):
        masker = create(key, length)
        assert masker.pointer() == 0
        out, pos = [], 0
        for cut in cuts:
            piece = payload[pos : pos + cut]
            out.append(masker.process(piece))
            pos += cut
            assert masker.pointer() == pos
        assert b"".join(out) == _xor(payload, key)
        masker.reset()
        assert masker.pointer() == 0
        assert masker.process(payload[:9]) == _xor(payload[:9], key)


@pytest.mark.parametrize("length", [None, 16, 4096])
def test_masker_matches_autobahn_pure_and_installed(codec: Any, length: int | None) -> None:
    """Same bytes and pointers as autobahn's simple and shifted maskers (and NVX's)."""
    create = integration.make_masker_factory(codec)
    rng = random.Random(7)
    key = bytes(rng.randrange(256) for _ in range(4))
    installed = vars(ab_xormasker)["create_xor_masker"]
    if getattr(installed, "__module__", "").startswith("wsfast"):
        installed = PURE_MASKERS.create_xor_masker  # patched by someone: compare with pure
    references = [PURE_MASKERS.create_xor_masker(key, length), installed(key, length)]
    ours = create(key, length)
    for size in (0, 1, 3, 5, 17, 128, 1000, 1):
        data = bytes(rng.randrange(256) for _ in range(size))
        got = ours.process(data)
        assert type(got) is bytes
        for ref in references:
            assert ref.process(data) == got
            assert ref.pointer() == ours.pointer()


def test_masker_accepts_autobahn_inputs(codec: Any) -> None:
    create = integration.make_masker_factory(codec)
    key = bytearray(b"\x01\x02\x03\x04")
    assert create(key).process(bytearray(b"\x00" * 6)) == b"\x01\x02\x03\x04\x01\x02"
    assert create(memoryview(bytes(key))).process(memoryview(b"\xff")) == b"\xfe"


@pytest.mark.parametrize("key", [b"", b"abc", b"abcde"])
def test_masker_wrong_key_length_is_an_assertion_as_in_autobahn(codec: Any, key: bytes) -> None:
    with pytest.raises(AssertionError):
        PURE_MASKERS.create_xor_masker(key)
    with pytest.raises(AssertionError):
        integration.make_masker_factory(codec)(key)


# --- the validator ---------------------------------------------------------------------


def _quads(validator: Any, chunks: list[bytes]) -> list[tuple[bool, bool, int, int]]:
    return [tuple(validator.validate(chunk)) for chunk in chunks]


def _same_as_pure(codec: Any, chunks: list[bytes]) -> None:
    ours = integration.make_validator_class(codec)()
    ref = PURE_UTF8.Utf8Validator()
    assert _quads(ours, chunks) == _quads(ref, chunks), chunks
    ours.reset()
    ref.reset()
    assert _quads(ours, chunks[::-1]) == _quads(ref, chunks[::-1]), chunks[::-1]


def test_validator_every_sequence_of_one_and_two_bytes(codec: Any) -> None:
    """Whole and split in two chunks, with a valid prefix that shifts the indexes."""
    ours = integration.make_validator_class(codec)()
    ref = PURE_UTF8.Utf8Validator()
    for a in range(256):
        for b in range(256):
            chunks = [b"ab", bytes([a]), bytes([b])] if a & 1 else [bytes([a, b])]
            ours.reset()
            ref.reset()
            assert _quads(ours, chunks) == _quads(ref, chunks), chunks


# Lead bytes and the continuation bytes that sit on the edges of their ranges.
_EDGES = bytes([0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF])


def test_validator_edge_bytes_in_three_and_four_byte_sequences(codec: Any) -> None:
    ours = integration.make_validator_class(codec)()
    ref = PURE_UTF8.Utf8Validator()
    for seq in itertools.product(_EDGES, repeat=3):
        data = bytes(seq) + b"\x80z"
        for split in (len(data), 1, 2, 3):
            chunks = [data[:split], data[split:]]
            ours.reset()
            ref.reset()
            assert _quads(ours, chunks) == _quads(ref, chunks), chunks


def test_validator_random_text_and_damage_in_random_chunks(codec: Any) -> None:
    rng = random.Random(2024)
    alphabet = "aé€\U0001f600\u07ff\uffff\U0010ffff "
    for round_ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))).encode()
        if round_ % 2:
            data = bytearray(text)
            data[rng.randrange(len(data))] = rng.randrange(256)
            text = bytes(data)
        cuts = sorted(rng.randrange(len(text) + 1) for _ in range(rng.randrange(4)))
        chunks = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        _same_as_pure(codec, chunks + [b"", b"x"])


@pytest.mark.parametrize(
    "chunks, expected",
    [
        ([b"edited", b"\xed\xa0\x80"], [(True, True, 6, 6), (False, False, 1, 7)]),
        ([b"edit", b"ed\xed\xa0\x80"], [(True, True, 4, 4), (False, False, 3, 7)]),
        ([b"edited\xed", b"\xa0\x80"], [(True, False, 7, 7), (False, False, 0, 7)]),
        ([b"\xf0\x90", b"\x80", b"\x80!"], [(True, False, 2, 2), (True, False, 1, 3),
                                           (True, True, 2, 5)]),
        ([b"\xf5"], [(False, False, 0, 0)]),
        ([b"ok\xe2\x82A"], [(False, False, 4, 4)]),
        # After a failure: any byte fails at once, an empty chunk reads as valid.
        ([b"\xc0", b"abc", b""], [(False, False, 0, 0), (False, False, 0, 0),
                                  (True, False, 0, 0)]),
        ([b"", b"a"], [(True, True, 0, 0), (True, True, 1, 1)]),
    ],
    ids=["surrogate-after-prefix", "surrogate-inside-chunk", "surrogate-split",
         "4-byte-split-three-ways", "f5-never-valid", "truncated-then-ascii",
         "stays-failed", "empty-chunk"],
)
def test_validator_quads(codec: Any, chunks: list[bytes], expected: list[Any]) -> None:
    assert _quads(integration.make_validator_class(codec)(), chunks) == expected
    assert _quads(PURE_UTF8.Utf8Validator(), chunks) == expected


def test_validator_passes_autobahns_own_corpus_and_incremental_test(codec: Any) -> None:
    """autobahn's UTF-8 test cases (its nvx validator test), with exact positions."""
    suite = pytest.importorskip("autobahn.nvx.test.test_nvx_utf8validator")
    validator_class = integration.make_validator_class(codec)
    case = suite.TestNvxUtf8Validator("test_standard_utf8validator")
    case.setUp()
    assert len(case._TEST_SEQUENCES) > 1000
    case._test_utf8(validator_class())
    case._test_utf8_incremental(validator_class(), withPositions=True)


def test_validator_reset_forgets_a_failure_and_a_partial_code_point(codec: Any) -> None:
    validator = integration.make_validator_class(codec)()
    assert validator.validate(b"a\xe2\x82") == (True, False, 3, 3)
    validator.reset()
    assert validator.validate(b"\xac") == (False, False, 0, 0)
    validator.reset()
    assert validator.validate(b"\xe2\x82\xac") == (True, True, 3, 3)


# --- the patch -------------------------------------------------------------------------

_BINDINGS = [
    (ab_protocol, "create_xor_masker"),
    (ab_protocol, "Utf8Validator"),
    (ab_xormasker, "create_xor_masker"),
    (ab_utf8validator, "Utf8Validator"),
]


def test_patch_replaces_every_binding_and_unpatch_restores_them(codec: Any) -> None:
    originals = [vars(owner)[name] for owner, name in _BINDINGS]
    _apply()
    try:
        for (owner, name), original in zip(_BINDINGS, originals, strict=True):
            assert vars(owner)[name] is not original
            assert vars(owner)[name].__module__ == integration.__name__
        assert integration.STACK in wsfast.patched()
    finally:
        _restore()
    for (owner, name), original in zip(_BINDINGS, originals, strict=True):
        assert vars(owner)[name] is original


def test_only_the_pure_twin_declines_against_nvx(monkeypatch: pytest.MonkeyPatch) -> None:
    """NVX masks large frames faster than the pure twin: then autobahn is left alone."""
    monkeypatch.setattr(wsfast, "IMPLEMENTATION", "python")
    monkeypatch.setattr(autobahn.websocket, "USES_NVX", True, raising=False)
    with pytest.raises(Exception, match="pure-Python twin"):
        integration.targets()
    originals = [vars(owner)[name] for owner, name in _BINDINGS]
    with pytest.warns(RuntimeWarning, match="pure-Python twin"):
        result = wsfast.patch(integration.STACK)
    assert result[integration.STACK].startswith("not accelerated")
    assert [vars(owner)[name] for owner, name in _BINDINGS] == originals
    # Against autobahn's own pure-Python helpers the pure twin is used.
    monkeypatch.setattr(autobahn.websocket, "USES_NVX", False, raising=False)
    assert len(integration.targets()) == len(_BINDINGS)


def test_describe_names_version_and_twin() -> None:
    line = integration.describe()
    assert autobahn.__version__ in line and wsfast.IMPLEMENTATION in line
    assert "\n" not in line


# --- a protocol, patched and as autobahn is --------------------------------------------

twisted_ws = pytest.importorskip("autobahn.twisted.websocket")
from autobahn.testutil import FakeTransport  # noqa: E402
from twisted.internet.error import ConnectionDone  # noqa: E402
from twisted.python.failure import Failure  # noqa: E402

HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class _Server(twisted_ws.WebSocketServerProtocol):  # type: ignore[misc]
    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        self.events.append(("message", payload, isBinary))

    def onPing(self, payload: bytes) -> None:  # noqa: N802
        self.events.append(("ping", payload))
        super().onPing(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.events.append(("close", wasClean, code, reason))


def _server() -> Any:
    factory = twisted_ws.WebSocketServerFactory()
    factory.setProtocolOptions(failByDrop=False, maxMessagePayloadSize=0)
    proto = _Server()
    proto.events = []
    proto.factory = factory
    proto.transport = FakeTransport()
    proto.connectionMade()
    proto.dataReceived(HANDSHAKE)
    assert proto.state == proto.STATE_OPEN
    return proto


def _frame(opcode: int, payload: bytes, fin: bool = True, key: bytes = b"\x8a\x01\x7f\x33") -> bytes:
    return wsfast.encode_frame(opcode, payload, fin=fin, mask_key=key)


def _observe(stream: bytes, cuts: list[int]) -> Any:
    proto = _server()
    pieces = [stream[i:j] for i, j in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    for piece in pieces:
        if proto.state != proto.STATE_OPEN and proto.state != proto.STATE_CLOSING:
            break
        proto.dataReceived(piece)
    if proto.state == proto.STATE_CLOSED or proto.transport._written:
        proto.connectionLost(Failure(ConnectionDone()))
    return (proto.events, proto.transport._written, proto.state, proto.localCloseCode,
            proto.localCloseReason, proto.remoteCloseCode, proto.remoteCloseReason,
            proto.wasClean)


_TEXT = "grüße € \U0001f600 ".encode() * 20
STREAMS = {
    "text-binary-ping-close": _frame(1, _TEXT) + _frame(2, bytes(range(256)) * 3)
    + _frame(9, b"hi") + _frame(8, b"\x03\xe8bye \xc3\xa9"),
    "fragmented-text-split-in-code-points": _frame(1, _TEXT[:5], fin=False)
    + _frame(0, _TEXT[5:301], fin=False) + _frame(0, _TEXT[301:]) + _frame(8, b"\x03\xe8"),
    "invalid-utf8-late-in-message": _frame(1, _TEXT[:50] + b"\xed\xa0\x80" + _TEXT[:9]),
    "invalid-utf8-in-second-fragment": _frame(1, _TEXT[:10], fin=False)
    + _frame(0, b"abc\xc0\xafz") + _frame(8, b""),
    "text-ends-inside-code-point": _frame(1, _TEXT[:7] + "€".encode()[:2]),
    "invalid-close-reason": _frame(1, b"x") + _frame(8, b"\x03\xe8\xff"),
    "close-reason-ends-inside-code-point": _frame(8, b"\x03\xe8ok\xe2\x82"),
    "big-text": _frame(1, _TEXT * 300) + _frame(8, b"\x03\xe8"),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_server_protocol_same_events_and_wire_bytes(codec: Any, name: str) -> None:
    """Against autobahn's pure-Python helpers: same events, bytes sent, close codes, reasons."""
    stream = STREAMS[name]
    rng = random.Random(name)
    splits = [[], [1], list(range(1, len(stream), max(1, len(stream) // 40)))]
    splits += [sorted(rng.sample(range(1, len(stream)), 3)) for _ in range(3)]
    pure = [(ab_protocol, "create_xor_masker", PURE_MASKERS.create_xor_masker),
            (ab_protocol, "Utf8Validator", PURE_UTF8.Utf8Validator)]
    originals = [(owner, attr, vars(owner)[attr]) for owner, attr, _ in pure]
    try:
        for owner, attr, value in pure:
            setattr(owner, attr, value)
        reference = [_observe(stream, cuts) for cuts in splits]
    finally:
        for owner, attr, value in originals:
            setattr(owner, attr, value)
    _apply()
    try:
        got = [_observe(stream, cuts) for cuts in splits]
    finally:
        _restore()
    assert got == reference
    assert reference[0][0], "the stream produced no event at all"


def test_client_protocol_sends_the_same_masked_bytes(codec: Any) -> None:
    """Messages, frames and a streamed message sent by a client (masked), seeded alike."""

    def send_all() -> bytes:
        factory = twisted_ws.WebSocketClientFactory("ws://localhost/")
        proto = twisted_ws.WebSocketClientProtocol()
        proto.factory = factory
        proto.transport = FakeTransport()
        proto._connectionMade()
        proto.state = proto.STATE_OPEN
        proto.websocket_version = 13
        proto.transport._written = b""  # the opening handshake has a random key
        random.seed(99)  # autobahn draws its masking keys from random.getrandbits
        proto.sendMessage(_TEXT)
        proto.sendMessage(bytes(range(256)) * 500, isBinary=True)
        proto.sendMessage(b"", isBinary=True)
        proto.sendFrame(opcode=1, payload=b"frame", mask=b"\x01\x02\x03\x04")
        proto.beginMessage(isBinary=True)
        proto.beginMessageFrame(10)
        proto.sendMessageFrameData(b"01234")
        proto.sendMessageFrameData(b"56789")
        proto.endMessage()
        proto.sendClose(1000, "done")
        for call in (proto.autoPingPendingCall, proto.closeHandshakeTimeoutCall):
            if call is not None:
                call.cancel()
        return proto.transport._written  # type: ignore[no-any-return]

    reference = send_all()
    _apply()
    try:
        got = send_all()
    finally:
        _restore()
    assert got == reference
    assert len(got) > len(_TEXT) + 128000
