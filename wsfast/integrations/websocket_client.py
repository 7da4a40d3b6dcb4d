"""websocket-client: masking and UTF-8 validation go through wsfast.

Supported: websocket-client 1.6 up to (not including) 2.0.  Tested with 1.6.4,
1.7.0, 1.8.0 and 1.9.2 (the newest release, whose own test suite CI runs
patched, with its local echo server).  This covers ``websocket.WebSocket``,
``create_connection`` and ``WebSocketApp`` (and so python-engineio's and
python-socketio's synchronous clients).

Without the optional, unmaintained wsaccel, websocket-client validates the
UTF-8 of every text message with a byte-at-a-time state machine in Python
(about 5 MB/s) and masks what it sends through two ``array.array`` copies and
a big-integer XOR.  Replaced:

``websocket._abnf.ABNF.mask`` (a staticmethod)
    ``mask(mask_key, data) -> bytes``, used to mask every frame sent and to
    unmask a masked frame received.  ``str`` arguments are still taken as
    Latin-1 and ``None`` data as empty; anything but a 4-byte key and a
    bytes-like payload goes to websocket-client's own function.
``websocket._utils.validate_utf8`` and ``websocket._abnf.validate_utf8``
    ``validate_utf8(utfbytes) -> bool``, used on every text message received
    (whole, once its last fragment is in) and on close reasons.  ``_abnf``
    binds the function at import, so both names are replaced.  A ``str`` is
    still encoded with ``surrogatepass`` first (so a lone surrogate is
    invalid); anything that is not bytes-like goes to the original function.

Everything else (frame parsing, events, exceptions, limits, close codes) stays
websocket-client's own.  One difference, where RFC 6455 section 8.1 requires
it: websocket-client's validators (its own and wsaccel's) answer "valid so
far", so a text message or close reason that ends inside a code point
(``b"\\xe2\\x82"``) passes them and is then decoded by the application, which
fails or gets replacement characters.  wsfast rejects it: receiving such a
message raises ``WebSocketPayloadException`` like any other invalid UTF-8,
and such a close reason ``WebSocketProtocolException("Invalid close frame.")``.
The library's own test suite passes either way.

With wsaccel installed, the patch replaces it as well: wsaccel's validator is
the same state machine in C, and its masker is called through the same two
``array.array`` copies.
"""

from __future__ import annotations

from typing import Any

import wsfast

from . import BenchPeer

__all__ = ["STACK", "DISTRIBUTION", "SUPPORTED", "targets", "describe"]

STACK = "websocket-client"
DISTRIBUTION = "websocket-client"
SUPPORTED = ((1, 6), (2, 0))

#: The codec the replacements run on (a test seam: the tests swap in each twin).
_CODEC: Any = wsfast

_BYTES_LIKE = (bytes, bytearray, memoryview)


def make_mask(original: Any, codec: Any = None) -> Any:
    """websocket-client's ``ABNF.mask(mask_key, data)``, on ``codec.mask``.

    ``original`` (the function replaced) handles what wsfast does not take.
    """
    wsmask = (codec or _CODEC).mask

    def mask(mask_key: Any, data: Any) -> bytes:
        """Mask or unmask ``data`` with the 4-byte ``mask_key`` (XOR, key repeated)."""
        if type(data) is bytes and type(mask_key) is bytes and len(mask_key) == 4:
            return wsmask(data, mask_key)  # type: ignore[no-any-return]
        if data is None:
            data = ""
        if isinstance(mask_key, str):
            mask_key = mask_key.encode("latin-1")
        if isinstance(data, str):
            data = data.encode("latin-1")
        if (
            isinstance(mask_key, _BYTES_LIKE)
            and isinstance(data, _BYTES_LIKE)
            and len(mask_key) == 4
        ):
            try:
                return wsmask(data, mask_key)  # type: ignore[no-any-return]
            except (TypeError, ValueError, BufferError):
                pass  # e.g. a memoryview of wider items: the original's business
        return original(mask_key, data)  # type: ignore[no-any-return]

    return mask


def make_validate_utf8(original: Any, codec: Any = None) -> Any:
    """websocket-client's ``validate_utf8(utfbytes)``, on ``codec.validate_utf8``.

    ``original`` (the function replaced) handles what is not bytes-like.
    """
    validate = (codec or _CODEC).validate_utf8

    def validate_utf8(utfbytes: Any) -> bool:
        """True when ``utfbytes`` is complete, valid UTF-8 (a ``str`` is encoded first)."""
        if isinstance(utfbytes, str):
            utfbytes = utfbytes.encode("utf-8", "surrogatepass")
        if isinstance(utfbytes, _BYTES_LIKE):
            try:
                return validate(utfbytes)  # type: ignore[no-any-return]
            except (TypeError, BufferError):
                pass
        return original(utfbytes)  # type: ignore[no-any-return]

    return validate_utf8


def targets() -> list[tuple[object, str, object]]:
    """Import websocket-client; the attributes the patch replaces, with their replacements."""
    import websocket._abnf as abnf
    import websocket._utils as utils

    mask = make_mask(vars(abnf.ABNF)["mask"].__func__, _CODEC)
    validate_utf8 = make_validate_utf8(vars(utils)["validate_utf8"], _CODEC)
    return [
        (abnf.ABNF, "mask", staticmethod(mask)),
        (utils, "validate_utf8", validate_utf8),
        (abnf, "validate_utf8", validate_utf8),
    ]


def describe() -> str:
    """One line: what is now accelerated."""
    import websocket

    return (
        f"websocket-client {websocket.__version__}: masking and UTF-8 validation of "
        f"messages (WebSocket, create_connection, WebSocketApp) on wsfast "
        f"({wsfast.IMPLEMENTATION} twin); a text message that ends inside a code point "
        f"is now invalid (RFC 6455 section 8.1)"
    )


# -- benchmark peers ---------------------------------------------------------------
#
# What ``python -m wsfast bench`` times wsfast against here (see
# ``wsfast.integrations.BenchPeer``): wsaccel, websocket-client's optional C
# accelerator, which this patch replaces when it is installed.  Its masker
# ``XorMaskerSimple(key).process(data)`` (built once and reused: the key phase
# it carries does not change the work) and its ``Utf8Validator.validate``.

BENCH_PEERS: dict[str, tuple[BenchPeer, ...]] = {
    "mask": (
        BenchPeer("wsaccel", "wsaccel-c", "lib-c", ("mask",), "masker",
                  ("wsaccel.xormask.XorMaskerSimple",), rank=40),
    ),
    "utf8": (
        BenchPeer("wsaccel", "wsaccel", "lib-c", ("validate", "feed"), "validator",
                  ("wsaccel.utf8validator.Utf8Validator",), rank=10),
    ),
}
