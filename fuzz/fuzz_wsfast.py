"""Differential fuzzing of wsfast: the compiled twin against the pure twin.

One atheris target for every public API. The first input byte picks the
sub-target (``data[0] % len(TARGETS)``); the rest is read by that target with
``Reader`` (fixed fields first, then the bytes to feed), so a seed file can be
written by hand or by ``make_corpus.py``. Both twins get the same calls; their
results must be equal: return values, exception classes, and for wsfast's
errors the ``close_code`` and ``exc.decoded``. A difference raises
``Mismatch``, which atheris reports as a crash with the input that caused it.

    python fuzz/fuzz_wsfast.py [libFuzzer options] [CORPUS_DIR ...]
    python fuzz/fuzz_wsfast.py --replay FILE...   (no atheris needed: one input
                                                    per file, for reproducing)

The pure twin's modules are instrumented (atheris.instrument_imports) so that
its branches guide the search; the compiled twin runs as built (see
scripts/fuzz.sh for a build with native coverage).
"""

from __future__ import annotations

import array
import os
import random
import sys
from collections.abc import Callable
from typing import Any

# ----------------------------------------------------------------------------
# input format
# ----------------------------------------------------------------------------


class Reader:
    """Reads fields off the front of the input; past its end, zeros and b""."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        return self.u8() << 8 | self.u8()

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


#: Limits a decoder may get (index: a byte of the input, modulo the length).
LIMITS: tuple[int | None, ...] = (
    None,
    0,
    1,
    3,
    10,
    50,
    100,
    125,
    126,
    500,
    1000,
    65535,
    65536,
    70000,
    1 << 20,
)


def pieces(data: bytes, seed: int) -> list[bytes]:
    """``data`` cut at points chosen by ``seed``: 0 is one piece, 1 byte-by-byte,
    anything else random cuts (sizes 1..64 mostly, some longer)."""
    if seed == 0 or not data:
        return [data]
    if seed == 1:
        return [data[i : i + 1] for i in range(len(data))]
    rng = random.Random(seed)
    out, pos = [], 0
    while pos < len(data):
        n = rng.randrange(1, 65) if rng.random() < 0.8 else rng.randrange(1, 4096)
        out.append(data[pos : pos + n])
        pos += n
    return out


def as_kind(chunk: bytes, kind: int) -> Any:
    """The same bytes as another buffer type (the APIs take any buffer)."""
    kind %= 5
    if kind == 1:
        return bytearray(chunk)
    if kind == 2:
        return memoryview(chunk)
    if kind == 3:
        return array.array("B", chunk)
    if kind == 4:  # a view into the middle of a bigger buffer
        return memoryview(b"\xa5" + chunk + b"\x5a")[1:-1]
    return chunk


# ----------------------------------------------------------------------------
# running one call on both twins
# ----------------------------------------------------------------------------


class Mismatch(AssertionError):
    """The compiled and the pure twin disagree."""


def outcome(call: Callable[[], Any], conv: Callable[[Any], Any] = lambda x: x) -> tuple:
    """("ok", value) or ("err", class name, close_code, decoded): what both twins
    must agree on. Internal errors (anything outside the documented exception
    types) are reported as such by the comparison, since their class differs."""
    from wsfast.errors import WebSocketError

    try:
        return ("ok", conv(call()))
    except WebSocketError as exc:
        decoded = [conv_item(x) for x in exc.decoded] if type(exc.decoded) is list else exc.decoded
        return ("err", type(exc).__name__, exc.close_code, decoded)
    except (ValueError, TypeError, OverflowError, BufferError, MemoryError) as exc:
        return ("err", type(exc).__name__)


def conv_item(x: Any) -> Any:
    """A Frame, Message or FrameHeader as plain values."""
    if hasattr(x, "payload_length"):
        return tuple(x)
    if hasattr(x, "payload"):
        return ("frame", int(x.opcode), x.fin, x.rsv1, x.rsv2, x.rsv3, x.payload)
    if hasattr(x, "data"):
        return ("message", int(x.opcode), type(x.data).__name__, x.data)
    return x


def conv_list(xs: Any) -> Any:
    return [conv_item(x) for x in xs] if type(xs) is list else ("not a list", type(xs).__name__)


def compare(what: str, c: Any, py: Any, data: bytes) -> None:
    if c != py:
        raise Mismatch(
            f"{what}: compiled {c!r:.600}\n    pure {py!r:.600}\n    input {data.hex()[:400]}"
        )


TWINS: dict[str, dict[str, Any]] = {}


def both(what: str, data: bytes, run: Callable[[dict[str, Any]], Any]) -> None:
    """``run(twin)`` on each twin; the results must be equal."""
    compare(what, run(TWINS["c"]), run(TWINS["py"]), data)


# ----------------------------------------------------------------------------
# sub-targets
# ----------------------------------------------------------------------------


def feed_all(dec: Any, chunks: list[bytes], kind: int) -> list:
    """Per-feed outcomes until the first error, then one more feed (a failed
    decoder must keep failing the same way)."""
    out = []
    for i, chunk in enumerate(chunks):
        res = outcome(lambda c=chunk, k=kind + i: dec.feed(as_kind(c, k)), conv_list)
        out.append(res)
        if res[0] == "err":
            out.append(outcome(lambda: dec.feed(b"\x81"), conv_list))
            break
    return out


def t_frame_decoder(r: Reader, data: bytes) -> None:
    """FrameDecoder: role, reserved bits, limit, splits and buffer kinds."""
    flags, limit, seed, kind = r.u8(), r.u8(), r.u16(), r.u8()
    stream = r.rest()
    chunks = pieces(stream, seed)
    kw = dict(
        client=bool(flags & 1),
        allow_rsv1=bool(flags & 2),
        allow_rsv2=bool(flags & 4),
        allow_rsv3=bool(flags & 8),
        max_frame_size=LIMITS[limit % len(LIMITS)],
    )
    both("FrameDecoder", data, lambda t: feed_all(t["FrameDecoder"](**kw), chunks, kind))


def t_message_decoder(r: Reader, data: bytes) -> None:
    """MessageDecoder: role, text decoding, both limits, splits and buffer kinds."""
    flags, limit, flimit, seed, kind = r.u8(), r.u8(), r.u8(), r.u16(), r.u8()
    stream = r.rest()
    chunks = pieces(stream, seed)
    mlimit = LIMITS[limit % len(LIMITS)]
    kw = dict(
        client=bool(flags & 1),
        decode_text=not flags & 2,
        max_message_size=(1 << 20) if mlimit is None else mlimit,
        max_frame_size=LIMITS[flimit % len(LIMITS)],
    )
    both("MessageDecoder", data, lambda t: feed_all(t["MessageDecoder"](**kw), chunks, kind))


def t_utf8(r: Reader, data: bytes) -> None:
    """validate_utf8 (also against Python's own decoder) and Utf8Validator."""
    seed, kind = r.u16(), r.u8()
    text = r.rest()
    try:
        text.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    for name, t in TWINS.items():
        got = t["validate_utf8"](as_kind(text, kind))
        if got is not valid:
            raise Mismatch(
                f"validate_utf8 ({name}) gave {got!r}, Python's decoder says "
                f"{valid}: {text.hex()[:400]}"
            )

    def run(t: dict[str, Any]) -> list:
        v = t["Utf8Validator"]()
        out = [outcome(lambda p=p: v.feed(as_kind(p, kind))) for p in pieces(text, seed)]
        out.append(outcome(lambda: v.feed(b"", final=True)))
        out.append(v.complete)
        v.reset()
        out.append((v.complete, outcome(lambda: v.feed(text[:7], final=True))))
        return out

    both("Utf8Validator", data, run)


def t_mask(r: Reader, data: bytes) -> None:
    """mask, mask_inplace (offsets), Masker (process, process_inplace, reset)."""
    keylen, offset, seed, kind = r.u8(), r.u16(), r.u16(), r.u8()
    key = r.take(4 if keylen < 250 else keylen - 248)  # mostly 4 bytes; sometimes not
    payload = r.rest()

    def run(t: dict[str, Any]) -> list:
        out: list = [outcome(lambda: t["mask"](as_kind(payload, kind), key))]
        buf = bytearray(payload)
        out.append((outcome(lambda: t["mask_inplace"](buf, key, offset)), bytes(buf)))
        arr = array.array("B", payload)
        out.append((outcome(lambda: t["mask_inplace"](arr, key, offset - 3)), arr.tobytes()))
        try:
            m = t["Masker"](key)
        except ValueError:
            return [*out, "Masker: ValueError"]
        for i, p in enumerate(pieces(payload, seed)):
            if (kind + i) & 1:
                b = bytearray(p)
                out.append((outcome(lambda b=b: m.process_inplace(b)), bytes(b)))
            else:
                out.append(outcome(lambda p=p, k=kind + i: m.process(as_kind(p, k))))
            out.append(m.offset)
        m.reset()
        out.append((m.offset, outcome(lambda: m.process(payload[:9]))))
        return out

    both("masking", data, run)


def t_header(r: Reader, data: bytes) -> None:
    """parse_header at an offset; encode_header and encode_frame from fields."""
    offset, opcode, bits, lsel, klen = r.u8(), r.u8(), r.u8(), r.u8(), r.u8()
    key = r.take(4) if klen < 200 else (None if klen < 250 else r.take(klen - 248))
    lengths = (0, 1, 125, 126, 65535, 65536, (1 << 63) - 1, 1 << 63, -1)
    length = lengths[lsel % len(lengths)] if lsel < 200 else lsel
    rest = r.rest()
    flags = dict(fin=bool(bits & 1), rsv1=bool(bits & 2), rsv2=bool(bits & 4), rsv3=bool(bits & 8))
    opcode %= 16 if opcode < 240 else 256

    def run(t: dict[str, Any]) -> list:
        return [
            outcome(
                lambda: t["parse_header"](as_kind(rest, bits >> 4), offset % (len(rest) + 3)),
                conv_item,
            ),
            outcome(lambda: t["encode_header"](opcode, length, mask_key=key, **flags)),
            outcome(
                lambda: t["encode_frame"](opcode, as_kind(rest, bits >> 5), mask_key=key, **flags)
            ),
        ]

    both("headers", data, run)


def t_close(r: Reader, data: bytes) -> None:
    """parse_close of raw bytes; encode_close of a code and any string."""
    sel = r.u8()
    code = None if sel & 1 else r.u16()
    raw = r.rest()
    # any code points, lone surrogates included (they must be refused alike)
    reason = (
        raw[: len(raw) & ~1].decode("utf-16-le", "surrogatepass")
        if sel & 2
        else raw.decode("latin-1")
    )

    def run(t: dict[str, Any]) -> list:
        return [
            outcome(lambda: t["parse_close"](as_kind(raw, sel >> 2))),
            outcome(lambda: t["encode_close"](code, reason)),
            outcome(lambda: t["encode_close"](code)),
        ]

    both("close", data, run)


def t_encoder(r: Reader, data: bytes) -> None:
    """FrameEncoder, server side (bytes compared) and client side (masked with
    fresh keys: the frames are decoded by the pure twin's server decoder)."""
    n = r.u8() % 8 + 1
    calls = []
    for _ in range(n):
        method, arg, size = r.u8(), r.u16(), r.u16() % 300
        calls.append((method % 8, arg, r.take(size)))

    def call(enc: Any, method: int, arg: int, payload: bytes) -> Any:
        fin = bool(arg & 0x8000)
        if method == 0:
            return enc.encode(arg & 0xF, payload, fin=fin, rsv1=bool(arg & 0x10))
        if method == 1:
            return enc.text(payload.decode("utf-8", "replace") if arg & 1 else payload, fin=fin)
        if method == 2:
            return enc.binary(payload, fin=fin)
        if method == 3:
            return enc.continuation(payload, fin=fin)
        if method == 4:
            return enc.ping(payload)
        if method == 5:
            return enc.pong(payload)
        if method == 6:
            return enc.close(None if arg & 1 else arg >> 1, payload.decode("latin-1"))
        return enc.close(arg, payload.decode("utf-8", "replace"))

    def run(t: dict[str, Any]) -> list:
        server, client = t["FrameEncoder"](), t["FrameEncoder"](client=True)
        out = []
        for args in calls:
            out.append(outcome(lambda a=args: call(server, *a)))
            wire = outcome(lambda a=args: call(client, *a))
            if wire[0] == "ok":
                if not wire[1] or not wire[1][1] & 0x80:
                    raise Mismatch(f"client frame not masked: {wire[1][:16].hex()}")
                dec = TWINS["py"]["FrameDecoder"](max_frame_size=None, allow_rsv1=True)
                wire = ("ok", conv_list(dec.feed(wire[1])))
            out.append(wire)
        return out

    both("FrameEncoder", data, run)


# Hook for permessage-deflate (API section 7): when it lands, add a sub-target
# here that builds PerMessageDeflate parameters from a few input bytes,
# compresses the rest with zlib into frames (random splits, RSV1 on the first
# frame), and compares MessageDecoder(deflate=...) and FrameEncoder(deflate=...)
# across the twins (and limits: a bomb must stop at max_message_size on both).
# Appending keeps the existing seeds' first bytes pointing at their targets.
TARGETS: list[Callable[[Reader, bytes], None]] = [
    t_frame_decoder,  # 0
    t_message_decoder,  # 1
    t_utf8,  # 2
    t_mask,  # 3
    t_header,  # 4
    t_close,  # 5
    t_encoder,  # 6
]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    r = Reader(data)
    TARGETS[r.u8() % len(TARGETS)](r, data)


def load_twins() -> None:
    from wsfast import _codec

    TWINS["c"] = _codec.load_twin("c")
    TWINS["py"] = _codec.load_twin("py")


def main() -> None:
    if sys.argv[1:2] == ["--replay"]:
        load_twins()
        for path in sys.argv[2:]:
            with open(path, "rb") as f:
                test_one_input(f.read())
            print(f"ok {path}")
        return
    import atheris

    with atheris.instrument_imports(include=["wsfast"]):
        from wsfast import _frames_py, _mask_py, _utf8_py  # noqa: F401
    load_twins()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
