"""permessage-deflate negotiation (API.md section 7, RFC 7692 sections 5 and 7.1):
PerMessageDeflate as a value, its offer(), negotiate() and accept(), and the
Sec-WebSocket-Extensions grammar underneath (parse_extensions).

Pure Python shared by both twins, so tested once.  Vectors carry a name; the
RFC 7692 section 7.1.3 offers are used verbatim.  Independent checks: the
websockets library's own permessage-deflate factories on the other end of the
negotiation, and zlib for the window bits handed to the codec.
"""

from __future__ import annotations

import copy
import dataclasses
import doctest
import enum
import pickle
import random
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsfast
from wsfast import deflate, handshake
from wsfast.deflate import PerMessageDeflate as P
from wsfast.deflate import parse_extensions

FIELDS = (
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
)
SNCT, CNCT, SMWB, CMWB = FIELDS
PMD = "permessage-deflate"


@pytest.mark.thread_unsafe  # doctest swaps linecache.getlines process-wide while it runs
def test_modules_doctests():
    for module in (deflate, handshake):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_exported_from_the_package():
    assert wsfast.PerMessageDeflate is P
    assert wsfast.parse_extensions is parse_extensions
    assert {"PerMessageDeflate", "parse_extensions"} <= set(wsfast.__all__)


# --- the value object -----------------------------------------------------------------


def test_defaults_and_attributes():
    p = P()
    assert (p.server_no_context_takeover, p.client_no_context_takeover) == (False, False)
    assert (p.server_max_window_bits, p.client_max_window_bits) == (15, 15)
    q = P(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=8,
        client_max_window_bits=9,
    )
    assert [getattr(q, name) for name in FIELDS] == [True, True, 8, 9]


def test_equality_hash_repr():
    a = P(server_max_window_bits=10, client_no_context_takeover=True)
    b = P(client_no_context_takeover=True, server_max_window_bits=10)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != P(server_max_window_bits=10)
    assert a != P(server_max_window_bits=11, client_no_context_takeover=True)
    assert P() != (False, False, 15, 15) and P() != "permessage-deflate"
    text = repr(a)
    assert text.startswith("PerMessageDeflate(")
    assert "server_max_window_bits=10" in text and "client_no_context_takeover=True" in text
    assert eval(text, {"PerMessageDeflate": P}) == a


def test_immutable():
    p = P()
    for name in FIELDS:
        with pytest.raises(AttributeError):
            setattr(p, name, getattr(p, name))
    with pytest.raises(AttributeError):
        p.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del p.server_max_window_bits
    assert p == P()


def test_copies():
    p = P(server_no_context_takeover=True, client_max_window_bits=12)
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.copy(p) == p and copy.deepcopy(p) == p
    assert dataclasses.replace(p, client_max_window_bits=9) == P(
        server_no_context_takeover=True, client_max_window_bits=9
    )
    with pytest.raises(ValueError):
        dataclasses.replace(p, client_max_window_bits=16)


def test_keyword_only():
    with pytest.raises(TypeError):
        P(True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        P(server_max_window_bit=10)  # type: ignore[call-arg]


@pytest.mark.parametrize("name", [SMWB, CMWB])
def test_window_bits_values(name):
    for bits in range(8, 16):
        assert getattr(P(**{name: bits}), name) == bits
    for bits in (-1, 0, 1, 7, 16, 31, 2**70, -(2**70)):
        with pytest.raises(ValueError):
            P(**{name: bits})
    # bool is an int subclass, but True is not a window: TypeError, as documented
    for value in (True, False, 10.0, "10", b"10", None, [10], 10 + 0j):
        with pytest.raises(TypeError):
            P(**{name: value})


def test_window_bits_int_subclass_is_stored_as_int():
    class Bits(enum.IntEnum):
        SMALL = 9

    p = P(server_max_window_bits=Bits.SMALL)
    assert type(p.server_max_window_bits) is int and p == P(server_max_window_bits=9)
    assert repr(p) == repr(P(server_max_window_bits=9))


@pytest.mark.parametrize("name", [SNCT, CNCT])
def test_flags_must_be_bool(name):
    assert getattr(P(**{name: True}), name) is True
    for value in (1, 0, "yes", None, 1.0):
        with pytest.raises(TypeError):
            P(**{name: value})


# --- the header grammar ---------------------------------------------------------------

PARSE_OK = [
    ("empty", "", []),
    ("only-whitespace-and-commas", " ,\t, ,", []),
    ("one-name", PMD, [(PMD, [])]),
    ("rfc6455-9.1-two-extensions", "foo, bar; baz=2", [("foo", []), ("bar", [("baz", "2")])]),
    ("bare-param", "a; b", [("a", [("b", None)])]),
    ("params-in-order", "a; z=1; y; x=3", [("a", [("z", "1"), ("y", None), ("x", "3")])]),
    ("duplicate-params-kept", "a; x=1; x=2", [("a", [("x", "1"), ("x", "2")])]),
    ("quoted-value", 'a; x="10"', [("a", [("x", "10")])]),
    ("quoted-pair", r'a; x="1\0"', [("a", [("x", "10")])]),
    ("quoted-pair-of-quote-char", r'a; x="\a\b"', [("a", [("x", "ab")])]),
    ("comma-inside-quotes-is-not-a-separator", 'a; x="1", b', [("a", [("x", "1")]), ("b", [])]),
    (
        "ows-everywhere",
        " \t a \t ; \t x \t = \t 1 \t ; y \t , \t b \t ",
        [("a", [("x", "1"), ("y", None)]), ("b", [])],
    ),
    ("no-ows", "a;x=1;y,b", [("a", [("x", "1"), ("y", None)]), ("b", [])]),
    ("empty-elements-between", "a,,, ,b,", [("a", []), ("b", [])]),
    ("names-kept-as-written", "Permessage-Deflate; X=Y", [("Permessage-Deflate", [("X", "Y")])]),
    ("every-tchar", "!#$%&'*+-.^_`|~09azAZ", [("!#$%&'*+-.^_`|~09azAZ", [])]),
    (
        "rfc7692-7.1.3-fallback-offer",
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10, "
        "permessage-deflate; client_max_window_bits",
        [
            (PMD, [(CMWB, None), (SMWB, "10")]),
            (PMD, [(CMWB, None)]),
        ],
    ),
]


@pytest.mark.parametrize("name, header, expected", PARSE_OK)
def test_parse_extensions(name, header, expected):
    assert parse_extensions(header) == expected, name
    assert parse_extensions(header.encode("latin-1")) == expected, name


PARSE_BAD = [
    ("trailing-semicolon", "a;"),
    ("empty-param", "a; ; b"),
    ("param-without-extension", "; a"),
    ("missing-semicolon", "a b"),
    ("missing-value", "a; x="),
    ("missing-value-before-next", "a; x=; y"),
    ("double-equals", "a; x==1"),
    ("two-values", "a; x=1=2"),
    ("value-then-junk", "a; x=1 2"),
    ("unterminated-quote", 'a; x="1'),
    ("unterminated-quote-after-escape", 'a; x="1\\"'),
    ("quoted-empty", 'a; x=""'),
    ("quoted-space", 'a; x="1 0"'),
    ("quoted-comma", 'a; x="1,0"'),
    ("quoted-non-ascii", 'a; x="é"'),
    ("quote-in-name", 'a"b"'),
    ("quoted-name", '"a"'),
    ("quoted-param-name", 'a; "x"=1'),
    ("separator-in-token", "a; x=1/2"),
    ("brackets", "a; x=[1]"),
    ("non-ascii-name", "dé"),
    ("control-char", "a\x00"),
    ("newline", "a;\nx=1"),
    ("crlf-folding", "a;\r\n x=1"),
    ("equals-only", "="),
    ("backslash-outside-quotes", "a; x=\\1"),
]


@pytest.mark.parametrize("name, header", PARSE_BAD)
def test_parse_extensions_rejects(name, header):
    with pytest.raises(ValueError):
        parse_extensions(header)


def test_parse_extensions_type():
    for value in (None, 1, ["a"], bytearray(b"a")):
        with pytest.raises(TypeError):
            parse_extensions(value)  # type: ignore[arg-type]


# Structured random lists: serialise, then parse back.
tokens = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcxyzABCXYZ", min_size=1, max_size=8)
ows = st.text(alphabet=" \t", max_size=2)
params = st.lists(st.tuples(tokens, st.none() | tokens), max_size=4)
extension_lists = st.lists(st.tuples(tokens, params), max_size=4)


@st.composite
def serialised(draw: st.DrawFn) -> tuple[str, list[tuple[str, list[tuple[str, str | None]]]]]:
    extensions = draw(extension_lists)
    parts = []
    for name, plist in extensions:
        text = draw(ows) + name
        for pname, value in plist:
            text += draw(ows) + ";" + draw(ows) + pname
            if value is not None:
                if draw(st.booleans()):  # quoted, with some characters escaped
                    escaped = "".join("\\" + c if draw(st.booleans()) else c for c in value)
                    value_text = f'"{escaped}"'
                else:
                    value_text = value
                text += draw(ows) + "=" + draw(ows) + value_text
        parts.append(text + draw(ows))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), draw(ows))  # an empty element
    return ",".join(parts), extensions


@given(serialised())
def test_parse_extensions_round_trip(case):
    header, expected = case
    assert parse_extensions(header) == expected


# --- offer() ----------------------------------------------------------------------------

OFFERS = [
    ("defaults", P(), PMD),
    ("explicit-15s-are-defaults", P(server_max_window_bits=15, client_max_window_bits=15), PMD),
    ("server-nct", P(server_no_context_takeover=True), f"{PMD}; {SNCT}"),
    ("client-nct", P(client_no_context_takeover=True), f"{PMD}; {CNCT}"),
    ("server-window", P(server_max_window_bits=10), f"{PMD}; {SMWB}=10"),
    ("client-window", P(client_max_window_bits=8), f"{PMD}; {CMWB}=8"),
    (
        "everything",
        P(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=9,
            client_max_window_bits=12,
        ),
        f"{PMD}; {SNCT}; {CNCT}; {SMWB}=9; {CMWB}=12",
    ),
]


@pytest.mark.parametrize("name, params, expected", OFFERS)
def test_offer(name, params, expected):
    assert params.offer() == expected, name


# --- negotiate(): the server side -----------------------------------------------------


def agreed(**kwargs: object) -> P:
    return P(**kwargs)  # type: ignore[arg-type]


NEGOTIATE_OK = [
    # name, offers, preferences, agreed, response
    ("plain", PMD, {}, agreed(), PMD),
    ("rfc7692-7.1.3-bare-client-bits", f"{PMD}; {CMWB}", {}, agreed(), PMD),
    (
        "rfc7692-7.1.3-small-server-window",
        f"{PMD}; {CMWB}; {SMWB}=10",
        {},
        agreed(server_max_window_bits=10),
        f"{PMD}; {SMWB}=10",
    ),
    (
        "rfc7692-7.1.3-fallback-offer-first-wins",
        f"{PMD}; {CMWB}; {SMWB}=10, {PMD}; {CMWB}",
        {},
        agreed(server_max_window_bits=10),
        f"{PMD}; {SMWB}=10",
    ),
    ("server-nct-echoed", f"{PMD}; {SNCT}", {}, agreed(server_no_context_takeover=True), f"{PMD}; {SNCT}"),
    ("client-nct-echoed", f"{PMD}; {CNCT}", {}, agreed(client_no_context_takeover=True), f"{PMD}; {CNCT}"),
    (
        "all-four-echoed",
        f"{PMD}; {CMWB}=12; {SMWB}=9; {CNCT}; {SNCT}",
        {},
        agreed(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=9,
            client_max_window_bits=12,
        ),
        f"{PMD}; {SNCT}; {CNCT}; {SMWB}=9; {CMWB}=12",
    ),
    ("offered-server-15-is-confirmed", f"{PMD}; {SMWB}=15", {}, agreed(), f"{PMD}; {SMWB}=15"),
    ("offered-client-15-needs-no-answer", f"{PMD}; {CMWB}=15", {}, agreed(), PMD),
    (
        "window-8-both-ways",
        f"{PMD}; {SMWB}=8; {CMWB}=8",
        {},
        agreed(server_max_window_bits=8, client_max_window_bits=8),
        f"{PMD}; {SMWB}=8; {CMWB}=8",
    ),
    ("quoted-window", f'{PMD}; {SMWB}="10"', {}, agreed(server_max_window_bits=10), f"{PMD}; {SMWB}=10"),
    ("quoted-pair-window", rf'{PMD}; {SMWB}="1\0"', {}, agreed(server_max_window_bits=10), f"{PMD}; {SMWB}=10"),
    ("quoted-client-window", f'{PMD}; {CMWB}="12"', {}, agreed(client_max_window_bits=12), f"{PMD}; {CMWB}=12"),
    (
        "whitespace-and-tabs",
        f" \t{PMD} \t;\t {CMWB} = 11 ;{SNCT}\t",
        {},
        agreed(server_no_context_takeover=True, client_max_window_bits=11),
        f"{PMD}; {SNCT}; {CMWB}=11",
    ),
    ("other-extensions-skipped", f"x-webkit-deflate-frame, foo; a=1, {PMD}, bar", {}, agreed(), PMD),
    ("bytes-header", PMD.encode(), {}, agreed(), PMD),
    ("empty-elements", f", ,{PMD},", {}, agreed(), PMD),
    # preferences
    ("pref-server-nct", PMD, {SNCT: True}, agreed(server_no_context_takeover=True), f"{PMD}; {SNCT}"),
    ("pref-client-nct-unasked", PMD, {CNCT: True}, agreed(client_no_context_takeover=True), f"{PMD}; {CNCT}"),
    ("pref-server-window-unasked", PMD, {SMWB: 10}, agreed(server_max_window_bits=10), f"{PMD}; {SMWB}=10"),
    ("pref-server-window-caps-offer", f"{PMD}; {SMWB}=12", {SMWB: 10}, agreed(server_max_window_bits=10), f"{PMD}; {SMWB}=10"),
    ("pref-server-window-above-offer", f"{PMD}; {SMWB}=9", {SMWB: 10}, agreed(server_max_window_bits=9), f"{PMD}; {SMWB}=9"),
    ("pref-server-window-8", PMD, {SMWB: 8}, agreed(server_max_window_bits=8), f"{PMD}; {SMWB}=8"),
    ("pref-client-window-bare-offer", f"{PMD}; {CMWB}", {CMWB: 10}, agreed(client_max_window_bits=10), f"{PMD}; {CMWB}=10"),
    ("pref-client-window-caps-offer", f"{PMD}; {CMWB}=12", {CMWB: 10}, agreed(client_max_window_bits=10), f"{PMD}; {CMWB}=10"),
    ("pref-client-window-above-offer", f"{PMD}; {CMWB}=9", {CMWB: 10}, agreed(client_max_window_bits=9), f"{PMD}; {CMWB}=9"),
    ("pref-client-window-15-accepts-no-param", PMD, {CMWB: 15}, agreed(), PMD),
    (
        "pref-client-window-falls-back-to-offer-that-allows-it",
        f"{PMD}, {PMD}; {CMWB}",
        {CMWB: 10},
        agreed(client_max_window_bits=10),
        f"{PMD}; {CMWB}=10",
    ),
    (
        "prefs-and-offer-combined",
        f"{PMD}; {CNCT}; {SMWB}=11; {CMWB}",
        {SNCT: True, SMWB: 12, CMWB: 9},
        agreed(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=11,
            client_max_window_bits=9,
        ),
        f"{PMD}; {SNCT}; {CNCT}; {SMWB}=11; {CMWB}=9",
    ),
    ("pref-flags-false-change-nothing", f"{PMD}; {SNCT}", {SNCT: False, CNCT: False}, agreed(server_no_context_takeover=True), f"{PMD}; {SNCT}"),
]


@pytest.mark.parametrize("name, offers, prefs, expected, response", NEGOTIATE_OK)
def test_negotiate(name, offers, prefs, expected, response):
    result = P.negotiate(offers, **prefs)
    assert result is not None, name
    got, got_response = result
    assert (got, got_response) == (expected, response), name
    assert type(got) is P and type(got_response) is str
    # The response is what a client that offered exactly this would accept.
    assert parse_extensions(got_response)[0][0] == PMD


FALLBACK = f"{PMD}; {CNCT}"
# Each offer below is declined; followed by FALLBACK, the fallback is taken instead.
DECLINED = [
    ("none", None),
    ("empty", ""),
    ("only-other-extensions", "x-webkit-deflate-frame, foo; bar=1"),
    ("case-variant-name", "Permessage-Deflate"),
    ("unknown-param", f"{PMD}; foo"),
    ("unknown-param-with-value", f"{PMD}; foo=1"),
    ("prefix-of-known-param", f"{PMD}; {SMWB}XX=10"),
    ("known-param-prefix", f"{PMD}; server_max_window=10"),
    ("case-variant-param", f"{PMD}; Server_No_Context_Takeover"),
    ("duplicate-flag", f"{PMD}; {SNCT}; {SNCT}"),
    ("duplicate-client-nct", f"{PMD}; {CNCT}; {CNCT}"),
    ("duplicate-window", f"{PMD}; {SMWB}=10; {SMWB}=10"),
    ("duplicate-client-window-bare-then-value", f"{PMD}; {CMWB}; {CMWB}=10"),
    ("duplicate-client-window-bare-twice", f"{PMD}; {CMWB}; {CMWB}"),
    ("flag-with-value", f"{PMD}; {SNCT}=true"),
    ("flag-with-quoted-value", f'{PMD}; {CNCT}="x"'),
    ("bare-server-window", f"{PMD}; {SMWB}"),
    ("window-7", f"{PMD}; {SMWB}=7"),
    ("window-16", f"{PMD}; {SMWB}=16"),
    ("window-0", f"{PMD}; {CMWB}=0"),
    ("window-leading-zero", f"{PMD}; {SMWB}=09"),
    ("window-leading-zeros-15", f"{PMD}; {CMWB}=015"),
    ("window-quoted-leading-zero", f'{PMD}; {SMWB}="08"'),
    ("window-plus-sign", f"{PMD}; {SMWB}=+9"),
    ("window-minus-sign", f"{PMD}; {CMWB}=-9"),
    ("window-decimal-point", f"{PMD}; {SMWB}=9.0"),
    ("window-hex", f"{PMD}; {SMWB}=0x9"),
    ("window-exponent", f"{PMD}; {SMWB}=1e1"),
    ("window-huge", f"{PMD}; {SMWB}=99999999999999999999"),
    ("window-word", f"{PMD}; {CMWB}=ten"),
    ("window-fullwidth-digit", f"{PMD}; {SMWB}=\uff19"),
    ("window-quoted-with-space", f'{PMD}; {SMWB}="9 "'),
    ("syntax-trailing-semicolon", f"{PMD};"),
    ("syntax-empty-param", f"{PMD}; ; {CMWB}"),
    ("syntax-missing-value", f"{PMD}; {SMWB}="),
    ("syntax-double-equals", f"{PMD}; {SMWB}==10"),
    ("syntax-missing-semicolon", f"{PMD} {SMWB}=10"),
    ("syntax-control-char", f"{PMD}\x00"),
    ("syntax-newline", f"{PMD};\n{CMWB}"),
]


@pytest.mark.parametrize("name, offers", DECLINED)
def test_negotiate_declines(name, offers):
    assert P.negotiate(offers) is None, name
    assert P.negotiate(offers, server_no_context_takeover=True, client_max_window_bits=10) is None
    if offers is not None:
        result = P.negotiate(f"{offers}, {FALLBACK}")
        assert result == (agreed(client_no_context_takeover=True), FALLBACK), name


def test_negotiate_unterminated_quote_swallows_the_rest():
    # A quoted string runs to the end of the header: nothing after it is an offer.
    assert P.negotiate(f'{PMD}; {SMWB}="10, {PMD}') is None
    assert P.negotiate(f'{PMD}, x; a="1, {PMD}; {SNCT}') == (agreed(), PMD)


def test_negotiate_declines_offer_without_client_window_when_server_prefers_one():
    for bits in range(8, 15):
        assert P.negotiate(PMD, client_max_window_bits=bits) is None
        assert P.negotiate(f"{PMD}; {SMWB}=10", client_max_window_bits=bits) is None
        result = P.negotiate(f"{PMD}; {CMWB}", client_max_window_bits=bits)
        assert result == (agreed(client_max_window_bits=bits), f"{PMD}; {CMWB}={bits}")


def test_negotiate_preferences_are_checked():
    with pytest.raises(TypeError):
        P.negotiate(PMD, server_max_window=10)
    with pytest.raises(TypeError):
        P.negotiate(None, compress_level=1)
    with pytest.raises(ValueError):
        P.negotiate(PMD, server_max_window_bits=16)
    with pytest.raises(TypeError):
        P.negotiate(PMD, client_max_window_bits=True)
    with pytest.raises(TypeError):
        P.negotiate(PMD, server_no_context_takeover="yes")
    with pytest.raises(TypeError):
        P.negotiate(42)  # type: ignore[arg-type]


# --- accept(): the client side --------------------------------------------------------

ACCEPT_OK = [
    # name, response, offered, agreed
    ("plain", PMD, P(), P()),
    ("bytes", PMD.encode(), P(), P()),
    ("server-chose-server-nct", f"{PMD}; {SNCT}", P(), P(server_no_context_takeover=True)),
    ("offered-server-nct-confirmed", f"{PMD}; {SNCT}", P(server_no_context_takeover=True), P(server_no_context_takeover=True)),
    ("server-asks-client-nct", f"{PMD}; {CNCT}", P(), P(client_no_context_takeover=True)),
    ("rfc7692-7.1.1.2-offered-client-nct-still-holds", PMD, P(client_no_context_takeover=True), P(client_no_context_takeover=True)),
    ("offered-client-nct-confirmed", f"{PMD}; {CNCT}", P(client_no_context_takeover=True), P(client_no_context_takeover=True)),
    ("rfc7692-7.1.2.2-offered-client-window-still-holds", PMD, P(client_max_window_bits=10), P(client_max_window_bits=10)),
    ("client-window-confirmed", f"{PMD}; {CMWB}=10", P(client_max_window_bits=10), P(client_max_window_bits=10)),
    ("client-window-lowered", f"{PMD}; {CMWB}=8", P(client_max_window_bits=10), P(client_max_window_bits=8)),
    ("server-window-confirmed", f"{PMD}; {SMWB}=10", P(server_max_window_bits=10), P(server_max_window_bits=10)),
    ("server-window-lowered", f"{PMD}; {SMWB}=9", P(server_max_window_bits=10), P(server_max_window_bits=9)),
    ("server-window-unasked", f"{PMD}; {SMWB}=12", P(), P(server_max_window_bits=12)),
    ("server-window-15-explicit", f"{PMD}; {SMWB}=15", P(), P()),
    ("server-window-8", f"{PMD}; {SMWB}=8", P(), P(server_max_window_bits=8)),
    ("quoted-window", f'{PMD}; {SMWB}="12"', P(), P(server_max_window_bits=12)),
    ("whitespace", f"  {PMD} ;\t{SNCT} ; {SMWB} = 11 ", P(), P(server_no_context_takeover=True, server_max_window_bits=11)),
    ("other-extension-is-the-callers", f"x-foo; a=1, {PMD}", P(), P()),
    (
        "everything",
        f"{PMD}; {SNCT}; {CNCT}; {SMWB}=9; {CMWB}=9",
        P(server_no_context_takeover=True, server_max_window_bits=10, client_max_window_bits=12),
        P(server_no_context_takeover=True, client_no_context_takeover=True, server_max_window_bits=9, client_max_window_bits=9),
    ),
]


@pytest.mark.parametrize("name, response, offered, expected", ACCEPT_OK)
def test_accept(name, response, offered, expected):
    got = P.accept(response, offered)
    assert got == expected, name
    assert type(got) is P


ACCEPT_BAD = [
    # name, response, offered -- each breaks one rule of API.md section 7
    ("does-not-parse", f"{PMD};", P()),
    ("does-not-parse-quote", f'{PMD}; {SMWB}="10', P()),
    ("empty", "", P()),
    ("no-permessage-deflate", "x-foo", P()),
    ("case-variant-name-is-not-ours", "Permessage-Deflate", P()),
    ("two-permessage-deflate", f"{PMD}, {PMD}", P()),
    ("two-permessage-deflate-apart", f"{PMD}; {SNCT}, x-foo, {PMD}", P(server_no_context_takeover=True)),
    ("unknown-param", f"{PMD}; foo", P()),
    ("unknown-param-with-value", f"{PMD}; foo=bar", P()),
    ("case-variant-param", f"{PMD}; Server_No_Context_Takeover", P()),
    ("duplicate-flag", f"{PMD}; {SNCT}; {SNCT}", P()),
    ("duplicate-client-nct", f"{PMD}; {CNCT}; {CNCT}", P(client_no_context_takeover=True)),
    ("duplicate-window", f"{PMD}; {SMWB}=10; {SMWB}=10", P(server_max_window_bits=10)),
    ("flag-with-value", f"{PMD}; {CNCT}=1", P()),
    ("bare-server-window", f"{PMD}; {SMWB}", P()),
    ("bare-client-window", f"{PMD}; {CMWB}", P(client_max_window_bits=10)),
    ("window-7", f"{PMD}; {SMWB}=7", P()),
    ("window-16", f"{PMD}; {SMWB}=16", P()),
    ("window-leading-zero", f"{PMD}; {SMWB}=09", P()),
    ("window-not-a-number", f"{PMD}; {CMWB}=ten", P(client_max_window_bits=10)),
    ("server-window-above-offered", f"{PMD}; {SMWB}=11", P(server_max_window_bits=10)),
    ("server-window-15-above-offered", f"{PMD}; {SMWB}=15", P(server_max_window_bits=14)),
    ("server-window-missing-counts-as-15", PMD, P(server_max_window_bits=10)),
    ("offered-server-nct-missing", PMD, P(server_no_context_takeover=True)),
    ("offered-server-nct-missing-others-there", f"{PMD}; {CNCT}; {SMWB}=9", P(server_no_context_takeover=True, server_max_window_bits=9)),
    ("client-window-not-offered", f"{PMD}; {CMWB}=10", P()),
    ("client-window-15-not-offered", f"{PMD}; {CMWB}=15", P()),
    ("client-window-above-offered", f"{PMD}; {CMWB}=11", P(client_max_window_bits=10)),
]


@pytest.mark.parametrize("name, response, offered", ACCEPT_BAD)
def test_accept_rejects(name, response, offered):
    with pytest.raises(ValueError):
        P.accept(response, offered)


def test_accept_types():
    with pytest.raises(TypeError):
        P.accept(PMD, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        P.accept(PMD, {"server_max_window_bits": 10})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        P.accept(None, P())  # type: ignore[arg-type]


# --- round trips ------------------------------------------------------------------------

bits = st.integers(8, 15)
param_objects = st.builds(
    P,
    server_no_context_takeover=st.booleans(),
    client_no_context_takeover=st.booleans(),
    server_max_window_bits=bits,
    client_max_window_bits=bits,
)
preferences = st.fixed_dictionaries(
    {},
    optional={SNCT: st.booleans(), CNCT: st.booleans(), SMWB: bits, CMWB: bits},
)


@given(param_objects, preferences)
def test_offer_negotiate_accept_agree(client, prefs):
    server = P(**prefs)
    result = P.negotiate(client.offer(), **prefs)
    if server.client_max_window_bits < 15 and client.client_max_window_bits == 15:
        assert result is None  # the only offer a server may decline
        return
    assert result is not None
    agreed_params, response = result
    assert P.accept(response, client) == agreed_params
    assert agreed_params.server_no_context_takeover == (
        client.server_no_context_takeover or server.server_no_context_takeover
    )
    assert agreed_params.client_no_context_takeover == (
        client.client_no_context_takeover or server.client_no_context_takeover
    )
    assert agreed_params.server_max_window_bits == min(
        client.server_max_window_bits, server.server_max_window_bits
    )
    assert agreed_params.client_max_window_bits == min(
        client.client_max_window_bits, server.client_max_window_bits
    )
    if not prefs:
        assert agreed_params == client  # "agrees to the offer as it is"


@given(param_objects, param_objects, preferences)
def test_first_acceptable_of_two_offers(first, second, prefs):
    both = P.negotiate(f"{first.offer()}, {second.offer()}", **prefs)
    alone = P.negotiate(first.offer(), **prefs)
    assert both == (alone if alone is not None else P.negotiate(second.offer(), **prefs))


@given(param_objects)
def test_response_negotiates_to_itself(client):
    agreed_params, response = P.negotiate(client.offer())  # type: ignore[misc]
    assert P.negotiate(response) == (agreed_params, response)


# --- negotiate() never raises on what a client sends -------------------------------------

vocabulary = st.sampled_from(
    [PMD, "x-foo", SNCT, CNCT, SMWB, CMWB, "8", "9", "15", "16", "08", "=", ";", ",", '"', "\\",
     " ", "\t", '"10"', "foo", "é", "\x00", "\r\n"]
)
header_soup = st.lists(vocabulary, max_size=25).map("".join)
NEVER_RAISE = settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)


def check_negotiation_result(header: str, prefs: dict[str, object]) -> None:
    result = P.negotiate(header, **prefs)
    if result is None:
        return
    agreed_params, response = result
    assert isinstance(agreed_params, P) and isinstance(response, str)
    # The response is well formed, names one permessage-deflate, and offered back it
    # means the same parameters.
    assert [name for name, _ in parse_extensions(response)] == [PMD]
    assert P.negotiate(response) == (agreed_params, response)


@NEVER_RAISE
@given(st.text(max_size=200), preferences)
def test_negotiate_never_raises_on_text(header, prefs):
    check_negotiation_result(header, prefs)


@NEVER_RAISE
@given(header_soup, preferences)
def test_negotiate_never_raises_on_near_headers(header, prefs):
    check_negotiation_result(header, prefs)


@NEVER_RAISE
@given(st.binary(max_size=200))
def test_negotiate_never_raises_on_bytes(header):
    check_negotiation_result(header, {})  # type: ignore[arg-type]


# --- against another implementation: the websockets library ------------------------------


# websockets refuses windows of 8 altogether (its compressor would need zlib's -8),
# where wsfast accepts them (see test_window_bits_work_with_zlib): compare on 9-15.
ws_bits = st.integers(9, 15)
ws_preferences = st.fixed_dictionaries(
    {},
    optional={SNCT: st.booleans(), CNCT: st.booleans(), SMWB: ws_bits, CMWB: ws_bits},
)
ws_param_objects = st.builds(
    P,
    server_no_context_takeover=st.booleans(),
    client_no_context_takeover=st.booleans(),
    server_max_window_bits=ws_bits,
    client_max_window_bits=ws_bits,
)


def websockets_factories():  # type: ignore[no-untyped-def]
    pmd = pytest.importorskip("websockets.extensions.permessage_deflate")
    headers = pytest.importorskip("websockets.headers")
    exceptions = pytest.importorskip("websockets.exceptions")
    return pmd, headers, exceptions.NegotiationError


@settings(max_examples=200)
@given(
    st.booleans(),
    st.booleans(),
    st.none() | ws_bits,
    st.booleans() | ws_bits,
    ws_preferences,
)
def test_websockets_client_accepts_our_answer(snct, cnct, sbits, cbits, prefs):
    pmd, headers, negotiation_error = websockets_factories()
    client = pmd.ClientPerMessageDeflateFactory(
        server_no_context_takeover=snct,
        client_no_context_takeover=cnct,
        server_max_window_bits=sbits,
        client_max_window_bits=cbits or None,
    )
    offer = headers.build_extension([(client.name, client.get_request_params())])
    result = P.negotiate(offer, **prefs)
    if result is None:
        # only when we want a smaller client window than the client lets us name
        assert P(**prefs).client_max_window_bits < 15 and not cbits
        return
    agreed_params, response = result
    [(name, params)] = headers.parse_extension(response)
    extension = client.process_response_params(params, [])  # raises if it disagrees
    assert (
        extension.remote_no_context_takeover,
        extension.local_no_context_takeover,
        extension.remote_max_window_bits,
        extension.local_max_window_bits,
    ) == (
        agreed_params.server_no_context_takeover,
        agreed_params.client_no_context_takeover,
        agreed_params.server_max_window_bits,
        agreed_params.client_max_window_bits,
    )


@settings(max_examples=200)
@given(ws_param_objects, st.booleans(), st.booleans(), st.none() | ws_bits, st.none() | ws_bits)
def test_we_accept_a_websockets_server_answer(client, snct, cnct, sbits, cbits):
    pmd, headers, negotiation_error = websockets_factories()
    server = pmd.ServerPerMessageDeflateFactory(
        server_no_context_takeover=snct,
        client_no_context_takeover=cnct,
        server_max_window_bits=sbits,
        client_max_window_bits=cbits,
    )
    [(name, params)] = headers.parse_extension(client.offer())
    try:
        response_params, extension = server.process_request_params(params, [])
    except negotiation_error:
        return  # that server declines this offer
    response = headers.build_extension([(name, response_params)])
    assert P.accept(response, client) == P(
        server_no_context_takeover=extension.local_no_context_takeover,
        client_no_context_takeover=extension.remote_no_context_takeover,
        server_max_window_bits=extension.local_max_window_bits,
        client_max_window_bits=extension.remote_max_window_bits,
    )


# --- what the codec reads: zlib window bits and context takeover per role -------------------


def test_role_helpers():
    p = P(
        server_no_context_takeover=True,
        client_no_context_takeover=False,
        server_max_window_bits=8,
        client_max_window_bits=12,
    )
    # the server compresses with its own window (8 -> zlib's -9) and inflates the client's
    assert p.deflate_wbits(client=False) == -9
    assert p.inflate_wbits(client=False) == -12
    assert p.deflate_no_context_takeover(client=False) is True
    assert p.inflate_no_context_takeover(client=False) is False
    # the client is the mirror image
    assert p.deflate_wbits(client=True) == -12
    assert p.inflate_wbits(client=True) == -8
    assert p.deflate_no_context_takeover(client=True) is False
    assert p.inflate_no_context_takeover(client=True) is True
    with pytest.raises(TypeError):
        p.deflate_wbits(True)  # type: ignore[misc]  # keyword-only: the role must be named


def repeats_at_every_distance(seed: int) -> bytes:
    """Data whose matches lie at distances 1..600, across the 256- and 512-byte marks."""
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(64))
    while len(data) < 20000:
        distance = rng.randint(1, 600)
        if distance < len(data) and rng.random() < 0.7:
            start = len(data) - distance
            for k in range(rng.randint(3, 60)):
                data.append(data[start + k])
        else:
            data += rng.randbytes(rng.randint(1, 16))
    return bytes(data)


@pytest.mark.parametrize("window", range(8, 16))
def test_window_bits_work_with_zlib(window):
    """Each side's compressor output inflates with the window the other side agreed to."""
    p = P(server_max_window_bits=window, client_max_window_bits=window)
    for client in (False, True):
        for level in (1, 6, 9):
            data = repeats_at_every_distance(window * 10 + level)
            compressor = zlib.compressobj(level, zlib.DEFLATED, p.deflate_wbits(client=client))
            wire = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            # the peer inflates with exactly the agreed window: -8 for a window of 8
            inflater = zlib.decompressobj(p.inflate_wbits(client=not client))
            assert inflater.decompress(wire) == data, (window, client, level)
