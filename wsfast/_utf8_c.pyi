"""Stub of the compiled UTF-8 twin (same surface as _utf8_py, plus test hooks)."""

import sys
from typing import final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__all__ = ["validate_utf8", "Utf8Validator", "decode_utf8"]

SIMD: str

def validate_utf8(data: Buffer) -> bool: ...
def decode_utf8(data: Buffer) -> str: ...

@final
class Utf8Validator:
    def feed(self, data: Buffer, final: bool = False) -> bool: ...
    @property
    def complete(self) -> bool: ...
    def reset(self) -> None: ...

def _supported_levels() -> list[str]: ...
def _set_level(name: str | None) -> str: ...
def _kernel_name(level: str) -> str: ...
