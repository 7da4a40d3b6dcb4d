"""Stub of the compiled permessage-deflate inflater (same surface as _pmd.Inflater)."""

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, final

from ._pmd import Backend

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__all__ = ["Inflater", "ZLIB_VERSION_COMPILED", "ZLIB_RUNTIME_VERSION"]

ZLIB_VERSION_COMPILED: str
ZLIB_RUNTIME_VERSION: str

@final
class Inflater:
    def __init__(
        self,
        window_bits: int = 15,
        no_context_takeover: bool = False,
        *,
        backend: str | ModuleType | Backend | None = None,
    ) -> None: ...
    @classmethod
    def for_endpoint(cls, params: Any, *, client: bool, **kwargs: Any) -> Inflater: ...
    @property
    def backend(self) -> Backend: ...
    @property
    def window_bits(self) -> int: ...
    @property
    def no_context_takeover(self) -> bool: ...
    @property
    def total(self) -> int: ...
    def feed(self, data: Buffer, limit: int | None = None, *, final: bool = False) -> bytes: ...
    def feed_to(
        self,
        data: Buffer,
        limit: int | None,
        sink: Callable[[bytes], object],
        *,
        final: bool = False,
    ) -> int: ...
    def finish(self, limit: int | None = None) -> bytes: ...
    def _run(
        self, data: Buffer, limit: int | None, final: bool, sink: Callable[[bytes], object] | None
    ) -> Any: ...
    def _run_open(
        self,
        data: Buffer,
        limit: int | None,
        final: bool,
        check: Callable[[memoryview], object],
        keep: Callable[[bytes, int], object],
        hint: int,
    ) -> int: ...
