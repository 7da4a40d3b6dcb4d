"""The opening handshake's key exchange (API.md section 7): accept_key, generate_key,
check_accept.

These helpers are pure Python and shared by both twins, so they are tested once.
The reference for "a valid key" is independent of the implementation's regex: the
standard library decodes the key strictly, and the key must be exactly the
encoding of the 16 bytes it decodes to (RFC 4648 sections 3.5 and 4).  The accept
value is checked against the RFC's worked example and the websockets library.
"""

from __future__ import annotations

import base64
import binascii
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from wsfast import handshake
from wsfast.handshake import GUID, accept_key, check_accept, generate_key

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3: "the sample nonce"
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"


def canonical_16(key: str | bytes) -> bool:
    """Reference: ``key`` is the one RFC 4648 section 4 encoding of some 16 bytes."""
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return False
    encoded = key.encode("ascii") if isinstance(key, str) else key
    return len(raw) == 16 and base64.b64encode(raw) == encoded


def test_rfc6455_section_1_3_example():
    assert accept_key(RFC_KEY) == RFC_ACCEPT
    assert accept_key(RFC_KEY.encode("ascii")) == RFC_ACCEPT
    assert type(accept_key(RFC_KEY.encode("ascii"))) is str
    assert GUID == "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def test_exported_from_the_package():
    for name in ("accept_key", "generate_key", "check_accept"):
        assert name in wsfast.__all__
        assert getattr(wsfast, name) is getattr(handshake, name)


@pytest.mark.parametrize(
    "name, key",
    [
        ("all-zero-bytes", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ("all-ff-bytes", "/////////////////////w=="),
        ("last-char-Q", "AAAAAAAAAAAAAAAAAAAAAQ=="),
        ("last-char-g", "AAAAAAAAAAAAAAAAAAAAAg=="),
        ("plus-and-slash", "+/+/+/+/+/+/+/+/+/+/+w=="),
        ("digits", "012345678901234567890w=="),
    ],
)
def test_valid_keys(name, key):
    assert canonical_16(key), name  # the vector itself is right
    websockets_utils = pytest.importorskip("websockets.utils")
    assert accept_key(key) == websockets_utils.accept_key(key), name
    assert accept_key(key.encode()) == accept_key(key)


@pytest.mark.parametrize(
    "name, key",
    [
        ("empty", ""),
        ("22-chars-no-padding", "dGhlIHNhbXBsZSBub25jZQ"),
        ("23-chars-one-pad", "dGhlIHNhbXBsZSBub25jZQ="),
        ("25-chars-three-pads", "dGhlIHNhbXBsZSBub25jZQ==="),
        ("20-chars-15-bytes", "AAAAAAAAAAAAAAAAAAAA"),
        ("24-chars-18-bytes", "AAAAAAAAAAAAAAAAAAAAAAAA"),
        ("28-chars-20-bytes", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("leading-space", " " + RFC_KEY),
        ("trailing-space", RFC_KEY + " "),
        ("trailing-newline", RFC_KEY + "\n"),
        ("trailing-crlf", RFC_KEY + "\r\n"),
        ("tab-inside", RFC_KEY[:10] + "\t" + RFC_KEY[11:]),
        ("space-inside-same-length", RFC_KEY[:10] + " " + RFC_KEY[11:]),
        ("urlsafe-minus", "-" + RFC_KEY[1:]),
        ("urlsafe-underscore", "_" + RFC_KEY[1:]),
        ("pad-in-the-middle", "dGhlIHNh=XBsZSBub25jZQ=="),
        ("non-canonical-last-char-R", "dGhlIHNhbXBsZSBub25jZR=="),
        ("non-canonical-last-char-B", "AAAAAAAAAAAAAAAAAAAAAB=="),
        ("non-canonical-last-char-slash", "AAAAAAAAAAAAAAAAAAAAA/=="),
        ("non-ascii-letter", "dGhlIHNhbXBsZSBub25jZé=="),
        ("fullwidth-digit", "dGhlIHNhbXBsZSBub25jZ１=="),
        ("nul", "dGhlIHNhbXBsZSBub25jZ\x00=="),
        ("all-padding", "=" * 24),
    ],
)
def test_invalid_keys(name, key):
    assert not canonical_16(key), name  # the vector itself is wrong
    with pytest.raises(ValueError):
        accept_key(key)
    if key.isascii():
        with pytest.raises(ValueError):
            accept_key(key.encode("ascii"))


def test_non_ascii_bytes_key():
    with pytest.raises(ValueError):
        accept_key(b"dGhlIHNhbXBsZSBub25jZ\xe9==")
    with pytest.raises(ValueError):
        accept_key(b"\xff" * 24)


@pytest.mark.parametrize(
    "key", [None, 16, 1.5, bytearray(RFC_KEY, "ascii"), memoryview(RFC_KEY.encode()), [RFC_KEY]]
)
def test_key_of_another_type(key):
    with pytest.raises(TypeError):
        accept_key(key)


@pytest.mark.parametrize("char", list(B64))
def test_every_last_data_character(char):
    """The 22nd character carries 2 data bits and 4 pad bits that must be zero."""
    key = "A" * 21 + char + "=="
    if char in "AQgw":
        assert canonical_16(key)
        assert accept_key(key)
    else:
        assert not canonical_16(key)
        with pytest.raises(ValueError):
            accept_key(key)


@given(st.binary(min_size=16, max_size=16))
def test_any_16_bytes(nonce):
    key = base64.b64encode(nonce).decode("ascii")
    websockets_utils = pytest.importorskip("websockets.utils")
    assert accept_key(key) == websockets_utils.accept_key(key)
    assert check_accept(key, websockets_utils.accept_key(key))


near_keys = st.one_of(
    st.text(alphabet=B64 + "=-_ \t\r\n.é\x00", min_size=0, max_size=30),
    # valid keys with one character replaced, inserted or deleted
    st.tuples(
        st.binary(min_size=16, max_size=16),
        st.integers(0, 24),
        st.sampled_from(["replace", "insert", "delete"]),
        st.characters(codec="utf-8"),
    ).map(
        lambda t: (
            lambda key, i, op, c: {
                "replace": key[:i] + c + key[i + 1 :],
                "insert": key[:i] + c + key[i:],
                "delete": key[:i] + key[i + 1 :],
            }[op]
        )(base64.b64encode(t[0]).decode(), t[1], t[2], t[3])
    ),
)


@given(near_keys)
def test_accepted_exactly_when_canonical(key):
    if canonical_16(key):
        assert len(accept_key(key)) == 28
    else:
        with pytest.raises(ValueError):
            accept_key(key)


def test_generate_key():
    keys = {generate_key() for _ in range(1000)}
    assert len(keys) == 1000  # 128 random bits each: a repeat means a broken source
    for key in keys:
        assert type(key) is str and len(key) == 24
        assert canonical_16(key)
        accept_key(key)
    # Every one of the 16 bytes varies (not, say, a counter in the low bytes).
    raws = [base64.b64decode(key) for key in keys]
    assert all(len({raw[i] for raw in raws}) > 100 for i in range(16))


def test_check_accept():
    assert check_accept(RFC_KEY, RFC_ACCEPT) is True
    assert check_accept(RFC_KEY.encode(), RFC_ACCEPT.encode()) is True
    assert check_accept(RFC_KEY, RFC_ACCEPT.encode()) is True
    wrong = [
        RFC_ACCEPT.lower(),
        RFC_ACCEPT + " ",
        " " + RFC_ACCEPT,
        RFC_ACCEPT[:-1],
        "",
        accept_key("AAAAAAAAAAAAAAAAAAAAAA=="),
        RFC_KEY,
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\u00e9",
    ]
    for accept in wrong:
        assert check_accept(RFC_KEY, accept) is False, accept
    assert check_accept(RFC_KEY, b"s3pPLMBiTxaQ9kYGzzhZRbK+xO\xff=") is False


def test_check_accept_errors():
    with pytest.raises(ValueError):
        check_accept("not a key", RFC_ACCEPT)  # our own key: a programming error
    with pytest.raises(TypeError):
        check_accept(RFC_KEY, None)
    with pytest.raises(TypeError):
        check_accept(None, RFC_ACCEPT)
