"""wsproto patched with wsfast behaves as wsproto does, only faster.

Every stream of the corpus (valid and invalid, both roles, with and without a
negotiated permessage-deflate) is fed to wsproto twice, unpatched and patched,
split at every byte (small streams) or at random places (large ones), with
events drained after every piece, once at the end, or one at a time; the two
runs must give the same frames and events (payload types included), the same
exceptions (class, close code, reason text) and the same connection state.

The patch is applied with ``wsfast.patch("wsproto")`` when the registry exists
and the twin under test is the active one; otherwise (and for the other twin)
the integration's targets are installed by hand, and restored by identity.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import struct
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsfast
from wsfast.integrations import wsproto as integration

wsproto = pytest.importorskip("wsproto")
from wsproto import extensions as wpext  # noqa: E402
from wsproto import frame_protocol as fp  # noqa: E402
from wsproto.connection import Connection, ConnectionType  # noqa: E402
from wsproto.events import Ping  # noqa: E402
from wsproto.utilities import LocalProtocolError  # noqa: E402

KEY = b"\x37\xfa\x21\x3d"
ORIGINALS = {
    "FrameProtocol": fp.FrameProtocol,
    "XorMaskerSimple": fp.XorMaskerSimple,
}


# --- applying the patch -------------------------------------------------------


@contextlib.contextmanager
def accelerated(twin: Any) -> Iterator[type[Any]]:
    """wsproto patched with ``twin``'s codec; yields the FrameProtocol class."""
    via_registry = hasattr(wsfast, "patch") and twin.name == _active_twin()
    if via_registry:
        wsfast.patch("wsproto")
        try:
            yield fp.FrameProtocol
        finally:
            wsfast.unpatch("wsproto")
        return
    saved = []
    for owner, name, replacement in integration._targets(twin):
        saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)
    try:
        yield fp.FrameProtocol
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def _active_twin() -> str:
    return "c" if wsfast.IMPLEMENTATION == "c" else "py"


@pytest.fixture(autouse=True)
def _unpatched_around() -> Iterator[None]:
    """Every test starts and ends with wsproto as it was."""
    assert fp.FrameProtocol is ORIGINALS["FrameProtocol"]
    yield
    assert fp.FrameProtocol is ORIGINALS["FrameProtocol"]
    assert fp.XorMaskerSimple is ORIGINALS["XorMaskerSimple"]


# --- building streams ------------------------------------------------------------


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    key: bytes | None = KEY,
    length: str | None = None,
    declared: int | None = None,
) -> bytes:
    """Raw frame bytes, valid or not: ``rsv`` is 4 (RSV1), 2 (RSV2), 1 (RSV3) or a
    sum; ``length`` forces the "7", "16" or "64"-bit form; ``declared`` lies about
    the payload length."""
    n = len(payload) if declared is None else declared
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if key is not None else 0
    form = length or ("7" if n < 126 else "16" if n < 65536 else "64")
    if form == "7":
        head = bytes((b0, mask_bit | n))
    elif form == "16":
        head = bytes((b0, mask_bit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((b0, mask_bit | 127)) + struct.pack("!Q", n)
    if key is None:
        return head + payload
    return head + key + wsfast.mask(payload, key)


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


class Deflater:
    """Compressed payloads as a permessage-deflate peer sends them (RFC 7692)."""

    def __init__(self, bits: int = 15, takeover: bool = True) -> None:
        self.bits = bits
        self.takeover = takeover
        self._c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -bits)

    def message(self, data: bytes) -> bytes:
        out = self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)
        if not self.takeover:
            self._c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.bits)
        return out[:-4]


def pmd_server(**kwargs: Any) -> Callable[[], list[Any]]:
    """A server-side PerMessageDeflate, negotiated as wsproto's handshake does."""

    def make() -> list[Any]:
        ext = wpext.PerMessageDeflate(**kwargs)
        assert ext.accept("permessage-deflate") is not None
        return [ext]

    return make


def pmd_client(response: str = "permessage-deflate") -> Callable[[], list[Any]]:
    def make() -> list[Any]:
        ext = wpext.PerMessageDeflate()
        ext.finalize(response)
        return [ext]

    return make


class Case(NamedTuple):
    name: str
    client: bool
    stream: bytes
    extensions: Callable[[], list[Any]] = list


TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0
UNICODE = "aé☃😀z".encode()  # 1, 2, 3 and 4-byte code points


def _role_cases(client: bool) -> list[Case]:
    """Streams as a server (masked frames) or a client (unmasked) receives them."""
    key = None if client else KEY
    wrong_key = KEY if client else None

    def f(opcode: int, payload: bytes = b"", **kw: Any) -> bytes:
        kw.setdefault("key", key)
        return frame(opcode, payload, **kw)

    side = "client" if client else "server"
    cases = [
        ("hello", f(TEXT, b"hello")),
        ("empty-text", f(TEXT)),
        ("empty-binary", f(BINARY)),
        ("unicode-text", f(TEXT, UNICODE)),
        ("binary-125", f(BINARY, bytes(range(125)))),
        ("binary-126", f(BINARY, bytes(126))),
        ("binary-65535", f(BINARY, b"\x01" * 65535)),
        ("binary-65536", f(BINARY, b"\x02" * 65536)),
        ("text-70000", f(TEXT, ("ü" * 35000).encode())),
        ("binary-over-limit", f(BINARY, bytes(range(256)) * 4100)),
        ("text-over-limit", f(TEXT, b"a" * integration.WHOLE_FRAME_LIMIT + UNICODE) + f(PING)),
        ("ping-pong", f(PING, b"are you there") + f(PONG) + f(PING)),
        ("many-small", b"".join(f(TEXT, b"m%d" % i) + f(BINARY, b"%d" % i) for i in range(30))),
        ("close-empty", f(CLOSE)),
        ("close-code", f(CLOSE, close_payload(1000))),
        ("close-reason", f(CLOSE, close_payload(1001, "gone ☃".encode()))),
        ("close-private-code", f(CLOSE, close_payload(4999, b"x"))),
        ("close-library-code", f(CLOSE, close_payload(3000))),
        ("after-close-ignored", f(CLOSE, close_payload(1000)) + f(TEXT, b"late") + b"\x83\x80"),
        ("after-close-garbage", f(TEXT, b"a") + f(CLOSE) + b"\xff" * 20),
        # fragmentation
        ("fragmented-text", f(TEXT, b"ab", fin=False) + f(CONT, b"cd", fin=False) + f(CONT, b"ef")),
        (
            "fragmented-binary-ping-between",
            f(BINARY, b"12", fin=False)
            + f(PING, b"p")
            + f(CONT, b"34", fin=False)
            + f(PONG)
            + f(CONT),
        ),
        (
            "fragmented-close-between",
            f(TEXT, b"ab", fin=False) + f(CLOSE, close_payload(1000)) + f(CONT, b"cd"),
        ),
        ("empty-fragments", f(TEXT, fin=False) + f(CONT, fin=False) + f(CONT)),
        ("fragments-then-message", f(TEXT, b"a", fin=False) + f(CONT, b"b") + f(TEXT, b"c")),
        # sequencing errors
        ("unexpected-continuation", f(TEXT, b"ok") + f(CONT, b"x")),
        ("unexpected-empty-continuation", f(CONT)),
        ("text-inside-message", f(TEXT, b"a", fin=False) + f(TEXT, b"b")),
        ("binary-inside-text", f(TEXT, b"a", fin=False) + f(PING) + f(BINARY, b"b")),
        # UTF-8
        ("bad-utf8-start", f(TEXT, b"ok\xffok")),
        ("bad-utf8-surrogate", f(TEXT, b"\xed\xa0\x80")),
        ("bad-utf8-overlong", f(TEXT, b"\xc0\xaf")),
        ("bad-utf8-truncated-end", f(TEXT, UNICODE[:-1])),
        ("bad-utf8-fragment", f(TEXT, b"abc", fin=False) + f(CONT, b"\xf5") + f(CONT)),
        ("utf8-truncated-message", f(TEXT, "é".encode()[:1], fin=False) + f(CONT, b"")),
        ("good-then-bad-utf8", f(TEXT, b"fine") + f(PING, b"x") + f(TEXT, b"\x80")),
        ("bad-utf8-big", f(TEXT, b"a" * 70000 + b"\xff")),
        # close payloads
        ("close-1-byte", f(CLOSE, b"\x03")),
        ("close-code-999", f(CLOSE, close_payload(999))),
        ("close-code-1004", f(CLOSE, close_payload(1004))),
        ("close-code-1005", f(CLOSE, close_payload(1005))),
        ("close-code-1006", f(CLOSE, close_payload(1006))),
        ("close-code-1015", f(CLOSE, close_payload(1015))),
        ("close-code-1016", f(CLOSE, close_payload(1016))),
        ("close-code-2999", f(CLOSE, close_payload(2999))),
        ("close-code-5000", f(CLOSE, close_payload(5000))),
        ("close-bad-reason", f(CLOSE, close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xed\xa0\x80"))),
        ("close-cut-reason", f(CLOSE, close_payload(1000, "∂".encode()[:2]))),
        # header errors
        ("reserved-opcode-3", f(TEXT, b"a") + f(3, b"x")),
        ("reserved-opcode-7", f(7)),
        ("reserved-opcode-11", f(11, b"x")),
        ("reserved-opcode-15", f(BINARY, b"b") + f(15)),
        ("control-not-fin", f(PING, b"x", fin=False)),
        ("control-126", f(PING, b"x" * 126)),
        ("close-126", f(CLOSE, b"\x03\xe8" + b"x" * 124)),
        ("non-minimal-16", f(BINARY, b"x" * 10, length="16")),
        ("non-minimal-64", f(BINARY, b"x" * 200, length="64")),
        ("non-minimal-64-small", f(BINARY, b"x" * 3, length="64")),
        ("length-msb", f(BINARY, b"", declared=1 << 63, length="64")),
        ("rsv1-no-extension", f(TEXT, b"a") + f(TEXT, b"b", rsv=4)),
        ("rsv2-no-extension", f(BINARY, b"b", rsv=2)),
        ("rsv3-ping", f(PING, rsv=1)),
        ("wrong-masking", f(TEXT, b"a") + f(TEXT, b"b", key=wrong_key)),
        ("wrong-masking-non-minimal", f(TEXT, b"x", key=wrong_key, length="16")),
        ("bad-opcode-and-mask", f(4, b"x", key=wrong_key)),
        ("control-126-wrong-mask", f(PONG, b"x" * 126, key=wrong_key)),
        ("error-after-many", b"".join(f(TEXT, b"%d" % i) for i in range(20)) + f(6)),
        ("truncated-stream", f(TEXT, b"complete") + f(BINARY, b"x" * 300)[:100]),
        ("huge-announced", f(BINARY, b"\x00" * 40, declared=1 << 40)),
    ]
    return [Case(f"{side}-{name}", client, stream) for name, stream in cases]


def _deflate_cases() -> list[Case]:
    cases: list[Case] = []
    for client in (False, True):
        key = None if client else KEY
        side = "client" if client else "server"

        def f(opcode: int, payload: bytes = b"", **kw: Any) -> bytes:
            kw.setdefault("key", key)  # noqa: B023
            return frame(opcode, payload, **kw)

        ext = pmd_client() if client else pmd_server()
        d = Deflater()
        text = ("deflate me ☃ " * 40).encode()
        compressed = d.message(text)
        second = d.message(b"again " * 20)
        big = Deflater().message(bytes(range(256)) * 600)
        frag = Deflater().message(text)
        cut = len(frag) // 2
        bad_text = Deflater().message(b"ok \xff not utf-8")
        streams = [
            ("compressed-text", f(TEXT, compressed, rsv=4)),
            ("context-takeover", f(TEXT, compressed, rsv=4) + f(BINARY, second, rsv=4)),
            ("uncompressed-under-pmd", f(TEXT, b"plain") + f(BINARY, b"\x00\x01")),
            ("mixed", f(TEXT, b"plain") + f(TEXT, compressed, rsv=4) + f(PING, b"p")),
            ("compressed-big", f(BINARY, big, rsv=4)),
            (
                "compressed-fragmented",
                f(TEXT, frag[:cut], rsv=4, fin=False) + f(PING) + f(CONT, frag[cut:]),
            ),
            ("compressed-empty", f(BINARY, Deflater().message(b""), rsv=4)),
            ("compressed-bad-utf8", f(TEXT, bad_text, rsv=4)),
            ("corrupt-deflate", f(BINARY, b"\xff\xff\xff\xff garbage", rsv=4)),
            ("rsv1-on-ping", f(TEXT, compressed, rsv=4) + f(PING, b"x", rsv=4)),
            (
                "rsv1-on-continuation",
                f(TEXT, frag[:cut], rsv=4, fin=False) + f(CONT, frag[cut:], rsv=4),
            ),
            ("rsv2-under-pmd", f(BINARY, b"x", rsv=2)),
            ("rsv1-rsv3-under-pmd", f(BINARY, b"x", rsv=5)),
            ("close-under-pmd", f(TEXT, compressed, rsv=4) + f(CLOSE, close_payload(1000, b"bye"))),
            ("compressed-close", f(CLOSE, close_payload(1000), rsv=4)),
            ("bad-opcode-under-pmd", f(TEXT, compressed, rsv=4) + f(5)),
        ]
        for name, stream in streams:
            cases.append(Case(f"{side}-pmd-{name}", client, stream, ext))
    d = Deflater(takeover=False)
    one, two = d.message(b"first " * 10), d.message(b"second " * 10)
    cases.append(
        Case(
            "server-pmd-no-context-takeover",
            False,
            frame(TEXT, one, rsv=4) + frame(TEXT, two, rsv=4),
            pmd_server(client_no_context_takeover=True),
        )
    )
    d9 = Deflater(bits=9)
    cases.append(
        Case(
            "client-pmd-9-bit-window",
            True,
            frame(BINARY, d9.message(bytes(range(256)) * 8), rsv=4, key=None),
            pmd_client("permessage-deflate; server_max_window_bits=9"),
        )
    )
    return cases


CASES = _role_cases(False) + _role_cases(True) + _deflate_cases()
SMALL = 300  # streams up to this size are split at every byte


# --- running wsproto ---------------------------------------------------------------


def describe(value: Any) -> Any:
    """Events and frames as comparable values, payload types included."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # wsproto's Frame
        return (type(value).__name__, *(describe(v) for v in value))
    if isinstance(value, (bytes, bytearray, str)):
        return (type(value).__name__, value)
    if isinstance(value, tuple):
        return tuple(describe(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        fields = {k: describe(getattr(value, k)) for k in value.__dataclass_fields__}
        return (type(value).__name__, fields)
    return (type(value).__name__, value)


def failure(exc: BaseException) -> tuple[Any, ...]:
    return ("raised", type(exc).__name__, getattr(exc, "code", None), str(exc))


def run_protocol(case: Case, pieces: list[bytes], drain: str) -> list[Any]:
    """wsproto's FrameProtocol over ``pieces``: frames, then any exception."""
    proto = fp.FrameProtocol(case.client, case.extensions())
    log: list[Any] = []
    try:
        for piece in pieces:
            proto.receive_bytes(piece)
            log.append("fed")
            if drain == "each":
                log.extend(describe(frame) for frame in proto.received_frames())
            elif drain == "one":
                log.extend(
                    describe(frame) for frame in itertools.islice(proto.received_frames(), 1)
                )
        log.extend(describe(frame) for frame in proto.received_frames())
        log.append("drained")
        log.extend(describe(frame) for frame in proto.received_frames())
    except Exception as exc:
        log.append(failure(exc))
        log.extend(describe(frame) for frame in proto.received_frames())
    return log


def run_connection(case: Case, pieces: list[bytes], drain: str) -> list[Any]:
    """wsproto's Connection over ``pieces``: events, state, errors."""
    role = ConnectionType.CLIENT if case.client else ConnectionType.SERVER
    conn = Connection(role, extensions=case.extensions())
    log: list[Any] = []
    for piece in pieces:
        try:
            conn.receive_data(piece)
        except LocalProtocolError as exc:
            log.append(failure(exc))
            break
        if drain == "each":
            log.extend(describe(event) for event in conn.events())
        elif drain == "one":
            log.extend(describe(event) for event in itertools.islice(conn.events(), 1))
        log.append(conn.state.name)
    log.extend(describe(event) for event in conn.events())
    log.append(conn.state.name)
    return log


def run_both(case: Case, pieces: list[bytes], drain: str) -> tuple[Any, Any]:
    """Both runners, with wsproto as it is installed right now."""
    return run_protocol(case, pieces, drain), run_connection(case, pieces, drain)


def splits(stream: bytes, seed: str) -> Iterator[tuple[str, list[bytes]]]:
    """How a stream is cut: whole, every 2-piece cut and byte by byte when it is
    small, random cuts (more pieces for more bytes) always."""
    yield "whole", [stream]
    if len(stream) <= SMALL:
        for k in range(1, len(stream)):
            yield f"cut-{k}", [stream[:k], stream[k:]]
        yield "bytewise", [stream[i : i + 1] for i in range(len(stream))]
    rng = random.Random(seed)
    for r in range(6):
        cuts = sorted(rng.sample(range(1, len(stream)), min(len(stream) - 1, rng.randint(1, 12))))
        yield f"random-{r}", [stream[a:b] for a, b in itertools.pairwise([0, *cuts, len(stream)])]


def plan(case: Case) -> Iterator[tuple[str, str, list[bytes]]]:
    """(cut, drain, pieces) for every way a case is fed."""
    for how, pieces in splits(case.stream, case.name):
        every_drain = not how.startswith("cut-")
        for drain in ("each", "end", "one") if every_drain else ("each",):
            yield how, drain, pieces


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_same_frames_events_and_errors(twin: Any, case: Case) -> None:
    """Patched and unpatched wsproto agree on every cut of every stream."""
    runs = list(plan(case))
    expected = [run_both(case, pieces, drain) for _, drain, pieces in runs]
    with accelerated(twin) as accelerated_class:
        assert accelerated_class is not ORIGINALS["FrameProtocol"]
        got = [run_both(case, pieces, drain) for _, drain, pieces in runs]
    for (how, drain, _), want, have in zip(runs, expected, got, strict=True):
        assert have[0] == want[0], f"FrameProtocol differs, cut {how}, drain {drain}"
        assert have[1] == want[1], f"Connection differs, cut {how}, drain {drain}"


@pytest.mark.parametrize(
    "limits",
    [{"WHOLE_FRAME_LIMIT": 8}, {"BATCH_BYTES": 5}],
    ids=["frames-over-8-bytes-streamed", "decoded-5-bytes-at-a-time"],
)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_same_with_tiny_internal_limits(
    twin: Any, case: Case, limits: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a whole-frame limit of 8 bytes nearly every frame takes the streamed
    path (wsproto's header parser, payload through the masker) even when it is
    whole in the buffer; with 5-byte batches nearly every frame is cut between
    two ``FrameDecoder.feed`` calls. The same results either way."""
    for name, value in limits.items():
        if name == "BATCH_BYTES" and len(case.stream) > 4096:
            value = 4099  # 5-byte feeds of the big streams would only take time
        monkeypatch.setattr(integration, name, value)
    runs = [run for run in plan(case) if not run[0].startswith("cut-")]
    expected = [run_both(case, pieces, drain) for _, drain, pieces in runs]
    with accelerated(twin):
        got = [run_both(case, pieces, drain) for _, drain, pieces in runs]
    assert got == expected


# --- random streams -------------------------------------------------------------

frame_specs = st.lists(
    st.tuples(
        st.sampled_from([TEXT, BINARY, CONT, PING, PONG, CLOSE, TEXT, BINARY, 3]),
        st.one_of(
            st.binary(max_size=40),
            st.text(max_size=20).map(str.encode),
            st.binary(min_size=120, max_size=300),
        ),
        st.booleans(),  # fin
        st.sampled_from([0, 0, 0, 0, 4, 2]),  # RSV bits
        st.booleans(),  # compress (permessage-deflate sessions only)
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=frame_specs,
    client=st.booleans(),
    deflate=st.booleans(),
    cuts=st.lists(st.integers(min_value=1, max_value=2000), max_size=6),
    drain=st.sampled_from(["each", "end", "one"]),
)
def test_random_streams(
    twin: Any, specs: list[Any], client: bool, deflate: bool, cuts: list[int], drain: str
) -> None:
    """Random frame sequences (valid or not), random cuts: the same results."""
    deflater = Deflater()
    stream = b""
    for opcode, payload, fin, rsv, compress in specs:
        if deflate and compress and opcode in (TEXT, BINARY):
            payload, rsv = deflater.message(payload), rsv | 4
        stream += frame(opcode, payload, fin=fin, rsv=rsv, key=None if client else KEY)
    points = sorted({c % len(stream) for c in cuts} - {0})
    pieces = [stream[a:b] for a, b in itertools.pairwise([0, *points, len(stream)])]
    extensions = (pmd_client() if client else pmd_server()) if deflate else list
    case = Case("random", client, stream, extensions)
    expected = run_both(case, pieces, drain)
    with accelerated(twin):
        got = run_both(case, pieces, drain)
    assert got == expected


# --- the patch itself --------------------------------------------------------------


def test_targets_cover_every_binding_and_restore_by_identity(twin: Any) -> None:
    """FrameProtocol is replaced wherever wsproto binds it, and put back as it was."""
    from wsproto import connection

    originals = {
        (module.__name__, name): module.__dict__[name]
        for module, name in [
            (fp, "FrameProtocol"),
            (connection, "FrameProtocol"),
            (wpext, "FrameProtocol"),
            (fp, "XorMaskerSimple"),
        ]
    }
    with accelerated(twin) as protocol:
        assert connection.FrameProtocol is protocol
        assert wpext.FrameProtocol is protocol
        assert issubclass(protocol, ORIGINALS["FrameProtocol"])
        assert fp.XorMaskerSimple is not ORIGINALS["XorMaskerSimple"]
        conn = Connection(ConnectionType.SERVER)
        assert type(conn._proto) is protocol
        assert isinstance(conn._proto, ORIGINALS["FrameProtocol"])
    for (module_name, name), original in originals.items():
        module = {m.__name__: m for m in (fp, connection, wpext)}[module_name]
        assert module.__dict__[name] is original
    assert type(Connection(ConnectionType.SERVER)._proto) is ORIGINALS["FrameProtocol"]
    # Declared for the registry.
    assert integration.STACK == "wsproto" and integration.DISTRIBUTION == "wsproto"
    assert integration.SUPPORTED[0] <= tuple(map(int, wsproto.__version__.split(".")[:2]))
    assert "wsproto" in integration.describe() and "\n" not in integration.describe()


def _counting(obj: Any, name: str, counts: dict[str, int]) -> None:
    """Count the calls of ``obj.name`` (an instance attribute shadows the method)."""
    method = getattr(obj, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[name] = counts.get(name, 0) + 1
        return method(*args, **kwargs)

    setattr(obj, name, counted)


def _deflate_handshake() -> tuple[Any, Any]:
    """A wsproto client and server after a handshake with permessage-deflate."""
    from wsproto import WSConnection
    from wsproto.events import AcceptConnection, Request

    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(
        client.send(Request(host="localhost", target="/", extensions=[wpext.PerMessageDeflate()]))
    )
    request = next(server.events())
    assert isinstance(request, Request)
    client.receive_data(server.send(AcceptConnection(extensions=[wpext.PerMessageDeflate()])))
    assert isinstance(next(client.events()), AcceptConnection)
    return client, server


def test_deflate_negotiated_takes_the_accelerated_path(twin: Any) -> None:
    """With permessage-deflate negotiated in a handshake, frames are decoded by
    wsfast and run through wsproto's extension object, never wsproto's parser."""
    from wsproto.events import BytesMessage, TextMessage

    messages = [TextMessage("deflated ☃ " * 50), BytesMessage(bytes(range(256)) * 4)] * 5

    def exchange() -> tuple[list[Any], list[Any], Any, Any]:
        client, server = _deflate_handshake()
        wire = b"".join(client.send(m) for m in messages)
        counts: dict[str, int] = {}
        proto = server.connection._proto
        _counting(proto._frame_decoder, "process_buffer", counts)
        if hasattr(proto, "_whole_extended"):
            _counting(proto, "_whole_extended", counts)
        server.receive_data(wire)
        events = [describe(e) for e in server.events()]
        replies = b"".join(server.send(m) for m in messages)
        client.receive_data(replies)
        return events, [describe(e) for e in client.events()], counts, proto

    expected_server, expected_client, counts, proto = exchange()
    assert counts == {"process_buffer": 11}  # unpatched: its own parser, 10 frames + 1
    with accelerated(twin) as protocol:
        got_server, got_client, counts, proto = exchange()
    assert type(proto) is protocol
    assert proto.extensions and proto.extensions[0].enabled()
    assert counts == {"_whole_extended": 1}  # one feed, all ten frames, no fallback
    assert got_server == expected_server
    assert got_client == expected_client
    assert got_server[0][0] == "TextMessage"


def test_masker_interface(twin: Any) -> None:
    """The replacement masker: wsproto's vector, key phase kept across calls,
    wsproto's result type (bytearray since 1.3)."""
    data = b"some very long data for masking by websocket"
    with accelerated(twin):
        masker = fp.XorMaskerSimple(b"1234")
        assert masker.process(b"") == b""
        pieces = [masker.process(data[i : i + 7]) for i in range(0, len(data), 7)]
        whole = fp.XorMaskerSimple(bytearray(b"1234")).process(bytearray(data))
    reference = ORIGINALS["XorMaskerSimple"](b"1234")
    expected = reference.process(data)
    assert b"".join(pieces) == whole == expected
    assert expected == b"B]^Q\x11DVFH\x12_[_U\x13PPFR\x14W]A\x14\\S@_X\\T\x14SK\x13CTP@[RYV@"
    assert type(whole) is type(expected)
    assert {type(p) for p in pieces} == {type(expected)}


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
def test_huge_frame_is_streamed_in_bounded_memory(twin: Any) -> None:
    """A frame announcing 1 TiB arrives in 64 KiB pieces: each piece comes out as
    it arrives (frame_finished=False) and nothing accumulates."""
    piece = bytes(range(256)) * 256  # 64 KiB
    key = KEY
    header = frame(BINARY, b"", declared=1 << 40, key=key)
    masked = wsfast.mask(piece, key)  # 64 KiB is a multiple of 4: the phase repeats
    with accelerated(twin):
        conn = Connection(ConnectionType.SERVER)
        conn.receive_data(header)
        assert list(conn.events()) == []
        tracemalloc.start()
        try:
            for _ in range(256):  # 16 MiB
                conn.receive_data(masked)
                (event,) = conn.events()
                assert event.data == piece
                assert not event.frame_finished and not event.message_finished
                del event
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 1 << 20, f"peak {peak} bytes while streaming 16 MiB"


@pytest.mark.thread_unsafe  # tracemalloc measures the whole process, other threads too
def test_many_frames_in_one_read_are_decoded_a_slice_at_a_time(
    twin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many 16-byte messages in one receive_data: wsproto makes their events one
    at a time; the patched wsproto decodes a slice (``BATCH_BYTES``, 16 KiB here)
    at a time, so the frames in memory at once are those of one slice, not of
    the whole read (256 KiB, 12k frames: about 3.5 MB of objects)."""
    monkeypatch.setattr(integration, "BATCH_BYTES", 1 << 14)
    one = frame(TEXT, b"0123456789abcdef", key=KEY)
    data = one * ((1 << 18) // len(one))
    count = 0
    with accelerated(twin):
        conn = Connection(ConnectionType.SERVER)
        tracemalloc.start()
        try:
            conn.receive_data(data)
            for event in conn.events():
                count += 1
                del event
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert count == len(data) // len(one)
    assert peak < 1 << 20, f"peak {peak} bytes for a 256 KiB read"


def test_received_bytes_are_copied(twin: Any) -> None:
    """A bytearray the caller reuses after receive_data does not change what is
    decoded (wsproto copies into its buffer too)."""
    with accelerated(twin):
        conn = Connection(ConnectionType.SERVER)
        buf = bytearray(frame(TEXT, b"first", key=KEY) + frame(TEXT, b"seco", fin=False, key=KEY))
        conn.receive_data(buf)
        buf[:] = b"\x00" * len(buf)
        conn.receive_data(memoryview(frame(CONT, b"nd", key=KEY)))
        events = [(e.data, e.message_finished) for e in conn.events()]
    assert events == [("first", True), ("seco", False), ("nd", True)]


# --- sending --------------------------------------------------------------------------


def _frames_on_wire(data: bytes) -> list[tuple[Any, ...]]:
    """(fin, rsv1-3, opcode, length, masked, payload) of each frame, unmasked."""
    out = []
    pos = 0
    while pos < len(data):
        header = wsfast.parse_header(data, pos)
        assert header is not None
        pos += header.header_length
        payload = data[pos : pos + header.payload_length]
        pos += header.payload_length
        if header.mask_key is not None:
            payload = wsfast.mask(payload, header.mask_key)
        fields = (header.fin, header.rsv1, header.rsv2, header.rsv3, int(header.opcode))
        out.append((*fields, header.payload_length, header.masked, payload))
    return out


def _send_script() -> list[Any]:
    from wsproto.events import BytesMessage, CloseConnection, Message, Ping, Pong, TextMessage

    script: list[Any] = [
        TextMessage("hello"),
        TextMessage(""),
        BytesMessage(b""),
        BytesMessage(bytes(125)),
        BytesMessage(bytearray(126)),
        BytesMessage(memoryview(b"view" * 100)),
        TextMessage("ü" * 40000),
        BytesMessage(b"\x07" * 65536),
        TextMessage("frag", message_finished=False),
        TextMessage("ment", message_finished=False),
        TextMessage("ed"),
        BytesMessage(b"a", message_finished=False),
        Ping(b"ping"),
        BytesMessage(b"b"),
        Pong(b""),
        Ping(b"x" * 125),
        Pong(b"y" * 126),  # too long for a control frame: ValueError
        Message(data=12),  # not bytes or str: TypeError
        TextMessage("not", message_finished=False),
        BytesMessage(b"mixed"),  # data type mismatch inside a message
        CloseConnection(code=1000, reason="bye ☃" * 30),  # reason truncated to fit
    ]
    return script


def _send_all(client: bool, extensions: Callable[[], list[Any]]) -> list[Any]:
    role = ConnectionType.CLIENT if client else ConnectionType.SERVER
    conn = Connection(role, extensions=extensions())
    log: list[Any] = []
    for event in _send_script():
        try:
            data = conn.send(event)
        except Exception as exc:
            log.append(failure(exc))
            continue
        log.append((type(data).__name__, _frames_on_wire(data) if client else data))
    return log


@pytest.mark.parametrize("client", [False, True], ids=["server", "client"])
@pytest.mark.parametrize("deflate", [False, True], ids=["plain", "deflate"])
def test_same_bytes_sent(twin: Any, client: bool, deflate: bool) -> None:
    """Sending: the same frames as wsproto (byte for byte for a server; for a client
    the same frames under fresh random masks), the same errors."""
    extensions: Callable[[], list[Any]] = list
    if deflate:
        extensions = pmd_client() if client else pmd_server()
    expected = _send_all(client, extensions)
    with accelerated(twin):
        got = _send_all(client, extensions)
    assert got == expected
    if client:
        with accelerated(twin):
            conn = Connection(ConnectionType.CLIENT)
            keys = {conn.send(Ping(b""))[2:6] for _ in range(64)}
        assert len(keys) > 60  # a fresh key per frame


def test_frame_protocol_send_returns_bytearray(twin: Any) -> None:
    """FrameProtocol's own send methods keep wsproto's result type."""
    for client in (False, True):
        with accelerated(twin):
            proto = fp.FrameProtocol(client=client, extensions=[])
            results = [proto.send_data("x"), proto.ping(b"p"), proto.close(1000, "r")]
        assert {type(r) for r in results} == {bytearray}
