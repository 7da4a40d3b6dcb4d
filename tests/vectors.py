"""Named wire vectors for RFC 6455 framing (API.md sections 4-6).

Every vector has a name and a reason, so a failure explains itself.  The bytes
are built here by a tiny independent encoder (``header`` / ``frame``), never by
wsfast's own encoder, so the decoder is checked against the RFC and not against
itself.

A vector says which decoder reads it (``"frames"``: FrameDecoder, ``"messages"``:
MessageDecoder), with which options, what it must produce, and, for a stream
that breaks a rule, which error and when:

- ``expect``: the frames (``F``) or messages (``M``) completed before the error,
  in order (all of them for a valid stream).  Fed whole, they are ``exc.decoded``;
  fed in pieces, the concatenation of every returned list plus ``exc.decoded``.
- ``raise_by``: once ``data[:raise_by]`` has been fed the error has been raised
  ("each as soon as the header bytes that show it are present").  For a length
  violation this is the last byte of the length field (the field is the unit that
  "announces" a length), except the 64-bit most significant bit, which byte 3
  alone shows.
- ``clean_until``: ``data[:clean_until]`` raises nothing: no byte before it
  shows the violation, even to a decoder that looks at single bits of a length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from wsfast.errors import InvalidDataError, MessageTooBigError, ProtocolError

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10
RESERVED_OPCODES = (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)
CONTROL_OPCODES = (CLOSE, PING, PONG)
DATA_OPCODES = (CONT, TEXT, BINARY)

#: The masking key of the RFC 6455 section 5.7 examples.
KEY = bytes.fromhex("37fa213d")

#: Close codes an endpoint may send and receive (RFC 6455 section 7.4, IANA registry).
VALID_CLOSE_CODES = frozenset([*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)])


class F(NamedTuple):
    """A decoded frame, as plain values."""

    opcode: int
    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    payload: bytes


class M(NamedTuple):
    """A decoded message, as plain values (``data`` is str for decoded TEXT)."""

    opcode: int
    data: Any


def xor_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    """RFC 6455 section 5.3 masking, written independently of wsfast (big-int XOR)."""
    n = len(data)
    if n == 0:
        return b""
    stream = (key[offset % 4 :] + key[: offset % 4]) * (n // 4 + 1)
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


def header(
    opcode: int,
    length: int,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    key: bytes | None = None,
    form: int | None = None,
) -> bytes:
    """A frame header (RFC 6455 section 5.2).

    ``form`` forces the length encoding (7, 16 or 64 bits) instead of the minimal
    one, to build non-minimal and most-significant-bit-set headers; ``length`` is
    then written as given (up to 2**64 - 1).
    """
    b1 = (fin << 7) | (rsv1 << 6) | (rsv2 << 5) | (rsv3 << 4) | opcode
    m = 0x80 if key is not None else 0
    if form is None:
        form = 7 if length <= 125 else 16 if length <= 0xFFFF else 64
    if form == 7:
        out = bytes([b1, m | length])
    elif form == 16:
        out = bytes([b1, m | 126]) + length.to_bytes(2, "big")
    else:
        out = bytes([b1, m | 127]) + length.to_bytes(8, "big")
    return out + (key if key is not None else b"")


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    key: bytes | None = None,
    form: int | None = None,
    length: int | None = None,
) -> bytes:
    """A whole frame: header and payload (masked with ``key`` when given)."""
    n = len(payload) if length is None else length
    h = header(opcode, n, fin=fin, rsv1=rsv1, rsv2=rsv2, rsv3=rsv3, key=key, form=form)
    return h + (xor_mask(payload, key) if key is not None else payload)


def pattern(n: int) -> bytes:
    """``n`` deterministic payload bytes (every byte value, period 251)."""
    return (_PERIOD * (n // 251 + 1))[:n]


_PERIOD = bytes(range(251))


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


@dataclass(frozen=True)
class Vector:
    name: str
    reason: str
    data: bytes
    decoder: str  # "frames" or "messages"
    options: dict[str, Any] = field(default_factory=dict)
    expect: tuple = ()
    error: type | None = None
    raise_by: int | None = None
    clean_until: int | None = None

    def __post_init__(self) -> None:
        assert self.decoder in ("frames", "messages"), self.name
        if self.error is None:
            assert self.raise_by is None and self.clean_until is None, self.name
        else:
            assert self.raise_by is not None and self.clean_until is not None, self.name
            assert 0 <= self.clean_until < self.raise_by <= len(self.data), self.name


def _f(opcode: int, payload: bytes, fin: bool = True, rsv1=False, rsv2=False, rsv3=False) -> F:
    return F(opcode, fin, rsv1, rsv2, rsv3, payload)


C = {"client": True}  # this endpoint is a client: incoming frames are unmasked
S = {"client": False}  # this endpoint is a server: incoming frames are masked

HELLO = b"Hello"
RFC_UNMASKED_HELLO = bytes.fromhex("810548656c6c6f")
RFC_MASKED_HELLO = bytes.fromhex("818537fa213d7f9f4d5158")
RFC_FRAGMENTED = bytes.fromhex("010348656c") + bytes.fromhex("80026c6f")
RFC_UNMASKED_PING = bytes.fromhex("890548656c6c6f")
RFC_MASKED_PONG = bytes.fromhex("8a8537fa213d7f9f4d5158")
RFC_BINARY_256 = bytes.fromhex("827e0100") + pattern(256)
RFC_BINARY_64K = bytes.fromhex("827f0000000000010000") + pattern(65536)

#: The lengths around every length-encoding boundary.
BOUNDARY_LENGTHS = {
    0: "len-0-empty",
    1: "len-1",
    125: "len-125-7bit-max",
    126: "len-126-boundary-16bit-min",
    127: "len-127-16bit",
    65535: "len-65535-16bit-max",
    65536: "len-65536-boundary-64bit-min",
    65537: "len-65537-64bit",
}


def _frame_vectors() -> list[Vector]:
    v: list[Vector] = []

    def ok(name, reason, data, expect, **options):
        v.append(Vector(name, reason, data, "frames", options, tuple(expect)))

    def bad(name, reason, data, error, raise_by, clean_until=None, expect=(), **options):
        if clean_until is None:
            clean_until = raise_by - 1
        v.append(Vector(name, reason, data, "frames", options, tuple(expect), error, raise_by, clean_until))

    # -- RFC 6455 section 5.7 examples ---------------------------------------------
    ok("rfc6455-5.7-unmasked-hello", "single-frame unmasked text", RFC_UNMASKED_HELLO,
       [_f(TEXT, HELLO)], **C)
    ok("rfc6455-5.7-masked-hello", "single-frame masked text", RFC_MASKED_HELLO,
       [_f(TEXT, HELLO)], **S)
    ok("rfc6455-5.7-fragmented-hel-lo", "fragmented unmasked text", RFC_FRAGMENTED,
       [_f(TEXT, b"Hel", fin=False), _f(CONT, b"lo")], **C)
    ok("rfc6455-5.7-unmasked-ping-hello", "unmasked ping", RFC_UNMASKED_PING,
       [_f(PING, HELLO)], **C)
    ok("rfc6455-5.7-masked-pong-hello", "masked pong answering the ping", RFC_MASKED_PONG,
       [_f(PONG, HELLO)], **S)
    ok("rfc6455-5.7-binary-256-16bit-length", "256 bytes: 16-bit length", RFC_BINARY_256,
       [_f(BINARY, pattern(256))], **C)
    ok("rfc6455-5.7-binary-64KiB-64bit-length", "65536 bytes: 64-bit length", RFC_BINARY_64K,
       [_f(BINARY, pattern(65536))], **C)

    # -- every length-encoding boundary, both roles --------------------------------
    for n, name in BOUNDARY_LENGTHS.items():
        p = pattern(n)
        ok(f"{name}-unmasked", f"{n}-byte binary frame to a client", frame(BINARY, p),
           [_f(BINARY, p)], **C)
        ok(f"{name}-masked", f"{n}-byte masked binary frame to a server",
           frame(BINARY, p, key=KEY), [_f(BINARY, p)], **S)

    # -- opcodes ------------------------------------------------------------------
    for op in RESERVED_OPCODES:
        bad(f"reserved-opcode-{op}", "opcodes 3-7 and 11-15 are reserved (section 5.2)",
            frame(op, b""), ProtocolError, 1, **C)
        bad(f"reserved-opcode-{op}-masked", "reserved opcode, seen at byte 1 by a server",
            frame(op, b"ab", key=KEY), ProtocolError, 1, **S)
    for op, label in ((CLOSE, "close"), (PING, "ping"), (PONG, "pong")):
        bad(f"control-fin-clear-{label}", "control frames must not be fragmented (section 5.5)",
            frame(op, b"", fin=False), ProtocolError, 1, **C)
    bad("control-fin-clear-ping-masked", "fragmented ping, seen at byte 1 by a server",
        frame(PING, b"x", fin=False, key=KEY), ProtocolError, 1, **S)

    # -- control frame length ---------------------------------------------------------
    ok("ping-125-bytes", "a control payload may be 125 bytes", frame(PING, pattern(125)),
       [_f(PING, pattern(125))], **C)
    ok("close-125-bytes-frame-level", "125-byte close payload: the frame level accepts it",
       frame(CLOSE, close_payload(1000, b"r" * 123)), [_f(CLOSE, close_payload(1000, b"r" * 123))], **C)
    bad("ping-126-bytes", "a control payload over 125 bytes (section 5.5); byte 2 says 126",
        frame(PING, pattern(126)), ProtocolError, 2, **C)
    bad("close-126-bytes", "close payload over 125 bytes", frame(CLOSE, close_payload(1000, b"r" * 124)),
        ProtocolError, 2, **C)
    bad("pong-64bit-length", "control frame with a 64-bit length", frame(PONG, pattern(65536)),
        ProtocolError, 2, **C)
    bad("ping-16bit-length-non-minimal-5",
        "control frame with length code 126: over 125 or non-minimal, certain at byte 2",
        frame(PING, b"abcde", form=16), ProtocolError, 2, **C)
    bad("ping-126-bytes-masked", "over-long ping seen by a server", frame(PING, pattern(126), key=KEY),
        ProtocolError, 2, **S)

    # -- length encodings -------------------------------------------------------------
    bad("len64-msb-set", "64-bit length with the most significant bit set (section 5.2), shown by byte 3",
        header(BINARY, 1 << 63, form=64), ProtocolError, 3, **C)
    bad("len64-all-ones", "64-bit length 2**64-1", header(BINARY, (1 << 64) - 1, form=64),
        ProtocolError, 3, **C)
    bad("len64-msb-set-small-low-bits", "MSB set and the rest 5", header(BINARY, (1 << 63) | 5, form=64) + b"abcde",
        ProtocolError, 3, **C)
    bad("len64-msb-set-masked", "MSB set, seen by a server before the mask key",
        header(BINARY, 1 << 63, form=64, key=KEY), ProtocolError, 3, **S)
    ok("len64-max-legal-header", "2**63-1 is a legal length; a limit of 2**63-1 accepts the header",
       header(BINARY, (1 << 63) - 1), [], max_frame_size=(1 << 63) - 1, **C)
    bad("len64-2**63-1-over-default-limit", "largest legal length, over the 1 MiB default limit",
        header(BINARY, (1 << 63) - 1), MessageTooBigError, 10, clean_until=2, **C)
    for n in (0, 1, 125):
        bad(f"non-minimal-16-bit-length-{n}", "16-bit length below 126 (section 5.2 minimal encoding)",
            frame(BINARY, pattern(n), form=16), ProtocolError, 4, clean_until=3, **C)
    bad("non-minimal-16-bit-length-masked", "non-minimal 16-bit length seen by a server",
        frame(BINARY, pattern(10), form=16, key=KEY), ProtocolError, 4, clean_until=3, **S)
    for n in (0, 125, 126, 65535):
        bad(f"non-minimal-64-bit-length-{n}", "64-bit length below 65536 (minimal encoding)",
            frame(BINARY, pattern(n), form=64), ProtocolError, 10, clean_until=7, **C)
    bad("non-minimal-64-bit-length-masked", "non-minimal 64-bit length seen by a server",
        frame(BINARY, pattern(300), form=64, key=KEY), ProtocolError, 10, clean_until=7, **S)

    # -- masking per role (section 5.1) -------------------------------------------------
    bad("server-got-unmasked", "a client must mask every frame it sends", RFC_UNMASKED_HELLO,
        ProtocolError, 2, **S)
    bad("server-got-unmasked-empty-ping", "unmasked empty ping to a server", frame(PING), ProtocolError, 2, **S)
    bad("client-got-masked", "a server must not mask the frames it sends", RFC_MASKED_HELLO,
        ProtocolError, 2, **C)
    bad("client-got-masked-empty-close", "masked empty close to a client", frame(CLOSE, key=KEY),
        ProtocolError, 2, **C)
    bad("server-got-unmasked-after-valid-frame", "the valid masked frame before it is on exc.decoded",
        RFC_MASKED_HELLO + RFC_UNMASKED_HELLO, ProtocolError, len(RFC_MASKED_HELLO) + 2,
        expect=[_f(TEXT, HELLO)], **S)

    # -- reserved bits (section 5.2: no extension negotiated) --------------------------------
    for bit in (1, 2, 3):
        flags = {f"rsv{bit}": True}
        allowed = {f"allow_rsv{bit}": True}
        got = _f(TEXT, HELLO, **flags)
        bad(f"rsv{bit}-not-allowed", f"RSV{bit} set without allow_rsv{bit}", frame(TEXT, HELLO, **flags),
            ProtocolError, 1, **C)
        ok(f"rsv{bit}-allowed", f"RSV{bit} set with allow_rsv{bit}", frame(TEXT, HELLO, **flags), [got],
           **allowed, **C)
        ok(f"rsv{bit}-allowed-masked", f"RSV{bit} with allow_rsv{bit}, server role",
           frame(TEXT, HELLO, key=KEY, **flags), [got], **allowed, **S)
        others = {f"allow_rsv{b}": True for b in (1, 2, 3) if b != bit}
        bad(f"rsv{bit}-not-allowed-others-allowed", f"RSV{bit} set, only the other two bits allowed",
            frame(BINARY, b"x", **flags), ProtocolError, 1, **others, **C)
    ok("rsv-all-allowed", "all three reserved bits, all allowed",
       frame(BINARY, b"z", rsv1=True, rsv2=True, rsv3=True),
       [_f(BINARY, b"z", rsv1=True, rsv2=True, rsv3=True)],
       allow_rsv1=True, allow_rsv2=True, allow_rsv3=True, **C)
    bad("rsv1-not-allowed-on-ping", "reserved bit on a control frame", frame(PING, rsv1=True),
        ProtocolError, 1, **C)
    bad("rsv1-not-allowed-on-continuation", "reserved bit on a continuation frame",
        frame(TEXT, b"a", fin=False) + frame(CONT, b"b", rsv1=True), ProtocolError, 3 + 1,
        expect=[_f(TEXT, b"a", fin=False)], **C)

    # -- max_frame_size at exact boundaries ---------------------------------------------------
    for size, label in ((99, "max-1"), (100, "max")):
        ok(f"max-frame-7bit-{label}", "7-bit length at max_frame_size=100", frame(BINARY, pattern(size)),
           [_f(BINARY, pattern(size))], max_frame_size=100, **C)
    bad("max-frame-7bit-max+1", "101 > max_frame_size=100, announced at byte 2", frame(BINARY, pattern(101)),
        MessageTooBigError, 2, max_frame_size=100, **C)
    bad("max-frame-7bit-max+1-masked", "over the limit, server role: raised before the mask key",
        header(BINARY, 101, key=KEY), MessageTooBigError, 2, max_frame_size=100, **S)
    for size, label in ((999, "max-1"), (1000, "max")):
        ok(f"max-frame-16bit-{label}", "16-bit length at max_frame_size=1000", frame(BINARY, pattern(size)),
           [_f(BINARY, pattern(size))], max_frame_size=1000, **C)
    bad("max-frame-16bit-max+1", "1001 > max_frame_size=1000, announced by bytes 3-4",
        frame(BINARY, pattern(1001)), MessageTooBigError, 4, clean_until=3, max_frame_size=1000, **C)
    for size, label in ((69999, "max-1"), (70000, "max")):
        ok(f"max-frame-64bit-{label}", "64-bit length at max_frame_size=70000", frame(BINARY, pattern(size)),
           [_f(BINARY, pattern(size))], max_frame_size=70000, **C)
    bad("max-frame-64bit-max+1", "70001 > max_frame_size=70000, header only (before the payload)",
        header(BINARY, 70001), MessageTooBigError, 10, clean_until=9, max_frame_size=70000, **C)
    ok("default-max-frame-1MiB-header", "a header announcing exactly 1 MiB is within the default limit",
       header(BINARY, 1 << 20), [], **C)
    bad("default-max-frame-1MiB+1", "the default max_frame_size is 1 MiB",
        header(BINARY, (1 << 20) + 1), MessageTooBigError, 10, clean_until=9, **C)
    bad("header-announces-2**62", "a huge length is refused at its header, before any payload",
        header(BINARY, 1 << 62), MessageTooBigError, 10, clean_until=2, **C)
    bad("header-announces-2**62-masked", "a huge length to a server, header only",
        header(BINARY, 1 << 62, key=KEY), MessageTooBigError, 10, clean_until=2, **S)
    ok("max-frame-0-empty", "max_frame_size=0 admits empty frames", frame(BINARY) + frame(PING),
       [_f(BINARY, b""), _f(PING, b"")], max_frame_size=0, **C)
    bad("max-frame-0-one-byte", "max_frame_size=0: one byte is too big", frame(BINARY, b"x"),
        MessageTooBigError, 2, max_frame_size=0, **C)
    bad("ping-over-small-max-frame-size", "max_frame_size applies to control frames too",
        frame(PING, pattern(11)), MessageTooBigError, 2, max_frame_size=10, **C)

    # -- which error wins (API section 4): wire order; same byte -> ProtocolError ------------
    bad("reserved-opcode-and-too-big", "byte 1 (opcode) comes before the length",
        header(3, 1 << 40), ProtocolError, 1, max_frame_size=100, **C)
    bad("rsv1-not-allowed-and-too-big", "byte 1 (RSV1) comes before byte 2 (length)",
        header(BINARY, 100, rsv1=True), ProtocolError, 1, max_frame_size=50, **C)
    bad("control-fin-clear-and-too-big", "byte 1 (FIN) before the length", header(PING, 100, fin=False),
        ProtocolError, 1, max_frame_size=50, **C)
    bad("server-got-unmasked-and-too-big-64bit", "mask bit (byte 2) before the 64-bit length (bytes 3-10)",
        header(BINARY, 1 << 40), ProtocolError, 2, max_frame_size=1000, **S)
    bad("server-got-unmasked-and-too-big-7bit", "mask bit and 7-bit length share byte 2: ProtocolError wins",
        frame(BINARY, pattern(100)), ProtocolError, 2, max_frame_size=50, **S)
    bad("client-got-masked-and-too-big-7bit", "mask bit and 7-bit length share byte 2: ProtocolError wins",
        frame(BINARY, pattern(100), key=KEY), ProtocolError, 2, max_frame_size=50, **C)
    bad("control-len-126-and-too-big", "control length code 126 and over limit, both at byte 2",
        frame(PING, pattern(126)), ProtocolError, 2, max_frame_size=50, **C)
    bad("len64-msb-set-beats-too-big", "MSB set and over the limit, both shown by byte 3",
        header(BINARY, (1 << 63) | 5, form=64), ProtocolError, 3, max_frame_size=100, **C)
    bad("non-minimal-16-and-too-big", "16-bit length 100 < 126 and > limit 50: same byte, ProtocolError",
        frame(BINARY, pattern(100), form=16), ProtocolError, 4, clean_until=3, max_frame_size=50, **C)
    bad("non-minimal-64-and-too-big", "64-bit length 1000 < 65536 and > limit 500: ProtocolError",
        frame(BINARY, pattern(1000), form=64), ProtocolError, 10, clean_until=7, max_frame_size=500, **C)
    too_big = frame(BINARY, pattern(11))
    bad("too-big-beats-later-reserved-opcode", "the first violation on the wire wins",
        too_big + frame(3), MessageTooBigError, 2, max_frame_size=10, **C)
    bad("too-big-beats-later-unmasked", "the over-limit frame comes first",
        frame(BINARY, pattern(11), key=KEY) + RFC_UNMASKED_HELLO, MessageTooBigError, 2,
        max_frame_size=10, **S)
    bad("valid-then-too-big", "the frame completed before the violation is on exc.decoded",
        RFC_UNMASKED_HELLO + too_big, MessageTooBigError, len(RFC_UNMASKED_HELLO) + 2,
        expect=[_f(TEXT, HELLO)], max_frame_size=10, **C)
    first = frame(PING) + frame(TEXT, b"hi")
    bad("ping-text-then-reserved-opcode", "both earlier frames on exc.decoded, in order",
        first + frame(5, b"zz"), ProtocolError, len(first) + 1,
        expect=[_f(PING, b""), _f(TEXT, b"hi")], **C)

    # -- frame level only (API section 4: FrameDecoder keeps decoding after CLOSE) ---------------
    ok("frame-close-then-ping", "FrameDecoder keeps decoding after a CLOSE frame",
       frame(CLOSE, close_payload(1000)) + frame(PING, b"p"),
       [_f(CLOSE, close_payload(1000)), _f(PING, b"p")], **C)
    ok("frame-close-then-text-masked", "FrameDecoder keeps decoding after CLOSE (server role)",
       frame(CLOSE, key=KEY) + frame(TEXT, b"late", key=KEY), [_f(CLOSE, b""), _f(TEXT, b"late")], **S)
    ok("frame-continuation-without-start", "sequencing is a message rule, not a frame rule",
       frame(CONT, b"lo"), [_f(CONT, b"lo")], **C)
    ok("frame-text-inside-fragmented", "sequencing is a message rule",
       frame(TEXT, b"Hel", fin=False) + frame(TEXT, b"lo"),
       [_f(TEXT, b"Hel", fin=False), _f(TEXT, b"lo")], **C)
    ok("frame-invalid-utf8-text", "UTF-8 is a message rule: frames carry raw payload bytes",
       frame(TEXT, b"\xff\xfe"), [_f(TEXT, b"\xff\xfe")], **C)
    # Literal reading: FrameDecoder's errors are listed exhaustively (parse_header
    # violations, masking, reserved bits, size); close payload rules are in section 5.
    ok("frame-close-1-byte-payload", "close payload rules are message rules (section 5)",
       frame(CLOSE, b"\x03"), [_f(CLOSE, b"\x03")], **C)
    ok("frame-close-code-1005", "close code rules are message rules (section 5)",
       frame(CLOSE, close_payload(1005)), [_f(CLOSE, close_payload(1005))], **C)
    ok("frame-many-small", "many frames in one stream, in order",
       b"".join(frame(BINARY, bytes([i])) for i in range(50)),
       [_f(BINARY, bytes([i])) for i in range(50)], **C)
    return v


def _message_vectors() -> list[Vector]:
    v: list[Vector] = []

    def ok(name, reason, data, expect, **options):
        v.append(Vector(name, reason, data, "messages", options, tuple(expect)))

    def bad(name, reason, data, error, raise_by, clean_until=None, expect=(), **options):
        if clean_until is None:
            clean_until = raise_by - 1
        v.append(Vector(name, reason, data, "messages", options, tuple(expect), error, raise_by, clean_until))

    # -- RFC 6455 section 5.7 examples ---------------------------------------------
    ok("msg-rfc6455-5.7-unmasked-hello", "single-frame unmasked text", RFC_UNMASKED_HELLO,
       [M(TEXT, "Hello")], **C)
    ok("msg-rfc6455-5.7-masked-hello", "single-frame masked text", RFC_MASKED_HELLO, [M(TEXT, "Hello")], **S)
    ok("msg-rfc6455-5.7-fragmented-hel-lo", "two fragments make one message", RFC_FRAGMENTED,
       [M(TEXT, "Hello")], **C)
    ok("msg-rfc6455-5.7-unmasked-ping-hello", "ping message", RFC_UNMASKED_PING, [M(PING, HELLO)], **C)
    ok("msg-rfc6455-5.7-masked-pong-hello", "pong message", RFC_MASKED_PONG, [M(PONG, HELLO)], **S)
    ok("msg-rfc6455-5.7-binary-256", "16-bit length", RFC_BINARY_256, [M(BINARY, pattern(256))], **C)
    ok("msg-rfc6455-5.7-binary-64KiB", "64-bit length", RFC_BINARY_64K, [M(BINARY, pattern(65536))], **C)
    ok("msg-decode-text-false-hello", "decode_text=False: TEXT data is bytes", RFC_UNMASKED_HELLO,
       [M(TEXT, HELLO)], decode_text=False, **C)
    ok("msg-empty-text", "an empty text message", frame(TEXT), [M(TEXT, "")], **C)
    ok("msg-empty-fragments", "empty fragments make an empty binary message",
       frame(BINARY, fin=False) + frame(CONT, fin=False) + frame(CONT), [M(BINARY, b"")], **C)
    ok("msg-binary-three-fragments-masked", "three masked fragments",
       frame(BINARY, b"ab", fin=False, key=KEY) + frame(CONT, b"cd", fin=False, key=KEY)
       + frame(CONT, b"ef", key=KEY), [M(BINARY, b"abcdef")], **S)
    for n, name in BOUNDARY_LENGTHS.items():
        p = pattern(n)
        ok(f"msg-{name}-masked", f"{n}-byte binary message to a server", frame(BINARY, p, key=KEY),
           [M(BINARY, p)], **S)
    ok("msg-binary-invalid-utf8-ok", "BINARY data is not validated", frame(BINARY, b"\xff"),
       [M(BINARY, b"\xff")], **C)
    ok("msg-ping-invalid-utf8-ok", "PING data is not validated", frame(PING, b"\xff"), [M(PING, b"\xff")], **C)

    # -- control frames between fragments, in arrival order ----------------------------
    ok("msg-fragmented-with-ping-between", "a control frame may arrive between fragments (section 5.4)",
       frame(TEXT, b"Hel", fin=False) + frame(PING) + frame(CONT, b"lo"),
       [M(PING, b""), M(TEXT, "Hello")], **C)
    ok("msg-fragmented-with-ping-and-pong-between", "control messages come out in arrival order",
       frame(BINARY, b"a", fin=False, key=KEY) + frame(PING, b"1", key=KEY) + frame(CONT, b"b", fin=False, key=KEY)
       + frame(PONG, b"2", key=KEY) + frame(CONT, b"c", key=KEY),
       [M(PING, b"1"), M(PONG, b"2"), M(BINARY, b"abc")], **S)
    ok("msg-two-messages-and-pings", "messages and pings in arrival order",
       frame(TEXT, b"one") + frame(PING, b"p") + frame(BINARY, b"two"),
       [M(TEXT, "one"), M(PING, b"p"), M(BINARY, b"two")], **C)

    # -- fragment sequencing (section 5.4) ------------------------------------------------
    bad("continuation-without-start", "a continuation frame with no message started",
        frame(CONT, b"lo"), ProtocolError, 1, **C)
    bad("continuation-without-start-masked", "same, server role", frame(CONT, b"lo", key=KEY),
        ProtocolError, 1, **S)
    done = frame(TEXT, b"hi")
    bad("continuation-after-complete-message", "the message before ended with FIN",
        done + frame(CONT, b"lo"), ProtocolError, len(done) + 1, expect=[M(TEXT, "hi")], **C)
    started = frame(TEXT, b"Hel", fin=False)
    bad("text-inside-fragmented-message", "a new data frame inside a fragmented message",
        started + frame(TEXT, b"lo"), ProtocolError, len(started) + 1, **C)
    bad("binary-inside-fragmented-text", "a new data frame inside a fragmented message",
        started + frame(BINARY, b"lo"), ProtocolError, len(started) + 1, **C)
    bad("text-fin-clear-inside-fragmented", "a new unfinished data frame inside a fragmented message",
        started + frame(TEXT, b"lo", fin=False), ProtocolError, len(started) + 1, **C)
    bad("sequencing-beats-too-big", "byte 1 (opcode) before the length",
        started + header(BINARY, 1 << 40), ProtocolError, len(started) + 1, max_message_size=10, **C)
    bad("msg-reserved-opcode-inside-fragmented", "reserved opcode between fragments",
        started + frame(3), ProtocolError, len(started) + 1, **C)
    bad("msg-control-fin-clear-between-fragments", "fragmented ping between fragments",
        started + frame(PING, fin=False), ProtocolError, len(started) + 1, **C)

    # -- frame rules apply --------------------------------------------------------------
    bad("msg-server-got-unmasked", "MessageDecoder(client=False) needs masked frames", RFC_UNMASKED_HELLO,
        ProtocolError, 2, **S)
    bad("msg-client-got-masked", "MessageDecoder(client=True) needs unmasked frames", RFC_MASKED_HELLO,
        ProtocolError, 2, **C)
    bad("msg-rsv1-not-allowed", "no extension: RSV1 is a ProtocolError", frame(TEXT, HELLO, rsv1=True),
        ProtocolError, 1, **C)
    bad("msg-rsv3-not-allowed", "no extension: RSV3 is a ProtocolError", frame(BINARY, b"x", rsv3=True, key=KEY),
        ProtocolError, 1, **S)
    bad("msg-len64-msb-set", "64-bit length with MSB set", header(BINARY, 1 << 63, form=64),
        ProtocolError, 3, **C)
    bad("msg-non-minimal-16-bit-length", "minimal length encoding", frame(BINARY, pattern(5), form=16),
        ProtocolError, 4, clean_until=3, **C)
    bad("msg-ping-126-bytes", "control payload over 125", frame(PING, pattern(126)), ProtocolError, 2, **C)
    bad("msg-max-frame-size", "max_frame_size applies inside MessageDecoder", frame(BINARY, pattern(11)),
        MessageTooBigError, 2, max_frame_size=10, max_message_size=1000, **C)
    bad("msg-max-frame-size-fragment", "max_frame_size applies to each fragment",
        frame(BINARY, pattern(10), fin=False) + frame(CONT, pattern(11)), MessageTooBigError, 12 + 2,
        max_frame_size=10, max_message_size=1000, **C)
    bad("msg-max-frame-size-ping", "max_frame_size applies to control frames", frame(PING, pattern(11)),
        MessageTooBigError, 2, max_frame_size=10, **C)

    # -- max_message_size at exact boundaries ------------------------------------------
    for extra, label in ((39, "max-1"), (40, "max")):
        ok(f"msg-size-across-fragments-{label}", "60 + n bytes with max_message_size=100",
           frame(BINARY, pattern(60), fin=False) + frame(CONT, pattern(extra)),
           [M(BINARY, pattern(60) + pattern(extra))], max_message_size=100, **C)
    first60 = frame(BINARY, pattern(60), fin=False)
    bad("msg-size-across-fragments-max+1", "60 + 41 > 100: raised at the second header",
        first60 + frame(CONT, pattern(41)), MessageTooBigError, len(first60) + 2,
        max_message_size=100, **C)
    bad("msg-size-across-fragments-max+1-header-only", "raised before the payload arrives (server role)",
        frame(BINARY, pattern(60), fin=False, key=KEY) + header(CONT, 41, key=KEY), MessageTooBigError,
        66 + 2, max_message_size=100, **S)
    frags = frame(BINARY, pattern(400), fin=False) + frame(CONT, pattern(400), fin=False)
    for last, label in ((199, "max-1"), (200, "max")):
        ok(f"msg-size-three-fragments-16bit-{label}", "400 + 400 + n with max_message_size=1000",
           frags + frame(CONT, pattern(last)), [M(BINARY, pattern(400) * 2 + pattern(last))],
           max_message_size=1000, **C)
    bad("msg-size-three-fragments-16bit-max+1", "400 + 400 + 201 > 1000, shown by the 16-bit length",
        frags + frame(CONT, pattern(201)), MessageTooBigError, len(frags) + 4, clean_until=len(frags) + 3,
        max_message_size=1000, **C)
    for n, label in ((99, "max-1"), (100, "max")):
        ok(f"msg-size-single-frame-{label}", "single frame at max_message_size=100", frame(TEXT, b"a" * n),
           [M(TEXT, "a" * n)], max_message_size=100, **C)
    bad("msg-size-single-frame-max+1", "single 101-byte frame, max_message_size=100",
        frame(TEXT, b"a" * 101), MessageTooBigError, 2, max_message_size=100, **C)
    ok("msg-default-max-message-1MiB-header", "a header announcing exactly 1 MiB is within the default",
       header(BINARY, 1 << 20), [], **C)
    bad("msg-default-max-message-1MiB+1", "the default max_message_size is 1 MiB: header only",
        header(BINARY, (1 << 20) + 1), MessageTooBigError, 10, clean_until=9, **C)
    bad("msg-header-announces-2**62", "header only, far over the limit",
        header(BINARY, 1 << 62, key=KEY), MessageTooBigError, 10, clean_until=2, **S)
    # Literal reading: with max_frame_size=None only max_message_size limits data
    # messages, and it counts TEXT and BINARY messages only (section 5).
    ok("msg-control-frames-do-not-count", "a 125-byte ping inside a 10-byte message, max_message_size=10",
       frame(BINARY, pattern(10), fin=False) + frame(PING, pattern(125)) + frame(CONT),
       [M(PING, pattern(125)), M(BINARY, pattern(10))], max_message_size=10, **C)
    ok("msg-ping-125-small-max-message-size", "control frames are bounded by the frame rules only",
       frame(PING, pattern(125)) + frame(CLOSE, close_payload(1000, b"r" * 123)),
       [M(PING, pattern(125)), M(CLOSE, close_payload(1000, b"r" * 123))], max_message_size=10, **C)
    bad("msg-server-got-unmasked-and-too-big", "mask bit and length share byte 2: ProtocolError wins",
        frame(BINARY, pattern(100)), ProtocolError, 2, max_message_size=50, **S)
    bad("msg-rsv1-and-too-big", "byte 1 before byte 2", frame(BINARY, pattern(100), rsv1=True),
        ProtocolError, 1, max_message_size=50, **C)
    bad("msg-too-big-beats-invalid-utf8", "the header comes before the payload",
        frame(TEXT, b"\xff" * 4), MessageTooBigError, 2, max_frame_size=3, **C)
    bad("msg-size-too-big-beats-invalid-utf8", "the header comes before the payload",
        frame(TEXT, b"\xff" * 11), MessageTooBigError, 2, max_message_size=10, **C)
    bad("msg-invalid-utf8-beats-later-too-big", "the bad byte comes before the next header",
        frame(TEXT, b"\xffa", fin=False) + frame(CONT, pattern(20)), InvalidDataError, 3,
        max_message_size=10, **C)

    # -- UTF-8, fail-fast ----------------------------------------------------------------
    def utf8_bad(name, reason, payload, bad_index, *, fin=True, key=None, extra=b"", **options):
        """TEXT frame whose payload byte ``bad_index`` is the first that makes it invalid."""
        data = frame(TEXT, payload, fin=fin, key=key) + extra
        hlen = len(header(TEXT, len(payload), key=key))
        opts = options or (S if key else C)
        bad(name, reason, data, InvalidDataError, hlen + bad_index + 1, **opts)

    utf8_bad("text-invalid-byte-ff", "0xFF never appears in UTF-8", b"a\xffb", 1)
    utf8_bad("text-invalid-byte-ff-masked", "same, masked (validation after unmasking)", b"a\xffb", 1, key=KEY)
    utf8_bad("text-invalid-in-first-fragment-before-fin", "raised before the message ends", b"a\xffb", 1,
             fin=False, extra=frame(CONT, b"c"))
    utf8_bad("text-surrogate-ed-a0-80", "U+D800 is a surrogate: bad at the second byte", b"\xed\xa0\x80", 1)
    utf8_bad("text-overlong-c0-af", "C0 can only start an overlong form", b"\xc0\xaf", 0)
    utf8_bad("text-overlong-e0-80-af", "overlong 3-byte form: bad at the second byte", b"\xe0\x80\xaf", 1)
    utf8_bad("text-overlong-f0-80-80-af", "overlong 4-byte form", b"\xf0\x80\x80\xaf", 1)
    utf8_bad("text-above-10ffff-f4-90", "U+110000 and above", b"\xf4\x90\x80\x80", 1)
    utf8_bad("text-lead-f5", "F5 never appears", b"ok\xf5\x80", 2)
    utf8_bad("text-lone-continuation-80", "a continuation byte with no lead", b"ab\x80", 2)
    utf8_bad("text-truncated-then-ascii", "a lead byte followed by ASCII", b"\xe2\x82a", 2)
    utf8_bad("text-invalid-decode-text-false", "decode_text=False still validates", b"\xff", 0,
             decode_text=False, **C)
    body = b"ab\xff" + b"c" * 7
    bad("text-invalid-in-incomplete-payload", "raised while the payload is still arriving",
        header(TEXT, 10) + body[:3], InvalidDataError, 2 + 3, **C)
    bad("text-invalid-in-incomplete-payload-masked", "raised while the masked payload is still arriving",
        (header(TEXT, 10, key=KEY) + xor_mask(body, KEY))[:6 + 3], InvalidDataError, 6 + 3, **S)
    bad("text-invalid-in-incomplete-first-fragment", "fin clear and the payload incomplete",
        header(TEXT, 10, fin=False) + body[:3], InvalidDataError, 2 + 3, **C)
    first = frame(TEXT, b"\xe2", fin=False)
    bad("text-invalid-in-continuation", "invalid continuation of a split code point",
        first + frame(CONT, b"\x28\xa1"), InvalidDataError, len(first) + 2 + 1, **C)
    trunc = frame(TEXT, b"\xe2\x82")
    bad("text-truncated-code-point-at-end", "the message ends inside a code point",
        trunc, InvalidDataError, len(trunc), **C)
    trunc = frame(TEXT, b"a\xe2", fin=False) + frame(CONT, b"\x82")
    bad("text-truncated-code-point-at-end-fragmented", "the last fragment ends inside a code point",
        trunc, InvalidDataError, len(trunc), **C)
    trunc = frame(TEXT, b"\xf0\x9f\x98", fin=False) + frame(CONT)
    bad("text-truncated-code-point-empty-final-fragment", "an empty final fragment ends it",
        trunc, InvalidDataError, len(trunc), **C)
    ok("text-code-point-split-across-fragments", "a code point may be split across fragments",
       frame(TEXT, b"\xe2", fin=False) + frame(CONT, b"\x82\xac"), [M(TEXT, "\u20ac")], **C)
    ok("text-4-byte-split-across-three-fragments", "U+1F600 in three fragments",
       frame(TEXT, b"\xf0\x9f", fin=False, key=KEY) + frame(CONT, b"\x98", fin=False, key=KEY)
       + frame(CONT, b"\x80", key=KEY), [M(TEXT, "\U0001f600")], **S)
    ok("text-split-with-ping-between", "a ping between the halves of a code point",
       frame(TEXT, b"\xc3", fin=False) + frame(PING) + frame(CONT, b"\xa9"),
       [M(PING, b""), M(TEXT, "\u00e9")], **C)
    ok("text-split-decode-text-false", "decode_text=False: bytes, validated across fragments",
       frame(TEXT, b"\xe2\x82", fin=False) + frame(CONT, b"\xac"), [M(TEXT, "\u20ac".encode())],
       decode_text=False, **C)
    ok("text-max-code-point", "U+10FFFF is valid", frame(TEXT, b"\xf4\x8f\xbf\xbf"), [M(TEXT, "\U0010ffff")], **C)
    ok("text-mixed", "mixed-width text", frame(TEXT, "h\u00e9llo \u20ac \U0001f600".encode()),
       [M(TEXT, "h\u00e9llo \u20ac \U0001f600")], **C)

    # -- close payloads (section 5: validated) --------------------------------------------
    ok("close-empty", "an empty close payload", frame(CLOSE), [M(CLOSE, b"")], **C)
    ok("close-1000-bye", "CLOSE data is the raw payload", frame(CLOSE, close_payload(1000, b"bye")),
       [M(CLOSE, close_payload(1000, b"bye"))], **C)
    ok("close-1000-masked", "masked close", frame(CLOSE, close_payload(1001, b"\xc3\xa9"), key=KEY),
       [M(CLOSE, close_payload(1001, b"\xc3\xa9"))], **S)
    ok("close-4999-123-byte-reason", "longest valid close payload",
       frame(CLOSE, close_payload(4999, b"r" * 123)), [M(CLOSE, close_payload(4999, b"r" * 123))], **C)
    bad("close-1-byte", "a close payload of 1 byte (section 5.5.1)", frame(CLOSE, b"\x03"),
        ProtocolError, 3, clean_until=1, **C)
    bad("close-1-byte-masked", "1-byte close payload, server role", frame(CLOSE, b"\x03", key=KEY),
        ProtocolError, 7, clean_until=1, **S)
    for code, why in ((0, "below 1000"), (999, "below 1000"), (1004, "reserved"),
                      (1005, "NO_STATUS_RCVD may not be sent"), (1006, "ABNORMAL_CLOSURE may not be sent"),
                      (1015, "TLS_HANDSHAKE may not be sent"), (1016, "unassigned"),
                      (2999, "reserved for extensions"), (5000, "above 4999"), (65535, "above 4999")):
        f = frame(CLOSE, close_payload(code, b"x"))
        bad(f"close-code-{code}", f"close code {code}: {why}", f, ProtocolError, len(f), clean_until=2, **C)
    for code in (1000, 1003, 1007, 1014, 3000, 4999):
        ok(f"close-code-{code}-valid", "a code that may be sent", frame(CLOSE, close_payload(code)),
           [M(CLOSE, close_payload(code))], **C)
    f = frame(CLOSE, close_payload(1000, b"\xff"))
    bad("close-reason-invalid-utf8", "the reason must be UTF-8", f, InvalidDataError, len(f), clean_until=2, **C)
    f = frame(CLOSE, close_payload(1000, b"ok\xe2\x82"))
    bad("close-reason-truncated-code-point", "the reason ends inside a code point", f, InvalidDataError,
        len(f), clean_until=2, **C)
    f = frame(CLOSE, close_payload(1000, b"\xed\xa0\x80"), key=KEY)
    bad("close-reason-surrogate-masked", "surrogate in the reason", f, InvalidDataError, len(f),
        clean_until=6, **S)
    f = frame(CLOSE, close_payload(1005, b"\xff"))
    bad("close-code-invalid-beats-reason-invalid", "the code comes before the reason on the wire",
        f, ProtocolError, len(f), clean_until=2, **C)
    msg = frame(TEXT, b"hi")
    f = frame(CLOSE, close_payload(2999))
    bad("close-invalid-after-message", "the message before is on exc.decoded", msg + f, ProtocolError,
        len(msg) + len(f), clean_until=len(msg) + 2, expect=[M(TEXT, "hi")], **C)

    # -- after CLOSE ----------------------------------------------------------------------
    ok("close-in-middle-of-fragmented-message", "valid: the partial message is dropped",
       frame(TEXT, b"Hel", fin=False) + frame(CLOSE, close_payload(1000)) + frame(CONT, b"lo"),
       [M(CLOSE, close_payload(1000))], **C)
    ok("close-in-middle-of-fragmented-message-masked", "valid: partial binary dropped (server role)",
       frame(BINARY, b"ab", fin=False, key=KEY) + frame(CLOSE, key=KEY), [M(CLOSE, b"")], **S)
    ok("close-with-partial-code-point", "a partial message ending inside a code point is dropped",
       frame(TEXT, b"a\xe2", fin=False) + frame(CLOSE), [M(CLOSE, b"")], **C)
    ok("close-then-garbage-ignored", "after CLOSE every byte is ignored, even garbage",
       frame(CLOSE) + frame(3) + b"\xff" * 20, [M(CLOSE, b"")], **C)
    ok("close-then-ping-ignored", "after CLOSE a ping is ignored",
       frame(CLOSE, close_payload(1000)) + frame(PING, b"late"), [M(CLOSE, close_payload(1000))], **C)
    ok("close-then-unmasked-ignored", "after CLOSE a role violation is ignored",
       frame(CLOSE, key=KEY) + RFC_UNMASKED_HELLO + header(BINARY, 1 << 62), [M(CLOSE, b"")], **S)
    ok("close-after-message", "message then close, in order", frame(TEXT, b"hi") + frame(CLOSE),
       [M(TEXT, "hi"), M(CLOSE, b"")], **C)
    f = frame(TEXT, b"\xff", fin=False)
    bad("text-invalid-then-close", "the bad byte comes before the close", f + frame(CLOSE),
        InvalidDataError, 3, **C)
    return v


FRAME_VECTORS = _frame_vectors()
MESSAGE_VECTORS = _message_vectors()
ALL_VECTORS = FRAME_VECTORS + MESSAGE_VECTORS

_names = [v.name for v in ALL_VECTORS]
assert len(_names) == len(set(_names)), "vector names must be unique"


class HeaderVector(NamedTuple):
    name: str
    reason: str
    data: bytes
    # the FrameHeader as a tuple (fin, rsv1, rsv2, rsv3, opcode, masked, payload_length,
    # mask_key, header_length), or None when parse_header must raise ProtocolError
    expect: tuple | None
    # for a violation: how many bytes show it (parse_header must raise with only these
    # present when they are the first one or two bytes)
    visible_at: int | None = None


def _hv(name: str, reason: str, opcode: int, length: int, **kw: Any) -> HeaderVector:
    data = header(opcode, length, **kw)
    key = kw.get("key")
    fin = kw.get("fin", True)
    exp = (fin, kw.get("rsv1", False), kw.get("rsv2", False), kw.get("rsv3", False), opcode,
           key is not None, length, key, len(data))
    return HeaderVector(name, reason, data, exp)


HEADER_VECTORS: list[HeaderVector] = [
    HeaderVector("rfc6455-5.7-unmasked-hello", "section 5.7", RFC_UNMASKED_HELLO,
                 (True, False, False, False, TEXT, False, 5, None, 2)),
    HeaderVector("rfc6455-5.7-masked-hello", "section 5.7", RFC_MASKED_HELLO,
                 (True, False, False, False, TEXT, True, 5, KEY, 6)),
    HeaderVector("rfc6455-5.7-fragment-hel", "section 5.7, FIN clear", RFC_FRAGMENTED,
                 (False, False, False, False, TEXT, False, 3, None, 2)),
    HeaderVector("rfc6455-5.7-binary-256", "section 5.7, 16-bit length", RFC_BINARY_256,
                 (True, False, False, False, BINARY, False, 256, None, 4)),
    HeaderVector("rfc6455-5.7-binary-64KiB", "section 5.7, 64-bit length", RFC_BINARY_64K,
                 (True, False, False, False, BINARY, False, 65536, None, 10)),
    *[_hv(f"hdr-{name}", "length boundary", BINARY, n) for n, name in BOUNDARY_LENGTHS.items()],
    *[_hv(f"hdr-{name}-masked", "length boundary, masked", BINARY, n, key=KEY)
      for n, name in BOUNDARY_LENGTHS.items()],
    _hv("hdr-max-length", "2**63-1 is the largest length", BINARY, (1 << 63) - 1, key=KEY),
    _hv("hdr-rsv-bits-context-free", "reserved bits depend on extensions: parse_header reports them",
        TEXT, 3, rsv1=True, rsv2=True, rsv3=True),
    _hv("hdr-continuation", "continuation, FIN clear", CONT, 7, fin=False),
    _hv("hdr-close-125", "control frame at 125 bytes", CLOSE, 125, key=KEY),
    _hv("hdr-ping-0", "empty ping", PING, 0),
    _hv("hdr-pong-masked", "masked pong", PONG, 4, key=bytes(4)),
    *[HeaderVector(f"hdr-reserved-opcode-{op}", "reserved opcode", header(op, 0), None, 1)
      for op in RESERVED_OPCODES],
    *[HeaderVector(f"hdr-control-fin-clear-{op}", "fragmented control frame", header(op, 0, fin=False), None, 1)
      for op in CONTROL_OPCODES],
    HeaderVector("hdr-ping-126-bytes", "control frame over 125 bytes", header(PING, 126), None, 2),
    HeaderVector("hdr-close-64bit-length", "control frame, 64-bit length", header(CLOSE, 70000), None, 2),
    HeaderVector("hdr-ping-16bit-non-minimal", "control frame, length code 126 for 5 bytes",
                 header(PING, 5, form=16), None, 2),
    HeaderVector("hdr-len64-msb-set", "64-bit length with MSB set", header(BINARY, 1 << 63, form=64), None),
    HeaderVector("hdr-len64-msb-set-masked", "MSB set, masked", header(BINARY, (1 << 64) - 1, form=64, key=KEY),
                 None),
    HeaderVector("hdr-non-minimal-16-bit-length", "16-bit length 125", header(BINARY, 125, form=16), None),
    HeaderVector("hdr-non-minimal-16-bit-length-0", "16-bit length 0", header(BINARY, 0, form=16, key=KEY), None),
    HeaderVector("hdr-non-minimal-64-bit-length", "64-bit length 65535", header(BINARY, 65535, form=64), None),
    HeaderVector("hdr-non-minimal-64-bit-length-126", "64-bit length 126", header(TEXT, 126, form=64), None),
]
