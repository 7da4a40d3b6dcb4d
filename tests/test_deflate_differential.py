"""Differential fuzzing (hypothesis) of permessage-deflate against the peers' own
extensions, over both twins.

Random messages, fragmented at random points, are compressed by one side and
received by the other, with every parameter set RFC 7692 allows (window bits
9-15, context takeover or not, either role):

- wsproto: its ``FrameProtocol`` with its ``PerMessageDeflate`` sends, and both
  wsfast's ``MessageDecoder`` and wsproto's own receiver must give back exactly
  what was sent; wsfast's ``FrameEncoder`` sends, and both receivers again must
  agree with what was sent.  The wire is cut at random points for each receiver.
- websockets: its ``PerMessageDeflate`` extension encodes frame by frame;
  ``MessageDecoder`` must give back what was sent, and websockets' extension
  must inflate what ``FrameEncoder`` sent.

The inputs stay within what the peers handle correctly (no size limits are
involved: their limit bugs are the subject of test_deflate_codec.py's bombs).
The engine-level interop with websockets is in test_pmd.py.
"""

from __future__ import annotations

import os
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsfast import PerMessageDeflate

_EXAMPLES = int(os.environ.get("WSFAST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=max(1, _EXAMPLES // 2), deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

# Text-like and binary messages: compressible runs, random bytes, empty ones.
_words = st.sampled_from(["alpha ", "beta ", "\u00e9t\u00e9 ", "\u2603 ", "\U0001f600 ", "{}", "0123"])
_text = st.lists(_words, max_size=400).map("".join)
_binary = st.one_of(st.binary(max_size=2000),
                    st.lists(st.sampled_from([b"\x00" * 64, b"ab", b"\xff\xfe", b"xyz" * 30]),
                             max_size=80).map(b"".join))
_message = st.one_of(_text, _binary)

#: (client_max_window_bits, client_no_context_takeover, server_max_window_bits,
#: server_no_context_takeover), as agreed in the handshake.
_params = st.tuples(st.integers(9, 15), st.booleans(), st.integers(9, 15), st.booleans())


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in pairwise([0, *points, len(data)])]


def _fragments(payload: bytes, cuts: list[int]) -> list[bytes]:
    """The payload in 1-4 fragments (an empty message is one empty frame)."""
    return _pieces(payload, cuts[:3]) if payload else [b""]


def _as_bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message


def _wsfast_params(p: tuple[int, bool, int, bool]) -> PerMessageDeflate:
    cbits, creset, sbits, sreset = p
    return PerMessageDeflate(client_max_window_bits=cbits, client_no_context_takeover=creset,
                             server_max_window_bits=sbits, server_no_context_takeover=sreset)


# --- wsproto ----------------------------------------------------------------------------


def _wsproto_pair(p: tuple[int, bool, int, bool]) -> tuple[Any, Any]:
    """wsproto's (client, server) FrameProtocols with deflate agreed on ``p``."""
    fp = pytest.importorskip("wsproto.frame_protocol")
    ext = pytest.importorskip("wsproto.extensions")
    cbits, creset, sbits, sreset = p
    response = (f"permessage-deflate; client_max_window_bits={cbits}; server_max_window_bits={sbits}"
                + "; client_no_context_takeover" * creset + "; server_no_context_takeover" * sreset)
    client = ext.PerMessageDeflate(client_max_window_bits=p[0], client_no_context_takeover=p[1],
                                   server_max_window_bits=p[2], server_no_context_takeover=p[3])
    client.finalize(response)
    server = ext.PerMessageDeflate()
    server.accept(response)
    return (fp.FrameProtocol(client=True, extensions=[client]),
            fp.FrameProtocol(client=False, extensions=[server]))


def _wsproto_receive(proto: Any, pieces: list[bytes]) -> list[tuple[int, bytes]]:
    """Messages (opcode, payload bytes) that wsproto's receiver assembles."""
    out: list[tuple[int, bytes]] = []
    buf = b""
    opcode = 0
    for piece in pieces:
        proto.receive_bytes(piece)
        for f in proto.received_frames():
            if int(f.opcode) in (1, 2):
                opcode = int(f.opcode)
            payload = f.payload.encode() if isinstance(f.payload, str) else bytes(f.payload)
            buf += payload
            if f.message_finished:
                out.append((opcode, buf))
                buf = b""
    return out


def _wsfast_receive(decoder: Any, pieces: list[bytes]) -> list[tuple[int, bytes]]:
    out = []
    for piece in pieces:
        out += [(m.opcode, _as_bytes(m.data)) for m in decoder.feed(piece)]
    return out


@FUZZ
@given(messages=st.lists(st.tuples(_message, st.lists(st.integers(0, 10**6), max_size=4)),
                         min_size=1, max_size=5),
       params=_params, cuts=st.lists(st.integers(0, 10**6), max_size=5))
def test_wsproto_sends_both_receive(twin, messages, params, cuts):
    sender, wsproto_server = _wsproto_pair(params)
    wire = b""
    expected = []
    for message, frag_cuts in messages:
        # wsproto sends a str as TEXT and bytes as BINARY; a text message is
        # cut between characters (each fragment is a str).
        parts: list[Any] = (_fragments(message, frag_cuts) if isinstance(message, bytes)
                            else [message[a:b] for a, b in pairwise(
                                [0, *sorted({c % (len(message) + 1) for c in frag_cuts[:3]}),
                                 len(message)])] or [""])
        for i, part in enumerate(parts):
            wire += sender.send_data(part, fin=i == len(parts) - 1)
        expected.append((1 if isinstance(message, str) else 2, _as_bytes(message)))
    pieces = _pieces(wire, cuts)
    decoder = twin.MessageDecoder(deflate=_wsfast_params(params), max_message_size=None)
    assert _wsfast_receive(decoder, pieces) == expected
    assert _wsproto_receive(wsproto_server, pieces) == expected


@FUZZ
@given(messages=st.lists(st.tuples(_message, st.lists(st.integers(0, 10**6), max_size=4)),
                         min_size=1, max_size=5),
       params=_params, cuts=st.lists(st.integers(0, 10**6), max_size=5),
       level=st.integers(1, 9), threshold=st.sampled_from([0, 64]))
def test_wsfast_sends_both_receive(twin, messages, params, cuts, level, threshold):
    _, wsproto_server = _wsproto_pair(params)
    encoder = twin.FrameEncoder(client=True, deflate=_wsfast_params(params),
                                compression_level=level, compress_threshold=threshold)
    wire = b""
    expected = []
    for message, frag_cuts in messages:
        opcode = 1 if isinstance(message, str) else 2
        parts = _fragments(_as_bytes(message), frag_cuts)
        send = encoder.text if opcode == 1 else encoder.binary
        wire += send(parts[0], fin=len(parts) == 1)
        for i, part in enumerate(parts[1:], 2):
            wire += encoder.continuation(part, fin=i == len(parts))
        expected.append((opcode, _as_bytes(message)))
    pieces = _pieces(wire, cuts)
    decoder = twin.MessageDecoder(deflate=_wsfast_params(params), max_message_size=None)
    assert _wsfast_receive(decoder, pieces) == expected
    assert _wsproto_receive(wsproto_server, pieces) == expected


# --- websockets -------------------------------------------------------------------------


def _websockets() -> tuple[Any, Any]:
    frames = pytest.importorskip("websockets.frames")
    pmd = pytest.importorskip("websockets.extensions.permessage_deflate")
    return frames, pmd


@FUZZ
@given(messages=st.lists(st.tuples(_message, st.lists(st.integers(0, 10**6), max_size=4)),
                         min_size=1, max_size=5),
       params=_params, cuts=st.lists(st.integers(0, 10**6), max_size=5))
def test_websockets_sends_wsfast_receives(twin, messages, params, cuts):
    frames, pmd = _websockets()
    cbits, creset, sbits, sreset = params
    # The client's extension: it compresses with the client's window and reset.
    theirs = pmd.PerMessageDeflate(sreset, creset, sbits, cbits)
    wire = b""
    expected = []
    for message, frag_cuts in messages:
        opcode = frames.Opcode.TEXT if isinstance(message, str) else frames.Opcode.BINARY
        parts = _fragments(_as_bytes(message), frag_cuts)
        for i, part in enumerate(parts):
            f = theirs.encode(frames.Frame(opcode if i == 0 else frames.Opcode.CONT, part,
                                           fin=i == len(parts) - 1))
            wire += twin.encode_frame(int(f.opcode), f.data, fin=f.fin, rsv1=f.rsv1,
                                      mask_key=b"\x01\x02\x03\x04")
        expected.append((int(opcode), _as_bytes(message)))
    decoder = twin.MessageDecoder(deflate=_wsfast_params(params), max_message_size=None)
    assert _wsfast_receive(decoder, _pieces(wire, cuts)) == expected


@FUZZ
@given(messages=st.lists(st.tuples(_message, st.lists(st.integers(0, 10**6), max_size=4)),
                         min_size=1, max_size=5),
       params=_params, level=st.integers(1, 9))
def test_wsfast_sends_websockets_receives(twin, messages, params, level):
    frames, pmd = _websockets()
    cbits, creset, sbits, sreset = params
    # The client's extension, receiving what the server (wsfast) compresses.
    theirs = pmd.PerMessageDeflate(sreset, creset, sbits, cbits)
    encoder = twin.FrameEncoder(deflate=_wsfast_params(params), compression_level=level)
    decoder = twin.FrameDecoder(client=True, allow_rsv1=True, max_frame_size=None)
    for message, frag_cuts in messages:
        opcode = 1 if isinstance(message, str) else 2
        parts = _fragments(_as_bytes(message), frag_cuts)
        send = encoder.text if opcode == 1 else encoder.binary
        wire = send(parts[0], fin=len(parts) == 1)
        for i, part in enumerate(parts[1:], 2):
            wire += encoder.continuation(part, fin=i == len(parts))
        got = b""
        for f in decoder.feed(wire):
            out = theirs.decode(frames.Frame(frames.Opcode(f.opcode), f.payload, fin=f.fin,
                                             rsv1=f.rsv1), max_size=None)
            got += bytes(out.data)
        assert got == _as_bytes(message)
