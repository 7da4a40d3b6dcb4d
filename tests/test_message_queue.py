"""MessageDecoder's queue path on both twins (``_set_queue``, ``_feed_queue``,
``_last_feed``, ``_queue_messages``): what ``wsfast.integrations.aiohttp``
hands aiohttp's queue, with the flow-control room and the idle points its
hand-over replays from.  A twin differential is in test_differential.py."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from helpers import chunk_bytewise, message_tuple
from vectors import BINARY, CLOSE, CONT, KEY, PING, PONG, TEXT, close_payload, frame
from wsfast.errors import InvalidDataError, MessageTooBigError


class Msg(NamedTuple):
    """Stands in for aiohttp's WSMessage."""

    kind: Any
    data: Any
    extra: Any


class TextBytes(NamedTuple):
    """Stands in for aiohttp's WSMessageTextBytes."""

    kind: Any
    data: Any
    extra: Any


class WithDict(tuple):  # noqa: SLOT001  (the point: instances have a __dict__)
    """Up to CPython 3.11 its __dict__ pointer follows the items, so its
    layout is not a tuple's; from 3.12 the dict lives before the object
    (a managed dict) and the layout is a tuple's."""


OVERHEAD = 128


class Sink:
    """A queue's ``feed_data``: what it got, in order."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, int]] = []

    def __call__(self, item: Any, size: int) -> None:
        self.items.append((item, size))

    def seen(self) -> list[tuple[str, str, Any, Any, int]]:
        return [(type(m).__name__, m.kind, m.data, m.extra, size) for m, size in self.items]


def decoder(twin: Any, **options: Any) -> tuple[Any, Sink]:
    options.setdefault("max_message_size", None)
    d = twin.MessageDecoder(**options)
    sink = Sink()
    d._set_queue(sink, OVERHEAD, "T", "B", "", Msg, TextBytes)
    return d, sink


def m(opcode: int, payload: bytes, **kw: Any) -> bytes:
    """A masked frame, as a client sends."""
    return frame(opcode, payload, key=KEY, **kw)


def test_data_messages_go_to_the_queue(twin: Any) -> None:
    d, sink = decoder(twin)
    wire = m(TEXT, "h\u00e9llo".encode()) + m(BINARY, b"\x00\xff") + m(TEXT, b"")
    assert d._feed_queue(wire, 1 << 20) == []
    assert sink.seen() == [
        ("Msg", "T", "h\u00e9llo", "", 6),  # the size is in bytes, as UTF-8
        ("Msg", "B", b"\x00\xff", "", 2),
        ("Msg", "T", "", "", 0),
    ]
    assert all(type(item.data) in (str, bytes) for item, _ in sink.items)
    assert d._last_feed() == (3, len(wire), 0)


def test_text_as_bytes_uses_the_text_bytes_class(twin: Any) -> None:
    d, sink = decoder(twin, decode_text=False)
    d._feed_queue(m(TEXT, "\u00e9".encode()) + m(BINARY, b"x"), 1 << 20)
    assert sink.seen() == [("TextBytes", "T", "\u00e9".encode(), "", 2), ("Msg", "B", b"x", "", 1)]


def test_fragmented_and_long_messages_are_queued_whole(twin: Any) -> None:
    d, sink = decoder(twin)
    big = bytes(range(256)) * 300
    wire = m(TEXT, b"ab", fin=False) + m(CONT, b"cd") + m(BINARY, big)
    for piece in chunk_bytewise(wire[:40]) + [wire[40:]]:
        assert d._feed_queue(piece, 1 << 30) == []
    assert sink.seen() == [("Msg", "T", "abcd", "", 4), ("Msg", "B", big, "", len(big))]


def test_control_messages_and_all_after_them_go_to_the_list(twin: Any) -> None:
    d, sink = decoder(twin)
    wire = m(BINARY, b"1") + m(PING, b"p") + m(BINARY, b"2") + m(PONG, b"") + m(TEXT, b"3")
    rest = d._feed_queue(wire, 1 << 20)
    assert sink.seen() == [("Msg", "B", b"1", "", 1)]
    assert [message_tuple(x) for x in rest] == [
        (PING, b"p"), (BINARY, b"2"), (PONG, b""), (TEXT, "3")]
    assert d._last_feed() == (1, len(wire), 0)
    # The list's data messages, queued later, stop at the next control message.
    assert d._queue_messages(rest, 1, 1 << 20) == 2
    assert d._queue_messages(rest, 2, 1 << 20) == 2
    assert d._queue_messages(rest, 3, 1 << 20) == 4
    assert d._queue_messages(rest, 4, 1 << 20) == 4
    assert sink.seen()[1:] == [("Msg", "B", b"2", "", 1), ("Msg", "T", "3", "", 1)]


@pytest.mark.parametrize("room", [-1, 0, 127, 128, 129, 129 + 129, 10_000])
def test_room_as_aiohttp_counts_it(twin: Any, room: int) -> None:
    """A message is queued while the room is not negative; each takes its size
    plus the overhead, so the one that crosses the limit is queued too."""
    d, sink = decoder(twin)
    rest = d._feed_queue(m(BINARY, b"a") * 5, room)
    queued = 0 if room < 0 else min(5, room // (1 + OVERHEAD) + 1)
    assert len(sink.items) == queued and len(rest) == 5 - queued
    assert d._last_feed()[0] == queued
    other, other_sink = decoder(twin)
    assert other._queue_messages(other.feed(m(BINARY, b"a") * 5), 0, room) == queued
    assert len(other_sink.items) == queued


def test_plain_feed_never_queues(twin: Any) -> None:
    d, sink = decoder(twin)
    assert [message_tuple(x) for x in d.feed(m(TEXT, b"x"))] == [(TEXT, "x")]
    assert sink.items == [] and d._last_feed() == (0, 7, 0)


def test_idle_points_and_messages_since(twin: Any) -> None:
    """``_last_feed`` says where the input last left no data message open and
    how many messages completed after that: a hand-over replays from there."""
    d, _ = decoder(twin)
    first, second, ping = m(TEXT, b"ab", fin=False), m(CONT, b"cd"), m(PING, b"p")
    whole = m(BINARY, b"x" * 200)
    d._feed_queue(whole[:50], 1 << 20)
    assert d._last_feed() == (0, -1, 0)
    d._feed_queue(whole[50:] + first, 1 << 20)
    assert d._last_feed() == (1, len(whole) - 50, 0)
    d._feed_queue(ping + second[:3], 1 << 20)
    assert d._last_feed() == (0, -1, 1)  # the PING, inside the open message
    d._feed_queue(second[3:] + ping, 1 << 20)
    assert d._last_feed() == (1, len(second) - 3 + len(ping), 0)


def test_close_is_not_an_idle_point(twin: Any) -> None:
    d, sink = decoder(twin)
    one = m(BINARY, b"1")
    wire = one + m(TEXT, b"a", fin=False) + m(CLOSE, close_payload(1000)) + m(BINARY, b"2")
    rest = d._feed_queue(wire, 1 << 20)
    assert [message_tuple(x) for x in rest] == [(CLOSE, close_payload(1000))]
    assert d._last_feed() == (1, len(one), 1) and d.closed
    assert len(sink.items) == 1


def test_an_error_keeps_what_was_queued(twin: Any) -> None:
    d, sink = decoder(twin)
    good = m(BINARY, b"1") + m(PING, b"") + m(BINARY, b"2")
    with pytest.raises(InvalidDataError) as info:
        d._feed_queue(good + m(TEXT, b"\xff"), 1 << 20)
    assert len(sink.items) == 1
    assert [message_tuple(x) for x in info.value.decoded] == [(PING, b""), (BINARY, b"2")]
    assert d._last_feed() == (1, len(good), 0)
    with pytest.raises(InvalidDataError):
        d._feed_queue(m(BINARY, b"3"), 1 << 20)
    assert len(sink.items) == 1


def test_limits_apply_as_in_feed(twin: Any) -> None:
    d, sink = decoder(twin, max_message_size=3)
    with pytest.raises(MessageTooBigError):
        d._feed_queue(m(BINARY, b"123") + m(BINARY, b"1234"), 1 << 20)
    assert sink.seen() == [("Msg", "B", b"123", "", 3)]


@pytest.mark.parametrize("text", ["", "a", "\u00e9", "\u00ffa", "\u07ff\u0800\uffff", "\u65e5\u672c",
                                  "\U0001f600x", "\U0010ffff\u20ac\u00e9a"])
def test_queue_messages_measures_text_as_utf8(twin: Any, text: str) -> None:
    """A message made by hand, or kept from a feed, is measured as UTF-8."""
    d, sink = decoder(twin)
    made = [twin.Message(TEXT, text), twin.Message(BINARY, bytearray(b"ab"))]
    assert d._queue_messages(made, 0, 1 << 20) == 2
    size = len(text.encode())
    assert sink.seen() == [("Msg", "T", text, "", size), ("Msg", "B", b"ab", "", 2)]


def test_refusals(twin: Any) -> None:
    d = twin.MessageDecoder()
    with pytest.raises(RuntimeError, match="_set_queue"):
        d._feed_queue(b"", 0)
    with pytest.raises(RuntimeError, match="_set_queue"):
        d._queue_messages([], 0, 0)
    for wrong in (list, "Msg", int):
        with pytest.raises(TypeError):
            d._set_queue(Sink(), OVERHEAD, "T", "B", "", wrong, TextBytes)
        with pytest.raises(TypeError):
            d._set_queue(Sink(), OVERHEAD, "T", "B", "", Msg, wrong)
    d, sink = decoder(twin)
    with pytest.raises(IndexError):
        d._queue_messages([], -1, 0)
    with pytest.raises(TypeError):
        d._queue_messages([(TEXT, "x")], 0, 0)
    with pytest.raises(TypeError):
        d._queue_messages((), 0, 0)
    with pytest.raises(TypeError):
        d._queue_messages(None, 0, 0)
    assert sink.items == []


@pytest.mark.parametrize("cut", [0, 1, 2, 5])
def test_queue_messages_reads_the_list_as_the_queue_leaves_it(twin: Any, cut: int) -> None:
    """The queue's call may shrink or grow the list being queued: each
    message is fetched as the list is at that moment, so the call ends at
    its end as it is then, never past it (the compiled twin once read
    freed memory here)."""
    d = twin.MessageDecoder()
    kept = [twin.Message(BINARY, bytes([i])) for i in range(6)]
    got: list[Any] = []

    def shrink(item: Any, size: int) -> None:
        got.append(item.data)
        if len(got) == 1:
            del kept[cut:]

    d._set_queue(shrink, OVERHEAD, "T", "B", "", Msg, TextBytes)
    assert d._queue_messages(kept, 0, 1 << 20) == max(cut, 1)
    assert got == [b"\x00"] + [bytes([i]) for i in range(1, cut)]

    def grow(item: Any, size: int) -> None:
        got.append(item.data)
        if len(kept) < 4:
            kept.append(twin.Message(TEXT, "more"))

    got.clear()
    kept[:] = [twin.Message(BINARY, b"a")]
    d._set_queue(grow, OVERHEAD, "T", "B", "", Msg, TextBytes)
    assert d._queue_messages(kept, 0, 1 << 20) == 4
    assert got == [b"a", "more", "more", "more"]


def test_a_tuple_subclass_is_taken_when_its_layout_is_a_tuples(twin: Any) -> None:
    """What decides is the layout (items where a tuple has them), which a
    __dict__ changes only where it follows the items (CPython < 3.12)."""
    d = twin.MessageDecoder()
    if WithDict.__basicsize__ != tuple.__basicsize__:
        with pytest.raises(TypeError, match="fields"):
            d._set_queue(Sink(), OVERHEAD, "T", "B", "", WithDict, TextBytes)
        with pytest.raises(TypeError, match="fields"):
            d._set_queue(Sink(), OVERHEAD, "T", "B", "", Msg, WithDict)
        return
    sink = Sink()
    d._set_queue(sink, OVERHEAD, "T", "B", "", WithDict, TextBytes)
    d._feed_queue(m(BINARY, b"ab"), 1 << 20)
    ((item, size),) = sink.items
    assert type(item) is WithDict and tuple(item) == ("B", b"ab", "") and size == 2
    item.note = "a dict of its own"
    assert vars(item) == {"note": "a dict of its own"}


def test_a_failing_queue_fails_the_decoder(twin: Any) -> None:
    d = twin.MessageDecoder(max_message_size=None)

    def refuse(item: Any, size: int) -> None:
        raise OSError("full")

    d._set_queue(refuse, OVERHEAD, "T", "B", "", Msg, TextBytes)
    with pytest.raises(OSError, match="full"):
        d._feed_queue(m(BINARY, b"1"), 1 << 20)
    assert d.failed


def test_the_queue_cannot_be_changed_from_inside_a_feed(twin: Any) -> None:
    """A queue whose feed_data gives the decoder another queue is refused
    (RuntimeError, as a re-entrant feed() is), and the decoder fails."""
    d = twin.MessageDecoder(max_message_size=None)
    got: list[Any] = []

    def reentrant(item: Any, size: int) -> None:
        got.append(item)
        d._set_queue(Sink(), OVERHEAD, "T", "B", "", Msg, TextBytes)

    d._set_queue(reentrant, OVERHEAD, "T", "B", "", Msg, TextBytes)
    with pytest.raises(RuntimeError):
        d._feed_queue(m(BINARY, b"1") + m(BINARY, b"2"), 1 << 20)
    assert len(got) == 1 and d.failed
