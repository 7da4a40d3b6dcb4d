"""Messages (API.md section 5) on both twins: assembly, sequencing, fail-fast
UTF-8, limits, CLOSE handling and bounded memory."""

from __future__ import annotations

import array
import gc
import mmap
import sys

import pytest

from helpers import (
    chunk_random,
    message_tuple,
)
from vectors import (
    BINARY,
    CLOSE,
    CONT,
    KEY,
    PING,
    PONG,
    RFC_MASKED_HELLO,
    RFC_UNMASKED_HELLO,
    TEXT,
    M,
    close_payload,
    frame,
    header,
    pattern,
    xor_mask,
)
from wsfast.errors import InvalidDataError, MessageTooBigError, ProtocolError

# ---------------------------------------------------------------------------
# Message objects
# ---------------------------------------------------------------------------


def _messages(twin, data: bytes, **options) -> list:
    options.setdefault("client", True)
    return twin.MessageDecoder(**options).feed(data)


def test_message_text_is_str(twin):
    (m,) = _messages(twin, frame(TEXT, "h\u00e9llo".encode()))
    assert m.opcode == TEXT and isinstance(m.opcode, int)
    assert type(m.data) is str and m.data == "h\u00e9llo"


def test_message_text_decode_text_false_is_bytes(twin):
    (m,) = _messages(twin, frame(TEXT, "h\u00e9llo".encode()), decode_text=False)
    assert m.opcode == TEXT
    assert type(m.data) is bytes and m.data == "h\u00e9llo".encode()


def test_message_decode_text_defaults_to_true(twin):
    (m,) = twin.MessageDecoder(client=True).feed(RFC_UNMASKED_HELLO)
    assert m.data == "Hello" and type(m.data) is str


def test_message_binary_ping_pong_close_are_bytes(twin):
    data = (frame(BINARY, b"\x00\xff") + frame(PING, b"p") + frame(PONG, b"") +
            frame(CLOSE, close_payload(1000, b"bye")))
    for decode_text in (True, False):
        got = _messages(twin, data, decode_text=decode_text)
        assert [int(m.opcode) for m in got] == [BINARY, PING, PONG, CLOSE]
        for m in got:
            assert type(m.data) is bytes
        assert [m.data for m in got] == [b"\x00\xff", b"p", b"", b"\x03\xe8bye"]


def test_message_close_data_is_raw_payload(twin):
    (m,) = _messages(twin, frame(CLOSE, close_payload(1001, "\u00e9t\u00e9".encode()), key=KEY), client=False)
    assert m.opcode == CLOSE
    assert m.data == b"\x03\xe9" + "\u00e9t\u00e9".encode()
    assert twin.parse_close(m.data) == (1001, "\u00e9t\u00e9")


@pytest.mark.parametrize("attr", ["opcode", "data"])
def test_message_is_read_only(twin, attr):
    (m,) = _messages(twin, RFC_UNMASKED_HELLO)
    with pytest.raises(AttributeError):
        setattr(m, attr, getattr(m, attr))
    assert message_tuple(m) == M(TEXT, "Hello")


def test_message_equality_by_value(twin):
    (a,) = _messages(twin, RFC_UNMASKED_HELLO)
    (b,) = _messages(twin, RFC_MASKED_HELLO, client=False)
    (c,) = _messages(twin, frame(TEXT, b"Hel", fin=False) + frame(CONT, b"lo"))
    assert a is not b
    assert a == b == c and not (a != b)
    (binary,) = _messages(twin, frame(BINARY, b"Hello"))
    (raw,) = _messages(twin, RFC_UNMASKED_HELLO, decode_text=False)
    (other,) = _messages(twin, frame(TEXT, b"Hellp"))
    (ping,) = _messages(twin, frame(PING, b"Hello"))
    assert a != binary and a != raw and a != other and binary != ping
    assert a != "Hello" and a != object()


# ---------------------------------------------------------------------------
# MessageDecoder: the named vectors, fed every way
# ---------------------------------------------------------------------------



# ---------------------------------------------------------------------------
# Fail-fast UTF-8: the feed that delivers the first bad byte raises
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("decode_text", [True, False])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_utf8_error_inside_incomplete_frame(twin, masked, decode_text):
    key = KEY if masked else None
    body = b"ab\xffcdefgh"
    wire = header(TEXT, len(body), key=key) + (xor_mask(body, key) if key else body)
    hlen = len(wire) - len(body)
    dec = twin.MessageDecoder(client=not masked, decode_text=decode_text)
    assert dec.feed(wire[: hlen + 2]) == []
    with pytest.raises(InvalidDataError) as info:
        dec.feed(wire[hlen + 2 : hlen + 3])  # the 0xFF byte, 6 payload bytes still to come
    assert info.value.close_code == 1007 and info.value.decoded == []
    with pytest.raises(InvalidDataError):
        dec.feed(wire[hlen + 3 :])


def test_utf8_error_in_first_fragment_before_fin(twin):
    dec = twin.MessageDecoder(client=True)
    with pytest.raises(InvalidDataError):
        dec.feed(frame(TEXT, b"a\xff", fin=False))  # the first fragment, FIN clear
    dec = twin.MessageDecoder(client=True)
    assert dec.feed(frame(TEXT, b"caf\xc3", fin=False)) == []  # a valid prefix
    with pytest.raises(InvalidDataError):
        dec.feed(frame(CONT, b"(", fin=False))  # C3 28: invalid, FIN still clear


def test_utf8_error_at_exact_byte_across_feeds(twin):
    # U+D800 (ED A0 80) is a surrogate: ED is fine alone, A0 makes it invalid
    dec = twin.MessageDecoder(client=True)
    wire = frame(TEXT, b"x\xed\xa0\x80y", fin=False)
    assert dec.feed(wire[:4]) == []  # header, "x", 0xED
    with pytest.raises(InvalidDataError):
        dec.feed(wire[4:5])


def test_utf8_error_at_exact_byte_across_fragments(twin):
    dec = twin.MessageDecoder(client=True)
    assert dec.feed(frame(TEXT, b"\xf4", fin=False)) == []
    second = frame(CONT, b"\x90\x80\x80")  # above U+10FFFF
    assert dec.feed(second[:2]) == []  # its header only
    with pytest.raises(InvalidDataError):
        dec.feed(second[2:3])


def test_utf8_code_point_split_across_fragments_and_feeds(twin):
    text = "a\u00e9\u20ac\U0001f600z"
    raw = text.encode()
    for cut in range(1, len(raw)):
        for cut2 in range(cut, len(raw)):
            stream = (frame(TEXT, raw[:cut], fin=False, key=KEY) + frame(PING, key=KEY)
                      + frame(CONT, raw[cut:cut2], fin=False, key=KEY) + frame(CONT, raw[cut2:], key=KEY))
            dec = twin.MessageDecoder()
            got = []
            for piece in chunk_random(stream, (cut, cut2)):
                got += [message_tuple(m) for m in dec.feed(piece)]
            assert got == [M(PING, b""), M(TEXT, text)], (cut, cut2)


@pytest.fixture(params=["default", "always"])
def ucs1_mode(request):
    """The compiled twin's UCS1 mode for single-frame text (MessageDecoder),
    at its default threshold (1 MiB) and for any size (0), so small texts
    exercise it too; the pure twin has no such mode and decodes the same."""
    try:
        from wsfast import _frames_c
    except ImportError:  # a pure-only install: nothing to switch
        yield request.param
        return
    previous = _frames_c._set_ucs1_direct_from(None if request.param == "default" else 0)
    try:
        yield request.param
    finally:
        _frames_c._set_ucs1_direct_from(previous)


@pytest.mark.parametrize("text", [
    "ascii first, " * 20 + "then \u00e9",                   # widest class (1 byte) at the end
    "caf\u00e9 " * 30 + "\u20ac" + "x" * 40,               # Latin-1, then 2-byte units
    "\u00e9\u20ac" * 25 + "\U0001f600" + "\u00e9" * 30,   # widened late to 4-byte units
    "\U0001f600\u00e9a" * 40,                               # widest first
    "plain ascii text " * 20,                                # no decoding at all
    "\u00e9" * 150 + "a" * 700,                              # denser first: the str grows
    ("ascii " * 300 + "\u00e9t\u00e9 " * 300 + "\u65e5\u672c " * 300
     + "\U0001f600 " * 300),                                 # widened twice, SIMD-sized feeds
], ids=["latin1-late", "ucs2-late", "ucs4-late", "ucs4-first", "ascii", "grows", "long"])
@pytest.mark.parametrize("decode_text", [True, False])
def test_one_text_frame_over_many_feeds_any_cut(twin, text, decode_text, ucs1_mode):
    """One text frame whose payload spans feeds is decoded as it arrives: the
    widest code point may come in any feed, and feeds may cut code points."""
    raw = text.encode()
    stream = frame(TEXT, raw, key=KEY)
    expected = text if decode_text else raw
    for size in (1, 2, 3, 5, 7, 16, 63, 64, 65, 100, 1000, 4099):
        dec = twin.MessageDecoder(decode_text=decode_text)
        got = []
        for i in range(0, len(stream), size):
            got += dec.feed(stream[i : i + size])
        assert [(m.opcode, m.data) for m in got] == [(TEXT, expected)], size
        assert type(got[0].data) is type(expected)
        # The same object bytes.decode makes: its kind and no spare room.
        assert sys.getsizeof(got[0].data) == sys.getsizeof(expected), size


@pytest.mark.parametrize("size", [65535, 65536, 70001, 200_000, None])
def test_big_text_frame_over_big_feeds(twin, size, ucs1_mode):
    """Feeds bigger than the compiled twin's 64 KiB decoding slice, with the
    first non-ASCII code point, and then wider ones, deep inside them."""
    text = ("a" * 100_000 + "\u00e9" * 30_000 + "x" * 50_001 + "\u65e5" * 20_000
            + "\U0001f600" * 10_000 + "z")
    stream = frame(TEXT, text.encode(), key=KEY)
    size = size or len(stream) - 1
    dec = twin.MessageDecoder(max_message_size=None)
    got = []
    for i in range(0, len(stream), size):
        got += dec.feed(stream[i : i + size])
    assert len(got) == 1 and got[0].data == text
    assert sys.getsizeof(got[0].data) == sys.getsizeof(text)


# UCS1 mode (compiled twin): Latin-1 text decoded into its str as it comes, in
# blocks of 16 KiB, and written back as UTF-8 when a wider code point ends it.
UCS1_BLOCK = 16 << 10
_UCS1_TEXTS = {
    "latin1": "Gr\u00fc\u00dfe, d\u00e9j\u00e0 vu \u00a9 " * 3000,
    "ascii-then-latin1": "a" * 20_000 + "\u00e9t\u00e9 " * 5000,
    "euro-after-block": "\u00e9" * (UCS1_BLOCK // 2 + 3) + "\u20ac" + "\u00e9" * 40,
    "emoji-late": "caf\u00e9 " * 9000 + "\U0001f600" + "\u00fc" * 10,
    "cjk-straddles": "\u00e9" * (UCS1_BLOCK // 2) + "x\u65e5" + "\u00e9" * 100,
    "only-latin1-bytes": "\u00ff\u0080" * 20_000,
    "past-the-default-threshold": "\u00e9t\u00e9 " * 150_000 + "\u20ac",  # 1.05 MB
}


@pytest.mark.parametrize("name", sorted(_UCS1_TEXTS))
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "unmasked"])
def test_ucs1_mode_text_any_cut(twin, ucs1_mode, name, masked):
    """Feeds cut anywhere (inside code points, at and around block edges):
    the same str as bytes.decode, of the same kind and size, and the decoder
    goes on with the next message."""
    text = _UCS1_TEXTS[name]
    raw = text.encode()
    key = KEY if masked else None
    stream = frame(TEXT, raw, key=key) + frame(TEXT, "\u00e9 next".encode(), key=key)
    cuts = [(0, 1), (1, 2), (UCS1_BLOCK - 1, 3), (UCS1_BLOCK + 1, 7), (100, 65536)]
    for seed, (first, size) in enumerate(cuts):
        dec = twin.MessageDecoder(client=not masked, max_message_size=None)
        got = dec.feed(stream[:first])
        for i in range(first, len(stream), size):
            got += dec.feed(stream[i : i + size])
            if size < 8 and i > first + 3 * UCS1_BLOCK:  # far enough: the rest in one
                got += dec.feed(stream[i + size :])
                break
        assert [m.data for m in got] == [text, "\u00e9 next"], (first, size)
        assert sys.getsizeof(got[0].data) == sys.getsizeof(text)
        for piece_seed in range(3):
            dec = twin.MessageDecoder(client=not masked, max_message_size=None)
            got = []
            for piece in chunk_random(stream, (name, seed, piece_seed), max_pieces=40):
                got += dec.feed(piece)
            assert [m.data for m in got] == [text, "\u00e9 next"]


@pytest.mark.parametrize("where", [0, 1, UCS1_BLOCK - 1, UCS1_BLOCK, UCS1_BLOCK + 1, 30_001])
@pytest.mark.parametrize(("bad", "first_bad"),
                         [(b"\xff", 0), (b"\xc3(", 1), (b"\xed\xa0\x80", 1), (b"\xc0\xaf", 0)],
                         ids=["ff", "cut-2-byte", "surrogate", "overlong"])
def test_ucs1_mode_invalid_utf8_fails_fast(twin, ucs1_mode, where, bad, first_bad):
    """Invalid UTF-8 after the text went Latin-1: InvalidDataError (1007) from
    the feed that brings the bad byte, whatever the mode."""
    raw = ("\u00e9" * 40_000).encode()
    raw = raw[: where * 2] + bad + raw[where * 2 :]
    stream = frame(TEXT, raw, key=KEY)
    bad_at = len(stream) - len(raw) + where * 2 + first_bad
    for size in (7, 4096, 65536):
        dec = twin.MessageDecoder(max_message_size=None)
        start = bad_at - bad_at % size
        for i in range(0, start, size):
            assert dec.feed(stream[i : i + size]) == []
        with pytest.raises(InvalidDataError) as info:
            dec.feed(stream[start : start + size])
        assert info.value.close_code == 1007


def test_ucs1_mode_text_ends_inside_code_point(twin, ucs1_mode):
    raw = ("\u00e9" * 40_000).encode()[:-1]
    stream = frame(TEXT, raw, key=KEY)
    dec = twin.MessageDecoder(max_message_size=None)
    assert dec.feed(stream[:50_000]) == []
    with pytest.raises(InvalidDataError) as info:
        dec.feed(stream[50_000:])
    assert info.value.close_code == 1007 and "ends inside" in str(info.value)


def test_utf8_truncated_at_end_raised_by_final_frame(twin):
    dec = twin.MessageDecoder(client=True)
    assert dec.feed(frame(TEXT, b"\xe2\x82", fin=False)) == []
    final = frame(CONT, b"")
    assert dec.feed(final[:1]) == []
    with pytest.raises(InvalidDataError):
        dec.feed(final[1:])


# ---------------------------------------------------------------------------
# Sequencing, control frames between fragments, CLOSE
# ---------------------------------------------------------------------------

def test_control_frames_delivered_when_they_complete(twin):
    dec = twin.MessageDecoder(client=True)
    assert dec.feed(frame(TEXT, b"Hel", fin=False)) == []
    assert [message_tuple(m) for m in dec.feed(frame(PING, b"1"))] == [M(PING, b"1")]
    assert [message_tuple(m) for m in dec.feed(frame(PONG, b"2") + frame(CONT, b"l", fin=False))] == [M(PONG, b"2")]
    assert [message_tuple(m) for m in dec.feed(frame(CONT, b"o") + frame(PING))] == [M(TEXT, "Hello"), M(PING, b"")]


def test_after_close_everything_is_ignored(twin):
    dec = twin.MessageDecoder(client=True)
    got = dec.feed(frame(TEXT, b"hi") + frame(CLOSE, close_payload(1000)) + frame(PING))
    assert [message_tuple(m) for m in got] == [M(TEXT, "hi"), M(CLOSE, close_payload(1000))]
    for junk in (b"", frame(PING), frame(3), b"\xff" * 100, frame(TEXT, b"\xff"), header(BINARY, 1 << 62),
                 frame(CLOSE, b"\x03"), frame(BINARY, b"x", key=KEY)):
        assert dec.feed(junk) == []


def test_close_in_middle_of_fragmented_message_drops_it(twin):
    dec = twin.MessageDecoder()
    assert dec.feed(frame(BINARY, pattern(50), fin=False, key=KEY)) == []
    got = dec.feed(frame(CLOSE, close_payload(1001), key=KEY))
    assert [message_tuple(m) for m in got] == [M(CLOSE, close_payload(1001))]
    assert dec.feed(frame(CONT, pattern(10), key=KEY)) == []


def test_decoded_holds_messages_of_the_same_feed(twin):
    dec = twin.MessageDecoder(client=True)
    assert [message_tuple(m) for m in dec.feed(frame(TEXT, b"one") + frame(TEXT, b"tw", fin=False))] == [
        M(TEXT, "one")]
    with pytest.raises(ProtocolError) as info:
        dec.feed(frame(CONT, b"o") + frame(PING, b"p") + frame(CONT, b"bad"))
    assert [message_tuple(m) for m in info.value.decoded] == [M(TEXT, "two"), M(PING, b"p")]
    for later in (b"", frame(TEXT, b"ok"), frame(CLOSE)):
        with pytest.raises(ProtocolError) as again:
            dec.feed(later)
        assert again.value.decoded == [] and again.value.close_code == 1002


def test_failed_decoder_keeps_class_and_code(twin):
    for data, cls in ((frame(TEXT, b"\xff"), InvalidDataError), (frame(TEXT, b"x" * 11), MessageTooBigError),
                      (frame(CONT), ProtocolError)):
        dec = twin.MessageDecoder(client=True, max_message_size=10)
        with pytest.raises(cls):
            dec.feed(data)
        for later in (b"", RFC_UNMASKED_HELLO, frame(CLOSE)):
            with pytest.raises(cls) as info:
                dec.feed(later)
            assert type(info.value) is cls and info.value.close_code == cls.close_code
            assert info.value.decoded == []


def test_message_decoder_defaults(twin):
    # client=False: a server, frames must be masked
    with pytest.raises(ProtocolError):
        twin.MessageDecoder().feed(RFC_UNMASKED_HELLO)
    assert [message_tuple(m) for m in twin.MessageDecoder().feed(RFC_MASKED_HELLO)] == [M(TEXT, "Hello")]
    # max_message_size defaults to 1 MiB, counted across fragments
    dec = twin.MessageDecoder(client=True)
    assert dec.feed(header(BINARY, 1 << 19, fin=False) + bytes(1 << 19)) == []
    assert dec.feed(header(CONT, 1 << 19)) == []
    dec = twin.MessageDecoder(client=True)
    assert dec.feed(header(BINARY, 1 << 19, fin=False) + bytes(1 << 19)) == []
    with pytest.raises(MessageTooBigError):
        dec.feed(header(CONT, (1 << 19) + 1))


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "memoryview-slice", "array-B", "mmap"])
def test_message_decoder_buffer_types(twin, kind):
    stream = frame(TEXT, "\u20ac".encode() * 50, fin=False, key=KEY) + frame(CONT, b"!", key=KEY)
    dec = twin.MessageDecoder()
    got = []
    for piece in (stream[:5], stream[5:100], stream[100:]):
        buf = {
            "bytes": lambda p: p,
            "bytearray": bytearray,
            "memoryview": memoryview,
            "memoryview-slice": lambda p: memoryview(b"xy" + p + b"z")[2:-1],
            "array-B": lambda p: array.array("B", p),
            "mmap": _mmap_of,
        }[kind](piece)
        got += [message_tuple(m) for m in dec.feed(buf)]
    assert got == [M(TEXT, "\u20ac" * 50 + "!")]


def _mmap_of(data: bytes):
    m = mmap.mmap(-1, len(data))
    m.write(data)
    return m


def test_message_decoder_type_errors(twin):
    with pytest.raises(TypeError):
        twin.MessageDecoder().feed("\x81\x00")
    with pytest.raises(TypeError):
        twin.MessageDecoder().feed(None)
    with pytest.raises(BufferError):
        twin.MessageDecoder().feed(memoryview(bytes(8))[::2])


def test_message_decoder_copies_what_it_keeps(twin):
    dec = twin.MessageDecoder(client=True)
    buf = bytearray(frame(BINARY, b"abc", fin=False) + frame(CONT, b"de", fin=False)[:3])
    assert dec.feed(buf) == []
    buf[:] = bytes(len(buf))
    got = dec.feed(bytearray(b"e") + frame(CONT, b"f"))
    assert [message_tuple(m) for m in got] == [M(BINARY, b"abcdef")]


def test_encoder_to_decoder_round_trip(twin):
    enc = twin.FrameEncoder(client=True)
    stream = b"".join([
        enc.text("h\u00e9", fin=False), enc.ping(b"1"), enc.continuation(b"llo"), enc.binary(pattern(70000)),
        enc.binary(b"a", fin=False), enc.continuation(b"b", fin=False), enc.pong(), enc.continuation(b"c"),
        enc.close(1000, "done"),
    ])
    dec = twin.MessageDecoder(client=False)
    got = []
    for piece in chunk_random(stream, "round-trip", max_pieces=40):
        got += [message_tuple(m) for m in dec.feed(piece)]
    assert got == [M(PING, b"1"), M(TEXT, "h\u00e9llo"), M(BINARY, pattern(70000)), M(PONG, b""),
                   M(BINARY, b"abc"), M(CLOSE, twin.encode_close(1000, "done"))]


# ---------------------------------------------------------------------------
# Limits and memory
# ---------------------------------------------------------------------------

def test_header_over_limit_raises_before_payload(twin):
    dec = twin.MessageDecoder(max_message_size=1000)
    with pytest.raises(MessageTooBigError):
        dec.feed(header(TEXT, 1001, key=KEY))
    dec = twin.MessageDecoder(max_message_size=1000)
    assert dec.feed(frame(BINARY, pattern(600), fin=False, key=KEY)) == []
    assert dec.feed(frame(PING, pattern(125), key=KEY))[0].opcode == PING
    with pytest.raises(MessageTooBigError):
        dec.feed(header(CONT, 401, key=KEY))
    dec = twin.MessageDecoder(max_message_size=1000)
    with pytest.raises(MessageTooBigError):
        dec.feed(header(BINARY, 1 << 62, key=KEY)[:10])


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * mmap.PAGESIZE


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
def test_tiny_fragment_flood_memory_is_bounded(twin):
    """1 MiB as 65,536 fragments of 16 bytes costs its payload, not an object per fragment.

    Three measures: live Python blocks (sys.getallocatedblocks: every object either
    twin creates is one), traced bytes (tracemalloc, over the first quarter only:
    it slows the pure twin tenfold) and, loosely, the process RSS.
    """
    tracemalloc = pytest.importorskip("tracemalloc")  # not on PyPy
    total, size = 1 << 20, 16
    count = total // size
    body = pattern(size)
    masked = xor_mask(body, KEY)
    first = header(BINARY, size, fin=False, key=KEY) + masked
    middle = header(CONT, size, fin=False, key=KEY) + masked
    last = header(CONT, size, key=KEY) + masked
    stream = first + middle * (count - 2) + last
    view = memoryview(stream)
    step = 1 << 14
    pieces = [view[i : i + step] for i in range(0, len(stream), step)]
    quarter = len(pieces) // 4

    gc.collect()
    rss_before = _rss()
    blocks_before = sys.getallocatedblocks()
    dec = twin.MessageDecoder(max_message_size=total)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for piece in pieces[:quarter]:
            assert dec.feed(piece) == []
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    for piece in pieces[quarter:-1]:
        assert dec.feed(piece) == []
    gc.collect()
    blocks = sys.getallocatedblocks() - blocks_before
    out = dec.feed(pieces[-1])
    rss_growth = _rss() - rss_before
    assert [message_tuple(m) for m in out] == [M(BINARY, body * count)]
    received = quarter * step
    # an object per fragment would cost ~3x the payload (a 16-byte bytes object is 49 bytes)
    assert held <= 1.5 * received + (256 << 10), f"{held} bytes held after {received} bytes of 16-byte fragments"
    assert blocks < 4096, f"{blocks} more Python objects after {count - 1} fragments"
    assert rss_growth <= 64 << 20, f"RSS grew by {rss_growth} bytes"  # loose: allocator noise


def test_tiny_fragment_flood_over_limit(twin):
    """The fragment that crosses max_message_size is refused at its header."""
    size, limit = 16, 1 << 16
    masked = xor_mask(pattern(size), KEY)
    stream = header(BINARY, size, fin=False, key=KEY) + masked
    stream += (header(CONT, size, fin=False, key=KEY) + masked) * (limit // size - 1)
    dec = twin.MessageDecoder(max_message_size=limit)
    assert dec.feed(stream) == []  # exactly the limit so far
    with pytest.raises(MessageTooBigError):
        dec.feed(header(CONT, 1, key=KEY))


@pytest.mark.parametrize("decoder", ["frames", "messages"])
def test_no_preallocation_of_the_announced_length(twin, decoder):
    """A header within a huge limit buffers what arrives, not what it announces.

    API section 5: "Memory stays bounded"; CONVENTIONS: never unbounded memory.
    512 GiB cannot be allocated here: a decoder that sizes its buffer from the
    header fails with MemoryError/OverflowError instead of waiting for bytes.
    """
    limit = 1 << 40
    if decoder == "frames":
        dec = twin.FrameDecoder(max_frame_size=limit)
    else:
        dec = twin.MessageDecoder(max_message_size=limit, max_frame_size=limit)
    assert dec.feed(header(BINARY, 1 << 39, key=KEY) + b"abc") == []
    assert dec.feed(b"defg") == []


def test_message_data_is_str_or_bytes(twin):
    """Message data is kept as str, or copied to bytes from any buffer; nothing else."""
    assert twin.Message(1, "hé").data == "hé"
    data = twin.Message(2, bytearray(b"\x00\x01")).data
    assert type(data) is bytes and data == b"\x00\x01"
    with pytest.raises(TypeError):
        twin.Message(2, [1, 2])
