"""``python -m wsfast decode``: list the frames of a captured WebSocket byte stream.

The capture is the bytes one endpoint sent, raw or as text: plain hex, an
``xxd`` dump or a ``hexdump -C`` dump, detected (``--hex`` insists on text,
``--raw`` on bytes).  A capture that starts with the HTTP opening handshake
(``GET ... HTTP/1.1`` or ``HTTP/1.1 101``) has it skipped, which also tells
the sender's role.  One line per frame: byte offset, FIN and RSV bits, opcode,
mask key, payload length and a safe preview of the payload (close code and
reason for CLOSE).  Then the verdict of a strict receiver: a ``MessageDecoder``
in the receiving role decodes the whole stream; on a violation the report gives
the byte offset at which it is detected and the close code the receiver sends.

Built on the public API only: ``parse_header`` and ``mask`` for the listing,
``parse_close`` for CLOSE payloads, ``MessageDecoder`` for the verdict.

Exit status: 0 for a clean stream, 1 for a violation or a stream that ends in
the middle of a frame, 2 for a usage error (unreadable file, bad hex, a bad
option value: the message names the option).
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wsfast import (
    CloseCode,
    FrameHeader,
    MessageDecoder,
    Opcode,
    ProtocolError,
    WebSocketError,
    mask,
    parse_close,
    parse_header,
)

__all__ = [
    "Capture",
    "FrameLine",
    "Violation",
    "inspect_stream",
    "find_violation",
    "format_report",
    "read_capture",
    "decode_text_dump",
    "parse_size",
    "split_handshake",
    "add_subcommand",
    "main",
]

#: No message size limit unless asked (the decoder treats huge limits as none).
NO_LIMIT = (1 << 63) - 1
#: Bytes fed to the verdict decoder at once; a failing chunk is replayed byte by byte.
CHUNK = 1 << 16
#: Default number of characters (text) or bytes (binary) shown of a payload.
DEFAULT_PREVIEW = 40


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


@dataclass
class FrameLine:
    """One frame of the capture, as listed."""

    offset: int
    header: FrameHeader
    #: The first payload bytes, unmasked (at most what the preview needs).
    head: bytes
    #: Payload bytes present in the capture (less than the length when truncated).
    captured: int
    #: TEXT or BINARY: the opcode of the message this data frame belongs to.
    message_opcode: int | None
    #: The frame comes after a CLOSE: a receiver ignores it.
    after_close: bool = False


@dataclass
class Violation:
    """Where a strict receiver fails the connection, and with which error."""

    offset: int
    error: WebSocketError

    @property
    def close_code(self) -> int:
        return self.error.close_code


@dataclass
class Capture:
    """What ``inspect_stream`` found in a capture."""

    size: int
    #: True: the stream was sent by a client (frames must be masked).
    client: bool
    #: The sender's role was guessed (``basis`` says from what).
    guessed: bool
    frames: list[FrameLine] = field(default_factory=list)
    #: What the guess of the role rests on; None when the role was given, or
    #: when there was nothing to guess from (``sender_known`` is then False).
    basis: str | None = None
    sender_known: bool = True
    #: Offset of the first byte of the WebSocket stream (after an HTTP handshake).
    start: int = 0
    #: The first line of the skipped HTTP handshake, if the capture starts with one.
    handshake: str | None = None
    violation: Violation | None = None
    #: Offset of the first CLOSE frame, if any.
    close_offset: int | None = None
    #: Description of an incomplete last frame or header, if any.
    truncated: str | None = None
    #: The stream ends inside a fragmented message (not an error).
    open_message: bool = False
    #: Offset of the first byte not listed (after a violation or a truncation).
    listed_until: int = 0

    @property
    def clean(self) -> bool:
        return self.violation is None and self.truncated is None


# --- the verdict ------------------------------------------------------------------


def find_violation(
    data: bytes, *, client: bool, max_message_size: int = NO_LIMIT
) -> Violation | None:
    """Decode ``data`` as its receiver would; the first violation, or None.

    ``client``: the stream was sent by a client (so it is decoded by a server,
    which requires masked frames).  The offset is that of the byte whose arrival
    makes the decoder raise: the stream is fed in large chunks, and the chunk
    that fails is replayed one byte at a time on a fresh decoder.
    """
    view = memoryview(data)

    def decoder() -> MessageDecoder:
        return MessageDecoder(
            client=not client, max_message_size=max_message_size, decode_text=False
        )

    receiver = decoder()
    for start in range(0, len(view), CHUNK):
        try:
            receiver.feed(view[start : start + CHUNK])
        except WebSocketError as exc:
            first_error = exc
        else:
            continue
        replay = decoder()
        replay.feed(view[:start])  # decoded without error above, in other splits
        for pos in range(start, min(start + CHUNK, len(view))):
            try:
                replay.feed(view[pos : pos + 1])
            except WebSocketError as exc:
                return Violation(pos, exc)
        return Violation(start, first_error)  # unreachable for a split-invariant decoder
    return None


# --- the listing ------------------------------------------------------------------


def inspect_stream(
    data: bytes,
    *,
    client: bool | None = None,
    max_message_size: int = NO_LIMIT,
    preview: int = DEFAULT_PREVIEW,
) -> Capture:
    """List the frames of ``data`` and find the first violation.

    ``client``: True if a client sent the stream, False if a server did, None to
    guess: from the HTTP handshake the capture starts with, if any (a request
    comes from a client), else from the MASK bit of the first frame (masked: a
    client).  A leading handshake is skipped; offsets count from the start of
    ``data``.  Frames are listed up to the one in which the violation is detected.
    """
    start, request_line, from_client = split_handshake(data)
    if request_line is not None and not data[:start].endswith(b"\r\n\r\n"):
        # No blank line ends the headers: the whole capture is handshake.
        sender = from_client if client is None else client
        capture = Capture(
            len(data),
            bool(sender),
            client is None,
            basis=f"the HTTP {'request' if sender else 'response'}" if client is None else None,
            start=start,
            handshake=request_line,
        )
        capture.truncated = (
            "the capture ends inside the HTTP handshake (no blank line ends its headers)"
        )
        capture.listed_until = len(data)
        return capture
    basis = None
    sender_known = True
    if client is None and from_client is not None:
        client = from_client
        basis = f"the HTTP {'request' if from_client else 'response'}"
    elif client is None and len(data) - start >= 2:
        client = bool(data[start + 1] & 0x80)
        basis = "the first frame's MASK bit"
    elif client is None:  # fewer than 2 bytes: no MASK bit to guess from
        client = True
        sender_known = False
    capture = Capture(
        len(data),
        client,
        basis is not None,
        basis=basis,
        sender_known=sender_known,
        start=start,
        handshake=request_line,
    )
    violation = find_violation(data[start:], client=client, max_message_size=max_message_size)
    if violation is not None:
        violation.offset += start
    capture.violation = violation
    stop = capture.violation.offset if capture.violation else len(data)
    # Enough payload bytes to preview `preview` characters of UTF-8.
    head_bytes = max(4 * preview, 125)

    pos = start
    message: int | None = None  # opcode of the fragmented message in progress
    while pos < len(data) and pos <= stop:
        try:
            hdr = parse_header(data, pos)
        except ProtocolError:
            break  # the verdict reports it: a violation at this offset
        if hdr is None:
            if capture.violation is None:
                capture.truncated = (
                    f"the capture ends inside a frame header at byte {pos} "
                    f"({len(data) - pos} byte(s) of it)"
                )
            break
        start = pos + hdr.header_length
        end = min(start + hdr.payload_length, len(data))
        chunk = data[start : min(end, start + head_bytes)]
        head = mask(chunk, hdr.mask_key) if hdr.mask_key is not None else bytes(chunk)
        opcode = hdr.opcode
        if opcode in (Opcode.TEXT, Opcode.BINARY):
            message = opcode
        capture.frames.append(
            FrameLine(
                pos,
                hdr,
                head,
                end - start,
                message if opcode < 8 else None,
                after_close=capture.close_offset is not None,
            )
        )
        if opcode < 8 and hdr.fin:
            message = None
        if opcode == Opcode.CLOSE and capture.close_offset is None:
            capture.close_offset = pos
        if end - start < hdr.payload_length and capture.violation is None:
            capture.truncated = (
                f"the capture ends inside the payload of the frame at byte {pos} "
                f"({end - start} of {hdr.payload_length} bytes)"
            )
        pos = start + hdr.payload_length
    capture.listed_until = min(pos, len(data))
    capture.open_message = message is not None and capture.close_offset is None
    return capture


# --- formatting ---------------------------------------------------------------------

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def text_preview(data: bytes, limit: int, total: int) -> str:
    """``data`` as quoted text: non-printable characters and invalid bytes escaped."""
    out: list[str] = []
    # surrogateescape maps each byte that is not valid UTF-8 to U+DC80..U+DCFF,
    # which valid UTF-8 never produces: those become \xNN.
    for char in data.decode("utf-8", errors="surrogateescape"):
        if len(out) == limit:
            break
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    shown = '"' + "".join(out) + '"'
    consumed = len("".join(out).encode("utf-8", errors="surrogateescape"))
    return shown + ("..." if len(out) == limit and total > consumed else "")


def binary_preview(data: bytes, limit: int, total: int) -> str:
    """The first ``limit`` bytes in hex."""
    shown = data[:limit].hex(" ")
    return shown + (" ..." if total > limit else "")


def _looks_like_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\n\r\t" for c in text)


def _close_code_name(code: int) -> str:
    try:
        return CloseCode(code).name
    except ValueError:
        return "application" if 3000 <= code <= 4999 else "invalid"


def _payload_preview(line: FrameLine, limit: int) -> str:
    hdr = line.header
    if hdr.payload_length == 0:
        return ""
    if hdr.opcode == Opcode.CLOSE and line.captured == hdr.payload_length:
        try:
            code, reason = parse_close(line.head)
        except WebSocketError as exc:
            invalid = binary_preview(line.head, max(1, limit // 2), hdr.payload_length)
            return f"{invalid}  (invalid: {exc})"
        assert code is not None
        raw = reason.encode("utf-8")
        return f"code={code} ({_close_code_name(code)}) reason={text_preview(raw, limit, len(raw))}"
    if hdr.opcode >= 8:
        as_text = _looks_like_text(line.head)
    else:
        as_text = Opcode.TEXT in (hdr.opcode, line.message_opcode)
    if as_text:
        return text_preview(line.head, limit, line.captured)
    return binary_preview(line.head, max(1, limit // 2), line.captured)


def format_frame(line: FrameLine, preview: int = DEFAULT_PREVIEW) -> str:
    """One line: offset, FIN, RSV1-3, opcode, mask key, length, payload preview."""
    hdr = line.header
    fin = int(hdr.fin)
    rsv = f"{int(hdr.rsv1)}{int(hdr.rsv2)}{int(hdr.rsv3)}"
    name = Opcode(hdr.opcode).name
    if hdr.opcode == Opcode.CONTINUATION:
        name = "CONT"
    key = f"key={hdr.mask_key.hex()}" if hdr.mask_key is not None else "unmasked"
    length = f"len={hdr.payload_length}"
    if line.captured < hdr.payload_length:
        length += f" ({line.captured} captured)"
    text = f"{line.offset:>8}  fin={fin} rsv={rsv}  {name:<6}  {key:<12}  {length:<10}  "
    text += _payload_preview(line, preview)
    if line.after_close:
        text += "  [after CLOSE: ignored]"
    return text.rstrip()


def format_report(capture: Capture, preview: int = DEFAULT_PREVIEW) -> str:
    """The whole report as text."""
    lines = []
    if capture.handshake is not None and capture.start == capture.size and capture.truncated:
        lines.append(f"the capture is an unfinished HTTP handshake ({capture.handshake!r})")
    elif capture.handshake is not None:
        lines.append(
            f"skipped the HTTP handshake: bytes 0-{capture.start - 1} "
            f"({capture.handshake!r}); offsets count from the start of the capture"
        )
    if capture.size == 0:
        lines.append("0 bytes: an empty capture")
    elif not capture.sender_known:
        lines.append(
            f"{capture.size} bytes, sender unknown (fewer than 2 bytes of frames: "
            "nothing to guess from; --client or --server says)"
        )
    else:
        sender = (
            "client (frames must be masked)"
            if capture.client
            else ("server (frames must not be masked)")
        )
        guess = f", guessed from {capture.basis}" if capture.guessed else ""
        lines.append(f"{capture.size} bytes sent by a {sender}{guess}")
    columns = f"{'offset':>8}  {'bits':<13}  {'opcode':<6}  {'mask':<12}  {'length':<10}"
    lines.append(f"{columns}  payload")
    lines += [format_frame(line, preview) for line in capture.frames]
    v = capture.violation
    if v is not None:
        code = v.close_code
        lines.append(f"VIOLATION at byte {v.offset}: {type(v.error).__name__}: {v.error}")
        lines.append(
            f"  -> the receiver fails the connection with close code {code} "
            f"({_close_code_name(code)})"
        )
        rest = capture.size - v.offset - 1
        if rest > 0:
            lines.append(f"  ({rest} byte(s) after it not decoded)")
    elif capture.truncated is not None:
        lines.append(f"TRUNCATED: {capture.truncated}")
    else:
        if capture.close_offset is not None:
            after = sum(1 for f in capture.frames if f.after_close)
            if after:
                lines.append(f"{after} frame(s) after the CLOSE, which a receiver ignores")
        elif capture.open_message:
            lines.append("the capture ends inside a fragmented message")
        lines.append(f"clean: {len(capture.frames)} frame(s), no violation")
    return "\n".join(lines)


# --- input and command line -----------------------------------------------------------


HTTP_REQUEST = re.compile(rb"GET \S+ HTTP/\d\.\d\r\n")
HTTP_RESPONSE = re.compile(rb"HTTP/\d\.\d \d{3}\b")


def split_handshake(data: bytes) -> tuple[int, str | None, bool | None]:
    """Find the HTTP opening handshake ``data`` starts with, if any.

    Returns (offset of the first byte after it, its first line, whether a
    client sent it); ``(0, None, None)`` when ``data`` does not start with one.
    Without the blank line that ends the headers, the whole of ``data`` is the
    handshake.
    """
    if HTTP_REQUEST.match(data):
        from_client = True
    elif HTTP_RESPONSE.match(data):
        from_client = False
    else:
        return 0, None, None
    first_line = data[: data.index(b"\r\n")] if b"\r\n" in data else data[:80]
    end = data.find(b"\r\n\r\n")
    start = len(data) if end < 0 else end + 4
    return start, first_line.decode("latin-1"), from_client


_HEX = frozenset(string.hexdigits)
_XXD_LINE = re.compile(r"([0-9a-fA-F]+): (.*)")
_HEXDUMP_LINE = re.compile(r"([0-9a-fA-F]{7,})((?:\s+[0-9a-fA-F]{2})*)\s*(\|.*)?")


def _hex_bytes(text: str, what: str) -> bytes:
    digits = "".join(text.split())
    if not digits or not set(digits) <= _HEX or len(digits) % 2:
        raise UsageError(f"{what}: not an even number of hex digits")
    return bytes.fromhex(digits)


def _from_xxd(lines: list[str]) -> bytes:
    out = bytearray()
    for number, line in enumerate(lines, 1):
        match = _XXD_LINE.fullmatch(line)
        if match is None:
            raise UsageError(f"xxd dump, line {number}: no 'OFFSET: ' at its start")
        if int(match[1], 16) != len(out):
            raise UsageError(
                f"xxd dump, line {number}: offset {match[1]} where {len(out):08x} was "
                "expected (only the default xxd layout is read: not -e, -s or -r)"
            )
        # The hex columns end at the first double space; the ASCII column follows.
        out += _hex_bytes(match[2].split("  ", 1)[0], f"xxd dump, line {number}")
    return bytes(out)


def _from_hexdump(lines: list[str]) -> bytes:
    out = bytearray()
    repeat: bytes | None = None  # the line before a '*': repeated up to the next offset
    for number, line in enumerate(lines, 1):
        if line.strip() == "*":
            repeat = bytes(out[-16:])
            continue
        match = _HEXDUMP_LINE.fullmatch(line)
        if match is None:
            raise UsageError(f"hexdump -C dump, line {number}: not 'OFFSET  HEX  |ASCII|'")
        offset = int(match[1], 16)
        if repeat is not None:
            while len(out) < offset and repeat:
                out += repeat
            repeat = None
        if offset != len(out):
            raise UsageError(
                f"hexdump -C dump, line {number}: offset {match[1]} where {len(out):08x} "
                "was expected"
            )
        if match[2].strip():
            out += _hex_bytes(match[2], f"hexdump -C dump, line {number}")
    return bytes(out)


def decode_text_dump(raw: bytes) -> tuple[bytes, str] | None:
    """Bytes written as text: ``(bytes, form)`` for plain hex, an ``xxd`` dump or a
    ``hexdump -C`` dump; None when ``raw`` is none of these.

    Raises ``UsageError`` when ``raw`` has the shape of a dump (every line starts
    with an offset) but a line does not fit it.
    """
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    if all(_XXD_LINE.fullmatch(line) for line in lines):
        return _from_xxd(lines), "an xxd dump"
    if all(line.strip() == "*" or _HEXDUMP_LINE.fullmatch(line) for line in lines) and (
        "|" in text
    ):
        return _from_hexdump(lines), "a hexdump -C dump"
    if set("".join(text.split())) <= _HEX:
        return _hex_bytes(text, "hex text"), "hex text"
    return None


def read_capture(source: str, form: str = "auto") -> tuple[bytes, str | None]:
    """The bytes of FILE, or of standard input for ``-``, and how they were read.

    ``form``: ``"raw"`` takes the bytes as they are; ``"hex"`` requires text
    (plain hex with any whitespace, an ``xxd`` dump or a ``hexdump -C`` dump);
    ``"auto"`` reads such text when the whole input is one, else the bytes.  A
    real capture never looks like hex text: its first byte would be a
    reserved opcode or carry RSV bits.  The second item names the text form
    read (None for raw bytes).
    """
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as f:
                raw = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    if form == "raw":
        return raw, None
    decoded = decode_text_dump(raw)
    if decoded is not None:
        return decoded
    if form == "hex":
        raise UsageError(
            "--hex: the input is not hex digits (whitespace ignored), an xxd dump or a "
            "hexdump -C dump"
        )
    return raw, None


def parse_size(text: str) -> int:
    """A byte count: ``1048576``, ``1_048_576``, ``64MiB``, ``64 MiB``, ``1KiB``, ``16B``.

    IEC suffixes only (KiB, MiB, GiB, TiB: powers of 1024; any case).  ``K``,
    ``M``, ``KB``, ``MB``, ... are refused as ambiguous (1000 or 1024?).
    """
    match = re.fullmatch(r"\s*(\d[\d_]*)\s*([A-Za-z]*)\s*", text)
    if match is None:
        raise ValueError(f"{text!r} is not a size (e.g. 1048576, 64KiB, 16MiB)")
    number = int(match[1])
    unit = match[2].lower()
    scales = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
    if unit in scales:
        return number * scales[unit]
    if unit.rstrip("b") in ("k", "m", "g", "t"):
        iec = unit[0].upper() + "iB"
        raise ValueError(
            f"{text!r} is ambiguous: write {number}{iec} (powers of 1024) or the number of bytes"
        )
    raise ValueError(f"{text!r}: unknown unit {match[2]!r} (use B, KiB, MiB, GiB or TiB)")


def _size_option(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _preview_option(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="the capture ('-' or nothing: standard input)",
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument(
        "--hex",
        dest="form",
        action="store_const",
        const="hex",
        default="auto",
        help="the input is text: hex digits (whitespace ignored), an xxd dump or a "
        "hexdump -C dump (default: detected)",
    )
    form.add_argument(
        "--raw",
        dest="form",
        action="store_const",
        const="raw",
        help="the input is raw bytes, even if it looks like hex text",
    )
    role = parser.add_mutually_exclusive_group()
    role.add_argument(
        "--client",
        dest="client",
        action="store_const",
        const=True,
        help="the stream was sent by a client: frames must be masked (decode as the server would)",
    )
    role.add_argument(
        "--server",
        dest="client",
        action="store_const",
        const=False,
        help="the stream was sent by a server: frames must not be masked",
    )
    parser.add_argument(
        "--max-message-size",
        type=_size_option,
        default=NO_LIMIT,
        metavar="SIZE",
        help="receiver's message size limit: bytes, or with KiB, MiB, GiB (e.g. 64MiB; "
        "default: none)",
    )
    parser.add_argument(
        "--preview",
        type=_preview_option,
        default=DEFAULT_PREVIEW,
        metavar="N",
        help="characters of text shown (half as many bytes of binary, in hex; default %(default)s)",
    )
    parser.set_defaults(run=run)


DESCRIPTION = (
    "Print the frames of a captured WebSocket byte stream (what one endpoint sent), one "
    "line each: offset, FIN/RSV bits, opcode, mask key, length and a payload preview; "
    "then the verdict of a strict receiver: the byte offset of the first violation and "
    "the close code it sends. The input is raw bytes, or text (hex digits, an xxd dump, "
    "a hexdump -C dump), detected. An HTTP opening handshake at its start is skipped. "
    "Without --client or --server, the sender is guessed from the handshake, else from "
    "the first frame's MASK bit. Exit status: 0 clean, 1 violation or truncated frame, "
    "2 usage error."
)


def add_subcommand(commands: Any) -> argparse.ArgumentParser:
    """Register ``decode`` on the ``add_subparsers()`` object of ``python -m wsfast``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "decode",
        help="list the frames of a captured byte stream and check it",
        description=DESCRIPTION,
    )
    _configure(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``decode`` with parsed arguments; the exit status."""
    try:
        data, form = read_capture(args.file, args.form)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    capture = inspect_stream(
        data, client=args.client, max_message_size=args.max_message_size, preview=args.preview
    )
    if form is not None:
        how = "" if args.form == "hex" else " (detected; --raw reads the bytes as they are)"
        print(f"read {form}{how}")
    print(format_report(capture, args.preview))
    return 0 if capture.clean else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wsfast._inspect``: the same as ``python -m wsfast decode``."""
    parser = argparse.ArgumentParser(prog="python -m wsfast decode", description=DESCRIPTION)
    _configure(parser)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
