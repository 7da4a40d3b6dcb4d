"""Masking (RFC 6455 section 5.3): wsfast's twins against the maskers users have.

Two row groups, every size:

``mask``
    new ``bytes`` (or ``bytearray``) from a ``bytes`` payload: wsfast ``mask``,
    the integrations' peers of this row group, and two copies for reference.
``mask_inplace``
    XOR into a preallocated ``bytearray``: wsfast ``mask_inplace``, the
    integrations' peers of this row group, and two ``memcpy`` equivalents of
    the same size for reference.

The peers are the integrations' ``BENCH_PEERS["mask"]`` (see
``wsfast._bench``): each names its row group, candidate dotted paths (module
layouts move between releases: the first that imports is used) and how the
masker found is called:

``"data, key"`` / ``"key, data"``
    a function returning the masked payload, arguments in that order;
``"key, buf"``
    a function masking a ``bytearray`` in place;
``"masker"``
    a class: ``cls(key).process(data)``, the masker built once and reused (the
    key phase it carries does not change the work).

A row's label is the library's name, then the path found without it.  A library
that is missing is reported in one line and left out.  Every implementation's
output is checked against wsfast's pure twin before it is timed, so a wrongly
discovered function cannot report a meaningless time.  :func:`discover` is
shared with the pytest-benchmark suite in ``bench/``.
"""

from __future__ import annotations

import ctypes
import importlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import Case, Context, Group, find_object, peer_libraries, peers

__all__ = ["KEY", "TITLE", "Discovery", "Impl", "Prepared", "discover", "groups", "payload"]

TITLE = "masking (RFC 6455 section 5.3)"

#: The masking key of every benchmark (the RFC 6455 section 5.7 example key).
KEY = bytes.fromhex("37fa213d")

#: Seed of the payloads; the payload of size n is random.Random(SEED + n).randbytes(n).
SEED = 6455


def payload(size: int) -> bytes:
    """The fixed pseudo-random payload of ``size`` bytes."""
    return random.Random(SEED + size).randbytes(size)


class Prepared(NamedTuple):
    """A ready call: ``func(*args)`` masks the payload; ``buf`` is the buffer an
    in-place masker (or a memcpy reference) writes, ``None`` for a call returning
    new bytes; ``keep`` holds what must outlive the call (the objects behind raw
    addresses)."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    buf: bytearray | None
    keep: Any = None


@dataclass(frozen=True)
class Impl:
    """One masking implementation: a short ``id`` (``"wsfast-c"``), the label
    of the report, its kind (see ``wsfast._bench.KINDS``), and how to prepare a
    call on a given payload and key."""

    id: str
    label: str
    kind: str
    prepare: Callable[[bytes, bytes], Prepared]

    def check(self, data: bytes, key: bytes, expected: bytes) -> Prepared:
        """Prepare a call, run it once and require the masked payload (for a
        reference row: a copy of ``data``, when it returns one).

        Raises ``AssertionError`` naming the implementation when the result is
        wrong.  An in-place call is run twice, so its buffer holds ``data`` again.
        """
        prepared = self.prepare(data, key)
        got = prepared.func(*prepared.args)
        if prepared.buf is not None:
            got = bytes(prepared.buf)
            prepared.func(*prepared.args)
        if self.kind == "ref":
            if bytes(got) != data:
                raise AssertionError(f"{self.label} does not copy {len(data)} bytes")
        elif bytes(got) != expected:
            raise AssertionError(f"{self.label} does not mask {len(data)} bytes correctly")
        return prepared


@dataclass
class Discovery:
    """What is installed: implementations per row group, and what is not (name, reason)."""

    mask: list[Impl]
    inplace: list[Impl]
    unavailable: list[tuple[str, str]]


def _installed(name: str) -> str | None:
    """``None`` when package ``name`` imports, else why it does not."""
    try:
        importlib.import_module(name)
    except ImportError as exc:
        return "not installed" if exc.name == name else f"import failed ({exc})"
    except Exception as exc:  # a broken install must not stop the benchmark
        return f"import failed ({type(exc).__name__}: {exc})"
    return None


def _new_bytes(func: Callable[[Any, Any], Any], key_first: bool = False) -> Callable[
    [bytes, bytes], Prepared
]:
    """prepare() for a function returning the masked payload: func(data, key)."""

    def prepare(data: bytes, key: bytes) -> Prepared:
        return Prepared(func, (key, data) if key_first else (data, key), None)

    return prepare


def _in_place(func: Callable[[Any, Any], Any], key_first: bool = False) -> Callable[
    [bytes, bytes], Prepared
]:
    """prepare() for a function masking a bytearray in place: func(buf, key)."""

    def prepare(data: bytes, key: bytes) -> Prepared:
        buf = bytearray(data)
        return Prepared(func, (key, buf) if key_first else (buf, key), buf)

    return prepare


def _masker(cls: Callable[[bytes], Any]) -> Callable[[bytes, bytes], Prepared]:
    """prepare() for a stateful masker class: cls(key).process(data), masker reused."""

    def prepare(data: bytes, key: bytes) -> Prepared:
        return Prepared(cls(key).process, (data,), None)

    return prepare


def _copy_via_bytearray(data: bytes) -> bytes:
    """``bytes(bytearray(data))``: two copies and two allocations."""
    return bytes(bytearray(data))


def _two_copies(data: bytes, key: bytes) -> Prepared:
    """Reference: ``bytes(bytearray(data))`` (one Python-level call more than a masker)."""
    return Prepared(_copy_via_bytearray, (data,), None)


def _one_copy(data: bytes, key: bytes) -> Prepared:
    """Reference: ``bytes(memoryview(data))``, one copy into a new bytes."""
    return Prepared(bytes, (memoryview(data),), None)


def _memmove(data: bytes, key: bytes) -> Prepared:
    """Reference: ``ctypes.memmove`` of the payload into a preallocated bytearray
    (raw addresses computed once, so the call converts only three ints)."""
    buf = bytearray(len(data))
    dst = (ctypes.c_char * len(buf)).from_buffer(buf)  # pins buf while it lives
    src = ctypes.c_char_p(data)
    src_address = ctypes.cast(src, ctypes.c_void_p).value
    return Prepared(ctypes.memmove, (ctypes.addressof(dst), src_address, len(data)), buf,
                    keep=(dst, src, data))


def _slice_assign(data: bytes, key: bytes) -> Prepared:
    """Reference: ``buf[:] = src`` between two same-sized bytearrays: one memcpy
    (from a ``bytes`` source CPython would first copy it into a new bytearray)."""
    buf = bytearray(len(data))
    return Prepared(buf.__setitem__, (slice(None), bytearray(data)), buf)


#: The libraries (top-level modules) compared here, for the report's list of peers.
PEERS = peer_libraries("mask")

_CALLS: dict[str, Callable[[Any], Callable[[bytes, bytes], Prepared]]] = {
    "data, key": _new_bytes,
    "key, data": lambda func: _new_bytes(func, key_first=True),
    "key, buf": lambda func: _in_place(func, key_first=True),
    "masker": _masker,
}


def discover(twins: dict[str, dict[str, Any] | None]) -> Discovery:
    """The masking implementations available here, for ``twins`` (see
    ``wsfast._bench.load_twins``); missing libraries are listed with a reason."""
    found = Discovery([], [], [])
    rows = {"mask": found.mask, "mask_inplace": found.inplace}

    c, py = twins.get("c"), twins["py"]
    assert py is not None
    if c is not None and "mask" in c:
        level = f" ({c['SIMD']})" if c.get("SIMD") else ""
        found.mask.append(
            Impl("wsfast-c", f"wsfast mask, compiled{level}", "wsfast-c", _new_bytes(c["mask"])))
        found.inplace.append(Impl("wsfast-c", f"wsfast mask_inplace, compiled{level}",
                                  "wsfast-c", _in_place(c["mask_inplace"])))
    found.mask.append(Impl("wsfast-py", "wsfast mask, pure", "wsfast-py", _new_bytes(py["mask"])))
    found.inplace.append(Impl("wsfast-py", "wsfast mask_inplace, pure", "wsfast-py",
                              _in_place(py["mask_inplace"])))

    by_library: dict[str, list[Any]] = {}
    for peer in peers("mask"):
        by_library.setdefault(peer.library, []).append(peer)
    for library, entries in by_library.items():
        reason = _installed(library)
        if reason is not None:
            found.unavailable.append((library, reason))
            continue
        for peer in entries:
            hit = find_object(peer.paths)
            if hit is None:
                what = "compiled masker" if peer.kind == "lib-c" else "pure masker"
                found.unavailable.append(
                    (f"{library} {what}", f"none of {', '.join(peer.paths)} imports"))
                continue
            func, path = hit
            label = path.partition(".")[2]  # without the library name
            if peer.call == "masker":
                label += ".process"
            for group in peer.rows:
                rows[group].append(Impl(peer.id, f"{library} {label}", peer.kind,
                                        _CALLS[peer.call](func)))

    found.mask.append(Impl("copy-bytearray", "copy: bytes(bytearray(data))", "ref", _two_copies))
    found.mask.append(Impl("copy-once", "copy: bytes(memoryview(data)), 1 memcpy", "ref",
                           _one_copy))
    found.inplace.append(Impl("memmove", "memcpy: ctypes.memmove(dst, src, n)", "ref", _memmove))
    found.inplace.append(Impl("slice-assign", "memcpy: buf[:] = src, bytearrays", "ref",
                              _slice_assign))
    return found


def count(ctx: Context) -> int:
    """How many groups :func:`groups` yields (for the progress line's ETA)."""
    return 2 * len(ctx.sizes)


def groups(ctx: Context) -> Iterator[Group]:
    """The ``mask`` and ``mask_inplace`` groups at every size of ``ctx.sizes``."""
    found = discover(ctx.twins)
    for name, reason in found.unavailable:
        ctx.unavailable(name, reason)
    reference = ctx.twins["py"]
    assert reference is not None
    for group_name, impls in (("mask", found.mask), ("mask_inplace", found.inplace)):
        for size in ctx.sizes:
            data = payload(size)
            expected = reference["mask"](data, KEY)
            cases = []
            for impl in impls:
                prepared = impl.check(data, KEY, expected)
                cases.append(Case(impl.label, prepared.func, prepared.args, size, impl.kind,
                                  keep=prepared.keep))
            yield Group("mask", group_name, size, cases)
