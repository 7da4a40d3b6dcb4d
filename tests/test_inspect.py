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
from wsfast._inspect import CHUNK, inspect_stream, main

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


def cli(*args: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        # -I: the installed package, not the source tree in the working directory
        [sys.executable, "-I", "-m", "wsfast", "decode", *args],
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


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert cli("--hex", data=b"81 8").returncode == 2  # odd number of digits
    assert cli("--hex", data=b"zz").returncode == 2
    assert cli(str(tmp_path / "missing.bin")).returncode == 2
    assert cli("--client", "--server").returncode == 2
    assert cli("--help").returncode == 0
