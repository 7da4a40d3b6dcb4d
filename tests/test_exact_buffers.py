"""Every API on buffers that end, or start, exactly at the edge of their heap block.

A ``bytes`` or ``bytearray`` keeps a NUL byte after its data and an
``array.array`` over-allocates, so a kernel that reads one byte too far stays
inside the allocation and no sanitizer can see it. A ctypes array of more than
16 bytes is allocated at exactly its size: a view of its tail ends where the
block ends, a view of its head starts where it starts. Under scripts/sanitize.sh
(ASan, PYTHONMALLOC=malloc) a read past either edge is reported; in a normal run
these tests check that such views give the same results as ``bytes``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import Any

import pytest

from vectors import BINARY, CLOSE, KEY, TEXT, close_payload, frame, header
from wsfast.errors import InvalidDataError

#: ctypes keeps an array of up to 16 bytes inside its object, not in a block of its own.
PAD = 17
LENGTHS = [*range(0, 70), 125, 126, 127, 255, 256, 300]


def edge_views(data: bytes, writable: bool = False) -> Iterator[tuple[str, Any]]:
    """``data`` in a view that ends at the end of a heap block, and in one that
    starts at its start."""
    n = len(data)
    tail = memoryview((ctypes.c_ubyte * (n + PAD))()).cast("B")
    tail[PAD:] = data
    head = memoryview((ctypes.c_ubyte * (n + PAD))()).cast("B")
    head[:n] = data
    for label, view in (("ends-at-block-end", tail[PAD:]), ("starts-at-block-start", head[:n])):
        yield label, view if writable else view.toreadonly()


def texts(n: int) -> list[bytes]:
    """Valid UTF-8 of n bytes ending in ASCII and ending in a 2-, 3- and 4-byte
    sequence, and the same cut one byte short (an incomplete sequence at the end)."""
    out = [b"a" * n]
    for seq in ("é".encode(), "日".encode(), "😀".encode()):
        if n >= len(seq):
            body = b"a" * (n - len(seq)) + seq
            out += [body, b"a" + body[:-1] if n > 1 else body[:-1]]
    return out


@pytest.mark.parametrize("n", LENGTHS)
def test_utf8(twin: Any, n: int) -> None:
    for data in texts(n):
        want = twin.validate_utf8(data)
        for label, view in edge_views(data):
            assert twin.validate_utf8(view) is want, (label, data)
            v = twin.Utf8Validator()
            assert (v.feed(view, final=True), v.complete) == (want, want), (label, data)


@pytest.mark.parametrize("n", LENGTHS)
def test_mask(twin: Any, n: int) -> None:
    data = bytes(range(256)) * (n // 256 + 1)
    data = data[:n]
    for klabel, key in edge_views(KEY):
        want = twin.mask(data, KEY)
        for label, view in edge_views(data):
            assert twin.mask(view, key) == want, (label, klabel)
            m = twin.Masker(key)
            assert m.process(view) == want, (label, klabel)
        for offset in (0, 1, 3):
            ref = bytearray(data)
            twin.mask_inplace(ref, KEY, offset)
            for label, view in edge_views(data, writable=True):
                twin.mask_inplace(view, key, offset)
                assert bytes(view) == bytes(ref), (label, klabel, offset)
        for label, view in edge_views(data, writable=True):
            twin.Masker(key).process_inplace(view)
            assert bytes(view) == want, (label, klabel)


@pytest.mark.parametrize("n", [0, 1, 125, 126, 300, 65536])
def test_headers_and_frames(twin: Any, n: int) -> None:
    payload = bytes(n)
    for key in (None, KEY):
        wire = frame(BINARY, payload, key=key)
        head = header(BINARY, n, key=key)
        for cut in range(len(head) + 1):  # every prefix: incomplete headers end at the edge
            want = twin.parse_header(head[:cut])
            for label, view in edge_views(head[:cut]):
                assert twin.parse_header(view) == want, (label, cut)
        for label, view in edge_views(wire):
            dec = twin.FrameDecoder(client=key is None, max_frame_size=None)
            assert [f.payload for f in dec.feed(view)] == [payload], label
            mdec = twin.MessageDecoder(client=key is None)
            assert [m.data for m in mdec.feed(view)] == [payload], label
        for label, view in edge_views(payload):
            assert twin.encode_frame(BINARY, view, mask_key=KEY) == twin.encode_frame(
                BINARY, payload, mask_key=KEY
            ), label
            assert twin.FrameEncoder().binary(view) == frame(BINARY, payload), label


@pytest.mark.parametrize("n", LENGTHS)
def test_text_and_close_messages(twin: Any, n: int) -> None:
    for data in texts(n):
        try:
            want: Any = [data.decode()]
        except UnicodeDecodeError:
            want = None
        for label, view in edge_views(frame(TEXT, data)):
            dec = twin.MessageDecoder(client=True)
            if want is None:
                with pytest.raises(InvalidDataError):
                    dec.feed(view)
            else:
                assert [m.data for m in dec.feed(view)] == want, label
    reason = (b"r" * n)[:123]
    payload = close_payload(1000, reason)
    for label, view in edge_views(payload):
        assert twin.parse_close(view) == (1000, reason.decode()), label
    for label, view in edge_views(frame(CLOSE, payload)):
        dec = twin.MessageDecoder(client=True)
        assert [m.data for m in dec.feed(view)] == [payload], label
