"""permessage-deflate in the codec (API section 7): MessageDecoder inflates and
FrameEncoder compresses, over both twins.  The engine's own tests are in
test_pmd.py; these check the framing rules, the limits and the interplay with
fragments, control frames and text validation, as a peer sees them."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import sysconfig
import textwrap
import tracemalloc
import types
import zlib

import pytest

from wsfast import PerMessageDeflate, _pmd
from wsfast.errors import InvalidDataError, MessageTooBigError, ProtocolError

KEY = b"\x37\xfa\x21\x3d"
DEFAULT = PerMessageDeflate()


def frame(twin, opcode, payload, *, fin=True, rsv1=False, masked=True):
    return twin.encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask_key=KEY if masked else None)


def deflate_raw(data: bytes, wbits: int = 15, *, strip: bool = True, final_block: bool = False) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_FINISH if final_block else zlib.Z_SYNC_FLUSH)
    if strip and out.endswith(b"\x00\x00\xff\xff"):
        out = out[:-4]
    return out


def feed_all(decoder, data: bytes, step: int | None = None):
    if step is None:
        return decoder.feed(data)
    out = []
    for i in range(0, len(data), step):
        out += decoder.feed(data[i : i + step])
    return out


# --- RFC 7692 section 7.2.3 vectors --------------------------------------------

RFC_HELLO = bytes.fromhex("f248cdc9c90700")  # "Hello", one compressed message


@pytest.mark.parametrize("masked", [True, False])
def test_rfc7692_hello(twin, masked):
    decoder = twin.MessageDecoder(client=not masked, deflate=DEFAULT)
    out = decoder.feed(frame(twin, 1, RFC_HELLO, rsv1=True, masked=masked))
    assert [(m.opcode, m.data) for m in out] == [(1, "Hello")]


def test_rfc7692_hello_in_two_fragments(twin):
    """Section 7.2.3.1: the compressed bytes split across two frames, RSV1 on the first."""
    data = frame(twin, 1, RFC_HELLO[:3], fin=False, rsv1=True) + frame(twin, 0, RFC_HELLO[3:])
    assert [m.data for m in twin.MessageDecoder(deflate=DEFAULT).feed(data)] == ["Hello"]


def test_rfc7692_shared_window(twin):
    """Section 7.2.3.2: the second "Hello" refers back into the first message."""
    data = frame(twin, 1, RFC_HELLO, rsv1=True) + frame(twin, 1, bytes.fromhex("f200110000"), rsv1=True)
    assert [m.data for m in twin.MessageDecoder(deflate=DEFAULT).feed(data)] == ["Hello", "Hello"]


def test_rfc7692_no_compression_block(twin):
    """Section 7.2.3.3: a stored (uncompressed) DEFLATE block."""
    data = frame(twin, 1, bytes.fromhex("0005 00fa ff48 656c 6c6f 00"), rsv1=True)
    assert [m.data for m in twin.MessageDecoder(deflate=DEFAULT).feed(data)] == ["Hello"]


def test_rfc7692_bfinal_then_more_messages(twin):
    """Section 7.2.3.4: a final block ends nothing; later messages still use the window."""
    first = deflate_raw(b"Hello", final_block=True)
    second = deflate_raw(b"Hello again")  # an independent stream is valid data too
    decoder = twin.MessageDecoder(deflate=DEFAULT)
    out = decoder.feed(frame(twin, 1, first, rsv1=True))
    out += decoder.feed(frame(twin, 1, second, rsv1=True))
    out += decoder.feed(frame(twin, 1, RFC_HELLO, rsv1=True))
    assert [m.data for m in out] == ["Hello", "Hello again", "Hello"]


def test_uncompressed_messages_still_pass(twin):
    decoder = twin.MessageDecoder(deflate=DEFAULT)
    out = decoder.feed(frame(twin, 2, b"raw") + frame(twin, 1, b"text"))
    assert [m.data for m in out] == [b"raw", "text"]


# --- RSV1 rules ---------------------------------------------------------------------


def test_rsv1_refused_without_deflate(twin):
    with pytest.raises(ProtocolError, match="RSV1"):
        twin.MessageDecoder().feed(frame(twin, 1, RFC_HELLO, rsv1=True))


@pytest.mark.parametrize("opcode", [0, 8, 9, 10])
def test_rsv1_on_continuation_or_control_raised_at_the_header_byte(twin, opcode):
    decoder = twin.MessageDecoder(deflate=DEFAULT)
    if opcode == 0:
        decoder.feed(frame(twin, 1, RFC_HELLO[:3], fin=False, rsv1=True))
    bad = frame(twin, opcode, b"", rsv1=True)
    with pytest.raises(ProtocolError, match="RSV1"):
        decoder.feed(bad[:1])  # the first byte shows it


def test_control_frames_between_compressed_fragments(twin):
    data = (
        frame(twin, 1, RFC_HELLO[:2], fin=False, rsv1=True)
        + frame(twin, 9, b"ping")
        + frame(twin, 0, RFC_HELLO[2:5], fin=False)
        + frame(twin, 10, b"pong")
        + frame(twin, 0, RFC_HELLO[5:])
    )
    out = twin.MessageDecoder(deflate=DEFAULT).feed(data)
    assert [(m.opcode, m.data) for m in out] == [(9, b"ping"), (10, b"pong"), (1, "Hello")]


# --- errors and limits ------------------------------------------------------------------


def test_corrupt_data_is_invalid_data(twin):
    with pytest.raises(InvalidDataError) as info:
        twin.MessageDecoder(deflate=DEFAULT).feed(frame(twin, 2, b"\xff\xff\xff\xff", rsv1=True))
    assert info.value.close_code == 1007


def test_inflated_text_is_validated_incrementally(twin):
    bad = b"a" * 100_000 + b"\xff" + b"b" * 1_000_000
    payload = deflate_raw(bad)
    decoder = twin.MessageDecoder(deflate=DEFAULT, max_message_size=None)
    head = frame(twin, 1, payload, rsv1=True)
    # Fail fast: the feed that delivers the compressed bytes of the bad byte raises,
    # long before the end of the frame arrives.
    with pytest.raises(InvalidDataError):
        for i in range(0, len(head) - 1, 64):
            decoder.feed(head[i : i + 64])
        pytest.fail("the end of the frame was reached")


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_limit_plus_minus_one(twin, delta):
    limit = 10_000
    data = bytes(range(256)) * 40
    payload = deflate_raw(data[: limit + delta])
    decoder = twin.MessageDecoder(deflate=DEFAULT, max_message_size=limit)
    if delta <= 0:
        assert len(decoder.feed(frame(twin, 2, payload, rsv1=True))[0].data) == limit + delta
    else:
        with pytest.raises(MessageTooBigError):
            decoder.feed(frame(twin, 2, payload, rsv1=True))


def test_compressed_bytes_count_against_the_limit(twin):
    """The header of a compressed frame bigger than the limit is refused at once."""
    decoder = twin.MessageDecoder(deflate=DEFAULT, max_message_size=100)
    with pytest.raises(MessageTooBigError):
        decoder.feed(twin.encode_header(2, 101, rsv1=True, mask_key=KEY))


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
@pytest.mark.parametrize("step", [48, 4096, 1 << 20])
def test_bomb_memory_stays_bounded(twin, step):
    limit = 16 << 20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(bytes(256 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    data = frame(twin, 2, bomb[:-4], rsv1=True)
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    decoder = twin.MessageDecoder(deflate=DEFAULT, max_message_size=limit)
    tracemalloc.start()
    try:
        with pytest.raises(MessageTooBigError):
            for chunk in chunks:
                decoder.feed(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit + (1 << 20), peak - limit


# A bomb in a fresh process, so that its peak RSS is its own: the contract bounds it
# too (API section 7), and the allocator, not only the live objects, decides it.
_RSS_BOMB = textwrap.dedent(
    """
    import sys, zlib
    from wsfast import PerMessageDeflate, _codec
    from wsfast.errors import MessageTooBigError

    twin = _codec.load_twin(sys.argv[1])
    step, limit = int(sys.argv[2]), 16 << 20

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) << 10
        raise LookupError(field)

    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(64 << 10)
    bomb = b"".join(c.compress(zeros) for _ in range(4096)) + c.flush(zlib.Z_SYNC_FLUSH)
    data = twin["encode_frame"](2, bomb[:-4], rsv1=True, mask_key=b"abcd")
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    decoder = twin["MessageDecoder"](deflate=PerMessageDeflate(), max_message_size=limit)
    try:  # the high-water mark from here on (Linux 4.0+), else since the start
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = status("VmRSS")
    try:
        for chunk in chunks:
            decoder.feed(chunk)
    except MessageTooBigError:
        print(status("VmHWM") - before - limit)
    else:
        print("not refused")
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.skipif(
    "asan" in os.environ.get("LD_PRELOAD", "") or bool(os.environ.get("WSFAST_SANITIZE")),
    reason="ASan keeps freed memory in quarantine",
)
@pytest.mark.skipif(
    bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    reason="free-threaded CPython allocates through mimalloc, which keeps freed pages "
    "for reuse: the peak RSS there measures its cache (limit + 2-7 MiB), not what is held",
)
@pytest.mark.parametrize("step", [4096, 1 << 20, 1 << 30])
def test_bomb_peak_rss_stays_bounded(twin, step):
    """A 256 MiB bomb against a 16 MiB limit: the process's peak RSS grows by less
    than the limit plus 1 MiB, whatever the split (the whole frame in one feed too)."""
    env = dict(os.environ, WSFAST_NO_EXTENSIONS="1" if twin.name == "py" else "0")
    run = subprocess.run(
        [sys.executable, "-I", "-c", _RSS_BOMB, twin.name, str(step)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
    over = int(run.stdout)
    assert over < 1 << 20, f"peak RSS {over} bytes past the limit"


def test_message_split_at_every_byte(twin):
    enc = twin.FrameEncoder(client=True, deflate=DEFAULT)
    wire = (
        enc.text("héllo " * 50, fin=False)
        + enc.ping(b"x")
        + enc.continuation("wörld " * 30)
        + enc.binary(b"\x00\x01" * 300)
        + enc.text("")
        + enc.close(1000, "bye")
    )
    expected = ["héllo " * 50 + "wörld " * 30, b"x", b"\x00\x01" * 300, ""]
    decoder = twin.MessageDecoder(deflate=DEFAULT)
    out = []
    for i in range(len(wire)):
        out += decoder.feed(wire[i : i + 1])
    assert sorted(map(repr, (m.data for m in out[:-1]))) == sorted(map(repr, expected))
    assert out[-1].opcode == 8


# --- the encoder ------------------------------------------------------------------------


def test_encoder_sets_rsv1_on_the_first_frame_only(twin):
    enc = twin.FrameEncoder(deflate=DEFAULT)
    first = enc.text("a" * 100, fin=False)
    second = enc.continuation("b" * 100, fin=False)
    last = enc.continuation("", fin=True)
    assert first[0] == 0x41 and second[0] == 0x00 and last[0] == 0x80
    assert last[2:] == b"\x00"  # an empty final fragment is the single byte 00


def test_encoder_strips_the_tail_and_round_trips(twin):
    enc = twin.FrameEncoder(deflate=DEFAULT)
    wire = enc.text("Hello")
    assert wire[0] == 0xC1 and not wire.endswith(b"\x00\x00\xff\xff")
    assert twin.MessageDecoder(client=True, deflate=DEFAULT).feed(wire)[0].data == "Hello"


def test_encoder_threshold(twin):
    enc = twin.FrameEncoder(deflate=DEFAULT, compress_threshold=64)
    assert enc.binary(b"x" * 63)[0] == 0x82  # sent as it is
    assert enc.binary(b"x" * 64)[0] == 0xC2
    with pytest.raises(ValueError):
        twin.FrameEncoder(deflate=DEFAULT, compress_threshold=2048)


@pytest.mark.parametrize(
    "params",
    [
        PerMessageDeflate(),
        PerMessageDeflate(server_no_context_takeover=True, client_no_context_takeover=True),
        PerMessageDeflate(server_max_window_bits=8, client_max_window_bits=8),
        PerMessageDeflate(server_max_window_bits=10, client_max_window_bits=9),
    ],
    ids=["default", "no-takeover", "window-8", "window-10-9"],
)
@pytest.mark.parametrize("client", [False, True])
def test_round_trip_every_parameter_set(twin, params, client):
    rng = random.Random(7)
    enc = twin.FrameEncoder(client=client, deflate=params)
    dec = twin.MessageDecoder(client=not client, deflate=params, max_message_size=None)
    messages = []
    for i in range(40):
        words = " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "é", "☃"]) for _ in range(i * 30))
        messages.append(words)
    wire = b"".join(enc.text(m) for m in messages)
    assert [m.data for m in dec.feed(wire)] == messages


def test_websockets_peer_interop(twin):
    """Our compressed frames inflate with websockets' own extension, and theirs with us."""
    pd = pytest.importorskip("websockets.extensions.permessage_deflate")
    frames_mod = pytest.importorskip("websockets.frames")
    theirs = pd.PerMessageDeflate(False, False, 15, 15)
    enc = twin.FrameEncoder(deflate=DEFAULT)
    for text in ["Hello", "x" * 10_000, "é" * 3000]:
        wire = enc.text(text)
        length = wire[1] & 0x7F
        start = 2 if length < 126 else (4 if length == 126 else 10)
        frm = frames_mod.Frame(frames_mod.Opcode.TEXT, wire[start:], rsv1=True)
        assert theirs.decode(frm).data.decode() == text
    sender = pd.PerMessageDeflate(False, False, 15, 15)
    dec = twin.MessageDecoder(client=True, deflate=DEFAULT)
    for text in ["Hello", "y" * 10_000]:
        out = sender.encode(frames_mod.Frame(frames_mod.Opcode.TEXT, text.encode()))
        wire = twin.encode_frame(1, out.data, rsv1=out.rsv1)
        assert dec.feed(wire)[0].data == text


def test_deflate_differential_between_twins(both_twins):
    c, py = both_twins
    rng = random.Random(11)
    for trial in range(30):
        data = bytes(rng.choice(b"abc\x00\xff") for _ in range(rng.randrange(0, 3000)))
        payload = deflate_raw(data) if trial % 3 else bytes(rng.randrange(256) for _ in range(50))
        wire = c.encode_frame(2, payload, rsv1=True, mask_key=KEY)
        results = []
        for twin in (c, py):
            try:
                results.append(("ok", [m.data for m in twin.MessageDecoder(deflate=DEFAULT).feed(wire)]))
            except Exception as exc:  # noqa: BLE001 - compared across twins
                results.append((type(exc).__name__, getattr(exc, "close_code", None)))
        assert results[0] == results[1]


# --- deflate_backend -----------------------------------------------------------------


def _counting_zlib() -> types.ModuleType:
    """A zlib-compatible module of another make: zlib, counting its (de)compressors."""
    module = types.ModuleType("counting_zlib")
    module.made = {"compressobj": 0, "decompressobj": 0}

    def compressobj(*args, **kwargs):
        module.made["compressobj"] += 1
        return zlib.compressobj(*args, **kwargs)

    def decompressobj(*args, **kwargs):
        module.made["decompressobj"] += 1
        return zlib.decompressobj(*args, **kwargs)

    module.compressobj, module.decompressobj = compressobj, decompressobj
    module.error, module.Z_SYNC_FLUSH, module.Z_FULL_FLUSH = zlib.error, zlib.Z_SYNC_FLUSH, zlib.Z_FULL_FLUSH
    module.DEFLATED, module.MAX_WBITS = zlib.DEFLATED, zlib.MAX_WBITS
    return module


def test_deflate_backend_module_is_used(twin):
    """A module passed as deflate_backend does the work on both sides."""
    module = _counting_zlib()
    encoder = twin.FrameEncoder(client=True, deflate=DEFAULT, deflate_backend=module)
    decoder = twin.MessageDecoder(deflate=DEFAULT, deflate_backend=module)
    texts = ["héllo wörld " * n for n in (1, 100, 5000)]
    wire = b"".join(encoder.text(t) for t in texts)
    assert [m.data for m in feed_all(decoder, wire, 1000)] == texts
    assert module.made["compressobj"] >= 1
    assert module.made["decompressobj"] >= 1


@pytest.mark.parametrize("name", list(_pmd.BACKENDS))
def test_deflate_backend_by_name(twin, name):
    """Every installed backend, by name: the same messages and the same limits."""
    if name not in _pmd.available_backends():
        pytest.skip(f"{name} is not installed")
    encoder = twin.FrameEncoder(client=True, deflate=DEFAULT, deflate_backend=name)
    decoder = twin.MessageDecoder(deflate=DEFAULT, max_message_size=100_000, deflate_backend=name)
    data = bytes(range(256)) * 400
    out = feed_all(decoder, encoder.binary(data[:100_000]) + encoder.text("fin"), 777)
    assert [m.data for m in out] == [data[:100_000], "fin"]
    with pytest.raises(MessageTooBigError):
        decoder.feed(encoder.binary(data[:100_001]))


@pytest.mark.parametrize("deflate", [DEFAULT, None])
def test_deflate_backend_errors(twin, deflate):
    """A wrong backend is refused at construction, whether or not deflate was agreed."""
    for cls in (twin.FrameEncoder, twin.MessageDecoder):
        with pytest.raises(ValueError, match="unknown deflate backend"):
            cls(deflate=deflate, deflate_backend="gzip")
        with pytest.raises(TypeError):
            cls(deflate=deflate, deflate_backend=42)
        missing = [n for n in _pmd.BACKENDS if n not in _pmd.available_backends()]
        if missing:
            with pytest.raises(ImportError):
                cls(deflate=deflate, deflate_backend=missing[0])
