"""Helpers shared by the test modules (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations


def simd_levels() -> list[str]:
    """SIMD levels this CPU supports (empty without the compiled twin)."""
    try:
        from wsfast import _mask_c  # type: ignore[attr-defined]
    except ImportError:
        return []
    return list(_mask_c._supported_levels())
