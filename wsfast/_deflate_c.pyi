"""Stub of the compiled permessage-deflate compressor (same surface as _pmd.Deflater)."""

import sys
from types import ModuleType
from typing import Any, final

from ._pmd import Backend

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__all__ = ["Deflater", "ZLIB_RUNTIME_VERSION"]

ZLIB_RUNTIME_VERSION: str

@final
class Deflater:
    def __init__(
        self,
        window_bits: int = 15,
        no_context_takeover: bool = False,
        *,
        level: int = 1,
        mem_level: int = 8,
        backend: str | ModuleType | Backend | None = None,
    ) -> None: ...
    @classmethod
    def for_endpoint(cls, params: Any, *, client: bool, **kwargs: Any) -> Deflater: ...
    @property
    def backend(self) -> Backend: ...
    @property
    def window_bits(self) -> int: ...
    @property
    def level(self) -> int: ...
    @property
    def mem_level(self) -> int: ...
    @property
    def no_context_takeover(self) -> bool: ...
    def compress(self, data: Buffer, final: bool = True) -> bytes: ...
