"""The opening handshake's key exchange (RFC 6455 sections 1.3, 4.1 and 4.2.2), sans-I/O.

The client sends a random 16-byte nonce, base64-encoded, in ``Sec-WebSocket-Key``
(:func:`generate_key`); the server proves it read the request by answering with
``Sec-WebSocket-Accept``: the base64 of the SHA-1 of that key followed by the GUID
of section 1.3 (:func:`accept_key`); the client compares (:func:`check_accept`).

These helpers are pure Python and shared by both twins.  They validate strictly
and never touch a socket or an HTTP object: pass them header values.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

__all__ = ["GUID", "accept_key", "check_accept", "generate_key"]

#: RFC 6455 section 1.3: appended to the key before hashing.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# A key is the base64 (RFC 4648 section 4) of exactly 16 bytes: 128 bits fill 21
# characters and 2 bits of a 22nd, whose 4 remaining bits are padding and must be
# zero (section 3.5) -- so the 22nd character is one of A (0), Q (16), g (32),
# w (48) -- then two "=" pad characters.  Anything else is not *the* encoding of
# 16 bytes: no whitespace, no URL-safe alphabet, no missing or extra padding.
_KEY = re.compile(r"[A-Za-z0-9+/]{21}[AQgw]==", re.ASCII)


def _key_text(key: str | bytes, what: str) -> str:
    """``key`` as text once it is known to be a valid key; ValueError or TypeError."""
    if isinstance(key, bytes):
        try:
            text = key.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{what} is not base64: {key!r}") from None
    elif isinstance(key, str):
        text = key
    else:
        raise TypeError(f"{what} must be str or bytes, not {type(key).__name__}")
    if _KEY.fullmatch(text) is None:
        raise ValueError(f"{what} is not the base64 of 16 bytes: {key!r}")
    return text


def accept_key(key: str | bytes) -> str:
    """The ``Sec-WebSocket-Accept`` value for a ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2).

    ``key`` must be the canonical base64 (RFC 4648 §4) of exactly 16 bytes: 24
    characters ending in ``==``, whose last data character carries no stray bits
    (``...A==``, ``...Q==``, ``...g==`` or ``...w==``).  Anything else raises
    ``ValueError``: whitespace is not stripped (that is the HTTP parser's job), and
    a key that decodes to 16 bytes only when read leniently is refused, as the
    server must refuse such a handshake (§4.2.1 item 5).  ``key`` may be ``str`` or
    ASCII ``bytes``; any other type raises ``TypeError``.

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    text = _key_text(key, "Sec-WebSocket-Key")
    digest = hashlib.sha1((text + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def generate_key() -> str:
    """A fresh ``Sec-WebSocket-Key`` for a client: 16 random bytes in base64 (RFC 6455 §4.1).

    The nonce must be "selected randomly for each connection" (§4.1): it comes
    from the operating system's cryptographically secure source (:mod:`secrets`).
    """
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")


def check_accept(key: str | bytes, accept: str | bytes) -> bool:
    """Whether ``accept`` is the right ``Sec-WebSocket-Accept`` for ``key`` (RFC 6455 §4.1).

    The comparison is exact (no case folding, no whitespace stripping), as the
    client must fail the connection on any other value.  ``key`` is the client's
    own key, so an invalid one is a programming error and raises like
    :func:`accept_key`; ``accept`` is the server's word and anything wrong with it
    only makes the answer ``False`` (a non-``str``/``bytes`` ``accept`` raises
    ``TypeError``).
    """
    expected = accept_key(key)
    if isinstance(accept, bytes):
        return accept == expected.encode("ascii")
    if isinstance(accept, str):
        return accept == expected
    raise TypeError(f"accept must be str or bytes, not {type(accept).__name__}")
