"""RFC 6455 vocabulary shared by both twins: opcodes, close codes, frame headers."""

from __future__ import annotations

import enum
from typing import NamedTuple

__all__ = ["Opcode", "CloseCode", "FrameHeader", "is_sendable_close_code"]


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 section 5.2); 3-7 and 11-15 are reserved."""

    CONTINUATION = 0
    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10


class CloseCode(enum.IntEnum):
    """Close status codes of RFC 6455 section 7.4.1 and the IANA registry.

    1004 is reserved and has no member; 1005, 1006 and 1015 name conditions and
    may never be sent on the wire (see :func:`is_sendable_close_code`).
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


class FrameHeader(NamedTuple):
    """A decoded frame header (RFC 6455 section 5.2)."""

    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masked: bool
    payload_length: int
    mask_key: bytes | None
    header_length: int


def is_sendable_close_code(code: int) -> bool:
    """True for the close codes that may appear in a CLOSE frame on the wire.

    RFC 6455 section 7.4: 1000-1003 and 1007-1011 are defined, 1012-1014 are
    registered with IANA, 3000-3999 are for libraries and frameworks and
    4000-4999 for private use.  1004 is reserved; 1005, 1006 and 1015 must never
    be sent; everything else is unassigned or invalid.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _preview(data: str | bytes, limit: int = 40) -> str:
    """``data`` for a repr: whole when short, else its start and its size."""
    if len(data) <= limit:
        return repr(data)
    unit = "chars" if isinstance(data, str) else "bytes"
    return f"{data[:limit]!r}... <{len(data)} {unit}>"
