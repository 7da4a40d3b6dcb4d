"""Workloads for the concurrency stress tests (tests/test_threads.py).

Importable without pytest: the shared-object scenarios run in a subprocess
(``python -I thread_stress.py SCENARIO TWIN SECONDS THREADS``) so that a crash
fails one test, with faulthandler's stacks, instead of killing the whole run.

Big payloads (above 128 KiB) fed in pieces above 128 KiB make the compiled
twin release the GIL in the middle of a feed; free-threaded builds have no GIL
at all. Either way threads really run inside the same object at once.

Exit status of a scenario run: 0 passed, 1 a check failed (each failure is
printed), a signal when it crashed.
"""

from __future__ import annotations

import faulthandler
import os
import random
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from typing import Any

if __name__ == "__main__":  # run as a script: the helpers beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vectors import BINARY, CONT, PING, TEXT, header  # noqa: E402
from wsfast import _codec  # noqa: E402
from wsfast.deflate import PerMessageDeflate  # noqa: E402
from wsfast.errors import WebSocketError  # noqa: E402

#: Above the size from which the compiled twin unmasks without the GIL.
BIG = 128 * 1024 + 1
#: What a call on a shared stateful object (decoders, Masker, Utf8Validator)
#: may raise instead of returning: RuntimeError when it overlaps another call
#: on the same object (the object is then left as it was), or a protocol error
#: (pieces of a stream arrived out of order). Anything else is a bug. The
#: functions and FrameEncoder are safe to share: they may raise nothing.
ALLOWED: tuple[type[BaseException], ...] = (WebSocketError, RuntimeError)
NOTHING: tuple[type[BaseException], ...] = ()

PURE = _codec.load_twin("py")


def load(name: str) -> dict[str, Any]:
    return _codec.load_twin(name)


# --- inputs (wire built here with vectors.header; payloads masked by the pure twin)


def masked_frame(
    opcode: int, payload: bytes, rng: random.Random, *, fin: bool = True, key: bytes | None = None
) -> bytes:
    if key is None:
        key = rng.randbytes(4)
    masked = payload if key == bytes(4) else PURE["mask"](payload, key)  # a zero key: identity
    return header(opcode, len(payload), fin=fin, key=key) + masked


def plain_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    return header(opcode, len(payload), fin=fin) + payload


def payload(rng: random.Random, big: bool) -> bytes:
    if big:
        return rng.randbytes(rng.randrange(BIG, 3 * BIG))
    return rng.randbytes(rng.choice([0, 1, 5, 125, 126, 300, 4000]))


def text(rng: random.Random, big: bool) -> str:
    """Valid text of about BIG..2*BIG bytes when ``big``, else 0..300 bytes."""
    unit = rng.choice(["a", "é", "日本", "😀x", "ascii and more "])
    n = rng.randrange(BIG, 2 * BIG) if big else rng.randrange(0, 300)
    return unit * (n // len(unit.encode()))


def frame_stream(rng: random.Random, masked: bool, count: int) -> bytes:
    """Frames for a FrameDecoder: data, control, fragments; a third of them big."""
    wire = bytearray()
    for _ in range(count):
        op = rng.choice([TEXT, BINARY, CONT, PING])
        data = payload(rng, big=op != PING and rng.random() < 0.35)
        if op == PING:
            data = data[:125]
        fin = op == PING or rng.random() < 0.7
        wire += masked_frame(op, data, rng, fin=fin) if masked else plain_frame(op, data, fin=fin)
    return bytes(wire)


def message_stream(rng: random.Random, count: int) -> bytes:
    """Masked messages, fragmented, with pings between fragments; big ones too."""
    wire = bytearray()
    for _ in range(count):
        big = rng.random() < 0.35
        if rng.random() < 0.5:
            op, raw = TEXT, text(rng, big).encode()
        else:
            op, raw = BINARY, payload(rng, big)
        cuts = sorted(rng.randrange(0, len(raw) + 1) for _ in range(rng.randrange(0, 3)))
        bounds = [0, *cuts, len(raw)]
        for i in range(len(bounds) - 1):
            last = i == len(bounds) - 2
            wire += masked_frame(
                op if i == 0 else CONT, raw[bounds[i] : bounds[i + 1]], rng, fin=last
            )
            if not last and rng.random() < 0.3:
                wire += masked_frame(PING, rng.randbytes(rng.randrange(0, 20)), rng)
    return bytes(wire)


def cut(data: bytes, rng: random.Random) -> list[bytes]:
    """Pieces of ``data``: many above BIG (the GIL is released inside those
    feeds), some tiny (headers split across feeds)."""
    out, pos = [], 0
    while pos < len(data):
        k = rng.random()
        n = (
            rng.randrange(BIG, 2 * BIG)
            if k < 0.5
            else rng.randrange(1, 16)
            if k < 0.7
            else rng.randrange(16, 5000)
        )
        out.append(data[pos : pos + n])
        pos += n
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randrange(1, 3)):
        i = rng.randrange(min(len(b), 64))  # near the front: a header most likely
        b[i] = rng.randrange(256)
    return bytes(b)


# --- results as plain values -------------------------------------------------


def frames(out: list) -> list[tuple]:
    return [(int(f.opcode), f.fin, f.rsv1, f.payload) for f in out]


def messages(out: list) -> list[tuple]:
    return [(int(m.opcode), m.data) for m in out]


def feed_all(decoder: Any, chunks: list[bytes], conv: Callable[[list], list]) -> list:
    """Per-feed results; an error ends the stream: (class, close_code, decoded)."""
    got: list = []
    for chunk in chunks:
        try:
            got.append(conv(decoder.feed(chunk)))
        except WebSocketError as exc:
            got.append((type(exc).__name__, exc.close_code, conv(exc.decoded)))
            break
    return got


# --- unshared: one workload per thread, checked against the pure twin ---------


class Workload:
    """Everything one thread does with its own objects, and how to run it on a twin."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.client = seed % 2 == 1  # odd threads are clients: unmasked frames in
        self.frame_chunks = cut(frame_stream(rng, not self.client, 6), rng)
        bad = mutate(frame_stream(rng, not self.client, 2), rng)
        self.bad_chunks = cut(bad, rng)
        self.message_chunks = cut(message_stream(rng, 5), rng)
        self.key = rng.randbytes(4)
        self.mask_pieces = [payload(rng, big=rng.random() < 0.4) for _ in range(6)]
        self.offset = rng.randrange(0, 8)
        good = text(rng, True).encode()
        self.utf8_pieces = cut(good + (b"\xed\xa0\x80" if seed % 3 == 0 else b""), rng)
        self.encode_payloads = [payload(rng, big=rng.random() < 0.3) for _ in range(4)]

    def run(self, t: dict[str, Any]) -> dict[str, Any]:
        r: dict[str, Any] = {}
        r["frames"] = feed_all(
            t["FrameDecoder"](client=self.client, max_frame_size=None), self.frame_chunks, frames
        )
        r["bad"] = feed_all(t["FrameDecoder"](client=self.client), self.bad_chunks, frames)
        r["messages"] = feed_all(
            t["MessageDecoder"](max_message_size=64 << 20), self.message_chunks, messages
        )
        m = t["Masker"](self.key)
        r["masker"] = [m.process(p) for p in self.mask_pieces]
        bufs = [bytearray(p) for p in self.mask_pieces]
        for b in bufs:
            m.process_inplace(b)
        r["masker_inplace"] = [bytes(b) for b in bufs]
        r["masker_offset"] = m.offset
        r["mask"] = [t["mask"](p, self.key) for p in self.mask_pieces]
        bufs = [bytearray(p) for p in self.mask_pieces]
        for b in bufs:
            t["mask_inplace"](b, self.key, self.offset)
        r["mask_inplace"] = [bytes(b) for b in bufs]
        v = t["Utf8Validator"]()
        r["utf8"] = [v.feed(p) for p in self.utf8_pieces] + [v.feed(b"", final=True), v.complete]
        r["validate"] = [t["validate_utf8"](p) for p in self.utf8_pieces]
        server = t["FrameEncoder"]()
        r["server_encoder"] = [server.binary(p) for p in self.encode_payloads]
        # A client encoder's keys are random: its frames are checked by decoding
        # them with the pure twin's server-side decoder.
        client = t["FrameEncoder"](client=True)
        wire = b"".join(client.binary(p) for p in self.encode_payloads)
        r["client_encoder"] = frames(PURE["FrameDecoder"](max_frame_size=None).feed(wire))
        return r


def run_unshared(
    twin: dict[str, Any], workloads: list[Workload], expected: list[dict[str, Any]], seconds: float
) -> list[str]:
    """Each thread runs its own workload on ``twin`` (at least once, then until
    ``seconds`` have passed) and compares with ``expected``; the failures."""
    failures: list[str] = []
    deadline = time.monotonic() + seconds
    start = threading.Barrier(len(workloads))

    def body(i: int) -> None:
        try:
            start.wait()
            while True:
                got = workloads[i].run(twin)
                for key, want in expected[i].items():
                    if got[key] != want:
                        failures.append(f"thread {i}: {key} differs from the pure twin")
                        return
                if time.monotonic() >= deadline:
                    return
        except BaseException:
            failures.append(f"thread {i}: {traceback.format_exc()}")

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(workloads))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return failures


# --- shared: every thread on one object ---------------------------------------


class Shared:
    """One object of each kind, and what the checks of a scenario need."""

    def __init__(self, t: dict[str, Any], twin: str) -> None:
        self.t = t
        self.twin = twin
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.calls = 0
        self.errors = 0

    def fail(self, msg: str) -> None:
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(msg)

    def count(self, error: bool = False) -> None:
        with self.lock:
            self.calls += 1
            self.errors += error


#: What _checked returns for a call that raised (allowed or not).
RAISED = object()


def _checked(sh: Shared, what: str, call: Callable[[], Any], allowed: tuple = ALLOWED) -> Any:
    """``call()``, or RAISED: an allowed error is counted, any other is a failure."""
    try:
        out = call()
    except allowed as exc:
        str(exc)  # the message must be readable (a freed reason would show here)
        if isinstance(exc, WebSocketError) and type(exc.decoded) is not list:
            sh.fail(f"{what}: exc.decoded is {type(exc.decoded).__name__}, not a list")
        sh.count(error=True)
        return RAISED
    except BaseException as exc:
        may = " or ".join(c.__name__ for c in allowed) or "nothing"
        sh.fail(f"{what}: {type(exc).__name__}: {exc} ({may} may come out of concurrent use)")
        return RAISED
    sh.count()
    return out


def _well_formed(sh: Shared, what: str, out: Any, cls: Any, limit: int) -> None:
    if type(out) is not list:
        sh.fail(f"{what}: feed returned {type(out).__name__}")
        return
    for item in out:
        if type(item) is not cls:
            sh.fail(f"{what}: feed returned a {type(item).__name__}")
        data = getattr(item, "payload", None)
        if data is None:
            data = item.data
        if not isinstance(data, (bytes, str)) or len(data) > limit:
            sh.fail(f"{what}: an item with {type(data).__name__} data of length {len(data)}")


class Scenario:
    """A shared-object scenario: setup once, then ``step`` from every thread."""

    def __init__(self, sh: Shared) -> None:
        self.sh = sh

    def step(self, rng: random.Random) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def leave(self) -> None:
        """A thread is done (called by each thread)."""

    def finish(self) -> None:
        """Every thread is done: final checks."""


class DecoderPieces(Scenario):
    """One decoder; threads take the next piece of one long stream in turn (so
    the pieces arrive nearly in order) and feed it without any lock. Frames go
    up to 17 MiB: past 16 MiB the decoder's buffer is reallocated while other
    threads write into it. A refused piece breaks the stream, so the decoder
    soon fails: then it is replaced and the stream starts again. Results are
    nonsense; memory must hold."""

    LIMIT = 32 << 20

    def __init__(self, sh: Shared, messages_: bool) -> None:
        super().__init__(sh)
        rng = random.Random(1)
        self.messages = messages_
        zero = bytes(4)  # a zero key: masking is the identity, so building is cheap
        huge = masked_frame(BINARY, rng.randbytes(17 << 20), rng, key=zero)
        wire = bytearray()
        wire += masked_frame(BINARY, rng.randbytes(1 << 20), rng, key=zero)
        wire += masked_frame(TEXT, ("é" * (3 * BIG // 2)).encode(), rng, fin=False, key=zero)
        wire += masked_frame(PING, b"ping", rng)
        wire += masked_frame(CONT, b"end", rng)
        wire += masked_frame(BINARY, rng.randbytes(2 * BIG), rng)
        self.pieces = [huge[i : i + 2 * BIG] for i in range(0, len(huge), 2 * BIG)]
        # A restart begins at the 17 MiB frame or, every other time, after it
        # (a refused piece rarely lets a whole 17 MiB frame through).
        self.starts = [0, len(self.pieces)]
        self.pieces += [bytes(wire[i : i + 2 * BIG]) for i in range(0, len(wire), 2 * BIG)]
        self.restarts = 0
        self.next = 0
        self.decoder = self.new()
        self.items = 0

    def new(self) -> Any:
        if self.messages:
            return self.sh.t["MessageDecoder"](max_message_size=self.LIMIT)
        return self.sh.t["FrameDecoder"](max_frame_size=self.LIMIT)

    def restart(self, dec: Any) -> None:
        with self.sh.lock:
            if self.decoder is dec:  # once per failed decoder
                self.decoder = self.new()
                self.restarts += 1
                self.next = self.starts[self.restarts % 2]

    def step(self, rng: random.Random) -> None:
        with self.sh.lock:
            piece = self.pieces[self.next]
            self.next += 1
            if self.next == len(self.pieces):  # a fresh decoder for the next round
                self.next = 0
                self.decoder = self.new()
            dec = self.decoder
        try:
            out = dec.feed(piece)
        except RuntimeError:
            self.sh.count(error=True)  # overlapped another feed: refused
            return
        except WebSocketError as exc:
            str(exc)
            if type(exc.decoded) is not list:
                self.sh.fail("shared decoder: exc.decoded is not a list")
            self.sh.count(error=True)
            self.restart(dec)
            return
        except BaseException as exc:
            self.sh.fail(
                f"shared decoder: {type(exc).__name__}: {exc} (only RuntimeError or "
                "WebSocketError may come out of concurrent use)"
            )
            return
        self.sh.count()
        cls = self.sh.t["Message" if self.messages else "Frame"]
        _well_formed(self.sh, "shared decoder", out, cls, self.LIMIT)
        with self.sh.lock:
            self.items += len(out)

    def finish(self) -> None:
        print(f"    {self.items} items decoded by the shared decoder, {self.restarts} restarts")


class DecoderWhole(Scenario):
    """One decoder; every feed holds whole frames (or whole messages), some above
    128 KiB. A feed either returns exactly its own frames, as a serialised call
    would, or is refused with RuntimeError."""

    def __init__(self, sh: Shared, messages_: bool) -> None:
        super().__init__(sh)
        self.messages = messages_
        self.decoder = (
            sh.t["MessageDecoder"](max_message_size=64 << 20)
            if messages_
            else sh.t["FrameDecoder"](max_frame_size=None)
        )

    def step(self, rng: random.Random) -> None:
        items, wire = [], bytearray()
        for _ in range(rng.randrange(1, 4)):
            big = rng.random() < 0.4
            if self.messages and rng.random() < 0.5:
                data = text(rng, big)
                raw = data.encode()
                half = len(raw) // 2
                while half and (raw[half] & 0xC0) == 0x80:
                    half -= 1
                wire += masked_frame(TEXT, raw[:half], rng, fin=False)
                wire += masked_frame(CONT, raw[half:], rng)
                items.append((TEXT, data))
            else:
                data_b = payload(rng, big)
                wire += masked_frame(BINARY, data_b, rng)
                items.append((BINARY, data_b) if self.messages else (BINARY, True, False, data_b))
        conv = messages if self.messages else frames
        try:
            got = conv(self.decoder.feed(bytes(wire)))
        except RuntimeError:
            self.sh.count(error=True)
            return
        except BaseException as exc:
            self.sh.fail(
                f"whole-{'message' if self.messages else 'frame'} feed raised "
                f"{type(exc).__name__}: {exc}"
            )
            return
        self.sh.count()
        if got != items:
            self.sh.fail(
                f"a feed of {len(items)} whole items returned {len(got)} other "
                "items: feeds interleaved inside the decoder"
            )


class _Item(tuple):
    """A queued message, as aiohttp's WSMessage (a tuple without fields)."""

    __slots__ = ()


class DecoderQueue(Scenario):
    """One decoder on its queue path: threads feed it whole messages with
    ``_feed_queue``, queue one shared list of kept messages with
    ``_queue_messages`` while the queue itself and other threads shrink and
    refill that list, read ``_last_feed`` and swap the queue with
    ``_set_queue``, all at once. A feed is refused with RuntimeError or does
    its work; every queued item is well formed."""

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        self.decoder = sh.t["MessageDecoder"](max_message_size=64 << 20)
        self.queued: list[Any] = []
        self.kept: list[Any] = []
        self.set_queue()

    def put(self, item: Any, size: int) -> None:
        if type(item) is not _Item or len(item) != 3 or item[0] not in ("T", "B"):
            self.sh.fail(f"queued a malformed item: {type(item).__name__}")
        elif not 0 <= size <= 3 * BIG + 4096:
            self.sh.fail(f"queued an item of size {size}")
        with self.sh.lock:
            self.queued.append(size)
            if len(self.queued) > 1000:
                del self.queued[:500]
        if size % 3 == 0:
            # The list being queued shrinks under its reader, as an
            # application's queue callback could make it.
            del self.kept[-(size % 5) - 1:]

    def set_queue(self) -> None:
        self.decoder._set_queue(self.put, 128, "T", "B", "", _Item, _Item)

    def step(self, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.2:
            _checked(self.sh, "_set_queue", self.set_queue)
            return
        if choice < 0.45:
            if rng.random() < 0.3:
                self.kept[:] = [self.sh.t["Message"](BINARY, b"x" * rng.randrange(200))
                                for _ in range(rng.randrange(1, 40))]
            _checked(self.sh, "_queue_messages",
                     lambda: self.decoder._queue_messages(self.kept, rng.randrange(3), 1 << 20))
            return
        if choice < 0.5:
            _checked(self.sh, "_last_feed", self.decoder._last_feed)
            return
        wire = bytearray()
        for _ in range(rng.randrange(1, 4)):
            big = rng.random() < 0.3
            if rng.random() < 0.5:
                wire += masked_frame(TEXT, text(rng, big).encode(), rng)
            else:
                wire += masked_frame(BINARY, payload(rng, big), rng)
            if rng.random() < 0.2:
                wire += masked_frame(PING, b"p", rng)
        out = _checked(self.sh, "_feed_queue",
                       lambda: self.decoder._feed_queue(bytes(wire), rng.randrange(-1, 1 << 20)))
        if out is not RAISED:
            _well_formed(self.sh, "_feed_queue", out, self.sh.t["Message"], 64 << 20)


class DecoderFail(Scenario):
    """All threads fail ONE fresh decoder at the same moment, round after
    round: the failed state is written and read by every thread at once."""

    BAD = bytes([0x83, 0x80]) + b"abcd"  # reserved opcode 3

    def __init__(self, sh: Shared, nthreads: int) -> None:
        super().__init__(sh)
        self.barrier = threading.Barrier(nthreads, action=self.renew, timeout=30)
        self.round = 0
        self.renew()

    def renew(self) -> None:
        self.round += 1
        self.decoder = (
            self.sh.t["MessageDecoder"]() if self.round % 2 else self.sh.t["FrameDecoder"]()
        )

    def step(self, rng: random.Random) -> None:
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        dec = self.decoder
        for _ in range(5):
            try:
                dec.feed(self.BAD)
                self.sh.fail("a reserved opcode was accepted")
            except WebSocketError as exc:
                if exc.close_code != 1002 or not str(exc):
                    self.sh.fail(f"wrong error from a failed decoder: {exc!r}")
                self.sh.count(error=True)
            except RuntimeError:
                self.sh.count(error=True)
            except BaseException as exc:
                self.sh.fail(f"failing decoder raised {type(exc).__name__}: {exc}")

    def leave(self) -> None:
        self.barrier.abort()  # the others stop waiting for this thread


class MaskerShared(Scenario):
    """One Masker: each process() is the data masked at ONE key phase (a call is
    never torn), a refused process_inplace() leaves the buffer as it was, and
    the final offset is every byte of the calls that returned."""

    KEY = b"\x11\x22\x33\x44"

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        self.masker = sh.t["Masker"](self.KEY)
        self.fed = 0
        self.phases = [PURE["mask"](bytes(4), self.KEY[p:] + self.KEY[:p]) for p in range(4)]

    def step(self, rng: random.Random) -> None:
        data = payload(rng, big=rng.random() < 0.3)
        if rng.random() < 0.3:
            buf = bytearray(data)
            done = _checked(
                self.sh, "Masker.process_inplace", lambda: self.masker.process_inplace(buf)
            )
            if done is RAISED:
                if buf != data:
                    self.sh.fail("Masker: a refused process_inplace() changed the buffer")
                return
            out = bytes(buf)
        else:
            out = _checked(self.sh, "Masker.process", lambda: self.masker.process(data))
            if out is RAISED:
                return
        with self.sh.lock:
            self.fed += len(data)
        if len(out) != len(data):
            self.sh.fail("Masker: output length differs from input length")
        elif data and not any(out == PURE["mask"](data, k) for k in self.phases):
            self.sh.fail("Masker: output is not the data masked at a single key phase")

    def finish(self) -> None:
        if self.masker.offset != self.fed:
            self.sh.fail(f"Masker: offset {self.masker.offset} != {self.fed} bytes processed")


class Utf8Shared(Scenario):
    """One Utf8Validator fed whole code points from every thread: it stays valid."""

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        self.validator = sh.t["Utf8Validator"]()

    def step(self, rng: random.Random) -> None:
        data = text(rng, big=rng.random() < 0.3).encode()
        ok = _checked(self.sh, "Utf8Validator.feed", lambda: self.validator.feed(data))
        if ok is False:
            self.sh.fail("Utf8Validator: whole valid code points made it invalid")
        if (
            rng.random() < 0.05
            and _checked(
                self.sh,
                "validate_utf8",
                lambda: self.sh.t["validate_utf8"](b"\xff" + data),
                NOTHING,
            )
            is True
        ):
            self.sh.fail("validate_utf8 accepted 0xff")


class EncoderShared(Scenario):
    """One client FrameEncoder, safe to share: every call succeeds, every frame
    decodes to its payload, and keys are not replayed. Keys are random 32-bit
    values, so a few repeats happen by chance among many frames (about
    n**2 / 2**33 pairs); a replayed key block would give far more."""

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        self.encoder = sh.t["FrameEncoder"](client=True)
        self.keys: list[bytes] = []

    def finish(self) -> None:
        n = len(self.keys)
        repeats = n - len(set(self.keys))
        chance = n * n / 2**33
        if repeats > 10 + 5 * chance:
            self.sh.fail(
                f"FrameEncoder: {repeats} repeated mask keys in {n} frames "
                f"(about {chance:.2f} expected by chance)"
            )

    def step(self, rng: random.Random) -> None:
        data = payload(rng, big=rng.random() < 0.2)
        enc = self.encoder
        wire = _checked(
            self.sh,
            "FrameEncoder",
            lambda: enc.binary(data) if rng.random() < 0.5 else enc.encode(BINARY, data),
            NOTHING,
        )
        if wire is RAISED:
            return
        with self.sh.lock:
            self.keys.append(wire[2 + (len(data) > 125) * 2 + (len(data) > 65535) * 6 :][:4])
        got = frames(PURE["FrameDecoder"](max_frame_size=None).feed(wire))
        if got != [(BINARY, True, False, data)]:
            self.sh.fail("FrameEncoder: a frame from the shared client encoder did not round-trip")


class MaskInplaceShared(Scenario):
    """One bytearray masked in place by every thread while others resize it: a
    data race on the bytes by design, so only lengths and errors are checked.
    The functions raise nothing; a resize is refused (BufferError, in the
    resizing thread) while a call works on the buffer."""

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        self.buf = bytearray(3 * BIG)

    def step(self, rng: random.Random) -> None:
        if rng.random() < 0.2:
            try:
                if len(self.buf) > 2 * BIG:
                    del self.buf[-rng.randrange(1, 4096) :]
                else:
                    self.buf.extend(bytes(rng.randrange(1, 4096)))
            except BufferError:
                pass
            return
        key = rng.randbytes(4)
        buf = self.buf
        if rng.random() < 0.5:
            _checked(
                self.sh,
                "mask_inplace",
                lambda: self.sh.t["mask_inplace"](buf, key, rng.randrange(8)),
                NOTHING,
            )
        else:
            out = _checked(self.sh, "mask", lambda: self.sh.t["mask"](buf, key), NOTHING)
            if out is not RAISED and not 2 * BIG - 4096 <= len(out) <= 3 * BIG + 4096:
                self.sh.fail(f"mask of the shared buffer gave {len(out)} bytes")


def _deflate_engines(twin: str) -> tuple[Any, Any]:
    """The twin's (Deflater, Inflater): the compiled ones run on zlib's C API."""
    if twin == "c":
        from wsfast._deflate_c import Deflater
        from wsfast._inflate_c import Inflater
    else:
        from wsfast._pmd import Deflater, Inflater
    return Deflater, Inflater


def _raw_deflate(data: bytes) -> bytes:
    """A message compressed from an empty window, its 00 00 ff ff tail cut."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


class ReinitShared(Scenario):
    """Objects used by every thread while others call ``__init__`` on them
    again: an Inflater, a Deflater and a server FrameEncoder with
    permessage-deflate may be re-initialised (refused with RuntimeError while
    a call works on them); a Frame and a Message never (always RuntimeError),
    and never change. Messages are compressed from an empty window, so each
    inflates, and each frame decodes, on its own."""

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        deflater, inflater = _deflate_engines(sh.twin)
        self.inflater = inflater(15, True)
        self.deflater = deflater(15, True)
        self.pmd = PerMessageDeflate(server_no_context_takeover=True)
        self.encoder = sh.t["FrameEncoder"](deflate=self.pmd)
        self.message = sh.t["Message"](BINARY, b"kept")
        self.frame = sh.t["Frame"](BINARY, b"kept")
        rng = random.Random(7)
        self.samples = [payload(rng, big) * 2 for big in (False, False, True)]
        self.bodies = [_raw_deflate(x) for x in self.samples]

    def step(self, rng: random.Random) -> None:
        sh, choice = self.sh, rng.randrange(8)
        i = rng.randrange(len(self.samples))
        data = self.samples[i]
        if choice == 0:
            _checked(sh, "Inflater.__init__", lambda: self.inflater.__init__(15, True))
            _checked(sh, "Inflater state", lambda: (self.inflater.backend, repr(self.inflater),
                                                    self.inflater.window_bits), NOTHING)
        elif choice == 1:
            out = _checked(sh, "Inflater.feed",
                           lambda: self.inflater.feed(self.bodies[i], None, final=True))
            if out is not RAISED and out != data:
                sh.fail(f"Inflater.feed gave {len(out)} bytes for a message of {len(data)}")
        elif choice == 2:
            _checked(sh, "Deflater.__init__", lambda: self.deflater.__init__(15, True))
            _checked(sh, "Deflater state", lambda: (self.deflater.backend, repr(self.deflater),
                                                    self.deflater.window_bits,
                                                    self.deflater.no_context_takeover), NOTHING)
        elif choice == 3:
            out = _checked(sh, "Deflater.compress", lambda: self.deflater.compress(data, True))
            if out is not RAISED:
                back = zlib.decompressobj(-15).decompress(bytes(out) + b"\x00\x00\xff\xff")
                if back != data:
                    sh.fail("Deflater.compress: a message did not inflate back")
        elif choice == 4:
            _checked(sh, "FrameEncoder.__init__", lambda: self.encoder.__init__(deflate=self.pmd),
                     NOTHING)
        elif choice == 5:
            wire = _checked(sh, "FrameEncoder.binary", lambda: self.encoder.binary(data))
            if wire is not RAISED:
                got = PURE["MessageDecoder"](client=True, deflate=self.pmd,
                                             max_message_size=None).feed(wire)
                if messages(got) != [(BINARY, data)]:
                    sh.fail("FrameEncoder: a compressed frame did not decode back")
        else:
            kept = self.message if choice == 6 else self.frame
            try:
                kept.__init__(TEXT, b"other")
            except RuntimeError:
                sh.count(error=True)
            else:
                sh.fail(f"{type(kept).__name__}.__init__ was accepted on an initialised one")
            value = kept.data if choice == 6 else kept.payload
            if value != b"kept" or kept.opcode != BINARY:
                sh.fail(f"{type(kept).__name__} changed: {kept!r}")


class DecoderDeflate(Scenario):
    """One MessageDecoder with permessage-deflate fed whole compressed
    messages by every thread: each feed returns its own messages or is
    refused with RuntimeError. On the compiled twin, threads also call the
    methods its inflater calls back: refused, whatever the feeds are doing."""

    def __init__(self, sh: Shared) -> None:
        super().__init__(sh)
        pmd = PerMessageDeflate(client_no_context_takeover=True)
        self.decoder = sh.t["MessageDecoder"](deflate=pmd, max_message_size=64 << 20)
        self.sinks = sh.twin == "c"

    def step(self, rng: random.Random) -> None:
        if self.sinks and rng.random() < 0.3:
            sink = self.decoder._inflated if rng.random() < 0.5 else self.decoder._inflated_view
            try:
                sink(b"x" * rng.randrange(4))
            except RuntimeError:
                self.sh.count(error=True)
            except BaseException as exc:
                self.sh.fail(f"an inflater sink called from outside: {type(exc).__name__}: {exc}")
            else:
                self.sh.fail("an inflater sink accepted a call from outside its feed")
            return
        items, wire = [], bytearray()
        for _ in range(rng.randrange(1, 4)):
            data = payload(rng, rng.random() < 0.2) * 2
            body = _raw_deflate(data)
            key = rng.randbytes(4)
            wire += header(BINARY, len(body), key=key, rsv1=True) + PURE["mask"](body, key)
            items.append((BINARY, data))
        got = _checked(self.sh, "feed of compressed messages", lambda: self.decoder.feed(bytes(wire)))
        if got is not RAISED and messages(got) != items:
            self.sh.fail("a feed of compressed messages returned other messages")


SCENARIOS: dict[str, Callable[[Shared, int], Scenario]] = {
    "frame-decoder-pieces": lambda sh, n: DecoderPieces(sh, messages_=False),
    "message-decoder-pieces": lambda sh, n: DecoderPieces(sh, messages_=True),
    "frame-decoder-whole": lambda sh, n: DecoderWhole(sh, messages_=False),
    "message-decoder-whole": lambda sh, n: DecoderWhole(sh, messages_=True),
    "decoder-fail": lambda sh, n: DecoderFail(sh, n),
    "message-decoder-queue": lambda sh, n: DecoderQueue(sh),
    "masker": lambda sh, n: MaskerShared(sh),
    "utf8-validator": lambda sh, n: Utf8Shared(sh),
    "client-encoder": lambda sh, n: EncoderShared(sh),
    "mask-inplace-resized": lambda sh, n: MaskInplaceShared(sh),
    "reinit": lambda sh, n: ReinitShared(sh),
    "message-decoder-deflate": lambda sh, n: DecoderDeflate(sh),
}


def run_shared(name: str, twin: str, seconds: float, nthreads: int) -> list[str]:
    """Run scenario ``name`` on one shared object of twin ``twin``; the failures."""
    sh = Shared(load(twin), twin)
    scenario = SCENARIOS[name](sh, nthreads)
    deadline = time.monotonic() + seconds
    start = threading.Barrier(nthreads)

    def body(i: int) -> None:
        rng = random.Random(i)
        try:
            start.wait()
            scenario.step(rng)  # at least once each
            while time.monotonic() < deadline:
                scenario.step(rng)
        except BaseException:
            sh.fail(f"thread {i}: {traceback.format_exc()}")
        finally:
            scenario.leave()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 120)
        if th.is_alive():
            faulthandler.dump_traceback(all_threads=True)
            sh.fail("a thread did not finish: a hang")
            break
    scenario.finish()
    print(
        f"{name} on the {twin} twin: {nthreads} threads, {sh.calls} calls "
        f"({sh.errors} refused or failed)",
        flush=True,
    )
    if sh.calls == 0:
        sh.failures.append("no call completed")
    return sh.failures


def main(argv: list[str]) -> int:
    faulthandler.enable()
    name, twin, seconds, nthreads = argv[0], argv[1], float(argv[2]), int(argv[3])
    failures = run_shared(name, twin, seconds, nthreads)
    for f in failures:
        print("FAIL:", f, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
