"""The permessage-deflate engine (RFC 7692 section 7.2): bounded inflation, compression.

Both twins use this one pure-Python module: the work is done inside a zlib-compatible
backend (stdlib ``zlib``, ``zlib_ng.zlib_ng`` or ``isal.isal_zlib``, all driven through
the same ``compressobj``/``decompressobj`` API), so the twins behave identically.  One
exception: on stdlib zlib the compiled decoder inflates with ``wsfast._inflate_c``, this
module's :class:`Inflater` written again over zlib's C API (the Python around each
zlib call cost a small message 15 %); through ``_run`` it makes the same backend calls,
so it gives the same pieces and errors, and ``tests/test_pmd.py`` checks both.  The
compiled decoder drives it through ``_run_open`` instead, which inflates a message into
one piece for as long as it fits, across calls (as big as a guess from the compressed
size, never more than the limit leaves room for): a message in one piece needs no join,
and the memory bound is the same.  Likewise the compiled encoder compresses with
``wsfast._deflate_c``, this module's :class:`Deflater` over zlib's C API, which gives the
same bytes at levels 1-9.

:class:`Inflater` -- one per connection and direction, for the peer's messages:

- Streaming and bounded *incrementally*: every backend call asks for at most
  ``min(remaining + 1, OUTPUT_CHUNK)`` bytes, where ``remaining`` is what the message may
  still grow by, and is given at most ``INPUT_CHUNK`` bytes of input.  The moment the
  message passes its limit, :class:`~wsfast.MessageTooBigError` is raised; the output
  held for it never exceeds the limit plus one chunk, whatever the compression ratio and
  however the input is split (see :data:`OUTPUT_CHUNK` for the chunk's size).
- "All input consumed" does not mean "all output delivered": a backend may stop in the
  middle of a long match with an empty ``unconsumed_tail`` (ISA-L buffers output
  internally and does it often).  So calls continue, with ``b""`` as input, until one
  returns *less* than it asked for with no input left.
- A DEFLATE block with BFINAL set ends a zlib stream (the decompressor reports ``eof``)
  but not the permessage-deflate stream (sections 7.2.1-7.2.2): later blocks of the same
  message, and later messages under context takeover, still refer to the window.  The
  inflater keeps the last ``2**window_bits`` bytes it produced and, at ``eof``, carries
  on in a new raw decompressor primed with them (``zdict``).  Each such restart copies up
  to one window, so a message gets :data:`FREE_RESTARTS` of them plus one per
  :data:`RESTART_INPUT` compressed bytes; past that it is refused as too costly
  (``MessageTooBigError``).
- Corrupt data raises :class:`~wsfast.InvalidDataError` (close code 1007).

:class:`Deflater` -- one per connection, for this endpoint's messages: ``Z_SYNC_FLUSH``
after every fragment, the ``00 00 ff ff`` tail stripped at the end of a message, an empty
message or empty final fragment sent as the single byte ``00`` (section 7.2.3.6), and,
for this endpoint's no_context_takeover, one compressor reused with ``Z_FULL_FLUSH``
(which forgets the window) rather than a new one per message.

Backends are picked by :func:`get_backend`; see :data:`PREFERENCE` for the measured
order.  Each class is for one connection, used by one task at a time: a call that
overlaps another on the same object (another thread, a sink calling back) raises
RuntimeError, as the compiled twin's do.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from operator import index
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._buffers import byte_view
from .errors import InvalidDataError, MessageTooBigError, in_use_error

if TYPE_CHECKING:
    from ._buffers import Buffer

__all__ = [
    "BACKENDS",
    "DEFAULT_LEVEL",
    "DEFAULT_MEM_LEVEL",
    "FREE_RESTARTS",
    "INPUT_CHUNK",
    "OUTPUT_CHUNK",
    "PREFERENCE",
    "RESTART_INPUT",
    "TAIL",
    "Backend",
    "Deflater",
    "Inflater",
    "MessageBuffer",
    "available_backends",
    "get_backend",
    "own_settings",
]

#: What a sender strips from the end of each message and a receiver puts back
#: (RFC 7692 section 7.2.1-7.2.2): the empty stored block of a sync flush.
TAIL = b"\x00\x00\xff\xff"

#: Most output bytes asked of the backend in one call.  A call briefly holds twice what
#: it produces (the backend's output blocks, then the ``bytes`` they are joined into),
#: so a message being inflated, kept by a sink that holds what it is given (as
#: :class:`MessageBuffer` does), stays under its limit plus this.  Each extra call
#: costs a copy of its output (64 KiB calls made a 1 MiB message 15-20 % slower than
#: one call); bigger calls cost resident memory, the allocator keeping the big blocks
#: it freed (measured, stdlib zlib, a 256 MiB bomb against 16 MiB: peak RSS limit +
#: 0.6 MiB at 256 KiB, + 0.93 MiB at 1 MiB, + 2.5 MiB with no cap).
OUTPUT_CHUNK = 256 * 1024
#: Most input bytes given to the backend in one call (a backend copies the input it
#: has not consumed into ``unconsumed_tail`` at every call: slicing bounds that copy).
INPUT_CHUNK = 128 * 1024
#: Below this many compressed bytes, the tail is appended to a message's last bytes
#: (one backend call) rather than fed in a second call.
_JOIN_TAIL_BELOW = 4096

#: Size at which :class:`MessageBuffer` freezes the small pieces it gathered.
_GATHER = 64 * 1024

#: Stream restarts (BFINAL followed by more data) every message may have...
FREE_RESTARTS = 16
#: ...plus one per this many compressed bytes of the message.
RESTART_INPUT = 1024

#: Compression level when none is given: zlib's fastest.  On
#: JSON-like text, stdlib zlib at level 1 takes 1.7x (1 KiB messages) to 2x (64 KiB)
#: fewer instructions than at level 6 for output 22-25 % larger; zlib-ng's level 1
#: is 3.3x cheaper again for output 18-27 % larger than zlib's, its level 2 1.3-1.6x
#: cheaper than zlib's level 1 for output as small (``python -m wsfast bench --only
#: deflate`` times them).
DEFAULT_LEVEL = 1
#: zlib's own default memLevel (1-9): 2**(memLevel + 6) hash entries and literals.
DEFAULT_MEM_LEVEL = 8


# --- backends -------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """A zlib-compatible module and what it can do.

    ``levels`` are the compression levels it accepts; ``narrow_window`` tells whether
    its deflater at wbits -9 keeps every match within 250 bytes, so that a peer that
    agreed to a window of 8 (256 bytes) can inflate it.
    """

    name: str
    module: ModuleType
    levels: range
    narrow_window: bool

    @property
    def error(self) -> type[Exception]:
        """The exception the module raises for corrupt data."""
        err: type[Exception] = self.module.error
        return err


#: Importable backends by name: (module path, levels, narrow_window).
#: ISA-L takes levels 0-3 only (its 0 is not "stored") and, at wbits -9, emits
#: matches up to 512 bytes back, too far for a window of 8.
BACKENDS: dict[str, tuple[str, range, bool]] = {
    "zlib": ("zlib", range(0, 10), True),
    "zlib-ng": ("zlib_ng.zlib_ng", range(0, 10), True),
    "isal": ("isal.isal_zlib", range(0, 4), False),
}

#: The order in which the automatic choice takes installed backends, measured with
#: ``python -m wsfast bench --only deflate`` (see ``wsfast._bench.deflate``): zlib-ng
#: is the fastest at every size for deflate and at or above zlib for inflate; ISA-L is
#: the fastest above 64 KiB but slower than zlib on small messages, so it is never
#: picked on its own (pass ``backend="isal"`` for large messages).
PREFERENCE = ("zlib-ng", "zlib")

_loaded: dict[str, Backend | None] = {}


def _load(name: str) -> Backend | None:
    if name not in _loaded:
        path, levels, narrow = BACKENDS[name]
        try:
            module = importlib.import_module(path)
        except ImportError:
            _loaded[name] = None
        else:
            _loaded[name] = Backend(name, module, levels, narrow)
    return _loaded[name]


def available_backends() -> dict[str, Backend]:
    """The backends that import here, by name (``zlib`` always)."""
    found = {}
    for name in BACKENDS:
        backend = _load(name)
        if backend is not None:
            found[name] = backend
    return found


def get_backend(backend: str | ModuleType | Backend | None = None) -> Backend:
    """Resolve a backend: ``None`` for the automatic choice (the first installed one in
    :data:`PREFERENCE`), a name from :data:`BACKENDS`, a :class:`Backend`, or a
    zlib-compatible module (one of the known ones, or any other: then assumed to take
    levels 0-9 and to keep matches within 250 bytes at wbits -9, like zlib).

    An unknown name raises ``ValueError``; a known one that is not installed,
    ``ImportError``.
    """
    if backend is None:
        for name in PREFERENCE:
            found = _load(name)
            if found is not None:
                return found
        raise AssertionError("the standard library's zlib is always there")
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, str):
        if backend not in BACKENDS:
            raise ValueError(
                f"unknown deflate backend {backend!r}: expected one of {', '.join(BACKENDS)}"
            )
        found = _load(backend)
        if found is None:
            raise ImportError(f"deflate backend {backend!r} is not installed")
        return found
    if isinstance(backend, ModuleType):
        for name, (path, _, _) in BACKENDS.items():
            if backend.__name__ == path:
                return _load(name) or Backend(name, backend, *BACKENDS[name][1:])
        return Backend(backend.__name__, backend, range(0, 10), True)
    raise TypeError(
        f"backend must be a name, a zlib-compatible module or None, not {type(backend).__name__}"
    )


def _joined(pieces: list[bytes]) -> bytes:
    if len(pieces) == 1:
        return pieces[0]
    return b"".join(pieces)


def _window_bits(window_bits: Any) -> int:
    if isinstance(window_bits, bool) or not isinstance(window_bits, int):
        raise TypeError(f"window_bits must be an int, not {type(window_bits).__name__}")
    if not 8 <= window_bits <= 15:
        raise ValueError(f"window_bits must be 8-15, got {window_bits}")
    return int(window_bits)


# --- inflation --------------------------------------------------------------------


class _exclusive:
    """``with _exclusive(engine):`` (re)initialises ``engine`` unless a call is
    working on it, which raises RuntimeError, as the compiled twin's do."""

    __slots__ = ("_lock",)

    def __init__(self, engine: Inflater | Deflater) -> None:
        try:
            lock = engine._lock
        except AttributeError:  # the first __init__
            lock = engine._lock = threading.Lock()
        self._lock = lock
        if not lock.acquire(False):
            raise in_use_error(engine)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class Inflater:
    """Inflates the peer's compressed messages, one connection direction.

    ``window_bits`` is the peer's agreed window (8-15: ``client_max_window_bits`` on a
    server, ``server_max_window_bits`` on a client); ``no_context_takeover`` is the
    peer's (each of its messages starts from an empty window, so nothing is kept
    between messages).  Feed each compressed fragment's payload (unmasked) to
    :meth:`feed` as it arrives and call :meth:`finish` at the end of the message, or
    pass ``final=True`` with the last bytes.  ``limit`` is the most bytes the whole
    message may inflate to (``None``: no limit); it may differ between messages but
    should not change within one.

    After an error the inflater is broken: every later call raises the same error.
    """

    __slots__ = (
        "_backend",
        "_wbits",
        "_window",
        "_reset",
        "_d",
        "_ring",
        "_ring_view",
        "_ring_pos",
        "_total",
        "_input",
        "_restarts",
        "_ended",
        "_error",
        "_broken",
        "_lock",
    )
    _lock: threading.Lock  # held by a call at work: _run, or __init__ (_exclusive)

    def __init__(
        self,
        window_bits: int = 15,
        no_context_takeover: bool = False,
        *,
        backend: str | ModuleType | Backend | None = None,
    ) -> None:
        bits = _window_bits(window_bits)
        chosen = get_backend(backend)
        with _exclusive(self):
            self._backend = chosen
            self._wbits = -bits  # raw DEFLATE: no zlib header or trailer (section 7.2.1)
            self._window = 1 << bits
            self._reset = bool(no_context_takeover)
            self._d: Any = None  # the backend's decompressor, made at first use
            # The last ``_window`` bytes of output, to go on after BFINAL: appended to
            # until full, then a ring whose oldest byte is at ``_ring_pos``, written
            # through ``_ring_view`` (a bytearray slice assignment from bytes first
            # copies the bytes into a temporary bytearray: 0.5 us a message).
            self._ring = bytearray()
            self._ring_view: memoryview | None = None
            self._ring_pos = 0
            self._total = 0  # bytes inflated for the current message
            self._input = 0  # compressed bytes of the current message
            self._restarts = 0
            self._ended = False  # a BFINAL block ended the last decompressor's stream
            self._error = self._backend.error
            self._broken: tuple[type[Exception], str] | None = None

    @classmethod
    def for_endpoint(cls, params: Any, *, client: bool, **kwargs: Any) -> Inflater:
        """The inflater an endpoint needs for agreed ``params`` (a ``PerMessageDeflate``):
        a client inflates the server's messages, a server the client's."""
        if client:
            bits, reset = params.server_max_window_bits, params.server_no_context_takeover
        else:
            bits, reset = params.client_max_window_bits, params.client_no_context_takeover
        return cls(bits, reset, **kwargs)

    @property
    def backend(self) -> Backend:
        """The backend in use."""
        return self._backend

    @property
    def window_bits(self) -> int:
        """The peer's window, 8-15."""
        return -self._wbits

    @property
    def no_context_takeover(self) -> bool:
        """Whether the state is dropped at the end of every message."""
        return self._reset

    @property
    def total(self) -> int:
        """Bytes inflated so far for the current message."""
        return self._total

    def feed(self, data: Buffer, limit: int | None = None, *, final: bool = False) -> bytes:
        """Inflate a chunk of the current message; return its output.

        ``final=True`` also ends the message, as :meth:`finish` does.  Raises
        ``MessageTooBigError`` as soon as the message's output passes ``limit``, and
        ``InvalidDataError`` for corrupt data.

        The output of one call is joined into one ``bytes``, so a call that inflates to
        N bytes briefly holds 2N: a decoder that keeps a whole message should hand the
        pieces to its buffer with :meth:`feed_to` instead.
        """
        out: bytes = self._run(data, limit, final, None)
        return out

    def feed_to(
        self,
        data: Buffer,
        limit: int | None,
        sink: Callable[[bytes], object],
        *,
        final: bool = False,
    ) -> int:
        """Like :meth:`feed`, but call ``sink`` with each piece of output as it is
        produced (one piece per backend call, never empty); return the
        number of bytes produced.  ``sink`` may raise (to fail fast on invalid text, say):
        the exception propagates and the inflater is left mid-message, to be dropped.

        The piece that passes ``limit`` is never given to ``sink``: ``MessageTooBigError``
        is raised instead, so a sink that keeps everything never holds more than
        ``limit`` bytes (see :class:`MessageBuffer` for one without a buffer's slack).
        """
        produced: int = self._run(data, limit, final, sink)
        return produced

    def finish(self, limit: int | None = None) -> bytes:
        """End the current message: inflate the ``00 00 ff ff`` tail the sender
        stripped (section 7.2.2), return any output still due, and start the next
        message (from an empty window under no_context_takeover)."""
        return self.feed(b"", limit, final=True)

    # -- the loop -----------------------------------------------------------------

    def _run(
        self, data: Buffer, limit: int | None, final: bool, sink: Callable[[bytes], object] | None
    ) -> Any:
        """Inflate ``data`` (and the tail when ``final``): with a ``sink``, give it the
        output and return the number of bytes produced; without, return the output.
        One call at a time: an overlapping one (another thread, or ``sink`` calling
        back) raises RuntimeError, as the compiled twin's does.

        One method on purpose: a small message costs a few microseconds to inflate,
        so every Python call and attribute lookup on this path shows.
        """
        lock = self._lock
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            d = self._d
            first = None
            if (
                final
                and type(data) is bytes
                and d is not None
                and self._total == 0
                and len(data) < _JOIN_TAIL_BELOW
                and (limit is None or (type(limit) is int and limit >= OUTPUT_CHUNK))
                and self._broken is None
            ):
                # The common case, a whole small message in one frame, in one backend call
                # when it can be: the general path below resumes from ``first`` otherwise.
                try:
                    first = d.decompress(data + TAIL, OUTPUT_CHUNK)
                except self._error as exc:
                    self._broken = (InvalidDataError, f"invalid compressed data: {exc}")
                    self._d = None
                    raise InvalidDataError(self._broken[1]) from None
                got = len(first)
                if got < OUTPUT_CHUNK and not d.eof and not d.unconsumed_tail:
                    self._input = self._restarts = 0
                    if self._reset:
                        # Nothing to keep: the window would only serve a BFINAL later in
                        # this message, which is over.
                        self._d = None
                        self._forget()
                    elif got:
                        ring_pos = self._ring_pos
                        ring_end = ring_pos + got
                        view = self._ring_view
                        if ring_end < self._window and view is not None:
                            view[ring_pos:ring_end] = first
                            self._ring_pos = ring_end
                        else:
                            self._remember(first)
                    if sink is None:
                        return first
                    if got:
                        sink(first)
                    return got
            if self._broken is not None:
                cls, reason = self._broken
                raise cls(f"inflater failed earlier: {reason}")
            if limit is not None:
                if type(limit) is not int:
                    limit = index(limit)
                if limit < 0:
                    raise ValueError(f"limit must be >= 0, got {limit}")
            if type(data) is not bytes:
                data = byte_view(data)  # TypeError for str, BufferError if not contiguous
            size = len(data)
            self._input += size
            # What to inflate: the data, then the tail at the end of the message (in one
            # buffer when small: a copy is cheaper than a second backend call).
            if not final:
                inputs: tuple[Any, ...] = (data,)
            elif size >= _JOIN_TAIL_BELOW:
                inputs = (data, TAIL)
            elif size:
                inputs = ((data if type(data) is bytes else bytes(data)) + TAIL,)
            else:
                inputs = (TAIL,)
            pieces: list[bytes] = []
            collect = sink is None
            if sink is None:
                sink = pieces.append
            error = self._error
            window = self._window
            total = before = self._total
            try:
                for buf in inputs:
                    tail = final and buf is inputs[-1]  # ends with the tail we appended
                    if d is None and self._ended and tail and buf == TAIL:
                        break  # the stream ended with the message's last bytes (see below)
                    size = len(buf)
                    if size > INPUT_CHUNK and type(buf) is bytes:
                        buf = memoryview(buf)  # slices without copies
                    pos = 0
                    while True:
                        if size - pos > INPUT_CHUNK:
                            chunk = buf[pos : pos + INPUT_CHUNK]
                            pos += INPUT_CHUNK
                        else:
                            chunk = buf[pos:] if pos else buf
                            pos = size
                        while True:
                            if d is None:
                                d = self._d = self._start()
                            ask = OUTPUT_CHUNK
                            if limit is not None and limit - total < OUTPUT_CHUNK:
                                ask = limit - total + 1  # never 0 (which means "no limit")
                            if first is not None:
                                out, first = first, None  # the fast path's call, on this chunk
                            else:
                                try:
                                    out = d.decompress(chunk, ask)
                                except error as exc:
                                    raise InvalidDataError(
                                        f"invalid compressed data: {exc}"
                                    ) from None
                            got = len(out)
                            if got:
                                total += got
                                if limit is not None and total > limit:
                                    raise MessageTooBigError(
                                        f"message inflates to more than the limit of {limit} bytes"
                                    )
                                # Keep the window (for BFINAL); the common case inline.
                                ring_pos = self._ring_pos
                                ring_end = ring_pos + got
                                view = self._ring_view
                                if ring_end < window and view is not None:
                                    view[ring_pos:ring_end] = out
                                    self._ring_pos = ring_end
                                else:
                                    self._remember(out)
                                sink(out)
                            if d.eof:
                                # A BFINAL block ended the zlib stream, not the message's:
                                # what follows goes on in a new decompressor primed with the
                                # window (RFC 7692 section 7.2.2), made when there is input
                                # for it.  If all that follows is the tail we appended, the
                                # sender ended the message with the final block and
                                # appended nothing: skip it.
                                chunk = d.unused_data
                                d = self._d = None
                                self._ended = True
                                if not chunk or (tail and pos >= size and chunk == TAIL):
                                    break
                                continue
                            chunk = d.unconsumed_tail
                            # Done only when a call returns less than asked with no input
                            # left: a full answer may leave output pending in the backend.
                            if not chunk and got < ask:
                                break
                        if pos >= size:
                            break
            except (InvalidDataError, MessageTooBigError) as exc:
                self._broken = (type(exc), str(exc))
                self._d = None
                raise
            finally:
                self._total = total
            if not final:
                return _joined(pieces) if collect else total - before
            # The end of the message.
            self._total = self._input = self._restarts = 0
            if self._reset:
                # The peer starts every message from an empty window: keep nothing
                # (about 40 KiB of zlib state and up to one window of history).
                self._d = None
                self._forget()
            return _joined(pieces) if collect else total - before
        finally:
            lock.release()

    def _start(self) -> Any:
        """A new decompressor: fresh, or, after a stream ended, primed with the window."""
        module = self._backend.module
        if not self._ended:
            return module.decompressobj(self._wbits)
        self._restarts += 1
        if self._restarts > FREE_RESTARTS + self._input // RESTART_INPUT:
            raise MessageTooBigError(
                f"too many DEFLATE streams in one message ({self._restarts}); "
                "each costs a copy of the window"
            )
        self._ended = False
        history = self._history()
        if history:
            return module.decompressobj(self._wbits, zdict=history)
        return module.decompressobj(self._wbits)

    def _remember(self, out: bytes) -> None:
        """Keep the last ``_window`` bytes of output (one copy of each byte at most)."""
        window = self._window
        n = len(out)
        if n >= window:
            ring = self._ring = bytearray(memoryview(out)[n - window :])
            self._ring_view = memoryview(ring)
            self._ring_pos = 0
            return
        view = self._ring_view
        src = memoryview(out)
        if view is None:
            # Still filling up: appended to, until full.
            ring = self._ring
            room = window - len(ring)
            if n < room:
                ring += out
                return
            ring += src[:room]
            view = self._ring_view = memoryview(ring)  # full: a ring from now on
            src = src[room:]
            n -= room
        pos = self._ring_pos
        end = pos + n
        if end <= window:
            view[pos:end] = src
            self._ring_pos = end if end < window else 0
        else:
            first = window - pos
            view[pos:] = src[:first]
            view[: n - first] = src[first:]
            self._ring_pos = n - first

    def _forget(self) -> None:
        """Drop the history: the next message starts from an empty window."""
        self._ended = False
        self._ring_view = None
        self._ring = bytearray()
        self._ring_pos = 0

    def _history(self) -> bytes:
        """The last ``_window`` bytes of output, oldest first."""
        ring, pos = self._ring, self._ring_pos
        return bytes(ring[pos:] + ring[:pos]) if pos else bytes(ring)

    def __repr__(self) -> str:
        return (
            f"Inflater(window_bits={self.window_bits}, "
            f"no_context_takeover={self._reset}, backend={self._backend.name!r})"
        )

    def __reduce__(self) -> Any:
        # A copy would share the decompressor and the lock: refused, as the
        # compiled twin's.
        raise TypeError("cannot pickle an Inflater: it holds a zlib stream")


class MessageBuffer:
    """A message's inflated output, gathered with little slack: a sink for
    :meth:`Inflater.feed_to`.

    A ``bytearray`` grown by small appends keeps up to an eighth of its size spare, which
    would let a 16 MiB message hold 18 MiB; here small pieces are gathered in a
    ``bytearray`` of at most :data:`_GATHER` bytes, frozen into ``bytes`` when full, and
    big pieces are kept as they come, uncopied (as is a small piece that stays alone:
    a small message is one piece).  :meth:`take` joins them (the message and its copy
    then briefly coexist, as with ``bytes(bytearray)``), or returns the only one.
    """

    __slots__ = ("_pieces", "_small", "_held", "_size")

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._small = bytearray()
        self._held: bytes | None = None  # a small piece not copied into _small (yet)
        self._size = 0

    def append(self, piece: bytes) -> None:
        """Add ``piece`` at the end."""
        self._size += len(piece)
        if len(piece) >= _GATHER:
            self._freeze()
            self._pieces.append(piece)
            return
        small = self._small
        if not small:
            held = self._held
            if held is None:
                self._held = piece
                return
            self._held = None
            small += held
        small += piece
        if len(small) >= _GATHER:
            self._pieces.append(bytes(small))
            small.clear()

    def _freeze(self) -> None:
        """End the run of small pieces: it becomes one piece."""
        if self._held is not None:
            self._pieces.append(self._held)
            self._held = None
        elif self._small:
            self._pieces.append(bytes(self._small))
            self._small.clear()

    def __len__(self) -> int:
        return self._size

    def take(self) -> bytes:
        """The whole message; the buffer is left empty."""
        self._freeze()
        pieces = self._pieces
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._pieces = []
        self._size = 0
        return data

    def clear(self) -> None:
        """Drop the message (a CLOSE in the middle of it, say)."""
        self._pieces = []
        self._small.clear()
        self._held = None
        self._size = 0


# --- compression ------------------------------------------------------------------


def own_settings(params: Any, client: bool) -> tuple[int, bool]:
    """An endpoint's own window bits and no_context_takeover in agreed ``params``:
    what its deflater compresses with."""
    if client:
        return params.client_max_window_bits, params.client_no_context_takeover
    return params.server_max_window_bits, params.server_no_context_takeover


class Deflater:
    """Compresses this endpoint's messages, one connection.

    ``window_bits`` is this endpoint's agreed window (8-15: ``server_max_window_bits``
    on a server, ``client_max_window_bits`` on a client); ``no_context_takeover`` this
    endpoint's (every message must inflate from an empty window).  ``level`` (0-9, or
    the backend's own range: 0-3 for ISA-L) trades speed for size; ``mem_level`` (1-9)
    sizes the compressor's hash table and buffer, the main part of its memory.

    Call :meth:`compress` once per message, or once per fragment with ``final=False``
    for all but the last.
    """

    __slots__ = ("_backend", "_wbits", "_window_bits", "_level", "_mem_level", "_reset",
                 "_end_flush", "_c", "_lock")
    _lock: threading.Lock  # held by a call at work (compress, or __init__ via _exclusive)

    def __init__(
        self,
        window_bits: int = 15,
        no_context_takeover: bool = False,
        *,
        level: int = DEFAULT_LEVEL,
        mem_level: int = DEFAULT_MEM_LEVEL,
        backend: str | ModuleType | Backend | None = None,
    ) -> None:
        bits = _window_bits(window_bits)
        level = index(level)
        mem_level = index(mem_level)
        if not 1 <= mem_level <= 9:
            raise ValueError(f"mem_level must be 1-9, got {mem_level}")
        chosen = get_backend(backend)
        if backend is None and level not in chosen.levels:
            chosen = get_backend("zlib")  # the automatic choice honours any level
        if level not in chosen.levels:
            raise ValueError(
                f"level must be {chosen.levels.start}-{chosen.levels.stop - 1} "
                f"with the {chosen.name} backend, got {level}"
            )
        if bits == 8 and not chosen.narrow_window:
            # This backend's matches reach past a 256-byte window: compress this
            # connection with zlib, whose -9 streams fit (see below).
            chosen = get_backend("zlib")
        with _exclusive(self):
            self._backend = chosen
            self._window_bits = bits
            # zlib (since 1.2.9) and zlib-ng refuse raw deflate with wbits 8.  At wbits 9
            # their deflater never emits a match farther back than the window size minus
            # MIN_LOOKAHEAD (262 bytes), i.e. 512 - 262 = 250, so every stream it writes
            # also inflates with the 256-byte window (wbits -8) the peer agreed to.
            self._wbits = -max(bits, 9)
            self._level = level
            self._mem_level = mem_level
            self._reset = bool(no_context_takeover)
            # Our no_context_takeover: Z_FULL_FLUSH ends each message and forgets the
            # window, so the next one inflates from scratch; one compressor is reused
            # instead of allocating ~260 KiB afresh every message.
            module = chosen.module
            self._end_flush = module.Z_FULL_FLUSH if self._reset else module.Z_SYNC_FLUSH
            self._c: Any = None

    @classmethod
    def for_endpoint(cls, params: Any, *, client: bool, **kwargs: Any) -> Deflater:
        """The deflater an endpoint needs for agreed ``params`` (a ``PerMessageDeflate``):
        its own window and no_context_takeover."""
        return cls(*own_settings(params, client), **kwargs)

    @property
    def backend(self) -> Backend:
        """The backend in use (zlib when the requested one cannot serve a window of 8)."""
        return self._backend

    @property
    def window_bits(self) -> int:
        """The agreed window, 8-15 (8 is compressed with a 9-bit window, see above)."""
        return self._window_bits

    @property
    def level(self) -> int:
        """The compression level."""
        return self._level

    @property
    def mem_level(self) -> int:
        """The memLevel (1-9)."""
        return self._mem_level

    @property
    def no_context_takeover(self) -> bool:
        """Whether every message is compressed from an empty window."""
        return self._reset

    def compress(self, data: Buffer, final: bool = True) -> bytes:
        """Compress a message, or one fragment of it (``final=False`` for all but the
        last); return the payload to send, RSV1 being the caller's to set on the first
        frame.  Non-final fragments end with a sync flush (they decompress as soon as
        they arrive); the final one has the ``00 00 ff ff`` tail stripped and is never
        empty (``00`` for an empty message or final fragment).  One call at a time:
        an overlapping one raises RuntimeError (the stream would interleave).
        """
        lock = self._lock
        if not lock.acquire(False):
            raise in_use_error(self)
        try:
            c = self._c
            if c is None:
                module = self._backend.module
                c = self._c = module.compressobj(
                    self._level, module.DEFLATED, self._wbits, self._mem_level
                )
            # compress() is called even with no data: it resets zlib's "last flush", so
            # the flush below always emits its empty stored block.
            out: bytes = c.compress(data)
            if final and not out and not data:
                # An empty message or final fragment: the stream is at a block boundary
                # (every call ends with a flush), so the flush's output (an empty stored
                # block from zlib, an empty fixed block too from ISA-L) is replaced by
                # the single 00 byte of section 7.2.3.6.  The flush still runs, to forget
                # the window under no_context_takeover.
                c.flush(self._end_flush)
                return b"\x00"
            if not final:
                flushed: bytes = c.flush(self._backend.module.Z_SYNC_FLUSH)
                return out + flushed
            flushed = c.flush(self._end_flush)
            if flushed.endswith(TAIL):
                # The usual case: at most one copy of the bulk (not a join, then a slice).
                if out:
                    return out + flushed[:-4]
                return flushed[:-4] or b"\x00"
            out += flushed
            if out.endswith(TAIL):
                # What remains ends with the first byte of that empty stored block (its
                # 3 header bits), so it is at least ``00`` (section 7.2.3.6).
                return out[:-4] or b"\x00"
            if not out:
                return b"\x00"
            raise RuntimeError(
                f"the {self._backend.name} backend did not end its flush with 00 00 ff ff"
            )
        finally:
            lock.release()

    def __repr__(self) -> str:
        return (
            f"Deflater(window_bits={self._window_bits}, no_context_takeover={self._reset}, "
            f"level={self._level}, mem_level={self._mem_level}, backend={self._backend.name!r})"
        )

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a Deflater: it holds a zlib stream")  # as Inflater

