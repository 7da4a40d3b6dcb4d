"""The permessage-deflate engine (wsfast._pmd, RFC 7692 section 7.2), on every backend.

The engine is one pure-Python module that both twins use, so these tests run over
the installed backends (stdlib zlib always; zlib-ng and ISA-L when installed, skipped
otherwise) rather than over the twins: RFC 7692 section 7.2.3's byte examples, BFINAL
streams, limits at +-1, bombs with their memory peak, corrupt data, window 8, every
split point, random round trips, and interop with websockets' extension.
"""

from __future__ import annotations

import os
import random
import tracemalloc
import zlib
from collections.abc import Callable, Iterable
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsfast import _pmd
from wsfast._pmd import TAIL, Deflater, Inflater
from wsfast.errors import InvalidDataError, MessageTooBigError

try:
    from wsfast._inflate_c import Inflater as _CompiledInflater
except ImportError:  # a pure install, or a build without zlib
    _CompiledInflater = None

BACKENDS = list(_pmd.BACKENDS)
#: The compiled twin of the inflater, which runs on stdlib zlib only: a "backend"
#: of its own here, so that every inflation test runs on it too.
COMPILED = "zlib+compiled"
RECEIVERS = [*BACKENDS, COMPILED]

_EXAMPLES = int(os.environ.get("WSFAST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(params=RECEIVERS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend name (and COMPILED); skipped when that backend is not installed."""
    name: str = request.param
    if name == COMPILED:
        if _CompiledInflater is None:
            pytest.skip("the compiled inflater is not built")
    elif name not in _pmd.available_backends():
        pytest.skip(f"deflate backend {name} is not installed")
    return name


def installed() -> list[str]:
    return list(_pmd.available_backends()) + ([COMPILED] if _CompiledInflater else [])


def plain(backend: str) -> str:
    """The backend proper: COMPILED inflates with stdlib zlib."""
    return "zlib" if backend == COMPILED else backend


def new_inflater(window_bits: int = 15, no_context_takeover: bool = False, *,
                 backend: Any = None) -> Inflater:
    """An inflater on ``backend``: the compiled twin for COMPILED, else the pure one."""
    if backend == COMPILED:
        assert _CompiledInflater is not None
        return cast(Inflater, _CompiledInflater(window_bits, no_context_takeover,
                                                backend="zlib"))
    return Inflater(window_bits, no_context_takeover, backend=backend)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def inflate_pieces(inf: Inflater, pieces: Iterable[bytes], limit: int | None = None) -> bytes:
    """Feed ``pieces`` of one message, then finish it; the whole output."""
    out = bytearray()
    for piece in pieces:
        out += inf.feed(piece, limit)
    out += inf.finish(limit)
    return bytes(out)


def splits(data: bytes) -> Iterable[list[bytes]]:
    """``data`` whole, one byte at a time, and cut in two at every point."""
    yield [data]
    if data:
        yield [data[i : i + 1] for i in range(len(data))]
    for cut in range(len(data) + 1):
        yield [data[:cut], data[cut:]]


def deflate_stream(messages: list[bytes], level: int = 6, wbits: int = 15) -> list[bytes]:
    """A reference sender (stdlib zlib): context takeover, sync flush, tail stripped."""
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits)
    return [(c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH))[:-4] for m in messages]


def strict_inflate(payload: bytes, wbits: int, d: Any = None) -> bytes:
    """Stdlib zlib one output byte per call, so that every match must come from the
    window of ``2**wbits`` bytes (within one call zlib accepts any distance into that
    call's own output).  ``d``: a decompressor to go on with (context takeover)."""
    d = d or zlib.decompressobj(-wbits)
    out = bytearray()
    data = payload + TAIL
    while True:
        piece = d.decompress(data, 1)
        out += piece
        data = d.unconsumed_tail
        if not data and not piece:
            return bytes(out)


def reference_inflate(payloads: list[bytes], wbits: int = 15, reset: bool = False) -> list[bytes]:
    """Stdlib zlib, unbounded: each payload plus the tail."""
    d = zlib.decompressobj(-wbits)
    out = []
    for p in payloads:
        if reset:
            d = zlib.decompressobj(-wbits)
        out.append(d.decompress(p + TAIL))
    return out


# --- RFC 7692 section 7.2.3: the byte examples -------------------------------------

HELLO = b"Hello"
#: (name, peer's no_context_takeover, messages as lists of fragment payloads, texts)
RFC_VECTORS = [
    ("7.2.3.1-hello", False, [[h("f2 48 cd c9 c9 07 00")]], [HELLO]),
    ("7.2.3.1-hello-fragmented", False, [[h("f2 48 cd"), h("c9 c9 07 00")]], [HELLO]),
    ("7.2.3.2-shared-window", False,
     [[h("f2 48 cd c9 c9 07 00")], [h("f2 00 11 00 00")]], [HELLO, HELLO]),
    ("7.2.3.2-no-context-takeover", True,
     [[h("f2 48 cd c9 c9 07 00")], [h("f2 48 cd c9 c9 07 00")]], [HELLO, HELLO]),
    ("7.2.3.3-stored-block", False, [[h("00 05 00 fa ff 48 65 6c 6c 6f 00")]], [HELLO]),
    ("7.2.3.4-bfinal", False, [[h("f3 48 cd c9 c9 07 00 00")]], [HELLO]),
    ("7.2.3.5-two-blocks", False, [[h("f2 48 05 00 00 00 ff ff ca c9 c9 07 00")]], [HELLO]),
    ("7.2.3.5-two-blocks-two-frames", False,
     [[h("f2 48 05 00 00 00 ff ff"), h("ca c9 c9 07 00")]], [HELLO]),
    ("7.2.3.6-empty-final-fragment", False,
     [[h("f2 48 cd c9 c9 07 00 00 00 ff ff"), h("00")]], [HELLO]),
    ("empty-message", False, [[h("00")]], [b""]),
    ("empty-payload", False, [[b""]], [b""]),
    # A BFINAL message, then one that refers to its window: websockets 17.4 gives b"".
    ("bfinal-then-shared-window", False,
     [[h("f3 48 cd c9 c9 07 00 00")], [h("f2 00 11 00 00")]], [HELLO, HELLO]),
    # A sender that ends a message with its final block and appends nothing.
    ("bfinal-without-empty-block", False,
     [[h("f3 48 cd c9 c9 07 00")], [h("f2 00 11 00 00")]], [HELLO, HELLO]),
    # BFINAL inside a message: the next block still sees "Hello" in the window.
    ("bfinal-mid-message", False, [[h("f3 48 cd c9 c9 07 00"), h("f2 00 11 00 00")]],
     [HELLO + HELLO]),
]


@pytest.mark.parametrize(("reset", "messages", "texts"),
                         [pytest.param(*v[1:], id=v[0]) for v in RFC_VECTORS])
def test_rfc7692_examples(backend: str, reset: bool, messages: list[list[bytes]],
                          texts: list[bytes]) -> None:
    inf = new_inflater(15, reset, backend=backend)
    assert [inflate_pieces(inf, frags) for frags in messages] == texts


@pytest.mark.parametrize(("reset", "messages", "texts"),
                         [pytest.param(*v[1:], id=v[0]) for v in RFC_VECTORS])
def test_rfc7692_examples_every_split(backend: str, reset: bool,
                                      messages: list[list[bytes]], texts: list[bytes]) -> None:
    # The last message, whole, byte by byte and split at every point, after the
    # earlier ones (whose window it may use); both with feed() and with final=True.
    *before, last = messages
    for pieces in splits(b"".join(last)):
        for final_in_feed in (False, True):
            inf = new_inflater(15, reset, backend=backend)
            for frags in before:
                inflate_pieces(inf, frags)
            if final_in_feed:
                out = b"".join(inf.feed(p) for p in pieces[:-1])
                out += inf.feed(pieces[-1], None, final=True)
            else:
                out = inflate_pieces(inf, pieces)
            assert out == texts[-1], pieces


def test_rfc7692_deflate_bytes() -> None:
    # Stdlib zlib at level 1 writes exactly the RFC's examples.
    d = Deflater(15, level=1, backend="zlib")
    assert d.compress(HELLO) == h("f2 48 cd c9 c9 07 00")
    assert d.compress(HELLO) == h("f2 00 11 00 00")  # 7.2.3.2: the shared window
    d = Deflater(15, True, level=1, backend="zlib")
    assert d.compress(HELLO) == h("f2 48 cd c9 c9 07 00")
    assert d.compress(HELLO) == h("f2 48 cd c9 c9 07 00")  # no context takeover


# --- the deflater ---------------------------------------------------------------------


def test_deflate_empty(backend: str) -> None:
    d = Deflater(backend=plain(backend))
    assert d.compress(b"") == b"\x00"  # 7.2.3.6
    assert d.compress(HELLO, final=False).endswith(TAIL)
    assert d.compress(b"", final=True) == b"\x00"
    assert d.compress(bytearray()) == b"\x00"
    assert d.compress(HELLO) != b"\x00"
    d = Deflater(backend=plain(backend))
    assert reference_inflate([d.compress(HELLO, final=False)[:-4]]) == [HELLO]


def test_deflate_fragments_make_one_message(backend: str) -> None:
    text = b"fragmented permessage-deflate message " * 20
    for reset in (False, True):
        d = Deflater(15, reset, backend=plain(backend))
        inf = Inflater(15, reset)
        for _ in range(3):
            frames = [d.compress(text[:100], final=False), d.compress(text[100:500], final=False),
                      d.compress(text[500:], final=True)]
            assert all(f.endswith(TAIL) for f in frames[:-1])
            assert not frames[-1].endswith(TAIL)
            assert inflate_pieces(inf, frames) == text


def test_deflate_context_takeover(backend: str) -> None:
    text = b'{"type":"trade","symbol":"BTC-USD","price":"43125.12","qty":"0.0031"}'
    d = Deflater(backend=plain(backend))
    first, second = d.compress(text), d.compress(text)
    assert len(second) < len(first) // 2  # the second refers to the first
    assert reference_inflate([first, second]) == [text, text]
    with pytest.raises(zlib.error):  # and cannot be inflated on its own
        reference_inflate([second])


def test_deflate_no_context_takeover(backend: str) -> None:
    # Every message inflates with a fresh decompressor (the peer may drop its state),
    # although one compressor is reused with Z_FULL_FLUSH.
    rng = random.Random(5)
    text = bytes(rng.choice(b"abcdefgh ") for _ in range(3000))
    d = Deflater(15, True, backend=plain(backend))
    payloads = [d.compress(text[i:] + text[:i]) for i in range(0, 3000, 300)]
    assert reference_inflate(payloads, reset=True) == [text[i:] + text[:i]
                                                       for i in range(0, 3000, 300)]
    assert len(set(payloads)) > 1
    c = d._c
    d.compress(text)
    assert d._c is c  # reused, not rebuilt


def test_deflate_window_bits(backend: str) -> None:
    rng = random.Random(9)
    data = bytes(rng.getrandbits(8) for _ in range(3000))
    data = data + data  # matches 3000 bytes back: windows of 12 bits and more use them
    for bits in range(9, 16):
        d = Deflater(bits, backend=plain(backend))
        payload = d.compress(data)
        assert strict_inflate(payload, bits) == data
        assert (len(payload) < 3600) == (bits >= 12), bits


def test_deflate_window_8() -> None:
    # Matches at distances 251-500 are common in this data: a compressor with a
    # 9-bit window would use them unless it keeps within 250 bytes.
    rng = random.Random(8)
    block = bytes(rng.getrandbits(8) for _ in range(251))
    data = b"".join(block[: rng.randrange(200, 251)] + bytes([i % 256]) * 3
                    for i in range(300))
    for name in installed():
        for level in _pmd.get_backend(plain(name)).levels:
            d = Deflater(8, level=level, backend=plain(name))
            assert d.window_bits == 8
            payloads = [d.compress(data[i : i + 5000]) for i in range(0, len(data), 5000)]
            ref = zlib.decompressobj(-8)
            got = b"".join(strict_inflate(p, 8, ref) for p in payloads)
            assert got == data, (name, level)
            ours = new_inflater(8, backend=name)
            assert b"".join(ours.feed(p, final=True) for p in payloads) == data
    # ISA-L reaches 512 bytes back at wbits -9: a window of 8 is served by zlib.
    if "isal" in installed():
        assert Deflater(8, backend="isal").backend.name == "zlib"
        assert Deflater(9, backend="isal").backend.name == "isal"


def test_deflate_levels_and_mem_levels(backend: str) -> None:
    data = b"level and memLevel " * 500
    for level in _pmd.get_backend(plain(backend)).levels:
        for mem_level in (1, 5, 9):
            d = Deflater(15, level=level, mem_level=mem_level, backend=plain(backend))
            assert reference_inflate([d.compress(data)]) == [data]


def test_deflater_arguments() -> None:
    with pytest.raises(ValueError):
        Deflater(7)
    with pytest.raises(ValueError):
        Deflater(16)
    with pytest.raises(TypeError):
        Deflater("15")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Deflater(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Deflater(level=10, backend="zlib")
    with pytest.raises(ValueError):
        Deflater(mem_level=0)
    with pytest.raises(ValueError):
        Deflater(mem_level=10)
    assert Deflater(level=9).level == 9  # the automatic choice serves every level
    if "isal" in installed():
        with pytest.raises(ValueError, match="0-3"):
            Deflater(level=6, backend="isal")
    with pytest.raises(ValueError):
        Deflater(backend="no-such-backend")
    with pytest.raises(TypeError):
        Deflater(backend=42)  # type: ignore[arg-type]
    assert "window_bits=15" in repr(Deflater())


# --- the inflater: BFINAL --------------------------------------------------------------


def bfinal_sender(messages: list[bytes], wbits: int = 15, end: bytes = b"\x00") -> list[bytes]:
    """A sender that ends every message with a final block (Z_FINISH) and keeps the
    context by priming the next compressor with the window (section 7.2.1 allows it).
    ``end`` follows the final block: ``00`` is what section 7.2.1 asks for (an empty
    stored block, less the 4 bytes the receiver appends); some senders append nothing."""
    window = 1 << wbits
    history = b""
    payloads = []
    for m in messages:
        c = (zlib.compressobj(6, zlib.DEFLATED, -wbits, 8, zlib.Z_DEFAULT_STRATEGY, history[-window:])
             if history else zlib.compressobj(6, zlib.DEFLATED, -wbits))
        # After a final block, append an empty stored block and strip its last 4 bytes.
        payloads.append(c.compress(m) + c.flush(zlib.Z_FINISH) + end)
        history = (history + m)[-window:]
    return payloads


@pytest.mark.parametrize("end", [b"\x00", b""], ids=["empty-stored-block", "nothing"])
@pytest.mark.parametrize("wbits", [9, 15])
def test_bfinal_every_message_with_context_takeover(backend: str, wbits: int, end: bytes) -> None:
    rng = random.Random(wbits)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"omega", b"{", b"}", b'"key":']
    messages = [b" ".join(rng.choice(words) for _ in range(rng.randrange(0, 3000)))
                for _ in range(60)]  # about 9 windows of 32 KiB in all
    payloads = bfinal_sender(messages, wbits, end)
    inf = new_inflater(wbits, backend=backend)
    for message, payload in zip(messages, payloads, strict=True):
        cut = len(payload) // 3
        assert inflate_pieces(inf, [payload[:cut], payload[cut:]], 1 << 20) == message


def test_bfinal_blocks_inside_one_message(backend: str) -> None:
    # Several zlib streams, each final, within one message, each using the window.
    part = b"0123456789abcdef" * 300  # 4800 bytes
    payload = b"".join(bfinal_sender([part] * 10, end=b"")) + b"\x00"
    for step in (1, 7, 4096, len(payload)):
        inf = new_inflater(15, backend=backend)
        pieces = [payload[i : i + step] for i in range(0, len(payload), step)]
        assert inflate_pieces(inf, pieces) == part * 10


EMPTY_FINAL_BLOCK = h("03 00")  # BFINAL=1, fixed Huffman, end of block
END = b"\x00"  # the closing empty stored block, less the receiver's 4 bytes


def test_bfinal_restarts_are_bounded(backend: str) -> None:
    # Each final block costs a new decompressor primed with the window: a message
    # gets FREE_RESTARTS of them plus one per RESTART_INPUT compressed bytes.
    # (``k`` final blocks and the closing 00 make k restarts: one after each block.)
    free = _pmd.FREE_RESTARTS
    assert inflate_pieces(new_inflater(backend=backend), [EMPTY_FINAL_BLOCK * free + END]) == b""
    with pytest.raises(MessageTooBigError, match="DEFLATE streams"):
        inflate_pieces(new_inflater(backend=backend), [EMPTY_FINAL_BLOCK * (free + 1) + END])
    # A long message earns more: 2048 bytes of stored data earn 2 more restarts.
    stored = b"\x00" + (2043).to_bytes(2, "little") + (0xFFFF ^ 2043).to_bytes(2, "little")
    data = stored + b"x" * 2043
    ok = data + EMPTY_FINAL_BLOCK * (free + 2) + END
    assert inflate_pieces(new_inflater(backend=backend), [ok]) == b"x" * 2043
    with pytest.raises(MessageTooBigError):
        inflate_pieces(new_inflater(backend=backend), [data + EMPTY_FINAL_BLOCK * (free + 3) + END])
    # The count is per message (the next one's first restart included).
    inf = new_inflater(backend=backend)
    for _ in range(5):
        assert inflate_pieces(inf, [EMPTY_FINAL_BLOCK * (free - 1) + END]) == b""
    # A stream that ends with the message costs nothing until more data comes.
    inf = new_inflater(backend=backend)
    for _ in range(3):
        assert inflate_pieces(inf, [EMPTY_FINAL_BLOCK]) == b""
    if backend != COMPILED:  # the compiled twin's state is not visible
        assert inf._restarts == 0 and inf._d is None


# --- the inflater: limits ------------------------------------------------------------------


def test_limit_boundary(backend: str) -> None:
    rng = random.Random(3)
    text = bytes(rng.choice(b"ab cd") for _ in range(100_000))
    payload = deflate_stream([text])[0]
    for pieces in ([payload], [payload[i : i + 1000] for i in range(0, len(payload), 1000)]):
        assert inflate_pieces(new_inflater(backend=backend), pieces, len(text)) == text
        with pytest.raises(MessageTooBigError):
            inflate_pieces(new_inflater(backend=backend), pieces, len(text) - 1)
    assert inflate_pieces(new_inflater(backend=backend), [h("00")], 0) == b""
    with pytest.raises(MessageTooBigError):
        inflate_pieces(new_inflater(backend=backend), [h("f2 48 cd c9 c9 07 00")], 4)
    assert inflate_pieces(new_inflater(backend=backend), [h("f2 48 cd c9 c9 07 00")], 5) == HELLO


def test_limit_pending_output_with_empty_tail(backend: str) -> None:
    # 2**24 + 1 bytes of 01: zlib stops inside a match with all input consumed and one
    # byte still to come (the state websockets #1715 missed; ISA-L gets there often).
    size = 1 << 24
    data = b"\x01" * (size + 1)
    payload = deflate_stream([data], level=9)[0]
    assert len(payload) < 20000
    with pytest.raises(MessageTooBigError):
        inflate_pieces(new_inflater(backend=backend), [payload], size)
    out = bytearray()
    inf = new_inflater(backend=backend)
    assert inf.feed_to(payload, size + 1, out.extend, final=True) == size + 1
    assert len(out) == size + 1 and out.count(1) == size + 1


def test_limit_is_per_message(backend: str) -> None:
    inf = new_inflater(backend=backend)
    payloads = deflate_stream([b"x" * 1000] * 5)
    for p in payloads:
        assert len(inflate_pieces(inf, [p], 1000)) == 1000
    assert inf.total == 0


def test_limit_pending_output_many_requests(backend: str) -> None:
    # Every split and every limit near the size, on data whose long matches leave
    # output pending at the end of many calls: the total is exact.
    data = (b"\x00" * 3000 + b"abc") * 50
    payload = deflate_stream([data], level=9)[0]
    for limit in (len(data) - 1, len(data), len(data) + 1):
        for step in (1, 5, 64, len(payload)):
            pieces = [payload[i : i + step] for i in range(0, len(payload), step)]
            inf = new_inflater(backend=backend)
            if limit < len(data):
                with pytest.raises(MessageTooBigError):
                    inflate_pieces(inf, pieces, limit)
            else:
                assert inflate_pieces(inf, pieces, limit) == data


# --- bombs: the memory peak stays under the limit + 1 MiB ------------------------------

MIB = 1 << 20
BOMB_SIZE = 256 * MIB
BOMB_LIMIT = 16 * MIB


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """256 MiB of zeros in about 260 KB: 256 copies of a full-flushed MiB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = c.compress(b"\x00" * MIB) + c.flush(zlib.Z_FULL_FLUSH)  # independent of history
    return (one * (BOMB_SIZE // MIB))[:-4]


def _peak(run: Callable[[], object]) -> int:
    """The tracemalloc peak of ``run`` above what was allocated before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


BOMB_SPLITS = {
    "whole": None,
    "1-byte": 1,
    "1000-bytes": 1000,
    "64KiB+1": 64 * 1024 + 1,
}


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
@pytest.mark.parametrize("step", list(BOMB_SPLITS.values()), ids=list(BOMB_SPLITS))
def test_bomb_memory_peak(backend: str, bomb: bytes, step: int | None) -> None:
    # The decoder's way: each piece of output into the message's buffer (feed_to).
    inf = new_inflater(backend=backend)
    pieces = [bomb] if step is None else [bomb[i : i + step] for i in range(0, len(bomb), step)]
    out = _pmd.MessageBuffer()
    fed = 0

    def run() -> None:
        nonlocal fed
        with pytest.raises(MessageTooBigError):
            for piece in pieces:
                inf.feed_to(piece, BOMB_LIMIT, out.append)
                fed += 1
            inf.feed_to(b"", BOMB_LIMIT, out.append, final=True)

    peak = _peak(run)
    assert peak < BOMB_LIMIT + MIB, peak
    assert BOMB_LIMIT - _pmd.OUTPUT_CHUNK <= len(out) <= BOMB_LIMIT + 1
    assert fed < len(pieces)  # raised on the way, not at the end
    with pytest.raises(MessageTooBigError):  # and stays failed
        inf.feed(b"\x00")


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
def test_bomb_random_splits(backend: str, bomb: bytes) -> None:
    rng = random.Random(1)
    cuts = sorted(rng.sample(range(1, len(bomb)), 300))
    pieces = [bomb[a:b] for a, b in zip([0, *cuts], [*cuts, len(bomb)], strict=True)]
    inf = new_inflater(backend=backend)
    out = _pmd.MessageBuffer()

    def run() -> None:
        with pytest.raises(MessageTooBigError):
            for piece in pieces:
                inf.feed_to(piece, BOMB_LIMIT, out.append)

    assert _peak(run) < BOMB_LIMIT + MIB


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
def test_bomb_with_feed(backend: str, bomb: bytes) -> None:
    # feed() joins each call's output: with calls that inflate to little each (or
    # pass the limit in one go), a caller keeping everything stays bounded too.
    for step in (None, 64):
        pieces = [bomb] if step is None else [bomb[i : i + step]
                                             for i in range(0, len(bomb), step)]
        kept: list[bytes] = []
        inf = new_inflater(backend=backend)

        def run(inf: Inflater = inf, pieces: list[bytes] = pieces,
                kept: list[bytes] = kept) -> None:
            with pytest.raises(MessageTooBigError):
                for piece in pieces:
                    kept.append(inf.feed(piece, BOMB_LIMIT))

        assert _peak(run) < BOMB_LIMIT + MIB
        assert sum(map(len, kept)) <= BOMB_LIMIT


# --- the inflater: corrupt data, state, arguments ------------------------------------------

CORRUPT = {
    "reserved-block-type": h("ff ff ff ff"),
    "distance-before-start": h("f2 00 11 00 00"),  # "Hello" again, with no history
    "stored-length-mismatch": h("00 05 00 00 00 48 65 6c 6c 6f"),
    "invalid-literal-code": h("04 c0 81 08 00 00 00 00 20 7f eb 0b 00 00"),
    "too-many-length-symbols": h("fc 00 00"),
}


@pytest.mark.parametrize("payload", list(CORRUPT.values()), ids=list(CORRUPT))
def test_corrupt_data(backend: str, payload: bytes) -> None:
    for pieces in splits(payload):
        inf = new_inflater(backend=backend)
        with pytest.raises(InvalidDataError) as info:
            inflate_pieces(inf, pieces)
        assert info.value.close_code == 1007
        with pytest.raises(InvalidDataError):  # stays failed
            inf.feed(h("f2 48 cd c9 c9 07 00"), final=True)


def test_no_context_takeover_forgets_the_window(backend: str) -> None:
    # Under the peer's no_context_takeover the window is dropped: a message that
    # refers to the previous one is corrupt.
    inf = new_inflater(15, True, backend=backend)
    assert inflate_pieces(inf, [h("f2 48 cd c9 c9 07 00")]) == HELLO
    with pytest.raises(InvalidDataError):
        inflate_pieces(inf, [h("f2 00 11 00 00")])


def test_context_takeover_many_messages(backend: str) -> None:
    rng = random.Random(11)
    messages = [bytes(rng.choice(b"abcdefghij {}:,") for _ in range(rng.randrange(0, 500)))
                for _ in range(1000)]
    inf = new_inflater(backend=backend)
    for message, payload in zip(messages, deflate_stream(messages), strict=True):
        assert inf.feed(payload, 1000, final=True) == message


def test_large_message_chunks(backend: str) -> None:
    # Input above INPUT_CHUNK and output above OUTPUT_CHUNK, in one feed.
    rng = random.Random(2)
    data = bytes(rng.getrandbits(8) for _ in range(300_000)) + b"z" * 2_000_000
    payload = deflate_stream([data])[0]
    assert len(payload) > _pmd.INPUT_CHUNK
    for inf in (new_inflater(backend=backend), new_inflater(backend=backend)):
        assert inf.feed(payload, len(data), final=True) == data
    out = bytearray(b"prefix")
    assert new_inflater(backend=backend).feed_to(memoryview(payload), None, out.extend,
                                             final=True) == len(data)
    assert out == b"prefix" + data
    buf = _pmd.MessageBuffer()
    assert new_inflater(backend=backend).feed_to(payload, None, buf.append, final=True) == len(data)
    assert len(buf) == len(data) and buf.take() == data and buf.take() == b""


def test_message_buffer() -> None:
    buf = _pmd.MessageBuffer()
    pieces = [b"a" * n for n in (1, 70_000, 5, 65_535, 2, 0, 3)] + [b"b"] * 70_000
    for piece in pieces:
        buf.append(piece)
    assert len(buf) == sum(map(len, pieces))
    assert buf.take() == b"".join(pieces)
    assert len(buf) == 0
    buf.append(b"xyz")
    buf.clear()
    buf.append(b"abc")
    assert buf.take() == b"abc"


def test_sink_errors_propagate(backend: str) -> None:
    # A sink may stop the message (invalid text, say): its error comes out as is.
    inf = new_inflater(backend=backend)

    def sink(piece: bytes) -> None:
        raise UnicodeError("stop")

    with pytest.raises(UnicodeError):
        inf.feed_to(h("f2 48 cd c9 c9 07 00"), None, sink, final=True)


def test_inflater_arguments(backend: str) -> None:
    with pytest.raises(ValueError):
        new_inflater(7, backend=backend)
    with pytest.raises(ValueError):
        new_inflater(16, backend=backend)
    with pytest.raises(TypeError):
        new_inflater(15.0, backend=backend)  # type: ignore[arg-type]
    inf = new_inflater(backend=backend)
    with pytest.raises(ValueError):
        inf.feed(b"", -1)
    with pytest.raises(TypeError):
        inf.feed("text")
    assert inf.feed(bytearray(h("f2 48 cd c9 c9 07 00")), 5, final=True) == HELLO
    assert inf.feed(memoryview(h("f2 00 11 00 00")), 5, final=True) == HELLO
    assert "window_bits=15" in repr(inf)


def test_for_endpoint() -> None:
    class Params:  # the attribute names of wsfast.PerMessageDeflate (API section 7)
        server_no_context_takeover = True
        client_no_context_takeover = False
        server_max_window_bits = 10
        client_max_window_bits = 12

    p = Params()
    server_in, client_in = Inflater.for_endpoint(p, client=False), Inflater.for_endpoint(p, client=True)
    assert (server_in.window_bits, server_in.no_context_takeover) == (12, False)
    assert (client_in.window_bits, client_in.no_context_takeover) == (10, True)
    server_out = Deflater.for_endpoint(p, client=False, level=3)
    client_out = Deflater.for_endpoint(p, client=True)
    assert (server_out.window_bits, server_out.no_context_takeover, server_out.level) == (10, True, 3)
    assert (client_out.window_bits, client_out.no_context_takeover) == (12, False)


def test_backend_choice() -> None:
    chosen = _pmd.get_backend()
    assert chosen.name == next(n for n in _pmd.PREFERENCE if n in installed())
    assert _pmd.get_backend("zlib").module is zlib
    assert _pmd.get_backend(zlib).name == "zlib"
    assert _pmd.get_backend(chosen) is chosen
    with pytest.raises(ValueError):
        _pmd.get_backend("gzip")
    # A module wsfast does not know is taken as zlib-compatible.
    import types

    other = types.ModuleType("my_zlib")
    other.__dict__.update({k: getattr(zlib, k) for k in dir(zlib) if not k.startswith("__")})
    custom = _pmd.get_backend(other)
    assert custom.name == "my_zlib" and custom.levels == range(10)
    assert Inflater(backend=other).feed(h("f2 48 cd c9 c9 07 00"), final=True) == HELLO


# --- random round trips -----------------------------------------------------------------

_data = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.sampled_from([b"ab", b"cd", b"hello ", b"\x00" * 300, b"{}", b"xyz" * 90]),
             max_size=60).map(b"".join),
)


@FUZZ
@given(
    messages=st.lists(st.tuples(_data, st.lists(st.integers(0, 4000), max_size=3)),
                      min_size=1, max_size=8),
    bits=st.integers(8, 15),
    reset=st.booleans(),
    level=st.integers(0, 9),
    mem_level=st.integers(1, 9),
    sender=st.sampled_from(BACKENDS),
    receiver=st.sampled_from(RECEIVERS),
    seed=st.integers(0, 2**32),
)
def test_round_trip(messages: list[tuple[bytes, list[int]]], bits: int, reset: bool, level: int,
                    mem_level: int, sender: str, receiver: str, seed: int) -> None:
    have = installed()
    sender = sender if sender in have else "zlib"
    receiver = receiver if receiver in have else "zlib"
    levels = _pmd.get_backend(sender).levels
    d = Deflater(bits, reset, level=level if level in levels else levels[-1],
                 mem_level=mem_level, backend=sender)
    inf = new_inflater(bits, reset, backend=receiver)
    rng = random.Random(seed)
    wire_all = []
    for data, cuts in messages:
        # The sender fragments the message at ``cuts``; the receiver gets the
        # concatenated payloads split at random points.
        bounds = sorted({min(c, len(data)) for c in cuts})
        parts = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]
        frames = [d.compress(p, final=False) for p in parts[:-1]] + [d.compress(parts[-1])]
        wire = b"".join(frames)
        wire_all.append(wire)
        points = sorted(rng.sample(range(len(wire) + 1), min(3, len(wire) + 1)))
        pieces = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]
        limit = len(data) if rng.random() < 0.5 else None
        assert inflate_pieces(inf, pieces, limit) == data
    # stdlib zlib agrees (window 8 streams inflate with a 9-bit window there).
    assert reference_inflate(wire_all, max(bits, 9), reset) == [m for m, _ in messages]


@FUZZ
@given(data=st.binary(min_size=1, max_size=2000), limit=st.integers(0, 2500),
       receiver=st.sampled_from(RECEIVERS), step=st.integers(1, 300))
def test_limit_fuzz(data: bytes, limit: int, receiver: str, step: int) -> None:
    receiver = receiver if receiver in installed() else "zlib"
    data = data * 3
    payload = deflate_stream([data])[0]
    pieces = [payload[i : i + step] for i in range(0, len(payload), step)]
    inf = new_inflater(backend=receiver)
    if len(data) > limit:
        with pytest.raises(MessageTooBigError):
            inflate_pieces(inf, pieces, limit)
    else:
        assert inflate_pieces(inf, pieces, limit) == data


@FUZZ
@given(garbage=st.binary(max_size=200), receiver=st.sampled_from(RECEIVERS))
def test_garbage_never_escapes(garbage: bytes, receiver: str) -> None:
    # Random bytes inflate to something, or raise one of the engine's errors.
    receiver = receiver if receiver in installed() else "zlib"
    inf = new_inflater(backend=receiver)
    try:
        out = inflate_pieces(inf, [garbage[:50], garbage[50:]], 100_000)
    except (InvalidDataError, MessageTooBigError):
        return
    assert len(out) <= 100_000


# --- interop with websockets' extension -------------------------------------------------

try:
    from websockets import frames as websockets_frames
    from websockets.extensions import permessage_deflate as websockets_pmd
except ImportError:  # websockets is in the test extra; without it, these skip
    websockets_frames = websockets_pmd = None  # type: ignore[assignment]

needs_websockets = pytest.mark.skipif(websockets_pmd is None, reason="websockets not installed")


def _ws_ext(remote_reset: bool, local_reset: bool, remote_bits: int, local_bits: int,
            settings: dict[str, Any] | None = None) -> Any:
    return websockets_pmd.PerMessageDeflate(remote_reset, local_reset, remote_bits, local_bits,
                                            settings)


def _ws_frames(message: bytes, cuts: list[int]) -> list[Any]:
    Frame, Opcode = websockets_frames.Frame, websockets_frames.Opcode
    bounds = [0, *cuts, len(message)]
    parts = [message[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return [Frame(Opcode.BINARY if i == 0 else Opcode.CONT, p, fin=i == len(parts) - 1)
            for i, p in enumerate(parts)]


@needs_websockets
@FUZZ
@given(messages=st.lists(_data, min_size=1, max_size=6), bits=st.integers(9, 15),
       reset=st.booleans(), level=st.integers(1, 9), receiver=st.sampled_from(RECEIVERS))
def test_interop_websockets_to_wsfast(messages: list[bytes], bits: int, reset: bool, level: int,
                                      receiver: str) -> None:
    receiver = receiver if receiver in installed() else "zlib"
    theirs = _ws_ext(False, reset, 15, bits, {"level": level})
    ours = new_inflater(bits, reset, backend=receiver)
    for message in messages:
        cuts = [len(message) // 2] if len(message) > 1 else []
        payloads = [bytes(theirs.encode(f).data) for f in _ws_frames(message, cuts)]
        assert inflate_pieces(ours, payloads, len(message)) == message


@needs_websockets
@FUZZ
@given(messages=st.lists(_data, min_size=1, max_size=6), bits=st.integers(8, 15),
       reset=st.booleans(), sender=st.sampled_from(BACKENDS))
def test_interop_wsfast_to_websockets(messages: list[bytes], bits: int, reset: bool,
                                      sender: str) -> None:
    sender = sender if sender in installed() else "zlib"
    Frame, Opcode = websockets_frames.Frame, websockets_frames.Opcode
    ours = Deflater(bits, reset, backend=sender)
    theirs = _ws_ext(reset, False, bits, 15)
    for message in messages:
        half = len(message) // 2
        frames = [Frame(Opcode.TEXT, ours.compress(message[:half], final=False), fin=False,
                        rsv1=True),
                  Frame(Opcode.CONT, ours.compress(message[half:]), fin=True)]
        got = b"".join(bytes(theirs.decode(f, max_size=len(message) + 1).data) for f in frames)
        assert got == message


# --- the compiled inflater against the pure one ------------------------------------


def test_compiled_inflater_is_built() -> None:
    """A compiled install has the compiled inflater wherever zlib is linked (all but
    Windows): without it the compiled decoder silently takes the slower engine."""
    if os.environ.get("WSFAST_REQUIRE_EXTENSION") != "1" or os.name == "nt":
        pytest.skip("only checked where the compiled twin is required")
    assert _CompiledInflater is not None
    from wsfast import _inflate_c

    assert _inflate_c.ZLIB_RUNTIME_VERSION.split(".")[0] == "1"


def test_compiled_inflater_refuses_other_backends() -> None:
    if _CompiledInflater is None:
        pytest.skip("the compiled inflater is not built")
    assert _CompiledInflater(backend=zlib).backend.name == "zlib"
    for name in set(installed()) - {"zlib", COMPILED}:
        with pytest.raises(ValueError, match="zlib only"):
            _CompiledInflater(backend=name)
    with pytest.raises(TypeError, match="pickle"):
        import pickle

        pickle.dumps(_CompiledInflater())


def _outcomes(inf: Any, messages: list[list[bytes]], limit: int | None) -> list[Any]:
    """Every piece the sink sees and every error, message by message (after an
    error the inflater is broken: later messages show how it refuses)."""
    seen: list[Any] = []
    for parts in messages:
        pieces: list[bytes] = []
        try:
            for i, part in enumerate(parts):
                inf.feed_to(part, limit, pieces.append, final=i == len(parts) - 1)
        except (InvalidDataError, MessageTooBigError) as exc:
            seen.append((type(exc), str(exc), pieces))
        else:
            seen.append(("ok", pieces))
    return seen


#: What _random_messages compresses (``unit * repeat``), and limits for them.
_TEXTS = st.lists(st.tuples(st.binary(max_size=300), st.integers(0, 3000)),
                  min_size=1, max_size=4)
_LIMITS = st.one_of(st.none(), st.integers(0, 70000))


def _random_messages(texts: list[tuple[bytes, int]], bits: int, reset: bool, seed: int,
                     max_cuts: int) -> list[list[bytes]]:
    """Compressed messages of ``texts`` (``unit * repeat``) cut in up to ``max_cuts``
    places: some end the stream with a BFINAL block (sometimes with more after
    it), some have a bit flipped."""
    rng = random.Random(seed)
    wbits = max(bits, 9)
    c = zlib.compressobj(rng.choice([1, 6, 9]), zlib.DEFLATED, -wbits)
    messages = []
    for unit, repeat in texts:
        data = unit * (repeat if unit else 1)
        if rng.random() < 0.25:
            wire = c.compress(data) + c.flush(zlib.Z_FINISH)
            if rng.random() < 0.5:
                wire += b"\x00"
            c = zlib.compressobj(1, zlib.DEFLATED, -wbits, zdict=data[-(1 << wbits):] or b"\x00")
        else:
            wire = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
            wire = wire[:-4] if wire.endswith(TAIL) else wire
        if wire and rng.random() < 0.15:
            i = rng.randrange(len(wire))
            wire = wire[:i] + bytes([wire[i] ^ (1 << rng.randrange(8))]) + wire[i + 1 :]
        cuts = sorted(rng.sample(range(len(wire) + 1),
                                 min(rng.randrange(max_cuts + 1), len(wire) + 1)))
        messages.append([wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)])
        if reset:
            c = zlib.compressobj(1, zlib.DEFLATED, -wbits)
    return messages


@FUZZ
@given(
    texts=_TEXTS,
    bits=st.integers(8, 15),
    reset=st.booleans(),
    limit=_LIMITS,
    seed=st.integers(0, 2**32),
)
def test_compiled_inflater_matches_pure(texts: list[tuple[bytes, int]], bits: int, reset: bool,
                                        limit: int | None, seed: int) -> None:
    """Same pieces, same errors at the same bytes, for random messages (some with
    BFINAL blocks, some corrupted), limits and splits."""
    if _CompiledInflater is None:
        pytest.skip("the compiled inflater is not built")
    messages = _random_messages(texts, bits, reset, seed, max_cuts=3)
    pure = _outcomes(Inflater(bits, reset, backend="zlib"), messages, limit)
    compiled = _outcomes(_CompiledInflater(bits, reset), messages, limit)
    assert compiled == pure


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 16383, 16384, 16385, 300_000, 1_100_000])
def test_compiled_inflater_piece_sizes(size: int) -> None:
    """Around the stack buffer, the output chunk and the input slices: the same
    pieces as the pure engine, with and without a limit on the way."""
    if _CompiledInflater is None:
        pytest.skip("the compiled inflater is not built")
    data = random.Random(size).randbytes(size // 4) * 4
    wire = deflate_stream([data])[0]
    for limit in (None, size, max(size - 1, 0), 20_000):
        messages = [[wire], [wire[: len(wire) // 3], wire[len(wire) // 3 :]]]
        pure = _outcomes(Inflater(backend="zlib"), messages, limit)
        assert _outcomes(_CompiledInflater(), messages, limit) == pure


def _open_outcomes(inf: Any, messages: list[list[bytes]], limit: int | None,
                   hint: int) -> list[Any]:
    """``_outcomes`` for ``_run_open`` (the compiled decoder's entry): each
    message's output as ``check`` and ``keep`` showed it, checked to add up."""
    seen: list[Any] = []
    for parts in messages:
        out = _OpenSink()
        try:
            for i, part in enumerate(parts):
                inf._run_open(part, limit, i == len(parts) - 1, out.check, out.keep, hint)
        except (InvalidDataError, MessageTooBigError) as exc:
            seen.append((type(exc), str(exc), bytes(out.shown)))
        else:
            assert b"".join(out.kept) == bytes(out.shown)
            seen.append(("ok", out.kept))
    return seen


class _OpenSink:
    """``_run_open``'s two callbacks for one message, checking what they are given."""

    def __init__(self) -> None:
        self.shown = bytearray()  # every output byte, in order, the first time it is shown
        self.kept: list[bytes] = []

    def check(self, view: memoryview) -> None:
        assert len(view) > 0
        self.shown.extend(view)  # valid only during the call

    def keep(self, piece: bytes, told: int) -> None:
        assert type(piece) is bytes and 0 <= told <= len(piece) and piece
        # The first `told` bytes of a piece are the ones check showed last.
        assert told == 0 or bytes(self.shown[len(self.shown) - told :]) == piece[:told]
        self.shown.extend(piece[told:])
        self.kept.append(piece)


def _same_as_pure(open_seen: list[Any], pure_seen: list[Any]) -> None:
    """The same messages and errors; before an error, both have shown a prefix
    of the message (pieces of other sizes: either may have shown more)."""
    assert len(open_seen) == len(pure_seen)
    for got, want in zip(open_seen, pure_seen, strict=True):
        if want[0] == "ok":
            assert got[0] == "ok" and b"".join(got[1]) == b"".join(want[1])
        else:
            assert got[:2] == want[:2]
            shown, pure_shown = got[2], b"".join(want[2])
            assert shown.startswith(pure_shown) or pure_shown.startswith(shown)


@FUZZ
@given(
    texts=_TEXTS,
    bits=st.integers(8, 15),
    reset=st.booleans(),
    limit=_LIMITS,
    hint=st.sampled_from([0, 1000, 16384, 16385, 300_000, 1 << 22]),
    seed=st.integers(0, 2**32),
)
def test_compiled_inflater_open_pieces_match_pure(texts: list[tuple[bytes, int]], bits: int,
                                                  reset: bool, limit: int | None, hint: int,
                                                  seed: int) -> None:
    """``_run_open`` (one piece per message while it fits, across calls) gives
    the pure engine's output and errors, for random messages, limits, splits
    and size guesses."""
    if _CompiledInflater is None:
        pytest.skip("the compiled inflater is not built")
    messages = _random_messages(texts, bits, reset, seed, max_cuts=4)
    pure = _outcomes(Inflater(bits, reset, backend="zlib"), messages, limit)
    _same_as_pure(_open_outcomes(_CompiledInflater(bits, reset), messages, limit, hint), pure)


@pytest.mark.parametrize("size", [20_000, 300_000, 3_000_000])
@pytest.mark.parametrize("hint", [0, 100_000, 1 << 20, 1 << 24])
def test_compiled_inflater_open_pieces(size: int, hint: int) -> None:
    """Around the guess, the output chunk and the limit: one piece while the
    message fits the guess, then pieces as big as the message so far; the
    limit exact (limit + 1 bytes raise); and the entries are not mixed."""
    if _CompiledInflater is None:
        pytest.skip("the compiled inflater is not built")
    data = random.Random(size).randbytes(size // 8) * 8
    wire = deflate_stream([data])[0]
    messages = [[wire], [wire[: len(wire) // 3], wire[len(wire) // 3 :]]]
    for limit in (None, size, size - 1, 20_000, 3 * size):
        pure = _outcomes(Inflater(backend="zlib"), messages, limit)
        got = _open_outcomes(_CompiledInflater(), messages, limit, hint)
        _same_as_pure(got, pure)
        if got[0][0] == "ok":
            sizes = [len(p) for p in got[0][1]]
            if hint >= size and (limit is None or limit >= size):
                assert sizes == [size], sizes  # the message in one piece: no join
            for i, n in enumerate(sizes[1:-1], 1):  # each full piece as big as all before
                assert n >= min(sum(sizes[:i]), 1 << 30), sizes
    inf = _CompiledInflater()
    inf._run_open(wire[:100], None, False, lambda view: None, lambda piece, told: None, 1 << 20)
    with pytest.raises(RuntimeError):
        inf.feed(wire[100:])


# --- the compiled deflater --------------------------------------------------------------

try:
    from wsfast._deflate_c import Deflater as _CompiledDeflater
except ImportError:  # no compiled twin, or built without zlib (Windows)
    _CompiledDeflater = None


def test_compiled_deflater_is_built() -> None:
    """Where the compiled twin is required (CI), its zlib deflater is there too."""
    if os.environ.get("WSFAST_REQUIRE_EXTENSION") != "1" or os.name == "nt":
        pytest.skip("only checked where the compiled twin is required")
    assert _CompiledDeflater is not None


def test_compiled_deflater_surface() -> None:
    if _CompiledDeflater is None:
        pytest.skip("the compiled deflater is not built")
    d = _CompiledDeflater(8, True, level=9, mem_level=3)
    p = Deflater(8, True, level=9, mem_level=3, backend="zlib")
    assert repr(d) == repr(p)
    assert (d.backend, d.window_bits, d.level, d.mem_level, d.no_context_takeover) == (
        p.backend, p.window_bits, p.level, p.mem_level, p.no_context_takeover)
    for bad in ({"level": 10}, {"mem_level": 0}, {"backend": "isal"}, {"backend": "zlib-ng"}):
        with pytest.raises((ValueError, RuntimeError, ImportError)):
            _CompiledDeflater(**bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(d)
    with pytest.raises(TypeError):
        d.compress("text")  # type: ignore[arg-type]


@FUZZ
@given(
    messages=st.lists(
        st.tuples(st.binary(max_size=400), st.integers(0, 2000), st.booleans()),
        min_size=1, max_size=6),
    bits=st.integers(8, 15),
    reset=st.booleans(),
    level=st.integers(0, 9),
    mem_level=st.integers(1, 9),
    buffer_type=st.sampled_from([bytes, bytearray, memoryview]),
)
def test_compiled_deflater_matches_pure(messages: list[tuple[bytes, int, bool]], bits: int,
                                        reset: bool, level: int, mem_level: int,
                                        buffer_type: Callable[[bytes], Any]) -> None:
    """Byte for byte the pure engine's output on zlib, for messages and
    fragments (final or not) of any size, every window, level 1-9 and memLevel;
    at level 0, the same data inflates from it."""
    if _CompiledDeflater is None:
        pytest.skip("the compiled deflater is not built")
    c = _CompiledDeflater(bits, reset, level=level, mem_level=mem_level)
    p = Deflater(bits, reset, level=level, mem_level=mem_level, backend="zlib")
    d = zlib.decompressobj(-max(bits, 9))
    for unit, repeat, final in messages:
        data = unit * repeat
        out = c.compress(buffer_type(data), final)
        want = p.compress(data, final)
        if level:
            assert out == want
        else:  # stored blocks: cut by the output room zlib is given
            inflated = d.decompress(out + (TAIL if final else b""))
            assert inflated == data or (not data and final and out == b"\x00")


@pytest.mark.parametrize("size", [0, 1, 65535, 1 << 20, 5 << 20])
def test_compiled_deflater_sizes(size: int) -> None:
    """Incompressible data at level 0 (output bigger than input: the output
    grows past deflateBound when a flush needs it) and big messages (compressed
    without the GIL), each inflating back to the message."""
    if _CompiledDeflater is None:
        pytest.skip("the compiled deflater is not built")
    data = random.Random(size).randbytes(size)
    for level in (0, 1, 9):
        c = _CompiledDeflater(level=level)
        p = Deflater(level=level, backend="zlib")
        for final in (False, True):
            out = c.compress(data, final)
            want = p.compress(data, final)
            assert out == want or level == 0  # level 0: see test_compiled_deflater_matches_pure
            tail = b"" if not final else TAIL
            d = zlib.decompressobj(-15)
            assert d.decompress(out + tail) == data


def test_engines_cannot_be_copied_or_pickled() -> None:
    """A copy would share the zlib stream (and the lock that keeps calls one at
    a time): refused by the pure engines as by the compiled ones."""
    import copy
    import pickle

    engines: list[Any] = [Inflater(), Deflater()]
    if _CompiledInflater is not None:
        from wsfast._deflate_c import Deflater as _CompiledDeflater

        engines += [_CompiledInflater(), _CompiledDeflater()]
    for engine in engines:
        for duplicate in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError, match="pickle"):
                duplicate(engine)


def test_an_overlapping_call_is_refused(backend: str) -> None:
    """A sink that calls back into its own inflater, or a deflater used by two
    threads at once, would interleave one stream: RuntimeError, on every engine."""
    inf = _CompiledInflater() if backend == COMPILED else Inflater(backend=backend)
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = body.compress(b"x" * 5000) + body.flush(zlib.Z_SYNC_FLUSH)
    calls: list[Any] = []

    def reenter(piece: bytes) -> None:
        with pytest.raises(RuntimeError, match="in use"):
            inf.feed(b"", None, final=True)
        with pytest.raises(RuntimeError, match="in use"):
            inf.__init__()
        calls.append(len(piece))

    inf.feed_to(payload[:-4], None, reenter, final=True)
    assert sum(calls) == 5000
    assert inf.feed(payload[:-4], None, final=True) == b"x" * 5000  # unharmed
