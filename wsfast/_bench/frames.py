"""Frames and messages (RFC 6455 sections 5.2-5.6): wsfast's twins against the
parsers and serializers users have.

Row groups (the decoders are fed the wire bytes in 64 KiB ``bytes`` chunks, as a
socket would hand them over; every call starts a fresh decoder and keeps what
it decodes, as an application would):

``decode 10,000 masked TEXT frames -> messages``, 16 B and 125 B
    client-to-server frames of ASCII text, each with its own key, decoded into
    complete messages (``str`` for TEXT): wsfast ``MessageDecoder.feed`` and
    the integrations' peers of row kind ``messages``.
``decode 10,000 masked TEXT frames -> frames``, 16 B and 125 B
    the same input into frames: wsfast ``FrameDecoder.feed`` and the peers of
    row kind ``frames`` (a frame cut by a chunk boundary may come in pieces).
``decode 1 masked BINARY frame -> message``, 1 MiB, and ``decode 1 masked TEXT
frame -> message``, 16 MiB (ASCII text)
    one big message arriving in 16 (1 MiB) or 256 (16 MiB) chunks: wsfast
    ``MessageDecoder.feed`` and the peers of row kind ``large``; a reference
    row times wsfast's kernels alone on the whole payload (``mask``, plus
    ``validate_utf8`` for text): the floor of unmask + validate, no framing.
``encode 10,000 TEXT frames, masked (client)`` and ``..., unmasked (server)``, 16 B and 125 B
    one frame per ``str`` message: wsfast ``FrameEncoder.text`` and the peers
    of row kind ``encode``.  Each client frame gets a fresh random key, as RFC
    6455 section 5.3 requires (wsfast draws a 4 KiB block of them at a time).

The peers are the integrations' ``BENCH_PEERS["frames"]`` (see
``wsfast._bench``).  Each entry's ``rows`` are row kinds (``messages``,
``frames``, ``large``, ``encode``), its ``label`` the row's label, its
``needs`` the modules it requires, and its path names a hook in the
integration module, called at discovery, by ``call``:

``"decode->typed"``, ``"decode->data"``, ``"decode->pieces"``
    ``hook(limit)`` returns ``(run, factory, read)``: the timed call is
    ``run(factory, chunks)`` (a fresh decoder from ``factory``, every chunk fed,
    what it decoded returned; frames and messages above ``limit`` bytes
    allowed), and ``read(result)``, untimed, turns that result into a list of
    ``(opcode, data)`` (typed), of message data (``str`` for TEXT, bytes for
    BINARY), or of ``(opcode, payload, complete)`` pieces of frames (opcode 0
    continues the previous piece).
``"encode"``
    ``hook(masked)`` returns a function encoding one ``str`` as one TEXT frame
    (masked for a client); the timed call maps it over the messages.

GB/s counts wire bytes (headers and keys included); messages (frames) per
second are 10,000 divided by the time per call for the small-frame rows.
The input frames are built here from ``struct`` and an integer XOR, not by
wsfast, and every implementation's output is checked once before it is timed:
decoders must return the 10,000 payloads (or the big one) with the right
opcode, and encoders' frames must decode (with wsfast's pure twin, which checks
the masking for the role) to the messages they were given.  ``--quick`` uses
1,000 small frames and leaves out the 1 MiB and 16 MiB rows.  :func:`discover`
and :func:`workloads` are shared with the pytest-benchmark suite in ``bench/``.
"""

from __future__ import annotations

import functools
import importlib
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import Case, Context, Group, find_object, peer_libraries, peers

__all__ = [
    "CHUNK",
    "COUNT",
    "LARGE",
    "LIMIT",
    "QUICK_COUNT",
    "SMALL",
    "TITLE",
    "Discovery",
    "Impl",
    "Prepared",
    "Spec",
    "Workload",
    "discover",
    "groups",
    "workloads",
]

TITLE = "frames and messages (RFC 6455 sections 5.2-5.6)"

#: The libraries (top-level modules) compared here, for the report's list of peers.
PEERS = peer_libraries("frames")

#: Frames in a small-frame buffer (decode) or messages encoded per call; in --quick.
COUNT = 10_000
QUICK_COUNT = 1_000
#: Size of the chunks the decoders are fed.
CHUNK = 64 * 1024
#: The message (and frame) size limit every decoder is given: above 16 MiB.
LIMIT = 64 << 20
#: Payload sizes of the small-frame rows; of the big-frame rows, with their opcode.
SMALL = (16, 125)
LARGE = ((1 << 20, 2), (16 << 20, 1))

#: Seed of the payloads and mask keys (varied per workload by its size).
SEED = 6455

TEXT, BINARY = 1, 2
_OPNAME = {TEXT: "TEXT", BINARY: "BINARY"}

#: Maps every byte to a printable ASCII character (space .. tilde).
_ASCII = bytes(32 + b % 95 for b in range(256))


# --- inputs -------------------------------------------------------------------


def ascii_text(n: int, seed: int) -> str:
    """``n`` characters of fixed pseudo-random printable ASCII."""
    return random.Random(seed).randbytes(n).translate(_ASCII).decode("ascii")


def client_frame(opcode: int, payload: bytes, key: bytes) -> bytes:
    """One FIN frame as a client sends it (masked with ``key``), built without wsfast."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    pattern = key * (n // 4 + 1)
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(pattern[:n], "little")
    return head + key + masked.to_bytes(n, "little")


def chunked(wire: bytes, size: int = CHUNK) -> list[bytes]:
    """``wire`` cut into ``bytes`` of ``size`` (the last one shorter)."""
    return [wire[i : i + size] for i in range(0, len(wire), size)]


@dataclass
class Workload:
    """The input and the expected result of one row group.

    Decoding: ``chunks`` of the wire, ``expected`` the (opcode, payload bytes)
    of every message or frame.  Encoding: ``messages`` (``str``), ``masked``
    for the client role; ``expected`` the same pairs.  ``masked_payload`` and
    ``key``: the single big frame's payload as on the wire (reference rows).
    """

    group: str
    size: int
    opcode: int
    expected: list[tuple[int, bytes]]
    nbytes: int
    chunks: list[bytes] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    masked: bool = True
    masked_payload: bytes | None = None
    key: bytes | None = None


def _small_payloads(size: int, count: int) -> list[str]:
    blob = ascii_text(size * count, SEED + size)
    return [blob[i * size : (i + 1) * size] for i in range(count)]


def decode_small(size: int, into: str, count: int = COUNT) -> Workload:
    """``count`` masked TEXT frames of ``size`` bytes, to decode ``into``
    "messages" or "frames"."""
    rng = random.Random(SEED + size + 1)
    payloads = [p.encode("ascii") for p in _small_payloads(size, count)]
    wire = b"".join(client_frame(TEXT, p, rng.randbytes(4)) for p in payloads)
    return Workload(
        f"decode {count:,} masked TEXT frames -> {into}, 64 KiB feeds",
        size,
        TEXT,
        [(TEXT, p) for p in payloads],
        len(wire),
        chunks=chunked(wire),
    )


def decode_large(size: int, opcode: int) -> Workload:
    """One masked frame of ``size`` bytes: random BINARY or ASCII TEXT."""
    rng = random.Random(SEED + size + 1)
    if opcode == TEXT:
        payload = ascii_text(size, SEED + size).encode("ascii")
    else:
        payload = random.Random(SEED + size).randbytes(size)
    key = rng.randbytes(4)
    wire = client_frame(opcode, payload, key)
    masked_payload = wire[-size:]
    return Workload(
        f"decode 1 masked {_OPNAME[opcode]} frame -> message, 64 KiB feeds",
        size,
        opcode,
        [(opcode, payload)],
        len(wire),
        chunks=chunked(wire),
        masked_payload=masked_payload,
        key=key,
    )


def encode_small(size: int, masked: bool, count: int = COUNT) -> Workload:
    """``count`` TEXT messages (``str``) of ``size`` ASCII characters to encode."""
    messages = _small_payloads(size, count)
    header = 2 + (4 if masked else 0)
    role = "masked (client)" if masked else "unmasked (server)"
    return Workload(
        f"encode {count:,} TEXT frames, {role}",
        size,
        TEXT,
        [(TEXT, m.encode("ascii")) for m in messages],
        count * (size + header),
        messages=messages,
        masked=masked,
    )


class Spec(NamedTuple):
    """One row group to run: its row kind ("messages", "frames", "large" or
    "encode": the key of :class:`Discovery`'s lists), payload size, a short
    name (``decode-messages-16B``) and the builder of its :class:`Workload`."""

    kind: str
    size: int
    name: str
    build: Callable[[], Workload]


def workloads(sizes: tuple[int, ...], count: int = COUNT) -> Iterator[Spec]:
    """Every row group of a run over ``sizes`` with ``count`` small frames, in
    report order.  Builders run when called, so one group's inputs are alive
    at a time."""
    for into in ("messages", "frames"):
        for size in SMALL:
            if size in sizes:
                yield Spec(into, size, f"decode-{into}-{size}B",
                           functools.partial(decode_small, size, into, count))
    for size, opcode in LARGE:
        if size in sizes:
            yield Spec("large", size, f"decode-message-{size >> 20}MiB",
                       functools.partial(decode_large, size, opcode))
    for masked in (True, False):
        for size in SMALL:
            if size in sizes:
                role = "masked" if masked else "unmasked"
                yield Spec("encode", size, f"encode-{role}-{size}B",
                           functools.partial(encode_small, size, masked, count))


# --- implementations ----------------------------------------------------------


class Prepared(NamedTuple):
    """A ready call: ``func(*args)`` does one row's work; ``keep`` holds what must
    outlive it."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    keep: Any = None


@dataclass(frozen=True)
class Impl:
    """One implementation: label, kind (see ``wsfast._bench.KINDS``), how to
    prepare a call for a :class:`Workload`, and how to turn the call's result
    into (opcode, payload bytes) pairs to check."""

    label: str
    kind: str
    prepare: Callable[[Workload], Prepared]
    extract: Callable[[Any, Workload], list[tuple[int, bytes]]]

    def check(self, work: Workload) -> Prepared:
        """Prepare a call, run it once and require the expected result.

        Raises ``AssertionError`` naming the implementation and the first
        difference when the result is wrong."""
        prepared = self.prepare(work)
        got = self.extract(prepared.func(*prepared.args), work)
        if got != work.expected:
            if len(got) != len(work.expected):
                what = f"{len(got)} items instead of {len(work.expected)}"
            else:
                i = next(i for i, (a, b) in enumerate(zip(got, work.expected, strict=True))
                         if a != b)
                what = f"item {i} differs"
            raise AssertionError(f"{self.label} is wrong on '{work.group}, {work.size}': {what}")
        return prepared


@dataclass
class Discovery:
    """What is installed: implementations per row kind, and what is not (name, reason)."""

    messages: list[Impl]
    frames: list[Impl]
    large: list[Impl]
    encode: list[Impl]
    unavailable: list[tuple[str, str]]


def _pair(data: str | bytes | bytearray) -> tuple[int, bytes]:
    """A message's data as (opcode, bytes): ``str`` is TEXT, bytes BINARY."""
    if isinstance(data, str):
        return TEXT, data.encode("utf-8")
    return BINARY, bytes(data)


def _typed(opcode: int, data: str | bytes | bytearray) -> tuple[int, bytes]:
    """(opcode, bytes) of a message whose type is known; opcode -1 when its data
    has the wrong type for it (TEXT must be decoded to ``str``)."""
    kind, raw = _pair(data)
    return (int(opcode) if kind == opcode else -1), raw


def _merge(pieces: list[tuple[int, Any, bool]]) -> list[tuple[int, bytes]]:
    """(opcode, payload, complete) pieces -> whole (opcode, bytes) frames; a
    continuation piece (opcode 0) takes the opcode of the piece it continues."""
    out: list[tuple[int, bytes]] = []
    pending: tuple[int, bytes] | None = None
    for opcode, payload, complete in pieces:
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        if pending is not None:
            opcode, data = pending[0], pending[1] + data
        pending = None if complete else (int(opcode), data)
        if complete:
            out.append((int(opcode), data))
    return out


# wsfast ----------------------------------------------------------------------


def _feed_all(new_decoder: Callable[[], Any], chunks: list[bytes]) -> list[Any]:
    """wsfast: a fresh decoder fed every chunk; all it returns."""
    feed = new_decoder().feed
    out: list[Any] = []
    for chunk in chunks:
        out += feed(chunk)
    return out


def _feeding(run: Callable[[Any, list[bytes]], list[Any]], factory: Any) -> Callable[
    [Workload], Prepared
]:
    """prepare() for a decoder: ``run(factory, chunks)`` decodes the workload."""

    def prepare(work: Workload) -> Prepared:
        return Prepared(run, (factory, work.chunks))

    return prepare


def _wsfast_messages(result: list[Any], work: Workload) -> list[tuple[int, bytes]]:
    return [_typed(m.opcode, m.data) for m in result]


def _wsfast_frames(result: list[Any], work: Workload) -> list[tuple[int, bytes]]:
    return _merge([(int(f.opcode), f.payload, f.fin) for f in result])


def _encode_all(encode: Callable[[str], Any], messages: list[str]) -> list[Any]:
    """Every message through ``encode``: the list of frames."""
    return list(map(encode, messages))


def _wsfast_encoder(cls: Callable[..., Any]) -> Callable[[Workload], Prepared]:
    def prepare(work: Workload) -> Prepared:
        return Prepared(_encode_all, (cls(client=work.masked).text, work.messages))

    return prepare


def _encoder(make: Callable[[bool], Callable[[str], Any]]) -> Callable[[Workload], Prepared]:
    """prepare() for a peer's encoder: ``make(masked)`` encodes one message."""

    def prepare(work: Workload) -> Prepared:
        return Prepared(_encode_all, (make(work.masked), work.messages))

    return prepare


def _read_typed(read: Callable[[Any], list[Any]], result: Any,
                work: Workload) -> list[tuple[int, bytes]]:
    return [_typed(opcode, data) for opcode, data in read(result)]


def _read_data(read: Callable[[Any], list[Any]], result: Any,
               work: Workload) -> list[tuple[int, bytes]]:
    return [_pair(data) for data in read(result)]


def _read_pieces(read: Callable[[Any], list[Any]], result: Any,
                 work: Workload) -> list[tuple[int, bytes]]:
    return _merge(read(result))


#: How a decoder peer's result is checked, by its call convention.
_READERS: dict[str, Callable[..., list[tuple[int, bytes]]]] = {
    "decode->typed": _read_typed,
    "decode->data": _read_data,
    "decode->pieces": _read_pieces,
}


def _decoded_frames(result: list[Any], work: Workload) -> list[tuple[int, bytes]]:
    """Encoded frames -> (opcode, payload) by wsfast's pure twin, which requires
    the masking of the role (masked from a client, unmasked from a server)."""
    from wsfast._frames_py import MessageDecoder

    decoder = MessageDecoder(client=not work.masked, max_message_size=LIMIT, decode_text=False)
    return [(int(m.opcode), m.data) for m in decoder.feed(b"".join(result))]


def _kernels(mask: Callable[..., bytes], validate: Callable[..., bool] | None,
             payload: bytes, key: bytes) -> bytes:
    """Reference: unmask a whole payload, and validate it as UTF-8 for text."""
    data = mask(payload, key)
    if validate is not None and not validate(data):
        raise ValueError("not UTF-8")
    return data


def _kernel_ref(mask: Callable[..., bytes], validate: Callable[..., bool]) -> Callable[
    [Workload], Prepared
]:
    def prepare(work: Workload) -> Prepared:
        assert work.masked_payload is not None and work.key is not None
        return Prepared(_kernels, (mask, validate if work.opcode == TEXT else None,
                                   work.masked_payload, work.key))

    return prepare


def _kernel_result(result: bytes, work: Workload) -> list[tuple[int, bytes]]:
    return [(work.opcode, result)]


# --- discovery ----------------------------------------------------------------


def _note(unavailable: list[tuple[str, str]], note: tuple[str, str]) -> None:
    """Add ``note`` to ``unavailable`` once (several peers may need one module)."""
    if note not in unavailable:
        unavailable.append(note)


def _module(name: str, unavailable: list[tuple[str, str]], what: str | None = None) -> Any:
    """Import ``name``; None (and a reason in ``unavailable``) when it does not import."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.partition(".")[0]
        if getattr(exc, "name", None) == top:
            reason = "not installed"
        else:
            reason = f"{what or 'import failed'} ({exc})"
        _note(unavailable, (top if reason == "not installed" else name, reason))
        return None


def discover(twins: dict[str, dict[str, Any] | None]) -> Discovery:
    """The implementations available here, for ``twins`` (see
    ``wsfast._bench.load_twins``); missing libraries are listed with a reason."""
    found = Discovery([], [], [], [], [])
    unavailable = found.unavailable

    c = twins.get("c") or {}
    py = twins["py"]
    assert py is not None
    simd = c.get("SIMD")
    for twin, kind, suffix in ((c, "wsfast-c", f"compiled ({simd})" if simd else "compiled"),
                               (py, "wsfast-py", "pure")):
        if twin.get("MessageDecoder") is not None:
            impl = Impl(f"wsfast MessageDecoder.feed, {suffix}", kind,
                        _feeding(_feed_all, functools.partial(twin["MessageDecoder"],
                                                               max_message_size=LIMIT)),
                        _wsfast_messages)
            found.messages.append(impl)
            found.large.append(impl)
        if twin.get("FrameDecoder") is not None:
            found.frames.append(Impl(f"wsfast FrameDecoder.feed, {suffix}", kind,
                                     _feeding(_feed_all, functools.partial(twin["FrameDecoder"],
                                                                    max_frame_size=LIMIT)),
                                     _wsfast_frames))
        if twin.get("FrameEncoder") is not None:
            found.encode.append(Impl(f"wsfast FrameEncoder.text, {suffix}", kind,
                                     _wsfast_encoder(twin["FrameEncoder"]), _decoded_frames))

    rows = {"messages": found.messages, "frames": found.frames, "large": found.large,
            "encode": found.encode}
    for peer in peers("frames"):
        if _module(peer.library, unavailable) is None:
            continue
        needed = [_module(name, unavailable, what or None) for name, what in peer.needs]
        if any(module is None for module in needed):
            continue
        hit = find_object(peer.paths)
        if hit is None:
            _note(unavailable, (peer.label, f"none of {', '.join(peer.paths)} imports"))
            continue
        hook = hit[0]
        if peer.call == "encode":
            impl = Impl(peer.label, peer.kind, _encoder(hook), _decoded_frames)
        else:
            run, factory, read = hook(LIMIT)
            impl = Impl(peer.label, peer.kind, _feeding(run, factory),
                        functools.partial(_READERS[peer.call], read))
        for row in peer.rows:
            rows[row].append(impl)

    if c.get("mask") is not None and c.get("validate_utf8") is not None:
        found.large.append(Impl("kernels only: mask (+ validate_utf8 for text)", "ref",
                                _kernel_ref(c["mask"], c["validate_utf8"]), _kernel_result))
    return found


def count(ctx: Context) -> int:
    """How many groups :func:`groups` yields (for the progress line's ETA)."""
    return sum(1 for _ in workloads(ctx.sizes))


def groups(ctx: Context) -> Iterator[Group]:
    """The decode and encode groups at the sizes of ``ctx.sizes`` (16 B and 125 B
    always, 1 MiB and 16 MiB in a full run; 1,000 small frames with --quick)."""
    found = discover(ctx.twins)
    for name, reason in found.unavailable:
        ctx.unavailable(name, reason)
    impls = {"messages": found.messages, "frames": found.frames, "large": found.large,
             "encode": found.encode}
    for spec in workloads(ctx.sizes, QUICK_COUNT if ctx.quick else COUNT):
        work = spec.build()
        cases = []
        for impl in impls[spec.kind]:
            prepared = impl.check(work)
            cases.append(Case(impl.label, prepared.func, prepared.args, work.nbytes, impl.kind,
                              keep=prepared.keep))
        yield Group("frames", work.group, work.size, cases)
