"""``python -m wsfast decode``: the frame inspector (wsfast/_inspect.py).

Crafted captures, each named after what it shows: the RFC 6455 section 5.7
examples, masked frames, closes with reasons, and violations whose byte offset
and close code the report must give.  Most checks call the module directly; a
few run the command line in a subprocess (exit status, standard input, --hex).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import wsfast
from wsfast import Opcode
from wsfast._inspect import (
    CHUNK,
    decode_text_dump,
    format_report,
    inspect_stream,
    main,
    parse_size,
)

KEY = b"\x37\xfa\x21\x3d"  # the key of RFC 6455 section 5.7
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # the Greek word of Autobahn 6.x


def masked(opcode: int, payload: bytes, *, fin: bool = True, key: bytes = KEY) -> bytes:
    return wsfast.encode_frame(opcode, payload, fin=fin, mask_key=key)


def unmasked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    return wsfast.encode_frame(opcode, payload, fin=fin)


# RFC 6455 section 5.7, byte for byte.
RFC_UNMASKED_HELLO = bytes.fromhex("810548656c6c6f")
RFC_MASKED_HELLO = bytes.fromhex("818537fa213d7f9f4d5158")
RFC_FRAGMENTED_HELLO = bytes.fromhex("010348656c") + bytes.fromhex("80026c6f")
RFC_PING_HELLO = bytes.fromhex("890548656c6c6f")
RFC_MASKED_PONG_HELLO = bytes.fromhex("8a8537fa213d7f9f4d5158")
RFC_BINARY_256 = bytes.fromhex("827e0100") + bytes(256)
RFC_BINARY_64K = bytes.fromhex("827f0000000000010000") + bytes(65536)


def run_main(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, *args: str
) -> tuple[int, str]:
    """Run the command on a capture file; (exit status, standard output)."""
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    status = main([str(path), *args])
    return status, capsys.readouterr().out


# --- clean streams ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, client, frames",
    [
        ("rfc6455-5.7-unmasked-hello", RFC_UNMASKED_HELLO, False, [(Opcode.TEXT, True, 5)]),
        ("rfc6455-5.7-masked-hello", RFC_MASKED_HELLO, True, [(Opcode.TEXT, True, 5)]),
        (
            "rfc6455-5.7-fragmented-hello",
            RFC_FRAGMENTED_HELLO,
            False,
            [(Opcode.TEXT, False, 3), (Opcode.CONTINUATION, True, 2)],
        ),
        (
            "rfc6455-5.7-ping-then-masked-pong",
            RFC_PING_HELLO,
            False,
            [(Opcode.PING, True, 5)],
        ),
        ("rfc6455-5.7-binary-256", RFC_BINARY_256, False, [(Opcode.BINARY, True, 256)]),
        ("rfc6455-5.7-binary-64k", RFC_BINARY_64K, False, [(Opcode.BINARY, True, 65536)]),
    ],
)
def test_rfc_examples_are_clean(
    name: str, data: bytes, client: bool, frames: list[tuple[int, bool, int]]
) -> None:
    capture = inspect_stream(data, client=client)
    assert capture.clean, name
    assert [
        (f.header.opcode, f.header.fin, f.header.payload_length) for f in capture.frames
    ] == frames


def test_rfc_masked_hello_listing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out = run_main(capsys, tmp_path, RFC_MASKED_HELLO + RFC_MASKED_PONG_HELLO, "--client")
    assert status == 0
    lines = out.splitlines()
    assert "sent by a client" in lines[0]
    text, pong = lines[2], lines[3]
    for part in ("0", "fin=1 rsv=000", "TEXT", "key=37fa213d", "len=5", '"Hello"'):
        assert part in text
    for part in ("11", "PONG", "key=37fa213d", '"Hello"'):
        assert part in pong
    assert lines[-1].startswith("clean: 2 frame(s)")


def test_fragmented_listing_shows_fin_and_continuation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out = run_main(capsys, tmp_path, RFC_FRAGMENTED_HELLO, "--server")
    assert status == 0
    first, second = out.splitlines()[2:4]
    assert "fin=0" in first and "TEXT" in first and '"Hel"' in first
    assert first.split()[0] == "0" and second.split()[0] == "5"
    assert "fin=1" in second and "CONT" in second and '"lo"' in second


def test_close_with_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = masked(Opcode.CLOSE, wsfast.encode_close(1001, "server going down"))
    status, out = run_main(capsys, tmp_path, data, "--client")
    assert status == 0
    assert 'code=1001 (GOING_AWAY) reason="server going down"' in out


def test_frames_after_close_are_marked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = masked(Opcode.CLOSE, b"") + masked(Opcode.TEXT, b"late")
    status, out = run_main(capsys, tmp_path, data, "--client")
    assert status == 0  # a receiver ignores what follows a CLOSE: not a violation
    assert "[after CLOSE: ignored]" in out.splitlines()[3]


def test_binary_preview_is_hex_and_truncated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out = run_main(
        capsys, tmp_path, masked(Opcode.BINARY, bytes(range(200))), "--preview", "8"
    )
    assert status == 0
    assert "len=200" in out and "00 01 02 03 ..." in out


def test_text_preview_escapes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = masked(Opcode.TEXT, 'κόσμε "q" \\ \n\t\x07'.encode())
    status, out = run_main(capsys, tmp_path, data)
    assert status == 0
    assert '"κόσμε \\"q\\" \\\\ \\n\\t\\x07"' in out


def test_role_is_guessed_from_first_mask_bit() -> None:
    assert inspect_stream(RFC_MASKED_HELLO).client is True
    assert inspect_stream(RFC_UNMASKED_HELLO).client is False
    assert inspect_stream(RFC_UNMASKED_HELLO).guessed


# --- violations: offset and close code ---------------------------------------------


@pytest.mark.parametrize(
    "name, data, client, offset, code",
    [
        ("reserved-opcode-3", RFC_MASKED_HELLO + b"\x83\x80" + KEY, True, 11, 1002),
        ("reserved-opcode-11", b"\x8b\x80" + KEY, True, 0, 1002),
        ("unmasked-client-frame", RFC_UNMASKED_HELLO, True, 1, 1002),
        ("masked-server-frame", RFC_MASKED_HELLO, False, 1, 1002),
        ("rsv1-without-extension", b"\xc1\x80" + KEY, True, 0, 1002),
        ("ping-126-bytes", b"\x89\xfe\x00\x7e" + KEY + bytes(126), True, 1, 1002),
        ("fragmented-ping", b"\x09\x80" + KEY, True, 0, 1002),
        ("continuation-without-message", masked(Opcode.CONTINUATION, b"x"), True, 0, 1002),
        (
            "text-inside-fragmented-message",
            masked(Opcode.TEXT, b"a", fin=False) + masked(Opcode.TEXT, b"b"),
            True,
            7,
            1002,
        ),
        # 6 header bytes, "κόσμε" (with U+1F79) is 11 bytes, then ED A0 80 (a surrogate):
        # A0 is the first byte that cannot continue valid UTF-8.
        (
            "invalid-utf8-surrogate",
            masked(Opcode.TEXT, KOSME + b"\xed\xa0\x80edited"),
            True,
            6 + 11 + 1,
            1007,
        ),
        (
            "invalid-utf8-split-across-fragments",
            unmasked(Opcode.TEXT, b"\xf0\x90", fin=False) + unmasked(Opcode.CONTINUATION, b"\x28"),
            False,
            4 + 2,
            1007,
        ),
        ("close-1-byte", masked(Opcode.CLOSE, b"\x03"), True, 6, 1002),
        ("close-code-1006", masked(Opcode.CLOSE, b"\x03\xee"), True, 7, 1002),
        ("close-reason-not-utf8", masked(Opcode.CLOSE, b"\x03\xe8\xff"), True, 8, 1007),
        ("length-not-minimal", b"\x82\x7e\x00\x05" + bytes(5), False, 3, 1002),
    ],
)
def test_violation_offset_and_code(
    name: str, data: bytes, client: bool, offset: int, code: int
) -> None:
    capture = inspect_stream(data, client=client)
    assert capture.violation is not None, name
    assert (capture.violation.offset, capture.violation.close_code) == (offset, code), name
    assert not capture.clean


def test_violation_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = RFC_MASKED_HELLO + b"\x83\x80" + KEY + RFC_MASKED_HELLO
    status, out = run_main(capsys, tmp_path, data, "--client")
    assert status == 1
    lines = out.splitlines()
    assert len([line for line in lines if "TEXT" in line]) == 1  # nothing listed past it
    assert "VIOLATION at byte 11: ProtocolError: reserved opcode 3" in out
    assert "close code 1002 (PROTOCOL_ERROR)" in out


def test_message_too_big() -> None:
    data = masked(Opcode.BINARY, bytes(1000))
    capture = inspect_stream(data, client=True, max_message_size=999)
    assert capture.violation is not None
    assert (capture.violation.offset, capture.violation.close_code) == (3, 1009)
    assert inspect_stream(data, client=True).clean  # no limit by default


def test_violation_offset_past_the_first_chunk() -> None:
    """The decoder is fed in chunks; the offset stays exact in a later one."""
    big = masked(Opcode.TEXT, b"a" * (CHUNK + 1000))
    data = big + masked(Opcode.TEXT, b"ok \xc0\xaf overlong")
    capture = inspect_stream(data, client=True)
    assert capture.violation is not None
    assert capture.violation.offset == len(big) + 6 + 3 + 0  # C0 can start nothing valid
    assert capture.violation.close_code == 1007
    assert len(capture.frames) == 2


# --- truncated captures ---------------------------------------------------------------


def test_truncated_payload(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out = run_main(capsys, tmp_path, RFC_MASKED_HELLO[:-2], "--client")
    assert status == 1
    assert "len=5 (3 captured)" in out
    assert "TRUNCATED" in out and "3 of 5 bytes" in out


def test_truncated_header() -> None:
    capture = inspect_stream(RFC_MASKED_HELLO + b"\x81\x85\x37", client=True)
    assert capture.truncated is not None and "header at byte 11" in capture.truncated
    assert capture.violation is None and len(capture.frames) == 1


def test_open_fragmented_message_is_clean() -> None:
    capture = inspect_stream(RFC_FRAGMENTED_HELLO[:5], client=False)
    assert capture.clean and capture.open_message


# --- the command line -------------------------------------------------------------------


WSFAST = [
    sys.executable,
    "-I",
    "-c",
    f"import runpy, sys; sys.path.insert(0, {str(Path(wsfast.__file__).resolve().parents[1])!r}); "
    "runpy.run_module('wsfast', run_name='__main__', alter_sys=True)",
]


def cli(*args: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        # -I: the working directory stays off sys.path; the tested package goes first
        [*WSFAST, "decode", *args],
        input=data,
        capture_output=True,
        timeout=60,
    )


def test_cli_hex_from_stdin() -> None:
    hex_text = b"81 85 37 fa 21 3d\n7f 9f 4d 51 58\n"
    result = cli("--hex", "--client", "-", data=hex_text)
    assert result.returncode == 0, result.stderr
    assert b'"Hello"' in result.stdout and b"key=37fa213d" in result.stdout


def test_cli_violation_exit_status() -> None:
    result = cli("--client", data=RFC_UNMASKED_HELLO)
    assert result.returncode == 1
    assert b"VIOLATION at byte 1" in result.stdout


def test_cli_bad_option_values_name_the_option() -> None:
    for args, option, words in [
        (("--max-message-size", "64MB"), "--max-message-size", "ambiguous"),
        (("--max-message-size", "lots"), "--max-message-size", "not a size"),
        (("--max-message-size", "-1"), "--max-message-size", "not a size"),
        (("--max-message-size", "5 parsecs"), "--max-message-size", "unknown unit"),
        (("--preview", "0"), "--preview", "at least 1"),
        (("--preview", "x"), "--preview", "not a whole number"),
    ]:
        result = cli(*args)
        assert result.returncode == 2, args
        assert f"argument {option}: ".encode() in result.stderr, result.stderr
        assert words.encode() in result.stderr, result.stderr


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert cli("--hex", data=b"81 8").returncode == 2  # odd number of digits
    assert cli("--hex", data=b"zz").returncode == 2
    assert cli(str(tmp_path / "missing.bin")).returncode == 2
    assert cli("--client", "--server").returncode == 2
    assert cli("--help").returncode == 0


# --- sizes, text dumps, the HTTP handshake, empty input -----------------------------------


@pytest.mark.parametrize(
    "text, size",
    [
        ("0", 0),
        ("125", 125),
        ("1_048_576", 1 << 20),
        ("16B", 16),
        ("1KiB", 1024),
        ("64MiB", 64 << 20),
        ("64 MiB", 64 << 20),
        ("64mib", 64 << 20),
        ("2GiB", 2 << 30),
        ("1TiB", 1 << 40),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["64MB", "64M", "1K", "1kb", "2G", "1GB"])
def test_parse_size_refuses_ambiguous_units(text: str) -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_size(text)


def test_cli_max_message_size_with_a_unit() -> None:
    # A 2 KiB message against a 1KiB limit: 1009 at the header.
    data = masked(Opcode.BINARY, bytes(2048))
    result = cli("--client", "--max-message-size", "1KiB", data=data)
    assert result.returncode == 1
    assert b"close code 1009" in result.stdout
    assert cli("--client", "--max-message-size", "2KiB", data=data).returncode == 0


# `xxd` and `hexdump -C` of RFC_MASKED_HELLO + RFC_MASKED_PONG_HELLO, as the tools print them.
XXD = b"""\
00000000: 8185 37fa 213d 7f9f 4d51 588a 8537 fa21  ..7.!=..MQX..7.!
00000010: 3d7f 9f4d 5158                           =..MQX
"""
XXD_G1_C8 = b"""\
00000000: 81 85 37 fa 21 3d 7f 9f  ..7.!=..
00000008: 4d 51 58 8a 85 37 fa 21  MQX..7.!
00000010: 3d 7f 9f 4d 51 58        =..MQX
"""
HEXDUMP_C = b"""\
00000000  81 85 37 fa 21 3d 7f 9f  4d 51 58 8a 85 37 fa 21  |..7.!=..MQX..7.!|
00000010  3d 7f 9f 4d 51 58                                 |=..MQX|
00000016
"""
TWO_FRAMES = RFC_MASKED_HELLO + RFC_MASKED_PONG_HELLO


@pytest.mark.parametrize(
    "name, text, form",
    [
        ("plain-hex", TWO_FRAMES.hex().encode(), "hex text"),
        ("spaced-hex-lines", b"81 85 37 fa 21 3d\n7f 9f 4d 51 58\r\n8a85 37fa213d 7f9f4d5158\n",
         "hex text"),
        ("xxd", XXD, "an xxd dump"),
        ("xxd-g1-c8", XXD_G1_C8, "an xxd dump"),
        ("hexdump-C", HEXDUMP_C, "a hexdump -C dump"),
    ],
)
def test_text_dumps_are_read(name: str, text: bytes, form: str) -> None:
    assert decode_text_dump(text) == (TWO_FRAMES, form)


def test_hexdump_squeezed_lines_are_repeated() -> None:
    # hexdump -C prints '*' for lines equal to the one before.
    dump = b"""\
00000000  82 7e 00 40 00 00 00 00  00 00 00 00 00 00 00 00  |.~.@............|
00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00000040  00 00 00 00                                       |....|
00000044
"""
    assert decode_text_dump(dump) == (b"\x82\x7e\x00\x40" + bytes(64), "a hexdump -C dump")


def test_raw_bytes_are_not_taken_for_text() -> None:
    assert decode_text_dump(RFC_MASKED_HELLO) is None
    assert decode_text_dump(b"hello world") is None
    assert decode_text_dump(b"") is None


@pytest.mark.parametrize("args", [(), ("--hex",)])
@pytest.mark.parametrize("text", [TWO_FRAMES.hex().encode(), XXD, HEXDUMP_C])
def test_cli_reads_text_dumps(args: tuple[str, ...], text: bytes) -> None:
    result = cli(*args, data=text)
    assert result.returncode == 0, result.stderr
    assert b'"Hello"' in result.stdout and b"PONG" in result.stdout
    first = result.stdout.splitlines()[0]
    assert first.startswith(b"read ")
    assert (b"detected" in first) == (args == ())


def test_cli_raw_keeps_hex_text_as_bytes() -> None:
    # As bytes, the hex digit '8' (0x38) is a frame with RSV2, RSV3 and opcode 8.
    result = cli("--raw", data=b"8185")
    assert result.returncode == 1
    assert b"read " not in result.stdout
    assert b"VIOLATION at byte 0" in result.stdout


def test_cli_hex_rejects_a_bad_dump() -> None:
    broken = XXD.replace(b"00000010:", b"00000020:")  # an offset that does not follow
    result = cli("--hex", data=broken)
    assert result.returncode == 2
    assert b"xxd dump, line 2: offset 00000020 where 00000010 was expected" in result.stderr


REQUEST = (
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)


def test_handshake_of_a_client_is_skipped_and_gives_the_role() -> None:
    capture = inspect_stream(REQUEST + RFC_MASKED_HELLO + b"\x83\x80" + KEY)
    assert capture.handshake == "GET /chat HTTP/1.1"
    assert capture.start == len(REQUEST)
    assert capture.client is True and capture.guessed and capture.basis == "the HTTP request"
    assert [f.offset for f in capture.frames] == [len(REQUEST)]  # offsets in the capture
    assert capture.violation is not None
    assert capture.violation.offset == len(REQUEST) + 11
    report = format_report(capture)
    assert f"skipped the HTTP handshake: bytes 0-{len(REQUEST) - 1}" in report
    assert "guessed from the HTTP request" in report


def test_handshake_of_a_server_is_skipped() -> None:
    capture = inspect_stream(RESPONSE + RFC_UNMASKED_HELLO)
    assert capture.client is False and capture.basis == "the HTTP response"
    assert capture.clean and len(capture.frames) == 1
    # A given role wins over the handshake's.
    capture = inspect_stream(RESPONSE + RFC_UNMASKED_HELLO, client=True)
    assert not capture.guessed and capture.violation is not None


def test_unfinished_handshake_is_truncated(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out = run_main(capsys, tmp_path, REQUEST[:-2])
    assert status == 1
    assert "unfinished HTTP handshake ('GET /chat HTTP/1.1')" in out
    assert "TRUNCATED: the capture ends inside the HTTP handshake" in out


def test_cli_handshake_capture() -> None:
    result = cli(data=REQUEST + RFC_MASKED_HELLO)
    assert result.returncode == 0, result.stderr
    assert b"skipped the HTTP handshake" in result.stdout
    assert b"reserved opcode" not in result.stdout and b'"Hello"' in result.stdout


@pytest.mark.parametrize("data", [b"", b"\x81"])
def test_too_little_input_claims_no_guess(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes
) -> None:
    capture = inspect_stream(data)
    assert not capture.guessed and not capture.sender_known
    status, out = run_main(capsys, tmp_path, data)
    assert "guessed" not in out
    assert ("an empty capture" if not data else "sender unknown") in out
    assert status == (0 if not data else 1)
