"""decode_utf8: ``bytes(data).decode("utf-8")`` on both twins, every kernel.

The oracle is CPython's decoder: the same ``str`` (same code points, and the
same internal width, which ``==`` and ``sys.getsizeof`` see), or a
``UnicodeDecodeError`` with the same ``args`` (encoding, object, start, end,
reason).  The compiled twin is driven at every SIMD level through its test
hook ``_set_level`` (``helpers.at_level``); inputs under 2 bytes go to
CPython's decoder whatever the level (the C tests run the kernels on every
length from 0).
"""

from __future__ import annotations

import array
import functools
import mmap
import random
import sys
import threading
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import at_level, level_names

# -- the twin at every level ----------------------------------------------------------


def decode_at(twin: Any, level: str | None, data: Any) -> str:
    with at_level(level):
        return twin.decode_utf8(data)  # type: ignore[no-any-return]


def outcome(func: Any, *args: Any) -> tuple[str, Any]:
    """("ok", the str with its size) or ("error", the exception's type and args)."""
    try:
        text = func(*args)
    except UnicodeDecodeError as exc:
        return "error", (type(exc), exc.args)
    assert type(text) is str
    return "ok", (text, sys.getsizeof(text))


def expected(data: bytes) -> tuple[str, Any]:
    return outcome(bytes.decode, bytes(data), "utf-8")


def check(twin: Any, data: Any, levels: list[str | None] | None = None) -> None:
    want = expected(bytes(memoryview(data).cast("B")))
    for level in level_names(twin) if levels is None else levels:
        got = outcome(decode_at, twin, level, data)
        assert got == want, (level, bytes(memoryview(data).cast("B"))[:80])
    assert outcome(twin.decode_utf8, data) == want


# -- named vectors --------------------------------------------------------------------


class V(NamedTuple):
    name: str
    data: bytes
    reason: str


VECTORS = [
    V("empty", b"", "no bytes is the empty str"),
    V("ascii", b"Hello, world", "ASCII: a 1-byte str"),
    V("nul", b"\x00", "U+0000 is a character like any other"),
    V("latin1-max", "\u00ff".encode(), "U+00FF: still 1 byte per character"),
    V("latin1-min", "\u0080".encode(), "U+0080: the first non-ASCII character"),
    V("ucs2-min", "\u0100".encode(), "U+0100: the first 2-byte character (lead C4)"),
    V("lead-c3", "é".encode() * 40, "only C2/C3 leads: a Latin-1 str"),
    V("lead-c4", "é".encode() * 40 + "ā".encode(), "one C4 lead widens the whole str"),
    V("bmp-max", "\uffff".encode(), "U+FFFF: still 2 bytes per character"),
    V("astral-min", "\U00010000".encode(), "U+10000: a 4-byte str"),
    V("astral-max", "\U0010ffff".encode(), "U+10FFFF: the last code point"),
    V("greek", "κόσμε".encode(), "2-byte text"),
    V("cjk", "日本語のテキスト".encode() * 9, "3-byte text"),
    V("emoji", "😀👍🏽🇫🇷".encode() * 9, "4-byte text"),
    V("mixed", ("aé€😀" * 40).encode(), "every width in every window"),
    V("bom", b"\xef\xbb\xbfa", "a BOM is kept: U+FEFF"),
    # invalid: CPython's exact error
    V("invalid-start", b"abc\xff", "FF never appears: invalid start byte"),
    V("lone-continuation", b"ab\x80cd", "a continuation byte with no lead"),
    V("overlong-2", b"\xc0\xaf", "C0 only starts overlongs"),
    V("overlong-3", b"\xe0\x80\x80", "U+0000 in three bytes"),
    V("surrogate", b"a\xed\xa0\x80b", "U+D800 is not a scalar value"),
    V("above-max", b"\xf4\x90\x80\x80", "U+110000"),
    V("truncated", "日本".encode() + b"\xe8\xaa", "text ends inside a 3-byte form"),
    V("interrupted", b"\xe2\x82a", "a lead interrupted by ASCII"),
    V("late-error", "日本語".encode() * 100 + b"\xff" + b"a" * 50, "an error far into the text"),
    V("error-after-window", b"a" * 64 + b"\x80", "first byte of the second 64-byte block"),
]


@pytest.mark.parametrize("v", VECTORS, ids=[v.name for v in VECTORS])
def test_vectors(twin, v):
    check(twin, v.data)
    # inside ASCII padding: every window position and the tail paths
    for pad in (1, 15, 31, 63):
        check(twin, b"x" * pad + v.data + b"y" * (pad // 2))


def test_result_is_an_exact_str_of_the_right_width(twin):
    for text in ("", "abc", "é" * 100, "€" * 100, "😀" * 100, "a" * 1000 + "😀"):
        data = text.encode()
        for level in level_names(twin):
            got = decode_at(twin, level, data)
            assert type(got) is str
            assert got == text
            assert sys.getsizeof(got) == sys.getsizeof(data.decode())


# -- every code point ---------------------------------------------------------------


SCALAR_VALUES = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def test_every_code_point_alone(twin):
    """Every Unicode scalar value as its own 1..4-byte input, at every level."""
    encoded = [chr(c).encode() for c in SCALAR_VALUES]
    for level in level_names(twin):
        with at_level(level):
            got = [twin.decode_utf8(b) for b in encoded]
        bad = [c for c, s in zip(SCALAR_VALUES, got, strict=True) if s != chr(c)]
        assert bad == [], (level, [hex(c) for c in bad[:10]])


FILLS = {"packed": "", "ascii-1": "a", "ascii-4": "ab c", "latin": "é", "cjk": "€語",
         "emoji": "😀", "mixed": "aé€😀"}


@functools.cache
def _texts_with_every_code_point(fill: str) -> list[str]:
    """Texts holding every scalar value of each width class, 0..7 ``fill``
    characters before each one, cut into pieces of about 20 000 characters."""
    texts = []
    for lo, hi in ((0, 0x100), (0x80, 0x10000), (0, 0x110000), (0x10000, 0x110000)):
        values = [c for c in SCALAR_VALUES if lo <= c < hi]
        for start in range(0, len(values), 4096):
            texts.append("".join(fill[: i % 8] + chr(c)
                                 for i, c in enumerate(values[start:start + 4096], start)))
    return texts


@pytest.mark.parametrize("fill", list(FILLS))
def test_every_code_point_in_text(twin, fill):
    """Every scalar value inside long texts, with 0..7 filler characters before
    each one, so that each lands at many offsets inside the SIMD windows; each
    text is also decoded from a misaligned copy."""
    rng = random.Random(len(fill))
    for k, text in enumerate(_texts_with_every_code_point(FILLS[fill])):
        data = text.encode()
        start = rng.randrange(8)
        view = memoryview(bytearray(b"\xaa" * start + data))[start:]
        for level in level_names(twin):
            assert decode_at(twin, level, data) == text, (level, k)
            assert decode_at(twin, level, view) == text, (level, "misaligned", k)


def test_every_one_and_two_byte_sequence(twin):
    """All 65 792 one- and two-byte inputs, valid or not, alone and after text."""
    for level in level_names(twin):
        for hi in range(256):
            check(twin, bytes([hi]), [level])
            for lo in range(256):
                seq = bytes((hi, lo))
                check(twin, seq, [level])
        check(twin, b"a" * 30 + b"\xc3\xa9", [level])


EDGE_BYTES = bytes([0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                    0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF])


def test_three_and_four_byte_sequences_of_edge_bytes(twin):
    """Every 3- and 4-byte input made of the bytes where the rules change."""
    for level in level_names(twin):
        for a in EDGE_BYTES:
            for b in EDGE_BYTES:
                for c in EDGE_BYTES:
                    check(twin, bytes((a, b, c)), [level])
                    if a >= 0xF0:
                        for d in EDGE_BYTES:
                            check(twin, bytes((a, b, c, d)), [level])


# -- every length and misalignment --------------------------------------------------------

ALPHABETS = {
    "ascii": "aZ09 ~",
    "latin1": "aéÿ\x80Ç ",
    "latin1-only": "éÿ\x80Ç",
    "two-byte": "éāκж\u07ff",
    "three-byte": "€日本語\uffff\u0800",
    "cjk-spaces": "日本語 テキスト",
    "four-byte": "😀👍\U0010ffff\U00010000",
    "emoji-in-ascii": "aaaaaaaaaaaaaaa😀",
    "everything": "aé\u0100€😀\U0010ffff",
}


def _text(alphabet: str, n: int, seed: int) -> bytes:
    """Exactly ``n`` bytes of text from ``alphabet`` (ASCII fills a short tail)."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < n:
        char = rng.choice(alphabet).encode()
        out += char if len(out) + len(char) <= n else b"z"
    return bytes(out)


@pytest.mark.parametrize("alphabet", list(ALPHABETS))
def test_every_length_and_misalignment(twin, alphabet):
    """Lengths 0..300 at misalignments 0..7: multibyte sequences straddle every
    16/32/64-byte window edge, and every tail length is taken."""
    for n in range(301):
        data = _text(ALPHABETS[alphabet], n, n)
        want = data.decode()
        for level in level_names(twin):
            for mis in range(8):
                view = memoryview(bytearray(b"\xff" * mis + data))[mis:]
                assert decode_at(twin, level, view) == want, (level, n, mis)
            assert decode_at(twin, level, data) == want, (level, n)


ERRORS = [b"\x80", b"\xc0", b"\xff", b"\xed\xa0\x80", b"\xe0\x80\x80", b"\xf4\x90\x80\x80",
          b"\xc3a", b"\xf0\x9f\x98a"]


@pytest.mark.parametrize("bad", ERRORS, ids=lambda b: b.hex())
def test_error_at_every_position(twin, bad):
    """An error at every position of texts up to 200 bytes: the same exception."""
    for n in (1, 15, 16, 17, 63, 64, 65, 130, 200):
        text = _text(ALPHABETS["everything"], n, n)
        for pos in range(n):
            check(twin, text[:pos] + bad + text[pos + len(bad):])


# -- property-based -------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400), start=st.integers(0, 7))
def test_random_text(twin, text, start):
    data = text.encode()
    for level in level_names(twin):
        assert decode_at(twin, level, data) == text, level
        view = memoryview(bytearray(bytes(start) + data))[start:]
        assert decode_at(twin, level, view) == text, level


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes(twin, data):
    check(twin, data)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=300),
    damage=st.tuples(st.integers(0, 1200), st.binary(min_size=1, max_size=4)),
)
def test_random_damaged_text(twin, text, damage):
    data = text.encode()
    pos, junk = damage
    pos = min(pos, len(data))
    check(twin, data[:pos] + junk + data[pos + len(junk):])


# -- buffers --------------------------------------------------------------------------

SAMPLE = ("text é€😀 " * 30).encode()


def _buffers(payload: bytes):
    yield "bytes", payload
    yield "bytes-subclass", type("B", (bytes,), {})(payload)
    yield "bytearray", bytearray(payload)
    yield "bytearray-subclass", type("BA", (bytearray,), {})(payload)
    yield "memoryview", memoryview(payload)
    yield "memoryview-slice", memoryview(b"xx" + payload)[2:]
    yield "readonly-view", memoryview(bytearray(payload)).toreadonly()
    yield "array-B", array.array("B", payload)
    m = mmap.mmap(-1, len(payload))
    m.write(payload)
    yield "mmap", m


@pytest.mark.parametrize("kind", [name for name, _ in _buffers(b"x")])
def test_buffer_types(twin, kind):
    for payload in (SAMPLE, SAMPLE[:-1], SAMPLE + b"\xed\xa0"):
        check(twin, dict(_buffers(payload))[kind])


def test_wide_array_is_raw_bytes(twin):
    raw = "éé".encode() * 100  # C3 A9 C3 A9 ...: as 16-bit items too
    arr = array.array("H")
    arr.frombytes(raw)
    assert len(arr) == 200
    check(twin, arr)


@pytest.mark.parametrize("bad", ["text", "", 5, None, 1.5, object(), ["a"]],
                         ids=["str", "empty-str", "int", "None", "float", "object", "list"])
def test_non_buffers_are_type_errors(twin, bad):
    with pytest.raises(TypeError):
        twin.decode_utf8(bad)


def test_non_contiguous_is_buffer_error(twin):
    strided = memoryview(bytearray(b"abcdefgh" * 8))[::2]
    with pytest.raises(BufferError):
        twin.decode_utf8(strided)


# -- large inputs (the passes run without the GIL for bytes from 64 KiB) -------------------


@pytest.mark.parametrize("size", [(1 << 16) - 1, 1 << 16, (1 << 20) + 3])
@pytest.mark.parametrize("alphabet", ["ascii", "latin1", "three-byte", "four-byte", "everything"])
def test_large_inputs(twin, size, alphabet):
    data = _text(ALPHABETS[alphabet], size, size)
    want = data.decode()
    for level in level_names(twin):
        assert decode_at(twin, level, data) == want, level
        assert decode_at(twin, level, bytearray(data)) == want, level
    assert twin.decode_utf8(data) == want
    bad = bytearray(data)
    bad[len(bad) // 2] = 0xFF
    check(twin, bytes(bad), [None] if twin.name == "py" else level_names(twin)[-1:])


@pytest.mark.parametrize("prefix", [16383, 16384, 16447, 16448, 20000, (1 << 16) + 5])
def test_ascii_then_other_text(twin, prefix):
    """Long texts that start as ASCII (copied optimistically into a 1-byte str
    while checked) and then are not: the first non-ASCII byte at and around
    every 64/128-byte block edge, valid or not, from bytes and bytearray."""
    rng = random.Random(prefix)
    for tail in ("é", "€", "😀", "aé€😀" * 40):
        for shift in (0, 1, 63, 64, 65, 127, 128, 129):
            data = b"a" * (prefix + shift) + tail.encode() + _text(ALPHABETS["ascii"], 100, shift)
            check(twin, data)
            check(twin, bytearray(data), level_names(twin)[-1:])
    for bad in ERRORS:
        data = b"b" * (prefix + rng.randrange(200)) + bad + b"c" * rng.randrange(100)
        check(twin, data)
    # ASCII to the end, and ASCII that ends in a cut code point
    check(twin, b"x" * prefix)
    check(twin, b"x" * prefix + b"\xe2\x82")


def test_threads(twin):
    """Many threads decoding at once (large bytes inputs release the GIL)."""
    texts = [_text(ALPHABETS[a], 200_000, i) for i, a in enumerate(ALPHABETS)]
    wants = [t.decode() for t in texts]
    errors: list[int] = []

    def work(k: int) -> None:
        for _ in range(5):
            for i, data in enumerate(texts):
                if twin.decode_utf8(data) != wants[i]:
                    errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_every_module_level_hook_rejects_unknown_levels(twin):
    if twin.name != "c":
        pytest.skip("SIMD levels exist in the compiled twin only")
    for module in twin.modules.values():
        with pytest.raises(ValueError, match="mmx"):
            module._set_level("mmx")
