"""UTF-8 validation (RFC 3629): wsfast's twins against what users have.

Four kinds of text, each at every size (64 B, 4 KiB, 1 MiB; 64 KiB instead of
1 MiB with ``--quick``):

``ascii``  English prose;
``latin``  French and German prose: mostly ASCII, a 2-byte letter every few;
``cjk``    Japanese, Chinese and Korean: 3-byte code points;
``emoji``  4-byte code points.

Row groups, per kind and size:

``validate <kind>``
    one-shot validation of a ``bytes`` text: wsfast ``validate_utf8`` (compiled,
    at the SIMD level in use; pure), ``bytes.decode("utf-8")`` (what Python code
    does to validate, building a ``str`` on the way), the ``codecs``
    incremental UTF-8 decoder with ``final=True`` (what some stacks use), and
    the validators of the integrations' peers (a validator built once and
    reused: a text that ends on a code point leaves it ready for the next
    call).  From 4 KiB on, extra rows (kind ``wsfast-kernel``, shown with
    ``--kernels``) time the compiled twin at every other SIMD level this CPU
    supports, named by the kernel each level runs: ``validate_utf8`` itself, the
    module put at that level (test hook ``_set_level``) around each timed sample.
``feed <kind>, 1 KiB fragments`` (4 KiB and up)
    the same text as 1 KiB ``bytes`` fragments, the way a message arrives:
    ``reset()``, one call per fragment, then the end-of-message check.  wsfast
    ``Utf8Validator.feed`` (compiled; pure), the ``codecs`` incremental decoder,
    and the integrations' peers.  Compare with the one-shot group
    of the same kind and size for the cost of fragmenting (the Python call per
    fragment is included, as an application pays it).
``feed <kind>, 4 KiB fragments`` (texts of 16 KiB and more: the largest size)
    the same with 4 KiB fragments, plus a reference row (kind ``ref``): the
    compiled twin's one-shot ``validate_utf8`` of the whole text, timed in the
    same group so the cost of fragmenting is a ratio of one run.

The peers are the integrations' ``BENCH_PEERS["utf8"]`` (see ``wsfast._bench``),
call ``"validator"``: the path names a validator class; ``cls().validate(data)``
returns (valid, ends on a code point, index, total index).  The row's id is the
entry's id with ``-c`` or ``-py`` by its kind (``py_modules`` decide it when the
stack picks its class at import).

Every implementation is run once on the text and must call it valid before it
is timed.  :func:`discover` and :func:`text` are shared with the
pytest-benchmark suite in ``bench/``.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import Case, Context, Group, at_level, peer_libraries, peers

__all__ = [
    "FRAGMENT",
    "FRAGMENTS",
    "KINDS_OF_TEXT",
    "QUICK_SIZES",
    "SIZES",
    "TITLE",
    "Discovery",
    "Impl",
    "Prepared",
    "discover",
    "fragments",
    "groups",
    "text",
]

TITLE = "UTF-8 validation (RFC 3629)"

#: The libraries (top-level modules) compared here, for the report's list of peers.
PEERS = peer_libraries("utf8")

#: Text sizes of a full run and of ``--quick``.
SIZES = (64, 4096, 1 << 20)
QUICK_SIZES = (64, 4096, 64 * 1024)

#: Fragment size of the ``feed`` groups.
FRAGMENT = 1024
#: Every fragment size of the ``feed`` groups: a text of size n is fed in fragments
#: of f for every f here with n >= 4 * f.
FRAGMENTS = (FRAGMENT, 4 * FRAGMENT)

#: The sample each kind of text is repeated from.
KINDS_OF_TEXT = {
    "ascii": "The quick brown fox jumps over the lazy dog; pack my box with five dozen "
    "liquor jugs. ",
    "latin": "Ça a été déjà très différent, où l'on mangeait des crêpes à Noël. "
    "Grüße aus Köln, schöne Straße! ",
    "cjk": "日本語の文章とテキストの例です。中文文本示例，数据验证。한국어 텍스트 예시입니다。",
    "emoji": "😀😃😄😁😆🎉🚀🌍🔥💡🎈🐍🦀🧪📦🔒",
}


def text(kind: str, size: int) -> bytes:
    """Exactly ``size`` bytes of valid text of ``kind`` (the sample repeated, cut
    at a code-point boundary and padded with spaces)."""
    sample = KINDS_OF_TEXT[kind].encode("utf-8")
    data = sample * (size // len(sample) + 1)
    cut = size
    while cut and (data[cut] & 0xC0) == 0x80:  # never cut inside a code point
        cut -= 1
    out = data[:cut] + b" " * (size - cut)
    assert len(out) == size
    out.decode("utf-8")
    return out


def fragments(data: bytes, size: int = FRAGMENT) -> list[bytes]:
    """``data`` as ``bytes`` pieces of ``size`` bytes (the last one shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


class Prepared(NamedTuple):
    """A ready call: ``func(*args)`` validates the text; ``verdict(result)`` says
    whether that call found it valid; ``around``, if any, is entered around it
    (see ``Case.around``)."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    verdict: Callable[[Any], bool]
    around: Callable[[], contextlib.AbstractContextManager[Any]] | None = None


@dataclass(frozen=True)
class Impl:
    """One implementation: a short ``id`` (``"wsfast-c"``), the report label, its
    kind (see ``wsfast._bench.KINDS``), and how to prepare a call on a text (one
    ``bytes`` for one-shot rows, a list of fragments for ``feed`` rows)."""

    id: str
    label: str
    kind: str
    prepare: Callable[[Any], Prepared]

    def check(self, data: Any) -> Prepared:
        """Prepare a call and run it once; ``AssertionError`` naming the
        implementation unless it calls the (valid) text valid."""
        prepared = self.prepare(data)
        with prepared.around() if prepared.around else contextlib.nullcontext():
            result = prepared.func(*prepared.args)
        if not prepared.verdict(result):
            raise AssertionError(f"{self.label} does not accept valid UTF-8 text")
        return prepared


@dataclass
class Discovery:
    """What is installed: implementations per row group, and what is not (name, reason)."""

    validate: list[Impl]
    feed: list[Impl]
    levels: list[Impl]  # the compiled twin at the other SIMD levels (test hook)
    unavailable: list[tuple[str, str]]
    #: The one-shot reference of the 4 KiB ``feed`` groups (compiled twin), if any.
    one_shot: list[Impl] = field(default_factory=list)


def _is_true(result: Any) -> bool:
    return result is True


def _no_error(result: Any) -> bool:
    return True  # reaching here means no UnicodeDecodeError


def _tuple_valid(result: Any) -> bool:
    """A peer's validator: (valid, ends on a code point, index, total index)."""
    return bool(result[0]) and bool(result[1])


def _call(func: Callable[[bytes], Any], verdict: Callable[[Any], bool]) -> Callable[
    [Any], Prepared
]:
    """prepare() for a one-shot function: func(data)."""

    def prepare(data: bytes) -> Prepared:
        return Prepared(func, (data,), verdict)

    return prepare


def _decode(data: bytes) -> Prepared:
    return Prepared(bytes.decode, (data, "utf-8"), _no_error)


def _codecs_final(data: bytes) -> Prepared:
    """The incremental decoder used one-shot: decode(data, final=True) (it is left
    reset by a successful final call)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    return Prepared(decoder.decode, (data, True), _no_error)


def _reused_validator(cls: Callable[[], Any]) -> Callable[[Any], Prepared]:
    """prepare() for a peer's validator, built once: validate(data)."""

    def prepare(data: bytes) -> Prepared:
        return Prepared(cls().validate, (data,), _tuple_valid)

    return prepare


# -- fragment feeders: reset, one call per fragment, then the end check -----------------


def _feed_wsfast(cls: Callable[[], Any]) -> Callable[[Any], Prepared]:
    def prepare(pieces: list[bytes]) -> Prepared:
        validator = cls()

        def run() -> bool:
            validator.reset()
            feed = validator.feed
            for piece in pieces:
                feed(piece)
            return bool(feed(b"", True))

        return Prepared(run, (), _is_true)

    return prepare


def _feed_codecs(pieces: list[bytes]) -> Prepared:
    decoder = codecs.getincrementaldecoder("utf-8")()

    def run() -> bool:
        decoder.reset()
        decode = decoder.decode
        try:
            for piece in pieces:
                decode(piece)
            decode(b"", True)
        except UnicodeDecodeError:
            return False
        return True

    return Prepared(run, (), _is_true)


def _feed_validator(cls: Callable[[], Any]) -> Callable[[Any], Prepared]:
    def prepare(pieces: list[bytes]) -> Prepared:
        validator = cls()

        def run() -> bool:
            validator.reset()
            validate = validator.validate
            result: Any = (True, True)
            for piece in pieces:
                result = validate(piece)
                if not result[0]:
                    return False
            return bool(result[1])

        return Prepared(run, (), _is_true)

    return prepare


def _one_shot(func: Callable[[bytes], Any]) -> Callable[[Any], Prepared]:
    """prepare() of a feed row's reference: ``func`` on the fragments joined again."""

    def prepare(pieces: list[bytes]) -> Prepared:
        return Prepared(func, (b"".join(pieces),), _is_true)

    return prepare


def _find_validator(peer: Any) -> tuple[type, str, str] | str:
    """(class, label, kind) of a peer's validator class, or why it is missing."""
    library = peer.library
    module_name, _, attr = peer.paths[0].rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name is not None and (exc.name == library or library.startswith(exc.name)):
            return "not installed"
        return f"import failed ({exc})"
    cls = getattr(module, attr, None)
    if cls is None:
        return f"{module_name} has no {attr}"
    # A stack may pick its fastest class at import: say which one it is.
    impl_module = getattr(cls, "__module__", "") or ""
    kind = peer.kind
    if peer.py_modules:
        kind = "lib-py" if impl_module.startswith(peer.py_modules) else "lib-c"
    where = f"{impl_module}.{cls.__name__}"
    return cls, where, kind


def _kernel(level: str) -> str:
    """The kernel the compiled twin runs at SIMD ``level`` (x86's sse2 level runs
    the SSSE3/SSE4.1 kernel); the level's name when the twin cannot say."""
    try:
        return str(importlib.import_module("wsfast._utf8_c")._kernel_name(level))
    except (ImportError, AttributeError, ValueError):
        return level


def _level_and_kernel(level: str) -> str:
    """``avx2``; ``sse2: ssse3+sse4.1 kernel`` when the level's name is not the kernel's."""
    kernel = _kernel(level)
    return level if kernel.startswith(level) else f"{level}: {kernel} kernel"


def discover(twins: dict[str, dict[str, Any] | None]) -> Discovery:
    """The UTF-8 validators available here, for ``twins`` (see
    ``wsfast._bench.load_twins``); missing libraries are listed with a reason."""
    found = Discovery([], [], [], [])
    c, py = twins.get("c"), twins["py"]
    assert py is not None
    if c is not None and "validate_utf8" in c:
        level = c.get("SIMD")
        suffix = f" ({_level_and_kernel(level)})" if level else ""
        found.validate.append(Impl("wsfast-c", f"wsfast validate_utf8, compiled{suffix}",
                                   "wsfast-c", _call(c["validate_utf8"], _is_true)))
        found.feed.append(Impl("wsfast-c", f"wsfast Utf8Validator.feed, compiled{suffix}",
                               "wsfast-c", _feed_wsfast(c["Utf8Validator"])))
        found.one_shot.append(Impl("one-shot", "one-shot: wsfast validate_utf8 of the whole "
                                   f"text, compiled{suffix}", "ref", _one_shot(c["validate_utf8"])))
        try:
            module = importlib.import_module("wsfast._utf8_c")
        except ImportError:
            module = None
        if module is not None:
            for name in module._supported_levels():
                if name == level:
                    continue
                around = functools.partial(at_level, module, name)

                def prepare(data: bytes, around: Any = around) -> Prepared:
                    return Prepared(module.validate_utf8, (data,), _is_true, around)

                found.levels.append(Impl(f"wsfast-c-{name}",
                                         f"wsfast validate_utf8, {_kernel(name)} kernel "
                                         f"(WSFAST_SIMD={name})",
                                         "wsfast-kernel", prepare))
    found.validate.append(Impl("wsfast-py", "wsfast validate_utf8, pure", "wsfast-py",
                               _call(py["validate_utf8"], _is_true)))
    found.feed.append(Impl("wsfast-py", "wsfast Utf8Validator.feed, pure", "wsfast-py",
                           _feed_wsfast(py["Utf8Validator"])))

    found.validate.append(Impl("bytes-decode", "bytes.decode('utf-8')", "lib-c", _decode))
    found.validate.append(Impl("codecs-incremental",
                               "codecs incremental decoder, decode(data, final=True)", "lib-c",
                               _codecs_final))
    found.feed.append(Impl("codecs-incremental", "codecs incremental decoder, decode(piece)",
                           "lib-c", _feed_codecs))

    for peer in peers("utf8"):
        library = peer.library
        hit = _find_validator(peer)
        if isinstance(hit, str):
            found.unavailable.append((library, hit))
            continue
        cls, where, kind = hit
        suffix = "-c" if kind == "lib-c" else "-py"
        found.validate.append(Impl(peer.id + suffix, f"{library} {where}.validate", kind,
                                   _reused_validator(cls)))
        found.feed.append(Impl(peer.id + suffix, f"{library} {where}.validate", kind,
                               _feed_validator(cls)))
    return found


def _fragment_sizes(size: int) -> list[int]:
    """The fragment sizes of the ``feed`` groups of a text of ``size`` bytes."""
    return [f for f in FRAGMENTS if size >= 4 * f]


def count(ctx: Context) -> int:
    """How many groups :func:`groups` yields (for the progress line's ETA)."""
    sizes = QUICK_SIZES if ctx.quick else SIZES
    return len(KINDS_OF_TEXT) * sum(1 + len(_fragment_sizes(size)) for size in sizes)


def groups(ctx: Context) -> Iterator[Group]:
    """The ``validate`` and ``feed`` groups of every kind of text at every size."""
    found = discover(ctx.twins)
    for name, reason in found.unavailable:
        ctx.unavailable(name, reason)
    sizes = QUICK_SIZES if ctx.quick else SIZES
    for kind in KINDS_OF_TEXT:
        for size in sizes:
            data = text(kind, size)
            impls = found.validate + (found.levels if size >= 4096 else [])
            cases = []
            for impl in impls:
                prepared = impl.check(data)
                cases.append(Case(impl.label, prepared.func, prepared.args, size, impl.kind,
                                  around=prepared.around))
            yield Group("utf8", f"validate {kind}", size, cases)
            for fragment in _fragment_sizes(size):
                pieces = fragments(data, fragment)
                cases = []
                # The 1 KiB groups keep their rows; from 4 KiB the one-shot reference.
                for impl in found.feed + (found.one_shot if fragment > FRAGMENT else []):
                    prepared = impl.check(pieces)
                    cases.append(Case(impl.label, prepared.func, prepared.args, size,
                                      impl.kind))
                yield Group("utf8", f"feed {kind}, {fragment // 1024} KiB fragments", size,
                            cases)
