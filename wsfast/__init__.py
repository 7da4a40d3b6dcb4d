"""wsfast: a fast, strict RFC 6455 WebSocket frame codec.

SIMD masking, UTF-8 validation and streaming frame and message decoding, in a
compiled twin (Cython over C kernels) and an identical pure-Python twin.
See ``python -m wsfast info`` for the twin and kernels in use.
"""

from ._codec import (
    IMPLEMENTATION,
    SIMD,
    Frame,
    FrameDecoder,
    FrameEncoder,
    Masker,
    Message,
    MessageDecoder,
    Utf8Validator,
    encode_close,
    decode_utf8,
    encode_frame,
    encode_header,
    mask,
    mask_inplace,
    parse_close,
    parse_header,
    validate_utf8,
)
from ._version import __version__
from .deflate import PerMessageDeflate, parse_extensions
from .errors import InvalidDataError, MessageTooBigError, ProtocolError, WebSocketError
from .handshake import accept_key, check_accept, generate_key
from .integrations import patch, patched, unpatch
from .protocol import CloseCode, FrameHeader, Opcode, is_sendable_close_code

__all__ = [
    "__version__",
    "IMPLEMENTATION",
    "SIMD",
    # masking (RFC 6455 section 5.3)
    "mask",
    "mask_inplace",
    "Masker",
    # UTF-8 validation (RFC 3629)
    "validate_utf8",
    "Utf8Validator",
    "decode_utf8",
    # frames (RFC 6455 section 5.2)
    "Opcode",
    "CloseCode",
    "FrameHeader",
    "parse_header",
    "encode_header",
    "encode_frame",
    "FrameEncoder",
    "Frame",
    "FrameDecoder",
    # messages
    "Message",
    "MessageDecoder",
    "parse_close",
    "encode_close",
    "is_sendable_close_code",
    # errors
    "WebSocketError",
    "ProtocolError",
    "InvalidDataError",
    "MessageTooBigError",
    # opening handshake (RFC 6455 section 4) and permessage-deflate (RFC 7692)
    "accept_key",
    "generate_key",
    "check_accept",
    "PerMessageDeflate",
    "parse_extensions",
    # drop-in acceleration of existing stacks
    "patch",
    "unpatch",
    "patched",
]
