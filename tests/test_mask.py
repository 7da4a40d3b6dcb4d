"""Masking (RFC 6455 section 5.3) on both twins, every buffer type, every kernel."""

from __future__ import annotations

import array
import mmap
import os
import random
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import at_level, level_names


def reference_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    """The byte loop of RFC 6455 section 5.3, the oracle for every kernel."""
    return bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(data))


KEY = bytes([0x37, 0xFA, 0x21, 0x3D])

# RFC 6455 section 5.7 examples: (name, masked frame payload, key, clear text)
RFC_VECTORS = [
    ("rfc6455-5.7-masked-hello", bytes.fromhex("7f9f4d5158"), KEY, b"Hello"),
    ("rfc6455-5.7-masked-ping-hello", bytes.fromhex("7f9f4d5158"), KEY, b"Hello"),
]


@pytest.mark.parametrize("name,masked,key,clear", RFC_VECTORS, ids=[v[0] for v in RFC_VECTORS])
def test_rfc_examples(twin, name, masked, key, clear):
    assert twin.mask(masked, key) == clear
    assert twin.mask(clear, key) == masked
    buf = bytearray(masked)
    twin.mask_inplace(buf, key)
    assert buf == clear


def test_involution_and_type(twin):
    data = os.urandom(1000)
    once = twin.mask(data, KEY)
    assert type(once) is bytes
    assert once != data
    assert twin.mask(once, KEY) == data


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 125, 126, 8191, 8192, 70000])
def test_lengths_against_reference(twin, n):
    data = random.Random(n).randbytes(n)
    assert twin.mask(data, KEY) == reference_mask(data, KEY)


def test_every_length_and_misalignment_every_level(twin):
    """0..300 bytes at misalignments 0..7, against the byte loop, at every SIMD level."""
    rng = random.Random(1)
    base = rng.randbytes(300 + 8)
    key = rng.randbytes(4)
    for level in level_names(twin):
        with at_level(level):
            for misalign in range(8):
                for n in range(301):
                    data = memoryview(base)[misalign : misalign + n]
                    expected = reference_mask(bytes(data), key)
                    assert twin.mask(data, key) == expected, (level, misalign, n)
                    for phase in (1, 3):
                        # A Masker phase-shifted by `phase` bytes: the copying
                        # kernel starting mid-key.
                        want = reference_mask(bytes(data), key, phase)
                        masker = twin.Masker(key)
                        masker.process(bytes(phase))
                        assert masker.process(data) == want, (level, misalign, n, phase)


@pytest.mark.parametrize("phase", range(8))
def test_inplace_offset_phases(twin, phase):
    data = os.urandom(131)
    buf = bytearray(data)
    twin.mask_inplace(buf, KEY, phase)
    assert buf == reference_mask(data, KEY, phase)


def test_inplace_huge_offset(twin):
    buf = bytearray(b"abcdef")
    twin.mask_inplace(buf, KEY, 2**70 + 1)
    assert buf == reference_mask(b"abcdef", KEY, 1)


def test_inplace_misaligned_every_level(twin):
    if twin.name != "c":
        pytest.skip("SIMD levels exist in the compiled twin only")
    # In place through memoryview slices of one bytearray at every
    # misalignment (the kernel at every level: the test above).
    for misalign in range(8):
        for n in (0, 1, 15, 16, 31, 32, 63, 64, 65, 127, 128, 255, 256, 257, 300):
            base = bytearray(os.urandom(n + 16))
            before = bytes(base)
            view = memoryview(base)[misalign : misalign + n]
            twin.mask_inplace(view, KEY, misalign)
            want = before[:misalign] + reference_mask(before[misalign : misalign + n], KEY, misalign)
            want += before[misalign + n :]
            assert bytes(base) == want  # nothing outside the slice was touched


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=600),
    key=st.binary(min_size=4, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=8),
)
def test_masker_random_chunkings(twin, data, key, cuts):
    cuts = sorted({c for c in cuts if c <= len(data)} | {0, len(data)})
    pieces = [data[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
    want = reference_mask(data, key)

    masker = twin.Masker(key)
    out = b"".join(masker.process(p) for p in pieces)
    assert out == want
    assert masker.offset == len(data)

    masker.reset()
    assert masker.offset == 0
    joined = bytearray()
    for p in pieces:
        buf = bytearray(p)
        masker.process_inplace(buf)
        joined += buf
    assert joined == want

    # mask_inplace with offset = bytes already processed gives the same result
    done = 0
    joined = bytearray()
    for p in pieces:
        buf = bytearray(p)
        twin.mask_inplace(buf, key, done)
        done += len(p)
        joined += buf
    assert joined == want


def _buffers(payload: bytes):
    yield "bytes", payload
    yield "bytearray", bytearray(payload)
    yield "memoryview", memoryview(payload)
    yield "memoryview-slice", memoryview(b"xx" + payload)[2:]
    yield "array-B", array.array("B", payload)
    m = mmap.mmap(-1, len(payload))
    m.write(payload)
    yield "mmap", m


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "memoryview-slice", "array-B", "mmap"])
def test_buffer_types(twin, kind):
    payload = os.urandom(300)
    data = dict(_buffers(payload))[kind]
    assert twin.mask(data, KEY) == reference_mask(payload, KEY)
    assert twin.mask(payload, dict(_buffers(KEY))[kind]) == reference_mask(payload, KEY)


def test_wide_array_is_raw_bytes(twin):
    arr = array.array("H", range(300))
    raw = arr.tobytes()
    assert len(raw) == 600
    assert twin.mask(arr, KEY) == reference_mask(raw, KEY)
    twin.mask_inplace(arr, KEY)
    assert arr.tobytes() == reference_mask(raw, KEY)


def test_writable_buffers_inplace(twin):
    payload = os.urandom(77)
    for buf in (bytearray(payload), array.array("B", payload), memoryview(bytearray(payload))):
        twin.mask_inplace(buf, KEY, 0)
        assert bytes(buf) == reference_mask(payload, KEY)
    m = mmap.mmap(-1, 77)
    m.write(payload)
    twin.mask_inplace(m, KEY)
    assert m[:] == reference_mask(payload, KEY)


@pytest.mark.parametrize("key", [b"", b"abc", b"abcde", bytearray(8)], ids=["0", "3", "5", "8"])
def test_wrong_key_length(twin, key):
    with pytest.raises(ValueError):
        twin.mask(b"data", key)
    with pytest.raises(ValueError):
        twin.mask_inplace(bytearray(b"data"), key)
    with pytest.raises(ValueError):
        twin.Masker(key)


@pytest.mark.parametrize("bad", ["text", 5, None, 1.5, object()], ids=["str", "int", "None", "float", "object"])
def test_non_buffers_are_type_errors(twin, bad):
    with pytest.raises(TypeError):
        twin.mask(bad, KEY)
    with pytest.raises(TypeError):
        twin.mask(b"data", bad)
    with pytest.raises(TypeError):
        twin.mask_inplace(bad, KEY)
    with pytest.raises(TypeError):
        twin.Masker(bad)
    with pytest.raises(TypeError):
        twin.Masker(KEY).process(bad)


@pytest.mark.parametrize("ro", [b"abcd", memoryview(b"abcd"), memoryview(bytearray(4)).toreadonly()],
                         ids=["bytes", "memoryview-bytes", "readonly-view"])
def test_readonly_inplace_is_type_error(twin, ro):
    with pytest.raises(TypeError):
        twin.mask_inplace(ro, KEY)
    with pytest.raises(TypeError):
        twin.Masker(KEY).process_inplace(ro)


def test_readonly_mmap_inplace_is_type_error(twin, tmp_path):
    path = tmp_path / "payload"
    path.write_bytes(b"abcdefgh")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        with pytest.raises(TypeError):
            twin.mask_inplace(m, KEY)
        assert twin.mask(m, KEY) == reference_mask(b"abcdefgh", KEY)


def test_non_contiguous_is_buffer_error(twin):
    strided = memoryview(bytearray(range(64)))[::2]
    with pytest.raises(BufferError):
        twin.mask(strided, KEY)
    with pytest.raises(BufferError):
        twin.mask_inplace(strided, KEY)
    with pytest.raises(BufferError):
        twin.Masker(KEY).process(strided)


def test_negative_offset(twin):
    with pytest.raises(ValueError):
        twin.mask_inplace(bytearray(4), KEY, -1)
    with pytest.raises(TypeError):
        twin.mask_inplace(bytearray(4), KEY, 1.0)


class _ResizingOffset:
    """An offset whose ``__index__`` resizes the buffer being masked."""

    def __init__(self, buf: bytearray, new_size: int, value: int) -> None:
        self.buf, self.new_size, self.value = buf, new_size, value

    def __index__(self) -> int:
        if self.new_size < len(self.buf):
            del self.buf[self.new_size:]
        else:
            self.buf.extend(bytes(range(256)) * ((self.new_size - len(self.buf)) // 256 + 1))
            del self.buf[self.new_size:]
        return self.value


class _ByteArraySub(bytearray):
    pass


@pytest.mark.parametrize("cls", [bytearray, _ByteArraySub], ids=["bytearray", "subclass"])
@pytest.mark.parametrize("size", [100, 131071, 131072, 1 << 20],
                         ids=["small", "below-nogil", "nogil", "large"])
@pytest.mark.parametrize("new_size", [0.5, 2.0], ids=["shrink", "grow"])
def test_offset_index_may_resize_the_buffer(twin, cls, size, new_size):
    """Arguments are read before the buffer is taken (issue 14, item 7): an
    offset whose __index__ resizes the buffer works at every size and for
    subclasses, and the buffer masked is the resized one, from offset % 4."""
    buf = cls(random.Random(size).randbytes(size))
    resized = bytearray(buf)  # what buf holds once resized, before masking
    _ResizingOffset(resized, int(size * new_size), 0).__index__()
    twin.mask_inplace(buf, KEY, _ResizingOffset(buf, int(size * new_size), 4 * 1000 + 3))
    # XOR as big integers: the byte loop of reference_mask is too slow for MiBs
    n = len(resized)
    pattern = (KEY[3:] + KEY[:3]) * (n // 4 + 1)
    want = int.from_bytes(resized, "little") ^ int.from_bytes(pattern[:n], "little")
    assert bytes(buf) == want.to_bytes(n, "little")
    assert bytes(buf[:64]) == reference_mask(bytes(resized[:64]), KEY, 3)


def test_masker_offset_and_reset(twin):
    m = twin.Masker(KEY)
    assert m.offset == 0
    assert m.process(b"abc") == reference_mask(b"abc", KEY)
    assert m.offset == 3
    assert m.process(b"defgh") == reference_mask(b"defgh", KEY, 3)
    assert m.offset == 8
    m.reset()
    assert m.offset == 0
    assert m.process(b"abc") == reference_mask(b"abc", KEY)


def test_large_payload_releases_nothing_wrong(twin):
    # Exercises the no-GIL path (above its threshold) against the reference.
    data = os.urandom((1 << 20) + 3)
    got = twin.mask(data, KEY)
    assert got[:1000] == reference_mask(data[:1000], KEY)
    assert got[-1003:] == reference_mask(data[-1003:], KEY, len(data) - 1003)
    assert twin.mask(got, KEY) == data


def test_inplace_bytearray_is_pinned_while_detached(twin):
    """A big bytearray stays exported while the kernel runs without the GIL.

    Another thread resizing it must get BufferError, never free the memory the
    kernel writes (a crash, so the check runs in a child process)."""
    if twin.name != "c":
        pytest.skip("the pure twin never releases the GIL")
    code = textwrap.dedent("""
        import threading
        from wsfast._mask_c import mask_inplace
        N = 4 << 20  # well above the no-GIL threshold
        buf = bytearray(N)
        stop = False
        refused = 0
        def resizer():
            global refused
            while not stop:
                try:
                    buf.clear()
                    buf.extend(bytes(N))
                except BufferError:
                    refused += 1
        t = threading.Thread(target=resizer)
        t.start()
        import time
        deadline = time.monotonic() + 20
        calls = 0
        # Until a resize has met the export (scheduling decides when), at
        # least 100 calls, at most 20 s.
        while calls < 100 or (not refused and time.monotonic() < deadline):
            mask_inplace(buf, b"abcd")
            calls += 1
        stop = True
        t.join()
        print(refused)
    """)
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"crashed: exit {proc.returncode}\n{proc.stderr}"
    assert int(proc.stdout) > 0  # resizes were refused: the buffer was exported
