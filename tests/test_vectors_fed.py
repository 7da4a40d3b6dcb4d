"""Every named vector (frame and message level), fed every way, on both twins.

Whole, byte by byte, at random split points and at every split point, the
decoder must give the same frames or messages, or the same exception (type
and close code) with the same ``exc.decoded``; and a violation must be raised
as soon as the bytes that show it are present, not before.
"""

from __future__ import annotations

import pytest

from helpers import (
    check_vector,
    chunk_at,
    chunk_bytewise,
    chunk_random,
    chunk_whole,
    decoder_for,
    feed_chunks,
)
from vectors import FRAME_VECTORS, MESSAGE_VECTORS

VECTORS = FRAME_VECTORS + MESSAGE_VECTORS
SMALL = [v for v in VECTORS if len(v.data) <= 300]
ERRORS = [v for v in VECTORS if v.error is not None]


def _ids(vs):
    return [f"{v.decoder}:{v.name}" for v in vs]


@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_vector_whole(twin, v):
    out = check_vector(twin, v, chunk_whole(v.data), "whole")
    if v.error is not None:
        # fed whole, exc.decoded holds everything completed before the violation
        assert out.per_feed[-1][3] == list(v.expect)


@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_vector_bytewise(twin, v):
    check_vector(twin, v, chunk_bytewise(v.data), "byte by byte")


@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_vector_random_splits(twin, v):
    for seed in range(4):
        check_vector(twin, v, chunk_random(v.data, (v.name, seed)), f"in random pieces (seed {seed})")


@pytest.mark.parametrize("v", SMALL, ids=_ids(SMALL))
def test_vector_every_split_point(twin, v):
    for cut in range(len(v.data) + 1):
        check_vector(twin, v, chunk_at(v.data, [cut]), f"split at {cut}")


@pytest.mark.parametrize("v", ERRORS, ids=_ids(ERRORS))
def test_vector_error_timing(twin, v):
    """Raised as soon as the bytes that show it are present, not before."""
    dec, convert = decoder_for(twin, v)
    out = feed_chunks(dec, [v.data[: v.clean_until]], convert)
    assert out.error is None, f"{v.name}: {v.clean_until} bytes do not show the violation yet"
    dec, convert = decoder_for(twin, v)
    out = feed_chunks(dec, [v.data[: v.raise_by]], convert)
    assert out.error is v.error, f"{v.name}: {v.raise_by} bytes show it ({v.reason})"
    # ...also when the bytes before arrived in an earlier feed
    dec, convert = decoder_for(twin, v)
    out = feed_chunks(dec, [v.data[: v.clean_until], v.data[v.clean_until : v.raise_by]], convert)
    assert out.error is v.error and out.failed_at == v.raise_by, v.name


@pytest.mark.thread_unsafe  # the level is module-wide
@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_vector_at_every_simd_level(simd_level, both_twins, v):
    """The compiled decoders at each kernel level (masking, UTF-8 and text
    transcoding all switch), whole and byte by byte."""
    twin = both_twins[0]
    assert twin.modules["_frames"]._set_level(simd_level) == simd_level  # the fixture's
    check_vector(twin, v, chunk_whole(v.data), f"whole at {simd_level}")
    check_vector(twin, v, chunk_bytewise(v.data), f"byte by byte at {simd_level}")


@pytest.mark.thread_unsafe  # the level is module-wide
def test_set_level_hook(both_twins):
    frames = both_twins[0].modules["_frames"]
    at_import = frames.SIMD
    assert frames._set_level("scalar") == at_import
    try:
        assert frames._set_level("scalar") == "scalar"
        with pytest.raises(ValueError):
            frames._set_level("mmx")
        assert frames._set_level(None) == "scalar"
        assert frames._set_level(None) == at_import
    finally:
        frames._set_level(None)
    assert frames.SIMD == at_import
