"""``python -m wsfast decode``: list the frames of a captured WebSocket byte stream.

The capture is the bytes one endpoint sent after the opening handshake (raw, or
hex with ``--hex``).  One line per frame: byte offset, FIN and RSV bits, opcode,
mask key, payload length and a safe preview of the payload (close code and
reason for CLOSE).  Then the verdict of a strict receiver: a ``MessageDecoder``
in the receiving role decodes the whole stream; on a violation the report gives
the byte offset at which it is detected and the close code the receiver sends.

Built on the public API only: ``parse_header`` and ``mask`` for the listing,
``parse_close`` for CLOSE payloads, ``MessageDecoder`` for the verdict.

Exit status: 0 for a clean stream, 1 for a violation or a stream that ends in
the middle of a frame, 2 for a usage error (unreadable file, bad hex).
"""

from __future__ import annotations

import argparse
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
    #: The sender's role was guessed from the first frame's MASK bit.
    guessed: bool
    frames: list[FrameLine] = field(default_factory=list)
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
    guess from the MASK bit of the first frame (masked: a client).  Frames are
    listed up to the one in which the violation is detected.
    """
    guessed = client is None
    if client is None:
        client = len(data) < 2 or bool(data[1] & 0x80)
    capture = Capture(len(data), client, guessed)
    capture.violation = find_violation(data, client=client, max_message_size=max_message_size)
    stop = capture.violation.offset if capture.violation else len(data)
    # Enough payload bytes to preview `preview` characters of UTF-8.
    head_bytes = max(4 * preview, 125)

    pos = 0
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
    sender = (
        "client (frames must be masked)"
        if capture.client
        else ("server (frames must not be masked)")
    )
    guess = ", guessed from the first frame's MASK bit" if capture.guessed else ""
    lines = [f"{capture.size} bytes sent by a {sender}{guess}"]
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


def read_capture(source: str, hex_input: bool = False) -> bytes:
    """The bytes of FILE, or of standard input for ``-``; ``--hex`` text decoded."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as f:
                raw = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    if not hex_input:
        return raw
    digits = b"".join(raw.split())  # any whitespace is ignored
    try:
        return bytes.fromhex(digits.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise UsageError("--hex: the input is not hex digits (whitespace ignored)") from None


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="the capture ('-' or nothing: standard input)",
    )
    parser.add_argument(
        "--hex",
        action="store_true",
        help="the input is hex text (whitespace ignored), not raw bytes",
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
        type=int,
        default=NO_LIMIT,
        metavar="N",
        help="receiver's message size limit in bytes (default: none)",
    )
    parser.add_argument(
        "--preview",
        type=int,
        default=DEFAULT_PREVIEW,
        metavar="N",
        help="characters of text shown (half as many bytes of binary, in hex; default %(default)s)",
    )
    parser.set_defaults(run=run)


DESCRIPTION = (
    "Print the frames of a captured WebSocket byte stream (what one endpoint sent after "
    "the opening handshake), one line each: offset, FIN/RSV bits, opcode, mask key, "
    "length and a payload preview; then the verdict of a strict receiver: the byte "
    "offset of the first violation and the close code it sends. Without --client or "
    "--server, the sender is guessed from the first frame's MASK bit. Exit status: 0 "
    "clean, 1 violation or truncated frame, 2 usage error."
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
    if args.preview < 1 or args.max_message_size < 0:
        print("error: --preview must be >= 1 and --max-message-size >= 0", file=sys.stderr)
        return 2
    try:
        data = read_capture(args.file, args.hex)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    capture = inspect_stream(
        data, client=args.client, max_message_size=args.max_message_size, preview=args.preview
    )
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
