"""UTF-8 validation (RFC 3629, as strict as bytes.decode) on both twins, every kernel.

The oracle is CPython's ``bytes.decode("utf-8")`` for whole inputs.  For
streams, "the bytes so far are a valid prefix" is decided independently of the
decoder's partial-input behaviour: a prefix is valid when it decodes, or when
one of the completions that could finish a cut code point makes it decode.
"""

from __future__ import annotations

import array
import mmap
import random
import threading
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import at_level, level_names, simd_levels

# -- references ---------------------------------------------------------------------


def decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# What can finish a cut code point: the first missing byte is 80 (most leads),
# 90 (after F0) or A0 (after E0); any later one can be 80.
_COMPLETIONS = [b""] + [
    first + b"\x80" * extra for first in (b"\x80", b"\x90", b"\xa0") for extra in range(3)
]


def valid_prefix(data: bytes) -> bool:
    """Some continuation of ``data`` is valid UTF-8 (at most 3 bytes are ever missing)."""
    return any(decodes(data + tail) for tail in _COMPLETIONS)


def expected_feeds(pieces: list[bytes]) -> list[bool]:
    """What each feed of ``pieces`` must return (a failure is sticky by definition:
    no extension of an invalid prefix is a valid prefix)."""
    out, fed = [], b""
    for piece in pieces:
        fed += piece
        out.append(valid_prefix(fed))
    return out


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 <= c <= len(data)} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)] or [b""]


# -- the SIMD levels of a twin ------------------------------------------------------


def validate_at(twin: Any, level: str | None, data: Any) -> bool:
    with at_level(level):
        return twin.validate_utf8(data)  # type: ignore[no-any-return]


def validator_at(twin: Any, level: str | None) -> Any:
    """A validator made at ``level``: it keeps that level for its life."""
    with at_level(level):
        return twin.Utf8Validator()


# -- named vectors ------------------------------------------------------------------


class V(NamedTuple):
    name: str
    data: bytes
    valid: bool
    reason: str


VECTORS = [
    # valid
    V("empty", b"", True, "no bytes is the empty text"),
    V("ascii", b"Hello, world", True, "ASCII is UTF-8"),
    V("nul", b"\x00", True, "U+0000 is a character like any other"),
    V("boundary-u+007f", b"\x7f", True, "last 1-byte code point"),
    V("boundary-u+0080", b"\xc2\x80", True, "first 2-byte code point"),
    V("boundary-u+07ff", b"\xdf\xbf", True, "last 2-byte code point"),
    V("boundary-u+0800", b"\xe0\xa0\x80", True, "first 3-byte code point"),
    V("boundary-u+d7ff", b"\xed\x9f\xbf", True, "last code point before the surrogates"),
    V("boundary-u+e000", b"\xee\x80\x80", True, "first code point after the surrogates"),
    V("boundary-u+ffff", b"\xef\xbf\xbf", True, "last 3-byte code point (a non-character)"),
    V("noncharacter-u+fffe", b"\xef\xbf\xbe", True, "non-characters are valid scalar values"),
    V("noncharacter-u+fdd0", b"\xef\xb7\x90", True, "non-characters are valid scalar values"),
    V("bom", b"\xef\xbb\xbfa", True, "a BOM is an ordinary U+FEFF"),
    V("boundary-u+10000", b"\xf0\x90\x80\x80", True, "first 4-byte code point"),
    V("boundary-u+10ffff", b"\xf4\x8f\xbf\xbf", True, "last code point of Unicode"),
    V("greek-kosme", "κόσμε".encode(), True, "the classic 2-byte sample"),
    V("cjk", "日本語のテキスト".encode(), True, "3-byte text"),
    V("emoji", "😀👍🏽🇫🇷".encode(), True, "4-byte text and sequences of them"),
    V("mixed-64", ("aé€😀" * 8).encode()[:60] + b"abcd", True, "every width in one block"),
    # overlong forms
    V("overlong-2-byte-nul", b"\xc0\x80", False, "U+0000 in two bytes (modified UTF-8)"),
    V("overlong-2-byte-slash", b"\xc0\xaf", False, "'/' in two bytes: a path-traversal classic"),
    V("overlong-2-byte-max", b"\xc1\xbf", False, "U+007F in two bytes"),
    V("overlong-3-byte-nul", b"\xe0\x80\x80", False, "U+0000 in three bytes"),
    V("overlong-3-byte-max", b"\xe0\x9f\xbf", False, "U+07FF in three bytes"),
    V("overlong-4-byte-nul", b"\xf0\x80\x80\x80", False, "U+0000 in four bytes"),
    V("overlong-4-byte-max", b"\xf0\x8f\xbf\xbf", False, "U+FFFF in four bytes"),
    # surrogates
    V("surrogate-high-first", b"\xed\xa0\x80", False, "U+D800: surrogates are not scalar values"),
    V("surrogate-high-last", b"\xed\xaf\xbf", False, "U+DBFF"),
    V("surrogate-low-first", b"\xed\xb0\x80", False, "U+DC00"),
    V("surrogate-low-last", b"\xed\xbf\xbf", False, "U+DFFF"),
    V("surrogate-pair-cesu8", b"\xed\xa0\xbd\xed\xb8\x80", False, "CESU-8 pair for U+1F600"),
    # above U+10FFFF
    V("above-max-f4-90", b"\xf4\x90\x80\x80", False, "U+110000"),
    V("above-max-f4-bf", b"\xf4\xbf\xbf\xbf", False, "U+13FFFF"),
    V("above-max-f5", b"\xf5\x80\x80\x80", False, "F5 would start U+140000"),
    V("above-max-f7", b"\xf7\xbf\xbf\xbf", False, "U+1FFFFF, the old 4-byte maximum"),
    V("five-byte-form", b"\xf8\x88\x80\x80\x80", False, "5-byte forms were removed by RFC 3629"),
    V("six-byte-form", b"\xfc\x84\x80\x80\x80\x80", False, "6-byte forms were removed by RFC 3629"),
    # bytes that never appear
    V("byte-c0", b"a\xc0a", False, "C0 only starts overlongs"),
    V("byte-c1", b"a\xc1a", False, "C1 only starts overlongs"),
    V("byte-f5", b"a\xf5", False, "F5..FF never appear"),
    V("byte-fe", b"\xfe", False, "FE: not UTF-8 (UTF-16 BOM half)"),
    V("byte-ff", b"\xff", False, "FF: not UTF-8"),
    # continuation bytes
    V("lone-continuation-80", b"\x80", False, "a continuation byte with no lead"),
    V("lone-continuation-bf", b"a\xbfa", False, "a continuation byte after ASCII"),
    V("extra-continuation", b"\xc3\xa9\xa9", False, "one continuation too many"),
    V("continuation-after-4-byte", b"\xf0\x9f\x98\x80\x80", False, "fifth byte of a 4-byte form"),
    # sequences cut short
    V("truncated-2-of-2", b"a\xc3", False, "text ends inside a 2-byte form"),
    V("truncated-2-of-3", b"a\xe2\x82", False, "text ends inside a 3-byte form"),
    V("truncated-3-of-4", b"a\xf0\x9f\x98", False, "text ends inside a 4-byte form"),
    V("truncated-1-of-4", b"\xf0", False, "a lone 4-byte lead at the end"),
    V("interrupted-by-ascii", b"\xe2\x82a", False, "a lead interrupted by ASCII"),
    V("interrupted-by-lead", b"\xe2\xc3\xa9", False, "a lead interrupted by another lead"),
    V("truncated-at-block-end", b"a" * 63 + b"\xe2", False, "cut at the end of a 64-byte block"),
    V("error-after-block", b"a" * 64 + b"\x80", False, "first byte of the second block"),
    V("split-across-block", b"a" * 62 + "€".encode() + b"a", True, "3-byte form across 64 bytes"),
]


@pytest.mark.parametrize("v", VECTORS, ids=[v.name for v in VECTORS])
def test_vectors(twin, v):
    assert decodes(v.data) is v.valid, f"vector {v.name} disagrees with bytes.decode"
    pieces = [v.data[i : i + 1] for i in range(len(v.data))]
    want_feeds = expected_feeds(pieces)
    for level in level_names(twin):
        assert validate_at(twin, level, v.data) is v.valid, (level, v.reason)
        # inside ASCII padding: every block position and the tail paths
        for pad in (0, 1, 15, 31, 63):
            padded = b"x" * pad + v.data + b"y" * (pad // 2)
            assert validate_at(twin, level, padded) is v.valid, (level, pad, v.reason)
        validator = validator_at(twin, level)
        assert validator.feed(v.data, final=True) is v.valid, (level, v.reason)
        assert validator.complete is v.valid
        validator = validator_at(twin, level)
        assert [validator.feed(p) for p in pieces] == want_feeds, (level, v.reason)
        assert validator.feed(b"", final=True) is v.valid


def test_result_types(twin):
    assert twin.validate_utf8(b"abc") is True
    assert twin.validate_utf8(b"\xff") is False
    validator = twin.Utf8Validator()
    assert validator.feed(b"a") is True
    assert validator.complete is True
    assert validator.feed(b"\xff") is False
    assert validator.complete is False


# -- exhaustive short sequences and positions ---------------------------------------------


def test_every_2_byte_sequence(twin):
    """All 65536 two-byte strings, one-shot (in a block and at its end) and fed bytewise."""
    for level in level_names(twin):
        validator = validator_at(twin, level)
        for hi in range(256):
            for lo in range(256):
                seq = bytes((hi, lo))
                want = decodes(seq)
                assert validate_at(twin, level, seq) is want, (level, seq)
                assert validate_at(twin, level, b"a" * 30 + seq) is want, (level, seq)
                validator.reset()
                first = validator.feed(seq[:1])
                assert first is valid_prefix(seq[:1]), (level, seq)
                assert validator.feed(seq[1:], final=True) is want, (level, seq)


# Errors written over valid text: (name, bytes).
ERRORS = [
    ("continuation", b"\x80"),
    ("byte-c0", b"\xc0"),
    ("byte-ff", b"\xff"),
    ("surrogate", b"\xed\xa0\x80"),
    ("overlong-3", b"\xe0\x80\x80"),
    ("above-max", b"\xf4\x90\x80\x80"),
    ("cut-2-byte", b"\xc3a"),
    ("cut-4-byte", b"\xf0\x9f\x98a"),
]


def _text(n: int, seed: int) -> bytes:
    """Exactly ``n`` bytes of valid text mixing every code point width."""
    rng = random.Random(seed)
    alphabet = "aZ09 ~éßΩж€中日本😀🇫"
    out = bytearray()
    while len(out) < n:
        char = rng.choice(alphabet).encode()
        out += char if len(out) + len(char) <= n else b"a" * (n - len(out))
    return bytes(out)


@pytest.mark.parametrize("error", ERRORS, ids=[e[0] for e in ERRORS])
def test_every_length_and_error_position(twin, error):
    """Lengths 1..300, an error at every position: covers every offset in the
    64-byte blocks of every kernel and every tail length."""
    _, bad = error
    for level in level_names(twin):
        for n in range(1, 301):
            text = _text(n, n)
            assert validate_at(twin, level, text), (level, n)
            for pos in range(n):
                data = text[:pos] + bad + text[pos + len(bad) :]
                assert validate_at(twin, level, data) is decodes(data), (level, n, pos)


def test_every_truncation_of_text(twin):
    text = _text(300, 7)
    for level in level_names(twin):
        for n in range(301):
            assert validate_at(twin, level, text[:n]) is decodes(text[:n]), (level, n)


# -- streaming contract --------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [b"\xed\xa0", b"\xed\xbf", b"\xf4\x90", b"\xe0\x80", b"\xe0\x9f", b"\xf0\x80", b"\xf0\x8f",
     b"\xc0", b"\xc1", b"\xf5", b"\xff", b"\x80", b"\xc3\x41", b"\xe2\x82\xc3"],
    ids=lambda b: b.hex(),
)
def test_fails_fast_on_impossible_prefix(twin, prefix):
    """The feed that delivers the first impossible byte returns False, even though
    the code point it belongs to is not complete yet."""
    for level in level_names(twin):
        for before in (b"", b"a" * 100, "é".encode() * 50):
            validator = validator_at(twin, level)
            assert validator.feed(before) is True
            for i, byte in enumerate(prefix):
                got = validator.feed(bytes([byte]))
                assert got is (i < len(prefix) - 1), (level, prefix, i)
            assert validator.complete is False
            # the same bytes in one feed
            validator = validator_at(twin, level)
            assert validator.feed(before + prefix) is False


def test_failure_is_sticky(twin):
    for level in level_names(twin):
        validator = validator_at(twin, level)
        assert validator.feed(b"\xff") is False
        assert validator.feed(b"a") is False
        assert validator.feed(b"") is False
        assert validator.feed(b"", final=True) is False
        assert validator.complete is False
        validator.reset()
        assert validator.complete is True
        assert validator.feed(b"a", final=True) is True


def test_code_point_split_at_every_byte(twin):
    emoji = "😀".encode()
    for level in level_names(twin):
        for a in range(5):
            for b in range(a, 5):
                validator = validator_at(twin, level)
                pieces = [emoji[:a], emoji[a:b], emoji[b:]]
                assert [validator.feed(p) for p in pieces] == [True, True, True]
                assert validator.complete is True
                assert validator.feed(b"", final=True) is True


def test_complete_tracks_code_point_boundaries(twin):
    validator = twin.Utf8Validator()
    assert validator.complete is True  # nothing fed: the empty text
    assert validator.feed(b"ab\xe2") is True
    assert validator.complete is False
    assert validator.feed(b"\x82") is True
    assert validator.complete is False
    assert validator.feed(b"\xac") is True
    assert validator.complete is True


def test_final_does_not_reset(twin):
    for level in level_names(twin):
        validator = validator_at(twin, level)
        assert validator.feed(b"a", final=True) is True
        assert validator.complete is True
        # the stream goes on after a final feed: a continuation byte now is an error
        assert validator.feed(b"\x80") is False
        validator = validator_at(twin, level)
        assert validator.feed(b"\xc3\xa9", final=True) is True
        assert validator.feed(b"\xc3") is True
        assert validator.feed(b"\xa9", final=True) is True


def test_final_inside_code_point_fails_and_stays_failed(twin):
    for level in level_names(twin):
        validator = validator_at(twin, level)
        assert validator.feed(b"a\xe2\x82") is True
        assert validator.feed(b"", final=True) is False
        assert validator.complete is False
        assert validator.feed(b"\xac") is False  # finishing it now is too late
        validator = validator_at(twin, level)
        assert validator.feed(b"a\xe2\x82", final=True) is False


def test_final_accepts_truthy_values(twin):
    validator = twin.Utf8Validator()
    assert validator.feed(b"\xc3", final=0) is True
    assert validator.feed(b"", final=1) is False


def test_reset(twin):
    validator = twin.Utf8Validator()
    assert validator.feed(b"\xe2\x82") is True
    validator.reset()
    assert validator.complete is True
    assert validator.feed(b"\xac") is False  # the pending code point was forgotten
    validator.reset()
    assert validator.feed(b"ok", final=True) is True


# -- property-based -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_random_bytes(twin, data, cuts):
    want = decodes(data)
    pieces = split_at(data, cuts)
    want_feeds = expected_feeds(pieces)
    for level in level_names(twin):
        assert validate_at(twin, level, data) is want, level
        validator = validator_at(twin, level)
        assert [validator.feed(p) for p in pieces] == want_feeds, level
        assert validator.feed(b"", final=True) is want, level


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=200),
    cuts=st.lists(st.integers(0, 800), max_size=8),
    damage=st.one_of(st.none(), st.tuples(st.integers(0, 800), st.binary(min_size=1, max_size=4))),
)
def test_random_text_random_fragments(twin, text, cuts, damage):
    data = text.encode("utf-8")
    if damage is not None:
        pos, junk = damage
        pos = min(pos, len(data))
        data = data[:pos] + junk + data[pos + len(junk) :]
    want = decodes(data)
    pieces = split_at(data, cuts)
    want_feeds = expected_feeds(pieces)
    for level in level_names(twin):
        assert validate_at(twin, level, data) is want, level
        validator = validator_at(twin, level)
        assert [validator.feed(p) for p in pieces] == want_feeds, level
        assert validator.feed(b"", final=True) is want, level
        assert validator.complete is want, level


def test_long_random_streams(twin):
    """Long texts with runs of ASCII (the fast paths) in random fragments, some damaged."""
    rng = random.Random(6455)
    for trial in range(40):
        words = ["plain ascii words ", "é", "ünï", "中文", "😀", "x" * 100, "\n"]
        data = "".join(rng.choice(words) for _ in range(rng.randrange(1, 400))).encode()
        if trial % 3 == 0 and data:
            pos = rng.randrange(len(data))
            data = data[:pos] + bytes([rng.choice([0x80, 0xC0, 0xED, 0xF4, 0xFF])]) + data[pos:]
        cuts = [rng.randrange(len(data) + 1) for _ in range(rng.randrange(20))]
        pieces = split_at(data, cuts)
        want_feeds = expected_feeds(pieces)
        for level in level_names(twin):
            assert validate_at(twin, level, data) is decodes(data), (trial, level)
            validator = validator_at(twin, level)
            assert [validator.feed(p) for p in pieces] == want_feeds, (trial, level)


# -- buffers -------------------------------------------------------------------------------

SAMPLE = ("text é€😀 " * 30 + "😀").encode()  # the last byte finishes a code point


def _buffers(payload: bytes):
    yield "bytes", payload
    yield "bytes-subclass", type("B", (bytes,), {})(payload)
    yield "bytearray", bytearray(payload)
    yield "memoryview", memoryview(payload)
    yield "memoryview-slice", memoryview(b"xx" + payload)[2:]
    yield "readonly-view", memoryview(bytearray(payload)).toreadonly()
    yield "array-B", array.array("B", payload)
    m = mmap.mmap(-1, len(payload))
    m.write(payload)
    yield "mmap", m


BUFFER_KINDS = [name for name, _ in _buffers(b"x")]


@pytest.mark.parametrize("kind", BUFFER_KINDS)
def test_buffer_types(twin, kind):
    for payload, want in ((SAMPLE, True), (SAMPLE[:-1], False), (SAMPLE + b"\xed\xa0", False)):
        data = dict(_buffers(payload))[kind]
        assert twin.validate_utf8(data) is want
        validator = twin.Utf8Validator()
        assert validator.feed(data, final=True) is want


def test_wide_array_is_raw_bytes(twin):
    # "é" is C3 A9: as 16-bit items of an array("H") the raw bytes are C3 A9 too
    raw = "éé".encode() * 100
    arr = array.array("H")
    arr.frombytes(raw)
    assert len(arr) == 200
    assert twin.validate_utf8(arr) is True
    bad = array.array("H")
    bad.frombytes(b"\xff\xfe" * 10)
    assert twin.validate_utf8(bad) is False
    validator = twin.Utf8Validator()
    assert validator.feed(arr) is True
    assert validator.feed(bad) is False


@pytest.mark.parametrize("bad", ["text", "", 5, None, 1.5, object(), ["a"]],
                         ids=["str", "empty-str", "int", "None", "float", "object", "list"])
def test_non_buffers_are_type_errors(twin, bad):
    with pytest.raises(TypeError):
        twin.validate_utf8(bad)
    validator = twin.Utf8Validator()
    with pytest.raises(TypeError):
        validator.feed(bad)
    assert validator.complete is True  # a rejected argument changes nothing
    assert validator.feed(b"\xff") is False
    with pytest.raises(TypeError):  # the type is checked even once failed
        validator.feed(bad)


def test_non_contiguous_is_buffer_error(twin):
    strided = memoryview(bytearray(b"abcdefgh" * 8))[::2]
    with pytest.raises(BufferError):
        twin.validate_utf8(strided)
    with pytest.raises(BufferError):
        twin.Utf8Validator().feed(strided)


def test_readonly_mmap(twin, tmp_path):
    path = tmp_path / "text"
    path.write_bytes(SAMPLE)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert twin.validate_utf8(m) is True
        assert twin.Utf8Validator().feed(m, final=True) is True


# -- large inputs (the kernels run without the GIL above a threshold) ------------------------


@pytest.mark.parametrize("size", [(1 << 16) - 1, 1 << 16, (1 << 20) + 3])
def test_large_inputs(twin, size):
    text = (_text(1000, size) * (size // 1000 + 1))[:size]
    text = text[: len(text.decode("utf-8", "ignore").encode())]  # end on a boundary
    for level in level_names(twin):
        assert validate_at(twin, level, text) is True
        assert validate_at(twin, level, text + b"\x80") is False
        assert validate_at(twin, level, b"\xc0" + text) is False
        bad = bytearray(text)
        bad[len(bad) // 2] = 0xFF
        assert validate_at(twin, level, bad) is False
        validator = validator_at(twin, level)
        assert validator.feed(text) is True
        assert validator.feed(bad) is False


def test_threads_share_nothing(twin):
    """Validators used from several threads at once (large feeds release the GIL)."""
    good = ("threads é😀 " * 20000).encode()
    bad = good[:-1] + b"\xff"
    errors: list[str] = []

    def work(data: bytes, want: bool) -> None:
        validator = twin.Utf8Validator()
        for _ in range(20):
            if twin.validate_utf8(data) is not want:
                errors.append("validate_utf8")
            validator.reset()
            if validator.feed(data, final=True) is not want:
                errors.append("feed")

    threads = [threading.Thread(target=work, args=(d, w))
               for d, w in ((good, True), (bad, False)) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- the compiled twin's test hooks --------------------------------------------------------


def test_level_hooks_reject_unknown_levels(twin):
    if twin.name != "c":
        pytest.skip("SIMD levels exist in the compiled twin only")
    module = twin.modules["_utf8"]
    with pytest.raises(ValueError):
        module._set_level("mmx")
    supported = simd_levels()
    assert supported[0] == "scalar"
    assert module.SIMD in supported
