"""Differential fuzzing (hypothesis) of the frame and message decoders.

- Both twins get the same random input (valid streams, mutated streams, frames
  with random header fields, plain garbage) cut at the same random points, and
  must give identical results feed by feed: frames, messages, exception types,
  close codes and ``exc.decoded``.
- Each twin must agree with ``helpers.ref_decode``, a small non-streaming
  reference written from the contract, whatever the split points.
- Valid streams are built here by an independent generator (not wsfast's
  encoder); the decoders must give back exactly what was generated, and so must
  wsproto's ``FrameProtocol`` (skipped when wsproto is not installed).
"""

from __future__ import annotations

import os
from itertools import pairwise
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpers import (
    RefUtf8,
    chunk_at,
    feed_chunks,
    frame_tuple,
    message_tuple,
    ref_decode,
)
from vectors import (
    BINARY,
    CLOSE,
    CONT,
    KEY,
    PING,
    PONG,
    TEXT,
    VALID_CLOSE_CODES,
    F,
    M,
    close_payload,
    frame,
    header,
    pattern,
    xor_mask,
)
from wsfast.errors import InvalidDataError, MessageTooBigError, ProtocolError, WebSocketError

# Moderate by default (the frame suite stays well under a minute on 2 cores);
# WSFAST_FUZZ_EXAMPLES=5000 runs a deeper campaign.
_EXAMPLES = int(os.environ.get("WSFAST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SMALL = settings(max_examples=max(1, _EXAMPLES // 2), deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------
# Generators (independent of wsfast)
# ---------------------------------------------------------------------------

keys = st.binary(min_size=4, max_size=4)
# mostly small; one payload in ten crosses the 64-bit length boundary
data_payloads = st.integers(0, 9).flatmap(
    lambda k: st.integers(65530, 65545).map(pattern) if k == 0
    else st.binary(min_size=126, max_size=300) if k < 3
    else st.binary(max_size=130)
)
control_payloads = st.binary(max_size=125)


@st.composite
def valid_streams(draw: Any, masked: bool, *, allow_close: bool = True) -> tuple[bytes, list, list]:
    """A valid stream: (wire bytes, frames as F, messages as M with TEXT data as str)."""
    wire = bytearray()
    frames: list = []
    messages: list = []

    def emit(opcode: int, payload: bytes, fin: bool = True) -> None:
        key = draw(keys) if masked else None
        wire.extend(frame(opcode, payload, fin=fin, key=key))
        frames.append(F(opcode, fin, False, False, False, payload))

    def control() -> None:
        op = draw(st.sampled_from([PING, PONG]))
        payload = draw(control_payloads)
        emit(op, payload)
        messages.append(M(op, payload))

    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "binary", "control"]))
        if kind == "control":
            control()
            continue
        if kind == "text":
            text = draw(st.text(max_size=80))
            raw = text.encode("utf-8")
            data: Any = text
        else:
            raw = draw(data_payloads)
            data = raw
        cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=3)))
        bounds = [0, *cuts, len(raw)]
        pieces = [raw[a:b] for a, b in pairwise(bounds)]
        opcode = TEXT if kind == "text" else BINARY
        for i, piece in enumerate(pieces):
            emit(opcode if i == 0 else CONT, piece, fin=i == len(pieces) - 1)
            if i < len(pieces) - 1 and draw(st.booleans()):
                control()
        messages.append(M(opcode, data))
    if allow_close and draw(st.booleans()):
        if draw(st.booleans()):
            payload = b""
        else:
            code = draw(st.sampled_from(sorted(VALID_CLOSE_CODES)))
            reason = draw(st.text(max_size=30)).encode("utf-8")[:123]
            while not _utf8_ok(reason):
                reason = reason[:-1]
            payload = close_payload(code, reason)
        emit(CLOSE, payload)
        messages.append(M(CLOSE, payload))
    return bytes(wire), frames, messages


def _utf8_ok(raw: bytes) -> bool:
    check = RefUtf8()
    return check.feed(raw) is None and check.complete


@st.composite
def fuzz_frames(draw: Any) -> bytes:
    """Frames with random header fields: every rule gets broken sometimes."""
    wire = bytearray()
    for _ in range(draw(st.integers(1, 5))):
        opcode = draw(st.one_of(st.sampled_from([CONT, TEXT, BINARY, CLOSE, PING, PONG]), st.integers(0, 15)))
        fin = draw(st.booleans())
        rsv = draw(st.one_of(st.just(0), st.integers(0, 7)))
        kind = draw(st.sampled_from(["binary", "text", "bad-text", "close", "close-any"]))
        if kind == "binary":
            payload = draw(st.one_of(st.binary(max_size=140), st.integers(0, 300).map(pattern)))
        elif kind == "text":
            payload = draw(st.text(max_size=40)).encode()
        elif kind == "bad-text":
            payload = draw(st.binary(max_size=20)) + draw(st.sampled_from(
                [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90", b"\xe2\x82", b"\x80"])) + draw(st.binary(max_size=5))
        elif kind == "close":
            payload = close_payload(draw(st.integers(0, 5100)), draw(st.text(max_size=10)).encode())
        else:
            payload = draw(st.binary(max_size=4)) + draw(st.sampled_from([b"", b"\xff", b"ok"]))
        form = draw(st.sampled_from([None, None, None, 16, 64, "msb"]))
        length = len(payload)
        if form == "msb":
            length |= 1 << 63
            form = 64
        if form == 16 and length > 0xFFFF:
            form = None
        key = draw(st.one_of(st.none(), keys))
        h = header(opcode, length, fin=fin, rsv1=bool(rsv & 4), rsv2=bool(rsv & 2), rsv3=bool(rsv & 1),
                   key=key, form=form)
        wire += h + (xor_mask(payload, key) if key else payload)
    return bytes(wire)


@st.composite
def mutated_streams(draw: Any) -> bytes:
    masked = draw(st.booleans())
    wire, _, _ = draw(valid_streams(masked))
    wire = bytearray(wire)
    for _ in range(draw(st.integers(0, 4))):
        if not wire:
            break
        i = draw(st.integers(0, len(wire) - 1))
        wire[i] ^= draw(st.integers(1, 255))
    if wire and draw(st.booleans()):
        del wire[draw(st.integers(0, len(wire))):]
    return bytes(wire)


any_streams = st.one_of(
    st.binary(max_size=300),
    fuzz_frames(),
    mutated_streams(),
    st.booleans().flatmap(lambda m: valid_streams(m)).map(lambda t: t[0]),
)

frame_options = st.fixed_dictionaries({
    "client": st.booleans(),
    "max_frame_size": st.sampled_from([0, 1, 10, 125, 126, 200, 65535, 65536, 1 << 20]),
    "allow_rsv1": st.booleans(),
    "allow_rsv2": st.booleans(),
    "allow_rsv3": st.booleans(),
})
message_options = st.fixed_dictionaries({
    "client": st.booleans(),
    # max_frame_size None with max_message_size < 125 is covered by named vectors
    # (control frames do not count); keep the fuzzer clear of that reading.
    "max_message_size": st.sampled_from([125, 126, 200, 300, 65535, 65536, 1 << 20]),
    "max_frame_size": st.sampled_from([None, None, 0, 10, 125, 200, 1 << 20]),
    "decode_text": st.booleans(),
})
cut_lists = st.lists(st.integers(0, 70000), max_size=12)


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    n = len(data)
    return chunk_at(data, [c % (n + 1) for c in cuts])


# ---------------------------------------------------------------------------
# Twin against twin
# ---------------------------------------------------------------------------

def _run(decoder: Any, chunks: list[bytes], convert: Any) -> list:
    """Per-feed results, plus the result of one more feed after a failure."""
    out = feed_chunks(decoder, chunks, convert)
    results = list(out.per_feed)
    if out.error is not None:
        try:
            decoder.feed(b"\x81\x00")
        except WebSocketError as exc:
            results.append(("after", type(exc), exc.close_code, list(exc.decoded)))
        else:
            results.append(("after", "no error"))
    return results


@FUZZ
@given(data=any_streams, cuts=cut_lists, options=frame_options)
def test_twins_agree_frames(both_twins, data, cuts, options):
    c, py = both_twins
    chunks = _cut(data, cuts)
    got_c = _run(c.FrameDecoder(**options), chunks, frame_tuple)
    got_py = _run(py.FrameDecoder(**options), chunks, frame_tuple)
    assert got_c == got_py


@FUZZ
@given(data=any_streams, cuts=cut_lists, options=message_options)
def test_twins_agree_messages(both_twins, data, cuts, options):
    c, py = both_twins
    chunks = _cut(data, cuts)
    got_c = _run(c.MessageDecoder(**options), chunks, message_tuple)
    got_py = _run(py.MessageDecoder(**options), chunks, message_tuple)
    assert got_c == got_py


# The queue path (test_message_queue.py): the same stream fed with
# _feed_queue, the queue's room drawn per feed.


class _Item(NamedTuple):
    kind: Any
    data: Any
    extra: Any


class _TextBytes(NamedTuple):
    kind: Any
    data: Any
    extra: Any


def _run_queue(decoder: Any, chunks: list[bytes], rooms: list[int]) -> tuple[list, list]:
    """Per feed: what it queued, what it returned (or its error), and
    ``_last_feed()``; and everything queued, in order."""
    queued: list = []
    decoder._set_queue(lambda item, size: queued.append((type(item).__name__, *item, size)),
                       128, "T", "B", "", _Item, _TextBytes)
    results = []
    for i, chunk in enumerate(chunks):
        before = len(queued)
        try:
            rest: Any = [message_tuple(x) for x in decoder._feed_queue(chunk, rooms[i % len(rooms)])]
        except WebSocketError as exc:
            rest = ("error", type(exc), exc.close_code, [message_tuple(x) for x in exc.decoded])
        results.append((queued[before:], rest, decoder._last_feed()))
        if isinstance(rest, tuple):
            break
    return results, queued


@FUZZ
@given(data=any_streams, cuts=cut_lists, options=message_options,
       rooms=st.lists(st.integers(-1, 2000), min_size=1, max_size=4))
def test_twins_agree_on_the_queue_path(both_twins, data, cuts, options, rooms):
    c, py = both_twins
    chunks = _cut(data, cuts)
    got_c, _ = _run_queue(c.MessageDecoder(**options), chunks, rooms)
    got_py, _ = _run_queue(py.MessageDecoder(**options), chunks, rooms)
    assert got_c == got_py
    # And the queue path decodes what feed() does: the queued messages and
    # the returned ones, in order, are feed()'s.
    plain = feed_chunks(c.MessageDecoder(**options), chunks, message_tuple)
    together = []
    for items, rest, _last in got_c:
        together += [M(TEXT if kind == "T" else BINARY, value) for _cls, kind, value, _x, _n in items]
        together += rest[3] if isinstance(rest, tuple) else rest
    assert together == plain.items


def _idle_reference(frames: list[tuple[int, int, bool]], chunks: list[bytes]) -> list[tuple[int, int]]:
    """``(idle_end, since_idle)`` per feed, from the frames' (end offset,
    opcode, fin): a frame completes in the feed that brings its last byte."""
    out = []
    start = 0
    at = 0
    open_message = False
    for chunk in chunks:
        end = start + len(chunk)
        idle, since = -1, 0
        while at < len(frames) and frames[at][0] <= end:
            stop, opcode, fin = frames[at]
            at += 1
            if opcode >= 8 or fin:
                since += 1
            if opcode < 8:
                open_message = not fin
            if opcode == CLOSE:
                at = len(frames)  # nothing is read after a CLOSE (not an idle point)
                break
            if not open_message:
                idle, since = stop - start, 0
        out.append((idle, since))
        start = end
    return out


@FUZZ
@given(stream=st.booleans().flatmap(lambda m: valid_streams(m)), cuts=cut_lists,
       client_side=st.booleans())
def test_idle_points_match_the_frames(twin, stream, cuts, client_side):
    wire, frames, _messages = stream
    masked = len(wire) > 1 and bool(wire[1] & 0x80)
    ends = []
    pos = 0
    for f in frames:
        pos += len(frame(f.opcode, f.payload, fin=f.fin, key=b"kkkk" if masked else None))
        ends.append((pos, f.opcode, f.fin))
    chunks = _cut(wire, cuts)
    got, _ = _run_queue(twin.MessageDecoder(client=not masked, max_message_size=None),
                        chunks, [1 << 30])
    assert [last[1:] for _q, _r, last in got] == _idle_reference(ends, chunks)


# Long single-frame texts, mostly Latin-1, sometimes wider or broken, for the
# compiled twin's UCS1 mode (switched on for every size here).
_latin_heavy = st.text(
    alphabet=st.sampled_from(["a", " ", "\u00e9", "\u00ff", "\u0080", "\u20ac", "\u65e5",
                              "\U0001f600"]),
    max_size=3000,
).map(lambda t: t * 12)


@FUZZ_SMALL
@given(text=_latin_heavy, damage=st.one_of(st.none(), st.tuples(st.integers(0), st.binary(
    min_size=1, max_size=2))), cuts=cut_lists, masked=st.booleans())
def test_twins_agree_on_long_text(both_twins, text, damage, cuts, masked):
    c, py = both_twins
    raw = text.encode()
    if damage is not None:  # replace a few bytes: often invalid UTF-8 then
        at = damage[0] % (len(raw) + 1)
        raw = raw[:at] + damage[1] + raw[at + len(damage[1]) :]
    key = KEY if masked else None
    chunks = _cut(frame(TEXT, raw, key=key) + frame(TEXT, b"\xc3\xa9", key=key), cuts)
    previous = c.modules["_frames"]._set_ucs1_direct_from(0)
    try:
        got_c = _run(c.MessageDecoder(client=not masked, max_message_size=None), chunks,
                     message_tuple)
    finally:
        c.modules["_frames"]._set_ucs1_direct_from(previous)
    got_py = _run(py.MessageDecoder(client=not masked, max_message_size=None), chunks,
                  message_tuple)
    assert got_c == got_py


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except (WebSocketError, ValueError, TypeError, BufferError) as exc:
        return ("error", type(exc), getattr(exc, "close_code", None))


@FUZZ
@given(data=st.one_of(st.binary(max_size=16), fuzz_frames().map(lambda b: b[:16])), offset=st.integers(-2, 18))
def test_twins_agree_parse_header(both_twins, data, offset):
    c, py = both_twins
    a = _outcome(lambda: c.parse_header(data, offset))
    b = _outcome(lambda: py.parse_header(data, offset))
    assert a == b


@FUZZ
@given(payload=st.one_of(st.binary(max_size=130), st.builds(close_payload, st.integers(0, 65535),
                                                            st.binary(max_size=10))))
def test_twins_agree_parse_close(both_twins, payload):
    c, py = both_twins
    assert _outcome(lambda: c.parse_close(payload)) == _outcome(lambda: py.parse_close(payload))


@FUZZ
@given(
    opcode=st.integers(-1, 16),
    payload=st.one_of(st.binary(max_size=130), st.integers(0, 300).map(pattern)),
    fin=st.booleans(),
    rsv=st.integers(0, 7),
    key=st.one_of(st.none(), st.binary(min_size=3, max_size=5)),
)
def test_twins_agree_encoders(both_twins, opcode, payload, fin, rsv, key):
    c, py = both_twins
    kw = dict(fin=fin, rsv1=bool(rsv & 4), rsv2=bool(rsv & 2), rsv3=bool(rsv & 1), mask_key=key)
    assert _outcome(lambda: c.encode_frame(opcode, payload, **kw)) == _outcome(
        lambda: py.encode_frame(opcode, payload, **kw))
    assert _outcome(lambda: c.encode_header(opcode, len(payload), **kw)) == _outcome(
        lambda: py.encode_header(opcode, len(payload), **kw))


@FUZZ_SMALL
@given(code=st.one_of(st.none(), st.integers(-5, 70000)), reason=st.text(max_size=70))
def test_twins_agree_encode_close(both_twins, code, reason):
    c, py = both_twins
    assert _outcome(lambda: c.encode_close(code, reason)) == _outcome(lambda: py.encode_close(code, reason))


# ---------------------------------------------------------------------------
# Each twin against the reference decoder
# ---------------------------------------------------------------------------

def _check_against_reference(twin: Any, kind: str, data: bytes, chunks: list[bytes], options: dict) -> None:
    if kind == "frames":
        decoder, convert = twin.FrameDecoder(**options), frame_tuple
    else:
        decoder, convert = twin.MessageDecoder(**options), message_tuple
    out = feed_chunks(decoder, chunks, convert)
    ref = ref_decode(data, kind, **options)
    assert out.items == ref.items
    if ref.uncertain and ref.error is None:
        # the stream stops where a decoder may already know of a violation
        assert out.error in (None, ProtocolError, MessageTooBigError, InvalidDataError)
    else:
        assert out.error is ref.error
    if out.error is not None:
        assert out.close_code == out.error.close_code


@FUZZ
@given(data=any_streams, cuts=cut_lists, options=frame_options)
def test_frames_match_reference(twin, data, cuts, options):
    _check_against_reference(twin, "frames", data, _cut(data, cuts), options)


@FUZZ
@given(data=any_streams, cuts=cut_lists, options=message_options)
def test_messages_match_reference(twin, data, cuts, options):
    _check_against_reference(twin, "messages", data, _cut(data, cuts), options)


# ---------------------------------------------------------------------------
# Valid streams: the generator's frames and messages, and wsproto's
# ---------------------------------------------------------------------------

def _wsproto_messages(data: bytes, client: bool) -> list:
    from wsproto.frame_protocol import FrameProtocol

    proto = FrameProtocol(client=client, extensions=[])
    proto.receive_bytes(data)
    out: list = []
    buf: Any = None
    op = None
    for f in proto.received_frames():
        opcode = int(f.opcode)
        if opcode in (PING, PONG):
            out.append(M(opcode, bytes(f.payload)))
        elif opcode == CLOSE:
            code, reason = f.payload
            out.append(M(CLOSE, (int(code), reason)))
        else:
            if buf is None:
                op = opcode
                buf = f.payload if isinstance(f.payload, str) else bytes(f.payload)
            else:
                buf += f.payload if isinstance(f.payload, str) else bytes(f.payload)
            if f.message_finished:
                out.append(M(op, buf))
                buf = None
    return out


def _wsproto_knows(messages: list) -> bool:
    """wsproto 1.3 refuses close code 1014 (BAD_GATEWAY, IANA-registered, valid per
    the contract): leave such streams out of the wsproto comparison."""
    return not any(m.opcode == CLOSE and m.data[:2] == b"\x03\xf6" for m in messages)


def _close_as_pair(m: M) -> M:
    if m.opcode != CLOSE:
        return m
    if not m.data:
        return M(CLOSE, (1005, ""))
    return M(CLOSE, (int.from_bytes(m.data[:2], "big"), m.data[2:].decode("utf-8")))


@FUZZ
@given(st.data())
def test_valid_streams_decode_to_what_was_generated(twin, data):
    client = data.draw(st.booleans(), label="client")
    wire, frames, messages = data.draw(valid_streams(masked=not client), label="stream")
    cuts = data.draw(cut_lists, label="cuts")
    chunks = _cut(wire, cuts)
    out = feed_chunks(twin.FrameDecoder(client=client), chunks, frame_tuple)
    assert out.error is None and out.items == frames
    out = feed_chunks(twin.MessageDecoder(client=client), chunks, message_tuple)
    assert out.error is None and out.items == messages
    raw = feed_chunks(twin.MessageDecoder(client=client, decode_text=False), chunks, message_tuple)
    assert raw.items == [M(m.opcode, m.data.encode() if m.opcode == TEXT else m.data) for m in messages]


@FUZZ_SMALL
@given(st.data())
def test_valid_streams_match_wsproto(twin, data):
    pytest.importorskip("wsproto")
    client = data.draw(st.booleans(), label="client")
    wire, _, messages = data.draw(valid_streams(masked=not client), label="stream")
    assume(_wsproto_knows(messages))
    cuts = data.draw(cut_lists, label="cuts")
    out = feed_chunks(twin.MessageDecoder(client=client), _cut(wire, cuts), message_tuple)
    assert out.error is None
    assert [_close_as_pair(m) for m in out.items] == _wsproto_messages(wire, client)


@FUZZ_SMALL
@given(st.data())
def test_reference_decoder_matches_wsproto(data):
    """The oracle itself: ref_decode agrees with wsproto on valid streams."""
    pytest.importorskip("wsproto")
    client = data.draw(st.booleans(), label="client")
    wire, frames, messages = data.draw(valid_streams(masked=not client), label="stream")
    ref = ref_decode(wire, "messages", client=client, max_frame_size=None)
    assert ref.error is None and ref.items == messages
    assume(_wsproto_knows(messages))
    assert [_close_as_pair(m) for m in ref.items] == _wsproto_messages(wire, client)
    ref = ref_decode(wire, "frames", client=client)
    assert ref.error is None and ref.items == frames


@FUZZ_SMALL
@given(data=st.binary(max_size=200), cuts=cut_lists)
def test_reference_utf8_matches_python(data, cuts):
    """The oracle's UTF-8 check: same verdict as Python's strict codec, fail-fast."""
    check = RefUtf8()
    bad_at = None
    fed = 0
    for piece in _cut(data, cuts):
        i = check.feed(piece)
        if i is not None:
            bad_at = fed + i
            break
        fed += len(piece)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert bad_at is not None or not check.complete
        if bad_at is not None:
            # everything before Python's invalid subpart is valid; the first bad
            # byte is inside that subpart (at most 4 bytes long)
            assert exc.start <= bad_at <= exc.start + 3
    else:
        assert bad_at is None and check.complete
