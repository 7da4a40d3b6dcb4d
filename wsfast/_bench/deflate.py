"""permessage-deflate (RFC 7692): wsfast's engine against the deflate paths users have.

The messages are JSON-like text (a feed of trades, order books and chat lines, from a
fixed seed) at 1 KiB, 64 KiB and 1 MiB (1 KiB and 64 KiB with ``--quick``).  One call
processes ONE message: every case cycles through a pool of distinct consecutive
messages with one long-lived (de)compressor, as a connection with context takeover
does, so the time per call is the per-message cost in steady state.

Row groups, per size:

``inflate``
    the pool compressed once by stdlib zlib at level 6 (window 15, context takeover,
    tail stripped: what a typical peer sends).  wsfast's ``MessageDecoder.feed`` of
    each twin, on a server, given each payload as one masked BINARY frame with RSV1
    (``max_message_size`` being 1 MiB or the message size): on stdlib zlib for both
    twins, and on every other installed backend for the compiled one
    (``deflate_backend``); the shared engine alone (``wsfast._pmd.Inflater.feed``,
    stdlib zlib); the integrations' peers of this row group (their inflate step alone,
    no framing or unmasking, like the engine row), and, as the reference, one
    unbounded ``decompressobj.decompress(payload + tail)``.
``deflate level 1`` / ``deflate level 6``
    wsfast's ``FrameEncoder.binary`` of each twin (a server's: unmasked), on every
    backend that has the level as for ``inflate``; the engine alone
    (``wsfast._pmd.Deflater.compress``); the integrations' peers of this row group
    (compression alone), and the reference: ``compress`` +
    ``flush(Z_SYNC_FLUSH)`` on a stdlib ``compressobj``.

The peers are the integrations' ``BENCH_PEERS["deflate"]`` (see ``wsfast._bench``):
each names its row groups, its label (``{level}`` is replaced by the level) and a
hook in the integration module, by ``call``:

``"inflate"``
    ``hook(work)`` returns a function inflating the next payload of
    ``work.compressed`` (cycling; tail stripped, as sent) into its message, with
    ``work.limit`` as the message size limit;
``"deflate"``
    ``hook(level)`` returns such a ``prepare(work)``, whose function compresses the
    next message of ``work.messages`` into a frame payload, tail removed.

Every case is checked before it is timed: a whole cycle of the pool must inflate to
the messages (deflate rows: their output, inflated by stdlib zlib, must).  Both twins
run the same engine (``wsfast._pmd``, pure Python over the backend), so "vs py twin"
measures what the compiled framing, unmasking and gathering add; the peers are of kind
``lib-py`` (they run on stdlib zlib).
"""

from __future__ import annotations

import itertools
import json
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import Case, Context, Group, find_object, peer_libraries, peers

__all__ = [
    "LEVELS",
    "QUICK_SIZES",
    "SIZES",
    "TITLE",
    "Discovery",
    "Impl",
    "Workload",
    "discover",
    "groups",
    "json_text",
    "workload",
]

TITLE = "permessage-deflate (RFC 7692), one message per call"

#: The libraries (top-level modules) compared here, for the report's list of peers.
PEERS = peer_libraries("deflate")

#: Message sizes of a full run and of ``--quick``.
SIZES = (1024, 64 * 1024, 1 << 20)
QUICK_SIZES = (1024, 64 * 1024)
#: Compression levels of the deflate groups.
LEVELS = (1, 6)

_TAIL = b"\x00\x00\xff\xff"

_WORDS = (
    "the quick brown fox jumps over a lazy dog market order book price update user "
    "joined left channel message hello world server client latency ping pong stream "
    "data event ready"
).split()
_SYMBOLS = ("BTC-USD", "ETH-USD", "SOL-USD", "EUR-USD", "AAPL", "MSFT", "NVDA", "TSLA")


def json_text(size: int, seed: int = 7) -> bytes:
    """``size`` bytes of minified JSON-like event text (ASCII), from ``seed``."""
    rng = random.Random(seed)
    parts: list[str] = []
    n, seq, ts = 0, 1_000_000, 1_700_000_000_000
    while n < size:
        kind = rng.random()
        seq += rng.randint(1, 9)
        ts += rng.randint(0, 250)
        rec: dict[str, Any]
        if kind < 0.5:
            rec = {"type": "trade", "id": seq, "symbol": rng.choice(_SYMBOLS),
                   "side": rng.choice(("buy", "sell")), "price": f"{rng.uniform(10, 5e4):.2f}",
                   "qty": f"{rng.uniform(0, 5):.4f}", "ts": ts}
        elif kind < 0.8:
            rec = {"type": "book", "symbol": rng.choice(_SYMBOLS), "ts": ts,
                   "bids": [[f"{rng.uniform(10, 5e4):.2f}", f"{rng.uniform(0, 9):.3f}"]
                            for _ in range(3)],
                   "asks": [[f"{rng.uniform(10, 5e4):.2f}", f"{rng.uniform(0, 9):.3f}"]
                            for _ in range(3)]}
        else:
            rec = {"type": "chat", "user": f"user{rng.randint(1, 500)}", "ts": ts,
                   "text": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 16)))}
        text = json.dumps(rec, separators=(",", ":"))
        parts.append(text)
        n += len(text) + 1
    return ("[" + ",".join(parts))[:size].encode("ascii")


@dataclass
class Workload:
    """A pool of distinct messages of ``size`` bytes and their compressed payloads."""

    size: int
    messages: list[bytes]
    compressed: list[bytes]  # stdlib zlib level 6, window 15, context takeover
    limit: int


def workload(size: int) -> Workload:
    """The pool for ``size``: consecutive slices of one text, 256 KiB or 4 messages
    at least."""
    count = max(4, (256 * 1024) // size)
    text = json_text(size * count)
    messages = [text[i * size : (i + 1) * size] for i in range(count)]
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    compressed = [(c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH))[:-4] for m in messages]
    return Workload(size, messages, compressed, max(size, 1 << 20))


@dataclass(frozen=True)
class Impl:
    """One implementation: ``prepare(work)`` returns a function processing the next
    message of the pool (cycling) and returning its output."""

    id: str
    label: str
    kind: str
    prepare: Callable[[Workload], Callable[[], bytes]]
    framed: bool = False  # deflate rows: the output is a whole frame, not a payload


@dataclass
class Discovery:
    """Implementations per row group, and what is not installed (name, reason)."""

    inflate: list[Impl]
    deflate: dict[int, list[Impl]]
    unavailable: list[tuple[str, str]]


def check(impl: Impl, work: Workload, inflate: bool) -> Callable[[], bytes]:
    """Prepare ``impl`` and run one cycle of the pool; ``AssertionError`` unless the
    output is right.  The returned function goes on with the next cycle."""
    step = impl.prepare(work)
    if inflate:
        got = [step() for _ in work.messages]
    else:
        d = zlib.decompressobj(-15)
        got = [d.decompress(_payload(step()) if impl.framed else step() + _TAIL)
               for _ in work.messages]
    if got != work.messages:
        raise AssertionError(f"{impl.label} does not round-trip the messages")
    return step


# -- wsfast -------------------------------------------------------------------------

_KEY = b"\x1f\x8b\x5a\xc3"


def _payload(frame: bytes) -> bytes:
    """A server frame's compressed payload with the tail put back."""
    from wsfast import parse_header

    header = parse_header(frame)
    assert header is not None and header.rsv1
    return frame[header.header_length :] + _TAIL


def _wsfast_inflate(twin: dict[str, Any],
                    backend: str) -> Callable[[Workload], Callable[[], bytes]]:
    from wsfast import PerMessageDeflate

    def prepare(work: Workload) -> Callable[[], bytes]:
        frames = [twin["encode_frame"](2, p, rsv1=True, mask_key=_KEY) for p in work.compressed]
        decoder = twin["MessageDecoder"](deflate=PerMessageDeflate(), max_message_size=work.limit,
                                         deflate_backend=backend)
        feed = decoder.feed
        wire = itertools.cycle(frames)
        return lambda: feed(next(wire))[0].data

    return prepare


def _engine_inflate(work: Workload) -> Callable[[], bytes]:
    from wsfast._pmd import Inflater

    feed = Inflater(15, backend="zlib").feed
    payloads = itertools.cycle(work.compressed)
    limit = work.limit
    return lambda: feed(next(payloads), limit, final=True)


def _engine_deflate(level: int) -> Callable[[Workload], Callable[[], bytes]]:
    from wsfast._pmd import Deflater

    def prepare(work: Workload) -> Callable[[], bytes]:
        compress = Deflater(15, level=level, backend="zlib").compress
        messages = itertools.cycle(work.messages)
        return lambda: compress(next(messages))

    return prepare


def _wsfast_deflate(twin: dict[str, Any], backend: str,
                    level: int) -> Callable[[Workload], Callable[[], bytes]]:
    from wsfast import PerMessageDeflate

    def prepare(work: Workload) -> Callable[[], bytes]:
        encoder = twin["FrameEncoder"](deflate=PerMessageDeflate(), compression_level=level,
                                       deflate_backend=backend)
        binary = encoder.binary
        messages = itertools.cycle(work.messages)
        return lambda: binary(next(messages))

    return prepare


# -- references: the bare stdlib calls ----------------------------------------------


def _ref_inflate(work: Workload) -> Callable[[], bytes]:
    decompress = zlib.decompressobj(-15).decompress
    payloads = itertools.cycle([p + _TAIL for p in work.compressed])
    return lambda: decompress(next(payloads))


def _ref_deflate(level: int) -> Callable[[Workload], Callable[[], bytes]]:
    def prepare(work: Workload) -> Callable[[], bytes]:
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        messages = itertools.cycle(work.messages)
        sync = zlib.Z_SYNC_FLUSH

        def step() -> bytes:
            return (c.compress(next(messages)) + c.flush(sync))[:-4]

        return step

    return prepare


def _installed(module: str) -> str | None:
    """Why ``module`` cannot be used, or None when it imports."""
    try:
        __import__(module)
    except ImportError as exc:
        return "not installed" if exc.name == module else f"import failed ({exc})"
    return None


def discover(twins: dict[str, dict[str, Any] | None] | None = None) -> Discovery:
    """The deflate paths available here, for ``twins`` (see
    ``wsfast._bench.load_twins``, which is called when None)."""
    from wsfast._pmd import BACKENDS, available_backends

    from . import load_twins

    if twins is None:
        twins = load_twins()[0]
    found = Discovery([], {level: [] for level in LEVELS}, [])
    backends = available_backends()
    for name in BACKENDS:
        if name not in backends:
            found.unavailable.append((f"wsfast on {name}", "backend not installed"))
    c = twins.get("c") or {}
    py = twins["py"]
    assert py is not None
    # Each twin on stdlib zlib (the peers' backend), then the compiled twin on the
    # others: the twins share the engine, so the pure twin on them says nothing new.
    rows = [(twin, kind, suffix, name)
            for twin, kind, suffix in ((c, "wsfast-c", "compiled"), (py, "wsfast-py", "pure"))
            if twin.get("MessageDecoder") is not None
            for name in backends if name == "zlib" or kind == "wsfast-c"]
    for twin, kind, suffix, name in rows:
        found.inflate.append(Impl(f"wsfast-{kind[7:]}-{name}",
                                  f"wsfast MessageDecoder.feed, {suffix} ({name})", kind,
                                  _wsfast_inflate(twin, name)))
        for level in LEVELS:
            if level in backends[name].levels:
                found.deflate[level].append(
                    Impl(f"wsfast-{kind[7:]}-{name}",
                         f"wsfast FrameEncoder.binary, {suffix} ({name}, level {level})",
                         kind, _wsfast_deflate(twin, name, level), framed=True))
    # The engine alone (what the peers' rows time: no framing, no masking).
    found.inflate.append(Impl("wsfast-engine", "wsfast Inflater.feed, the engine alone (zlib)",
                              "wsfast-py", _engine_inflate))
    for level in LEVELS:
        found.deflate[level].append(
            Impl("wsfast-engine",
                 f"wsfast Deflater.compress, the engine alone (zlib, level {level})",
                 "wsfast-py", _engine_deflate(level)))
    for peer in peers("deflate"):
        why = _installed(peer.library)
        hit = None if why else find_object(peer.paths)
        if hit is None:
            why = why or f"none of {', '.join(peer.paths)} imports"
            if (peer.library, why) not in found.unavailable:
                found.unavailable.append((peer.library, why))
            continue
        hook = hit[0]
        if peer.call == "inflate":
            found.inflate.append(Impl(peer.id, peer.label, peer.kind, hook))
            continue
        for level in LEVELS:
            if f"deflate level {level}" in peer.rows:
                found.deflate[level].append(Impl(peer.id, peer.label.format(level=level),
                                                 peer.kind, hook(level)))
    found.inflate.append(Impl("zlib-bare", "bare zlib decompress(payload + tail), unbounded",
                              "ref", _ref_inflate))
    for level in LEVELS:
        found.deflate[level].append(Impl("zlib-bare", f"bare zlib compress + sync flush, "
                                         f"level {level}", "ref", _ref_deflate(level)))
    return found


def count(ctx: Context) -> int:
    """How many groups :func:`groups` yields (for the progress line's ETA)."""
    return len(QUICK_SIZES if ctx.quick else SIZES) * (1 + len(LEVELS))


def groups(ctx: Context) -> Iterator[Group]:
    """``inflate`` and ``deflate level N`` at every size."""
    found = discover(ctx.twins)
    for name, reason in found.unavailable:
        ctx.unavailable(name, reason)
    for size in QUICK_SIZES if ctx.quick else SIZES:
        work = workload(size)
        cases = [Case(impl.label, check(impl, work, True), (), size, impl.kind)
                 for impl in found.inflate]
        yield Group("deflate", "inflate", size, cases)
        for level in LEVELS:
            cases = [Case(impl.label, check(impl, work, False), (), size, impl.kind)
                     for impl in found.deflate[level]]
            yield Group("deflate", f"deflate level {level}", size, cases)
