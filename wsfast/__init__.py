"""wsfast: a fast, strict RFC 6455 WebSocket frame codec.

SIMD masking, UTF-8 validation and streaming frame and message decoding, in a
compiled twin (Cython over C kernels) and an identical pure-Python twin.
See ``python -m wsfast info`` for the twin and kernels in use.
"""

from ._codec import IMPLEMENTATION, SIMD, Masker, mask, mask_inplace
from ._version import __version__
from .errors import InvalidDataError, MessageTooBigError, ProtocolError, WebSocketError

__all__ = [
    "__version__",
    "IMPLEMENTATION",
    "SIMD",
    # masking (RFC 6455 section 5.3)
    "mask",
    "mask_inplace",
    "Masker",
    # errors
    "WebSocketError",
    "ProtocolError",
    "InvalidDataError",
    "MessageTooBigError",
]
