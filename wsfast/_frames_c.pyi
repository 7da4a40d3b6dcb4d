"""Stub of the compiled frame-codec twin (same surface as _frames_py)."""

import sys
from collections.abc import Callable
from types import ModuleType
from typing import final

from .deflate import PerMessageDeflate
from .protocol import FrameHeader

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__all__ = [
    "parse_header",
    "encode_header",
    "encode_frame",
    "FrameEncoder",
    "Frame",
    "FrameDecoder",
    "Message",
    "MessageDecoder",
    "parse_close",
    "encode_close",
]

SIMD: str

def _supported_levels() -> list[str]: ...
def _set_level(name: str | None) -> str: ...
def _set_ucs1_direct_from(n: int | None) -> int: ...
def parse_header(data: Buffer, offset: int = 0) -> FrameHeader | None: ...
def encode_header(
    opcode: int,
    payload_length: int,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: Buffer | None = None,
) -> bytes: ...
def encode_frame(
    opcode: int,
    payload: Buffer,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: Buffer | None = None,
) -> bytes: ...
def parse_close(payload: Buffer) -> tuple[int | None, str]: ...
def encode_close(code: int | None = 1000, reason: str = "") -> bytes: ...

@final
class FrameEncoder:
    @property
    def client(self) -> bool: ...
    def __init__(
        self,
        *,
        client: bool = False,
        deflate: PerMessageDeflate | None = None,
        compress_threshold: int = 0,
        compression_level: int | None = None,
        mem_level: int | None = None,
        deflate_backend: str | ModuleType | None = None,
    ) -> None: ...
    def encode(
        self, opcode: int, payload: Buffer, *, fin: bool = True, rsv1: bool = False
    ) -> bytes: ...
    def text(self, data: str | Buffer, *, fin: bool = True) -> bytes: ...
    def binary(self, data: Buffer, *, fin: bool = True) -> bytes: ...
    def continuation(self, data: str | Buffer, *, fin: bool = True) -> bytes: ...
    def ping(self, data: str | Buffer = b"") -> bytes: ...
    def pong(self, data: str | Buffer = b"") -> bytes: ...
    def close(self, code: int | None = 1000, reason: str = "") -> bytes: ...

@final
class Frame:
    @property
    def opcode(self) -> int: ...
    @property
    def fin(self) -> bool: ...
    @property
    def rsv1(self) -> bool: ...
    @property
    def rsv2(self) -> bool: ...
    @property
    def rsv3(self) -> bool: ...
    @property
    def payload(self) -> bytes: ...
    def __init__(
        self,
        opcode: int,
        payload: Buffer = b"",
        *,
        fin: bool = True,
        rsv1: bool = False,
        rsv2: bool = False,
        rsv3: bool = False,
    ) -> None: ...

@final
class Message:
    @property
    def opcode(self) -> int: ...
    @property
    def data(self) -> str | bytes: ...
    def __init__(self, opcode: int, data: str | Buffer) -> None: ...

@final
class FrameDecoder:
    def __init__(
        self,
        *,
        client: bool = False,
        max_frame_size: int | None = 1 << 20,
        allow_rsv1: bool = False,
        allow_rsv2: bool = False,
        allow_rsv3: bool = False,
    ) -> None: ...
    def feed(self, data: Buffer) -> list[Frame]: ...
    @property
    def failed(self) -> bool: ...

@final
class MessageDecoder:
    def __init__(
        self,
        *,
        client: bool = False,
        max_message_size: int | None = 1 << 20,
        max_frame_size: int | None = None,
        decode_text: bool = True,
        deflate: PerMessageDeflate | None = None,
        deflate_backend: str | ModuleType | None = None,
    ) -> None: ...
    def feed(self, data: Buffer) -> list[Message]: ...
    def _set_queue(
        self,
        feed: Callable[[tuple[object, ...], int], object],
        overhead: int,
        text: object,
        binary: object,
        extra: object,
        message_class: type[tuple[object, ...]],
        text_bytes_class: type[tuple[object, ...]],
    ) -> None: ...
    def _feed_queue(self, data: Buffer, room: int) -> list[Message]: ...
    def _last_feed(self) -> tuple[int, int, int]: ...
    def _queue_messages(self, messages: list[Message], start: int, room: int) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
