"""Regressions for the defects a probe of races, re-entrancy and odd objects
found (one test or more per defect, over both twins unless the defect is
twin-specific), and the thread-safety contract they led to:

- decoders, ``Masker`` and ``Utf8Validator`` take one call at a time: a call
  that overlaps another on the same object (another thread while a big buffer
  is worked on with the GIL released, or a re-entrant callback) raises
  ``RuntimeError`` and changes nothing;
- ``FrameEncoder`` may be shared freely: no two frames ever get one key.

Crashes are checked in subprocesses, so a regression fails a test instead of
killing the run.
"""

from __future__ import annotations

import copy
import gc
import os
import pickle
import subprocess
import sys
import sysconfig
import textwrap
import threading
import time
import weakref

import pytest

from wsfast.errors import MessageTooBigError, ProtocolError

KEY = b"\x01\x02\x03\x04"


def _client_frame(twin, opcode, payload, fin=True, key=KEY):
    return twin.encode_frame(opcode, payload, fin=fin, mask_key=key)


def _run_child(twin, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``twin`` (the ``wsf`` name) loaded."""
    prelude = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = {sys.path!r}
        from wsfast import _codec
        import types
        wsf = types.SimpleNamespace(**_codec.load_twin({twin.name!r}))
        """
    )
    env = dict(os.environ)
    env.pop("WSFAST_NO_EXTENSIONS", None)
    return subprocess.run(
        [sys.executable, "-I", "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# --- defect 1: two threads feeding one decoder --------------------------------


#: A free-threaded build: there, the compiled twin's calls on one object from
#: other threads wait for the call in progress (the object's critical section;
#: its kernels never detach), so an overlap raises only where a thread is
#: suspended mid-call (a stop-the-world pause).  A re-entrant call still raises.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _overlaps_raise(twin) -> bool:
    """Whether overlapping calls from two threads must meet a RuntimeError."""
    return not (FREE_THREADED and twin.name == "c")


def _overlap(obj_call, big_call, seconds: float = 60.0) -> tuple[int, list[BaseException]]:
    """Run big_call in a thread, over and over, while this thread calls
    obj_call; stop at the first RuntimeError seen here (or after `seconds`).

    Either side of an overlap may be the one refused: big_call retries its
    calls through _until_accepted.  Returns how many RuntimeErrors this
    thread saw and the worker's errors."""
    stop = threading.Event()
    worker_errors: list[BaseException] = []

    def worker() -> None:
        try:
            while not stop.is_set():
                big_call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            worker_errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=worker)
    seen = 0
    try:
        thread.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not seen:
            try:
                obj_call()
            except RuntimeError as exc:
                assert "already in use" in str(exc)
                seen += 1
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)
    return seen, worker_errors


def _until_accepted(call, *args):
    """call(*args), again while it is refused for overlapping another call
    (a refused call changes nothing, so retrying it is always right)."""
    while True:
        try:
            return call(*args)
        except RuntimeError as exc:
            assert "already in use" in str(exc)


@pytest.mark.parametrize("kind", ["FrameDecoder", "MessageDecoder"])
def test_overlapping_feed_raises_runtime_error(twin, kind):
    """A feed that overlaps another on the same decoder raises RuntimeError;
    the decoder is not failed and the other feed's result is right."""
    payload = bytes(range(256)) * (8 << 10)  # 2 MiB: unmasked with the GIL released
    frame = _client_frame(twin, 2, payload)
    decoder = getattr(twin, kind)(max_frame_size=None) if kind == "FrameDecoder" else (
        twin.MessageDecoder(max_message_size=None)
    )
    results = {"right": 0, "wrong": 0}  # counted, not kept: memory stays flat

    def big() -> None:
        # Split so that the payload spans feeds: the decoder's own buffers.
        out = _until_accepted(decoder.feed, frame[:1000])
        out += _until_accepted(decoder.feed, frame[1000:])
        for x in out:
            results["right" if (x.payload if kind == "FrameDecoder" else x.data) == payload
                    else "wrong"] += 1

    if _overlaps_raise(twin):
        seen, errors = _overlap(lambda: decoder.feed(b""), big)
        assert seen >= 1
    else:  # the calls take turns: run a while, nothing may go wrong
        seen, errors = _overlap(lambda: decoder.feed(b""), big, seconds=2.0)
    assert errors == []
    assert results["right"] >= 1 and results["wrong"] == 0
    assert not decoder.failed
    # The stream is still intact: one more frame decodes.
    out = decoder.feed(_client_frame(twin, 2, b"after"))
    assert [x.payload if kind == "FrameDecoder" else x.data for x in out] == [b"after"]


def test_overlapping_masker_and_validator_calls_raise(twin):
    big = bytes(4 << 20)
    masker = twin.Masker(KEY)
    calls = {"big": 0, "small": 0}

    def big_call() -> None:
        _until_accepted(masker.process, big)
        calls["big"] += 1

    def small_call() -> None:
        masker.process(b"abc")
        calls["small"] += 1

    raises = _overlaps_raise(twin)
    seen, errors = _overlap(small_call, big_call, 60.0 if raises else 2.0)
    assert errors == [] and (seen >= 1 or not raises)
    # A refused call did not move the offset; every accepted one did.
    assert masker.offset == calls["big"] * len(big) + calls["small"] * 3

    validator = twin.Utf8Validator()
    text = "é".encode() * (2 << 20)
    seen, errors = _overlap(lambda: validator.feed(b"a"), lambda: _until_accepted(validator.feed, text),
                            60.0 if raises else 2.0)
    assert errors == [] and (seen >= 1 or not raises)
    assert validator.complete


@pytest.mark.parametrize("kind", ["FrameDecoder", "MessageDecoder"])
def test_two_threads_feeding_one_decoder_never_crash(twin, kind):
    """The probe's crash: a frame over 16 MiB fed in 128 KiB pieces by three
    threads at once (SIGSEGV before the fix: a buffer moved by one feed while
    another unmasked into it with the GIL released)."""
    result = _run_child(
        twin,
        f"""
        import threading
        from wsfast.errors import WebSocketError
        frame = wsf.encode_frame(2, bytes(40 << 20), mask_key=b"abcd")
        chunks = [frame[i:i + (128 << 10)] for i in range(0, len(frame), 128 << 10)]
        if {kind!r} == "FrameDecoder":
            dec = wsf.FrameDecoder(max_frame_size=None)
        else:
            dec = wsf.MessageDecoder(max_message_size=None)
        outcomes = []
        def run():
            for _ in range(3):
                for chunk in chunks:
                    try:
                        dec.feed(chunk)
                        outcomes.append("ok")
                    except RuntimeError:
                        outcomes.append("busy")
                    except WebSocketError as exc:
                        outcomes.append(type(exc).__name__)
        sys.setswitchinterval(1e-6)
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("done", len(outcomes))
        """,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.split() == ["done", str(3 * 3 * 321)]


def test_reentrant_feed_from_gc_callback(twin):
    """A decoder fed again from a garbage-collector callback: RuntimeError
    (inside the callback), never IndexError/AssertionError, and the outer feed
    is unharmed."""
    decoder = twin.MessageDecoder()
    inner: list[BaseException | str] = []

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            try:
                decoder.feed(_client_frame(twin, 1, b"inner"))
                inner.append("ok")
            except BaseException as exc:  # noqa: BLE001
                inner.append(exc)

    frames = b"".join(_client_frame(twin, 1, b"x" * i) for i in range(200))
    threshold = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(1)
    try:
        out = decoder.feed(frames)
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(callback)
    assert all(x == "ok" or isinstance(x, RuntimeError) for x in inner), inner
    if twin.name == "py" and not FREE_THREADED:
        # The pure twin allocates tracked objects mid-feed, so the callback
        # did run inside it (the compiled twin allocates none there).  The
        # free-threaded collector also weighs the heap's size before it runs,
        # so a threshold of 1 does not make it run there.
        assert any(isinstance(x, RuntimeError) for x in inner)
    texts = [m.data for m in out if m.data != "inner"]
    assert texts == ["x" * i for i in range(200)]


# --- defect 2: the client encoder's key after user code ran -------------------


class _ReentrantOpcode:
    def __init__(self, encoder, value):
        self.encoder, self.value = encoder, value

    def __index__(self):
        for _ in range(1100):  # more than one 4 KiB block of keys
            self.encoder.binary(b"")
        return self.value


def _key_of(frame: bytes) -> bytes:
    n = frame[1] & 0x7F
    start = 2 if n < 126 else (4 if n == 126 else 10)
    return frame[start : start + 4]


def test_client_encoder_key_survives_reentrant_encodes(twin):
    encoder = twin.FrameEncoder(client=True)
    payload = b"payload!" * 40
    frame = encoder.encode(_ReentrantOpcode(encoder, 2), payload)
    decoded = twin.FrameDecoder().feed(frame)
    assert [f.payload for f in decoded] == [payload]
    # Its key is never handed out again (a stale pointer into a freed and
    # reused key block would replay it).
    later = {_key_of(encoder.binary(b"")) for _ in range(3000)}
    assert _key_of(frame) not in later


def test_client_encoder_keys_unique_across_threads(twin):
    encoder = twin.FrameEncoder(client=True)
    keys: list[bytes] = []
    lock = threading.Lock()

    def run() -> None:
        mine = [_key_of(encoder.binary(b"x")) for _ in range(3000)]
        with lock:
            keys.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(4)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert len(keys) == 12000
    # 12000 random 32-bit keys collide with probability ~1.7 %: compare with
    # the birthday bound loosely, a replayed block repeats about 1000 at once.
    assert len(keys) - len(set(keys)) < 5


# --- defect 3: Message keeps str and bytes subclasses -------------------------


class _Str(str):
    pass


class _Bytes(bytes):
    pass


def test_message_data_is_exact_str_or_bytes(twin):
    text = twin.Message(1, _Str("héllo"))
    assert type(text.data) is str and text.data == "héllo"
    raw = twin.Message(2, _Bytes(b"abc"))
    assert type(raw.data) is bytes and raw.data == b"abc"


def test_message_never_keeps_a_cycle_alive(twin):
    data = _Str("cycle")
    data.message = twin.Message(1, data)  # type: ignore[attr-defined]
    ref = weakref.ref(data)
    del data
    gc.collect()
    assert ref() is None


# --- defect 4: a non-contiguous exporter's own error --------------------------


def test_strided_numpy_array_is_buffer_error(twin):
    np = pytest.importorskip("numpy")
    strided = np.arange(64, dtype=np.uint8)[::2]
    for call in (
        lambda: twin.mask(strided, KEY),
        lambda: twin.validate_utf8(strided),
        lambda: twin.FrameDecoder().feed(strided),
        lambda: twin.MessageDecoder().feed(strided),
        lambda: twin.parse_close(strided),
        lambda: twin.encode_frame(2, strided),
    ):
        with pytest.raises(BufferError):
            call()


# --- defect 5: MemoryError leaves the decoder usable --------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_memory_error_fails_the_decoder(twin):
    result = _run_child(
        twin,
        """
        import resource
        from wsfast.errors import WebSocketError
        dec = wsf.FrameDecoder(client=True, max_frame_size=None)
        chunk = bytes(8 << 20)
        dec.feed(wsf.encode_header(2, 1 << 40))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + (256 << 20), hard))
        try:
            for _ in range(1000):
                dec.feed(chunk)
            print("no MemoryError")
        except MemoryError:
            pass
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        assert dec.failed
        try:
            dec.feed(chunk)
        except WebSocketError as exc:
            print("failed", exc.close_code)
        """,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["failed", "1011"]


# --- defect 6: __init__ called again -------------------------------------------


@pytest.mark.parametrize("kind", ["FrameDecoder", "MessageDecoder"])
def test_reinitialising_a_decoder_is_refused(twin, kind):
    decoder = getattr(twin, kind)()
    first = decoder.feed(_client_frame(twin, 2, b"OLD-", fin=False))
    assert len(first) == (1 if kind == "FrameDecoder" else 0)
    with pytest.raises(RuntimeError, match="already initialised"):
        decoder.__init__()
    out = decoder.feed(_client_frame(twin, 0, b"new!"))
    if kind == "MessageDecoder":
        assert [m.data for m in out] == [b"OLD-new!"]  # the state was kept as it was
    else:
        assert [f.payload for f in out] == [b"new!"]


@pytest.mark.parametrize("kind", ["Frame", "Message"])
def test_frames_and_messages_are_initialised_once(twin, kind):
    """Read-only means written once: a second __init__ (another thread's,
    say) would free the fields that readers take without a lock."""
    cls = getattr(twin, kind)
    made = cls(2, b"first")
    (decoded,) = getattr(twin, f"{kind}Decoder")().feed(_client_frame(twin, 2, b"first"))
    for obj in (made, decoded):
        with pytest.raises(RuntimeError, match="already initialised"):
            obj.__init__(1, b"second")
        assert obj == cls(2, b"first")
    blank = cls.__new__(cls)  # never initialised: __init__ is the first write
    blank.__init__(2, b"late")
    assert blank == cls(2, b"late")


@pytest.mark.parametrize("opcode, payload", [(2, b"0123456789" * 20), (1, b"ascii text " * 20),
                                             (1, b"caf\xc3\xa9 " * 40)])
def test_a_payload_being_written_is_not_reachable_through_the_gc(twin, opcode, payload):
    """A message arriving over several feeds is written into its final object;
    gc.get_referents(decoder) must not hand that object out half-written (a
    hash taken then would be wrong for the message delivered)."""
    d = twin.MessageDecoder()
    wire = _client_frame(twin, opcode, payload)
    cut = len(wire) // 2
    assert d.feed(wire[:cut]) == []
    seen = [o for o in gc.get_referents(d) if type(o) in (bytes, str)]
    for o in seen:
        hash(o)
    (m,) = d.feed(wire[cut:])
    assert all(o is not m.data for o in seen)
    expected = payload.decode() if opcode == 1 else payload
    assert m.data == expected and hash(m.data) == hash(expected)
    assert m.data in {expected}


def _compressed_messages(count: int) -> tuple[list[bytes], bytes]:
    """``count`` messages compressed one after another (context taken over),
    and the client frames carrying them (RSV1, masked)."""
    import zlib

    from vectors import frame

    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    texts = [(b"message %d " % i) * 400 for i in range(count)]
    wire = b""
    for t in texts:
        body = c.compress(t) + c.flush(zlib.Z_SYNC_FLUSH)
        assert body.endswith(b"\x00\x00\xff\xff")
        wire += frame(2, body[:-4], key=KEY, rsv1=True)
    return texts, wire


def test_inflate_sinks_answer_only_the_decoders_own_inflater(twin):
    """The compiled MessageDecoder's inflater calls back two methods that
    Python can reach too: a call from outside a feed, with any offset, is
    refused and changes nothing (once it read out of bounds)."""
    if twin.name != "c":
        pytest.skip("the pure twin inflates through no method of its own")
    from wsfast.deflate import PerMessageDeflate

    d = twin.MessageDecoder(deflate=PerMessageDeflate())
    texts, wire = _compressed_messages(3)
    half = len(wire) // 2
    got = [m.data for m in d.feed(wire[:half])]
    for call in (lambda: d._inflated(b"a", 1 << 40), lambda: d._inflated(b"a"),
                 lambda: d._inflated_view(memoryview(b"a"))):
        with pytest.raises(RuntimeError, match="inflater"):
            call()
    got += [m.data for m in d.feed(wire[half:])]
    assert got == texts and not d.failed


def test_an_inflater_keeps_no_view_of_its_output(twin):
    """The compiled inflater shows the decoder's check a view of output that
    it then resizes or frees: the view is released when the check returns."""
    import zlib

    if twin.name != "c":
        pytest.skip("the pure twin's inflater shows no view")

    from wsfast._inflate_c import Inflater

    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(b"A" * 300_000) + c.flush(zlib.Z_SYNC_FLUSH)
    inf = Inflater(15, False)
    views = []
    pieces = []
    for chunk, final in ((body, False), (b"", True)):  # the open piece is cut at the end
        inf._run_open(chunk, None, final, views.append,
                      lambda piece, told: pieces.append(piece), 1 << 20)
    assert views and b"".join(pieces) == b"A" * 300_000
    for view in views:
        with pytest.raises(ValueError, match="released"):
            bytes(view)


def test_a_backend_returning_bytearray_is_framed_right(twin):
    """A zlib-like backend of the user's may return bytearray: the encoder
    frames those bytes (the compiled twin once framed the bytearray object's
    own memory)."""
    import types
    import zlib

    from wsfast.deflate import PerMessageDeflate

    class Compressor:
        def __init__(self, *args, **kwargs):
            self._c = zlib.compressobj(*args, **kwargs)

        def compress(self, data):
            return bytearray(self._c.compress(data))

        def flush(self, mode=zlib.Z_FINISH):
            return bytearray(self._c.flush(mode))

    module = types.ModuleType("bytearray_zlib")
    module.compressobj, module.decompressobj = Compressor, zlib.decompressobj
    module.error, module.Z_SYNC_FLUSH, module.Z_FULL_FLUSH = zlib.error, zlib.Z_SYNC_FLUSH, zlib.Z_FULL_FLUSH
    module.DEFLATED, module.MAX_WBITS = zlib.DEFLATED, zlib.MAX_WBITS
    encoder = twin.FrameEncoder(client=True, deflate=PerMessageDeflate(), deflate_backend=module)
    decoder = twin.MessageDecoder(deflate=PerMessageDeflate())
    data = [b"compress me " * 50, b"and me " * 70]
    assert [m.data for m in decoder.feed(b"".join(encoder.binary(x) for x in data))] == data


# --- defect 8: memcpy(NULL, p, 0) for a header-only feed -----------------------


def test_header_only_feed_of_a_huge_unmasked_frame(twin):
    decoder = twin.FrameDecoder(client=True, max_frame_size=None)
    size = (16 << 20) + 1
    assert decoder.feed(twin.encode_header(2, size)) == []
    assert decoder.feed(bytes(size - 1)) == []
    assert [len(f.payload) for f in decoder.feed(b"\x00")] == [size]


# --- defect 9: copies of a client encoder replay its keys ----------------------


@pytest.mark.parametrize(
    "duplicate",
    [copy.copy, copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_encoder_cannot_be_duplicated(twin, duplicate):
    encoder = twin.FrameEncoder(client=True)
    encoder.binary(b"x")
    with pytest.raises(TypeError):
        duplicate(encoder)


# --- defect 10: a str subclass's own encode() ----------------------------------


class _LyingStr(str):
    def encode(self, *args, **kwargs):  # type: ignore[override]
        return b"\xff\xfe not what the text says"


def test_str_subclass_is_encoded_as_str(twin):
    encoder = twin.FrameEncoder()
    text = _LyingStr("héllo")
    assert encoder.text(text) == encoder.text("héllo")
    assert encoder.continuation(text) == encoder.continuation("héllo")
    assert encoder.ping(text) == encoder.ping("héllo")
    assert encoder.pong(text) == encoder.pong("héllo")
    assert encoder.close(1000, text) == encoder.close(1000, "héllo")
    assert twin.encode_close(1000, text) == twin.encode_close(1000, "héllo")


# --- defect 11: the pure twin under concurrency ---------------------------------


@pytest.mark.skipif(
    FREE_THREADED and sys.version_info < (3, 14),
    reason="CPython 3.13t's bytearray has no per-object lock: another thread's resize "
    "races its export count and can move the buffer under any exporter (a memoryview "
    "too), so no library can pin it there",
)
def test_bytearray_resized_while_masked(twin):
    """Masking a bytearray that another thread tries to resize: the resize
    fails in that thread (BufferError: the buffer is pinned) or happens
    before or after; the masking is never left half done."""
    original = bytes(range(256)) * (16 << 10)  # 4 MiB
    buf = bytearray(original)
    stop = threading.Event()
    resize_errors: list[BaseException] = []

    def resizer() -> None:
        while not stop.is_set():
            try:
                buf.append(0)
                del buf[-1]
            except BufferError:
                pass
            except BaseException as exc:  # noqa: BLE001
                resize_errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=resizer)
    thread.start()
    try:
        for _ in range(10):
            twin.mask_inplace(buf, KEY)
            twin.mask_inplace(buf, KEY)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)
    assert resize_errors == []
    assert bytes(buf[: len(original)]) == original


# --- defect 12: many threads failing one decoder ---------------------------------


def test_many_threads_fail_one_decoder(twin):
    decoder = twin.MessageDecoder()
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        for _ in range(200):
            try:
                decoder.feed(b"\x83\x80abcd")  # reserved opcode 3
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1600
    assert {type(e).__name__ for e in errors} <= {"ProtocolError", "RuntimeError"}
    assert decoder.failed


# --- issue 13: limits, state, the encoder's UTF-8 check -------------------------


def test_none_means_no_limit_and_zero_a_limit_of_zero(twin):
    big = _client_frame(twin, 2, bytes((1 << 20) + 1))
    assert len(twin.MessageDecoder(max_message_size=None).feed(big)) == 1
    assert len(twin.FrameDecoder(max_frame_size=None).feed(big)) == 1
    with pytest.raises(MessageTooBigError):
        twin.MessageDecoder(max_message_size=0).feed(_client_frame(twin, 2, b"x"))
    assert twin.MessageDecoder(max_message_size=0).feed(_client_frame(twin, 2, b"")) != []


def test_decoder_state_properties(twin):
    decoder = twin.MessageDecoder()
    assert not decoder.failed and not decoder.closed
    decoder.feed(_client_frame(twin, 8, b"\x03\xe8"))
    assert decoder.closed and not decoder.failed
    other = twin.FrameDecoder()
    with pytest.raises(ProtocolError):
        other.feed(b"\x83\x80abcd")
    assert other.failed


@pytest.mark.parametrize("client", [False, True])
def test_encoder_refuses_invalid_text(twin, client):
    encoder = twin.FrameEncoder(client=client)
    with pytest.raises(ValueError, match="UTF-8"):
        encoder.text(b"\xff")
    with pytest.raises(ValueError, match="UTF-8"):
        encoder.text(b"\xe2\x82", fin=True)  # ends inside a code point
    # A code point split across fragments is fine...
    encoder.text(b"\xe2\x82", fin=False)
    encoder.continuation(b"\xac ok", fin=True)
    # ... a message that cannot continue is not, nor one that ends inside one.
    encoder.text(b"\xe2", fin=False)
    with pytest.raises(ValueError, match="UTF-8"):
        encoder.continuation(b"A")
    encoder.text("€"[:1], fin=False)
    with pytest.raises(ValueError, match="UTF-8"):
        encoder.continuation(b"\xe2\x82", fin=True)
    # A failed call changes nothing: the message can still be finished.
    encoder.continuation(b"\xe2\x82\xac", fin=True)
    # Binary continuations are never checked.
    encoder.binary(b"\xff", fin=False)
    encoder.continuation(b"\xfe", fin=True)
    # encode() is the raw escape hatch.
    assert encoder.encode(1, b"\xff")


# --- issue 13: signatures and reprs -----------------------------------------


def _plain_signature(obj):
    import inspect

    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(obj).parameters.values()
        if p.name != "self"
    ]


@pytest.mark.parametrize(
    "name", ["Frame", "Message", "FrameEncoder", "FrameDecoder", "MessageDecoder"]
)
def test_class_signatures_match_the_pure_twin(both_twins, name):
    """inspect.signature works on the compiled classes and agrees with the
    pure twin (help() shows one signature, the right one)."""
    c, py = both_twins
    assert _plain_signature(getattr(c, name)) == _plain_signature(getattr(py, name))


def test_message_repr_shows_its_data(twin):
    assert repr(twin.Message(1, "hi")) == "Message(TEXT, data='hi')"
    long = repr(twin.Message(2, b"x" * 100))
    assert long.startswith("Message(BINARY, data=b'xxxx") and long.endswith("<100 bytes>)")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_client_encoder_keys_differ_across_fork(twin):
    """Parent and child of a fork never hand out the same keys from the block
    they shared (RFC 6455 section 5.3: keys must not be predictable)."""
    encoder = twin.FrameEncoder(client=True)
    encoder.binary(b"x")  # a key block is drawn before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next keys, then leave at once
        try:
            os.write(write, b"".join(_key_of(encoder.binary(b"x")) for _ in range(8)))
        finally:
            os._exit(0)
    os.close(write)
    child = b""
    while len(child) < 32:
        chunk = os.read(read, 32)
        if not chunk:
            break
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(_key_of(encoder.binary(b"x")) for _ in range(8))
    assert len(child) == 32
    assert child != parent
