"""permessage-deflate (RFC 7692) negotiation, sans-I/O: parameters, offers, responses.

:class:`PerMessageDeflate` holds the four parameters agreed for one connection and
does both sides of the ``Sec-WebSocket-Extensions`` exchange:

- a client sends :meth:`PerMessageDeflate.offer` and reads the server's answer with
  :meth:`PerMessageDeflate.accept`, which raises ``ValueError`` when the client
  must fail the connection;
- a server hands the client's header to :meth:`PerMessageDeflate.negotiate`, which
  picks the first acceptable offer and never raises on what the peer sent.

:func:`parse_extensions` is the header grammar underneath (RFC 6455 section 9.1,
RFC 7230 sections 3.2.6 and 7).  Everything here is pure Python, shared by both
twins; compression itself is the codec's business.

Choices this module makes where the RFCs leave room (each is tested):

- Extension and parameter names compare exactly (``permessage-deflate``, not
  ``Permessage-Deflate``), as the IANA registry spells them.
- A window value is ``8`` to ``15`` written without sign or leading zero
  (RFC 7692 section 7.1.2.1); a quoted value (``"10"``) counts as its content.
- :meth:`~PerMessageDeflate.offer` names ``client_max_window_bits`` only when the
  client limits its window below 15, so an offered 15 means "not offered", and a
  response that then names it is refused (RFC 7692 section 7.1.2.2).
- A server accepts a window of 8: the codec compresses it with zlib's wbits -9,
  whose matches never reach back more than 250 bytes, so a peer that inflates with
  a 256-byte window reads it (see :meth:`~PerMessageDeflate.deflate_wbits`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

__all__ = ["EXTENSION_NAME", "PerMessageDeflate", "parse_extensions"]

#: The extension token of RFC 7692 section 7.
EXTENSION_NAME = "permessage-deflate"

#: One extension of a ``Sec-WebSocket-Extensions`` list: its name and its
#: parameters in order, each ``(name, value)`` with ``None`` for a bare parameter.
Extension = tuple[str, list[tuple[str, str | None]]]

_SERVER_NCT = "server_no_context_takeover"
_CLIENT_NCT = "client_no_context_takeover"
_SERVER_BITS = "server_max_window_bits"
_CLIENT_BITS = "client_max_window_bits"
_PARAMETERS = (_SERVER_NCT, _CLIENT_NCT, _SERVER_BITS, _CLIENT_BITS)
_DEFAULT_BITS = 15
#: RFC 7692 section 7.1.2.1: "a decimal integer value without leading zeroes
#: between 8 to 15, inclusive" -- these spellings and no others.
_WINDOW_VALUES = {str(bits): bits for bits in range(8, 16)}

# RFC 7230 section 3.2.6: token and quoted-string (with quoted-pair); obs-text
# (0x80-0xFF) may be quoted but is never a token.
_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"')
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


# --- the header grammar ---------------------------------------------------------------


def _split_list(header: str) -> list[str]:
    """Split a header value at the commas that are not inside a quoted string."""
    elements: list[str] = []
    start = 0
    quoted = escaped = False
    for i, char in enumerate(header):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ",":
            elements.append(header[start:i])
            start = i + 1
    elements.append(header[start:])
    return elements


def _skip_ows(text: str, pos: int) -> int:
    """The position after the optional whitespace (SP / HTAB) at ``pos``."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _parse_element(element: str) -> Extension | None:
    """One list element: ``None`` when it is empty, ``ValueError`` when it is malformed.

    ``extension = token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] )``;
    RFC 6455 section 9.1 requires a quoted value to be a token once unescaped.
    """
    pos = _skip_ows(element, 0)
    if pos == len(element):
        return None  # RFC 7230 section 7: empty list elements are ignored
    name = _TOKEN.match(element, pos)
    if name is None:
        raise ValueError(f"expected an extension name at {element[pos:]!r}")
    params: list[tuple[str, str | None]] = []
    pos = name.end()
    while True:
        pos = _skip_ows(element, pos)
        if pos == len(element):
            return name.group(), params
        if element[pos] != ";":
            raise ValueError(f"expected ';' or ',' at {element[pos:]!r}")
        pos = _skip_ows(element, pos + 1)
        param = _TOKEN.match(element, pos)
        if param is None:
            raise ValueError(f"expected a parameter name at {element[pos:]!r}")
        pos = _skip_ows(element, param.end())
        value: str | None = None
        if pos < len(element) and element[pos] == "=":
            pos = _skip_ows(element, pos + 1)
            token = _TOKEN.match(element, pos)
            quoted = _QUOTED.match(element, pos)
            if token is not None:
                value, pos = token.group(), token.end()
            elif quoted is not None:
                value, pos = _QUOTED_PAIR.sub(r"\1", quoted.group(1)), quoted.end()
                if _TOKEN.fullmatch(value) is None:
                    raise ValueError(f"quoted value {quoted.group()!r} is not a token")
            else:
                raise ValueError(f"expected a parameter value at {element[pos:]!r}")
        params.append((param.group(), value))


def _as_text(header: str | bytes) -> str:
    if isinstance(header, bytes):
        return header.decode("latin-1")  # HTTP field values are octets; obs-text is never a token
    if isinstance(header, str):
        return header
    raise TypeError(f"a header value must be str or bytes, not {type(header).__name__}")


def parse_extensions(header: str | bytes) -> list[Extension]:
    """Parse a ``Sec-WebSocket-Extensions`` value into ``[(name, [(param, value), ...]), ...]``.

    Extensions and their parameters keep their order (a client lists its offers by
    preference).  A bare parameter has the value ``None``; a quoted value is
    returned without its quotes and escaping backslashes.  Optional whitespace (spaces
    and tabs) is allowed around ``,``, ``;`` and ``=`` and at both ends; empty list
    elements (``a, , b``) are skipped, so an empty value gives ``[]``.  Several
    header lines are one list: join them with ``", "`` first.  ``bytes`` are read
    as Latin-1.

    Raises ``ValueError`` for anything else: a character outside a token, a missing
    name or value, an unterminated quoted string, or a quoted value that is not a
    token once unescaped (RFC 6455 section 9.1).  Names and values are not
    interpreted here: ``permessage-deflate; foo=bar`` parses fine.

    >>> parse_extensions('permessage-deflate; client_max_window_bits, x-foo; a="b"')
    [('permessage-deflate', [('client_max_window_bits', None)]), ('x-foo', [('a', 'b')])]
    """
    extensions = []
    for element in _split_list(_as_text(header)):
        extension = _parse_element(element)
        if extension is not None:
            extensions.append(extension)
    return extensions


def _parse_offers(header: str | bytes) -> list[Extension | None]:
    """Like :func:`parse_extensions`, but a malformed element becomes ``None``.

    A server declines a malformed offer and reads on, so one bad element must not
    hide the offers around it; the split at commas outside quoted strings keeps
    the other elements intact.
    """
    offers: list[Extension | None] = []
    for element in _split_list(_as_text(header)):
        try:
            extension = _parse_element(element)
        except ValueError:
            offers.append(None)
        else:
            if extension is not None:
                offers.append(extension)
    return offers


def _read_params(params: list[tuple[str, str | None]], *, response: bool) -> dict[str, int | None]:
    """Check one ``permessage-deflate`` element's parameters (RFC 7692 section 7.1).

    Returns ``{name: value}``: ``None`` for a flag and for a bare
    ``client_max_window_bits`` (allowed in an offer only), the window as an int.
    Raises ``ValueError`` for an unknown or duplicate parameter, a flag with a
    value, or a window that is missing or not 8-15 without leading zeros.
    """
    seen: dict[str, int | None] = {}
    for name, value in params:
        if name not in _PARAMETERS:
            raise ValueError(f"unknown parameter {name!r}")
        if name in seen:
            raise ValueError(f"duplicate parameter {name!r}")
        if name in (_SERVER_NCT, _CLIENT_NCT):
            if value is not None:
                raise ValueError(f"{name} takes no value, got {value!r}")
            seen[name] = None
        elif value is None:
            if name == _SERVER_BITS or response:
                raise ValueError(f"{name} needs a value")
            seen[name] = None  # an offer's bare client_max_window_bits (7.1.2.2)
        elif value in _WINDOW_VALUES:
            seen[name] = _WINDOW_VALUES[value]
        else:
            raise ValueError(f"{name} must be 8 to 15 without leading zeros, got {value!r}")
    return seen


# --- the agreed parameters ------------------------------------------------------------


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _check_bits(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 8 <= value <= 15:
        raise ValueError(f"{name} must be 8 to 15, got {value}")
    return int(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PerMessageDeflate:
    """The permessage-deflate parameters of one connection (RFC 7692 section 7.1).

    ``PerMessageDeflate(*, server_no_context_takeover=False,
    client_no_context_takeover=False, server_max_window_bits=15,
    client_max_window_bits=15)``

    - ``server_no_context_takeover`` / ``client_no_context_takeover``: that side
      compresses every message with an empty window (no reference to earlier
      messages), so the other side may drop its inflater between messages.
    - ``server_max_window_bits`` / ``client_max_window_bits``: the base-2 logarithm
      of the LZ77 window that side compresses with, 8 to 15 (256 bytes to 32 KiB);
      the other side inflates with a window that large.

    The object is an immutable value: equal when the parameters are equal,
    hashable, and copied with :func:`dataclasses.replace`.  The flags must be
    ``bool`` and the windows ``int`` (``bool`` is refused too, although it is an
    ``int`` subclass: ``True`` is not a window): another type raises
    ``TypeError``, an ``int`` outside 8-15 raises ``ValueError``.

    The same object configures both ends: each reads its own direction from its
    role (see :meth:`deflate_wbits`, :meth:`inflate_wbits`).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = _DEFAULT_BITS
    client_max_window_bits: int = _DEFAULT_BITS

    def __post_init__(self) -> None:
        _check_flag(_SERVER_NCT, self.server_no_context_takeover)
        _check_flag(_CLIENT_NCT, self.client_no_context_takeover)
        for name in (_SERVER_BITS, _CLIENT_BITS):
            # an int subclass (an IntEnum, say) is stored as a plain int
            object.__setattr__(self, name, _check_bits(name, getattr(self, name)))

    # --- client side ----------------------------------------------------------------

    def offer(self) -> str:
        """The ``Sec-WebSocket-Extensions`` value a client sends to offer these parameters.

        Each parameter appears only when it differs from the default: the flags
        when set, a window when below 15.  So ``PerMessageDeflate().offer()`` is
        ``"permessage-deflate"``, and ``client_max_window_bits`` is named (with its
        value, never bare) only when the client limits its own window: a client
        that offers 15 has not offered ``client_max_window_bits``, and
        :meth:`accept` refuses a response that names it (RFC 7692 section 7.1.2.2).
        """
        parts = [EXTENSION_NAME]
        if self.server_no_context_takeover:
            parts.append(_SERVER_NCT)
        if self.client_no_context_takeover:
            parts.append(_CLIENT_NCT)
        if self.server_max_window_bits < _DEFAULT_BITS:
            parts.append(f"{_SERVER_BITS}={self.server_max_window_bits}")
        if self.client_max_window_bits < _DEFAULT_BITS:
            parts.append(f"{_CLIENT_BITS}={self.client_max_window_bits}")
        return "; ".join(parts)

    @classmethod
    def accept(cls, response: str | bytes, offered: PerMessageDeflate) -> PerMessageDeflate:
        """Client side: the parameters to use, from the server's response to ``offered``.

        ``response`` is the ``Sec-WebSocket-Extensions`` value of the server's 101
        response (call this only when it has one); ``offered`` is the object whose
        :meth:`offer` the client sent.  Extensions other than permessage-deflate in
        ``response`` are the caller's to check and are skipped here.

        What the server left out of the response keeps its offered value where
        RFC 7692 says the client's offer still binds it: ``client_no_context_takeover``
        (section 7.1.1.2) and ``client_max_window_bits=N`` (section 7.1.2.2).  An
        absent ``server_max_window_bits`` means 15.

        Raises ``ValueError`` for a response the client must not accept (and must
        then fail the connection, RFC 6455 section 9.1): it does not parse; it has
        no ``permessage-deflate`` or more than one; a parameter is unknown,
        duplicated or invalid (a flag with a value, a window that is bare or not
        8-15); ``server_max_window_bits`` is above the offered value (an absent one
        counts as 15); ``server_no_context_takeover`` was offered but is missing;
        ``client_max_window_bits`` appears although it was not offered (offered as
        15) or is above the offered value.
        """
        if not isinstance(offered, PerMessageDeflate):
            raise TypeError(f"offered must be a PerMessageDeflate, not {type(offered).__name__}")
        found = [params for name, params in parse_extensions(response) if name == EXTENSION_NAME]
        if len(found) != 1:
            raise ValueError(
                f"the response must accept exactly one {EXTENSION_NAME}, found {len(found)}"
            )
        params = _read_params(found[0], response=True)

        server_nct = _SERVER_NCT in params
        if offered.server_no_context_takeover and not server_nct:
            raise ValueError(f"the response lacks the offered {_SERVER_NCT}")

        server_bits = params.get(_SERVER_BITS, _DEFAULT_BITS)
        assert server_bits is not None  # a response's windows always have a value
        if server_bits > offered.server_max_window_bits:
            raise ValueError(
                f"{_SERVER_BITS}={server_bits} is above the offered "
                f"{offered.server_max_window_bits}"
            )

        client_bits = params.get(_CLIENT_BITS)
        if client_bits is None:
            client_bits = offered.client_max_window_bits
        elif offered.client_max_window_bits == _DEFAULT_BITS:
            raise ValueError(f"the response names {_CLIENT_BITS}, which was not offered")
        elif client_bits > offered.client_max_window_bits:
            raise ValueError(
                f"{_CLIENT_BITS}={client_bits} is above the offered "
                f"{offered.client_max_window_bits}"
            )

        return cls(
            server_no_context_takeover=server_nct,
            client_no_context_takeover=offered.client_no_context_takeover or _CLIENT_NCT in params,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )

    # --- server side ----------------------------------------------------------------

    @classmethod
    def negotiate(
        cls, offers: str | bytes | None, **server_preferences: Any
    ) -> tuple[PerMessageDeflate, str] | None:
        """Server side: accept the first acceptable offer; ``(agreed, response)`` or ``None``.

        ``offers`` is the client's ``Sec-WebSocket-Extensions`` value (several header
        lines joined with ``", "``), or ``None`` when it sent none.  Offers are tried
        in order; other extensions are skipped; an offer that is malformed (does not
        parse, or has an unknown, duplicate or invalid parameter) is declined and the
        next one is tried.  Nothing the client sends raises an exception: with no
        acceptable offer the result is ``None`` and the server answers without the
        extension.  ``response`` is the value of the ``Sec-WebSocket-Extensions``
        header to send back, and ``agreed`` the parameters to run the codec with.

        ``server_preferences`` takes the constructor's keywords (anything else raises
        ``TypeError``, a bad value raises like the constructor):

        - ``server_no_context_takeover=True`` / ``client_no_context_takeover=True``
          put that parameter in every response (a server may always ask, RFC 7692
          sections 7.1.1.1 and 7.1.1.2);
        - ``server_max_window_bits=N`` caps the server's window: the response
          carries ``min(offered, N)``, or ``N`` when the client offered none and N
          is below 15;
        - ``client_max_window_bits=N`` caps the client's window the same way, but a
          server may only name it when the client did (section 7.1.2.2): with N
          below 15, an offer without ``client_max_window_bits`` is declined.

        Without preferences the offer is agreed to as it is: flags the client sent
        are echoed, an offered ``server_max_window_bits`` is echoed, and a
        ``client_max_window_bits=N`` below 15 is confirmed.  A window of 8 is
        accepted (see the module documentation).

        >>> offers = "x-foo, permessage-deflate; client_max_window_bits"
        >>> agreed, response = PerMessageDeflate.negotiate(offers, client_max_window_bits=12)
        >>> response
        'permessage-deflate; client_max_window_bits=12'
        >>> agreed.client_max_window_bits
        12
        """
        preferences = cls(**server_preferences)
        if offers is None:
            return None
        for offer in _parse_offers(offers):
            if offer is None or offer[0] != EXTENSION_NAME:
                continue  # malformed, or not ours
            try:
                params = _read_params(offer[1], response=False)
            except ValueError:
                continue
            agreed = preferences._agree(params)
            if agreed is not None:
                return agreed
        return None

    def _agree(self, offer: dict[str, int | None]) -> tuple[PerMessageDeflate, str] | None:
        """The answer of a server with preferences ``self`` to one well-formed offer."""
        server_nct = self.server_no_context_takeover or _SERVER_NCT in offer
        client_nct = self.client_no_context_takeover or _CLIENT_NCT in offer

        # RFC 7692 section 7.1.2.1: the response carries a value no larger than
        # the offered one; a server may also limit its window unasked.
        offered_server_bits = offer.get(_SERVER_BITS)
        server_bits = self.server_max_window_bits
        if offered_server_bits is not None:
            server_bits = min(server_bits, offered_server_bits)

        # RFC 7692 section 7.1.2.2: the client must have offered the parameter
        # (bare: any value; N: at most N) for the response to name it.
        if _CLIENT_BITS in offer:
            offered_client_bits = offer[_CLIENT_BITS]
            client_bits = self.client_max_window_bits
            if offered_client_bits is not None:
                client_bits = min(client_bits, offered_client_bits)
        elif self.client_max_window_bits < _DEFAULT_BITS:
            return None  # we cannot ask for a smaller client window
        else:
            client_bits = _DEFAULT_BITS

        parts = [EXTENSION_NAME]
        if server_nct:
            parts.append(_SERVER_NCT)
        if client_nct:
            parts.append(_CLIENT_NCT)
        if offered_server_bits is not None or server_bits < _DEFAULT_BITS:
            parts.append(f"{_SERVER_BITS}={server_bits}")
        if client_bits < _DEFAULT_BITS:
            parts.append(f"{_CLIENT_BITS}={client_bits}")
        agreed = type(self)(
            server_no_context_takeover=server_nct,
            client_no_context_takeover=client_nct,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )
        return agreed, "; ".join(parts)

    # --- what the codec needs, per role ---------------------------------------------

    def deflate_wbits(self, *, client: bool) -> int:
        """The zlib ``wbits`` for this endpoint's compressor: raw deflate, its own window.

        Negative (raw DEFLATE, no zlib header, RFC 7692 section 7.2.1).  A window of
        8 gives -9: zlib refuses -8 for compression, and at -9 it never emits a
        match more than 250 bytes back, so the stream still fits the 256-byte
        window the peer agreed to inflate with.
        """
        bits = self.client_max_window_bits if client else self.server_max_window_bits
        return -max(bits, 9)

    def inflate_wbits(self, *, client: bool) -> int:
        """The zlib ``wbits`` for this endpoint's decompressor: raw deflate, the peer's window.

        A client inflates with ``server_max_window_bits``, a server with
        ``client_max_window_bits``; 8 stays -8 (zlib inflates with any window 8-15).
        """
        bits = self.server_max_window_bits if client else self.client_max_window_bits
        return -bits

    def deflate_no_context_takeover(self, *, client: bool) -> bool:
        """Whether this endpoint must compress each message from an empty window."""
        return self.client_no_context_takeover if client else self.server_no_context_takeover

    def inflate_no_context_takeover(self, *, client: bool) -> bool:
        """Whether the peer compresses each message from an empty window.

        Then this endpoint's inflater holds nothing useful between messages and may
        be dropped (or reset) after each one; otherwise it must be kept.
        """
        return self.server_no_context_takeover if client else self.client_no_context_takeover
