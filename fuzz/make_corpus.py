"""Write the seed corpus (fuzz/corpus/) from the named test vectors.

    python fuzz/make_corpus.py [OUT_DIR]      (default: fuzz/corpus beside this file)

Every seed is in fuzz_wsfast.py's input format: the sub-target's number, its
fixed fields, then the bytes it feeds. Decoder seeds are the frame and message
vectors of tests/vectors.py (role, limits and reserved-bit options carried
over; an input above MAX_SEED bytes is cut there to keep the corpus small), header
seeds are its header vectors, and a few hand-written inputs cover UTF-8,
masking, close payloads and the encoder. The directory is rewritten whole, so
the committed corpus is exactly what this script gives.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tests")]

import fuzz_wsfast as fz  # noqa: E402
import vectors as tv  # noqa: E402

MAX_SEED = 4096
T = {f.__name__: i for i, f in enumerate(fz.TARGETS)}


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def limit_index(value: int | None) -> int:
    return fz.LIMITS.index(value) if value in fz.LIMITS else 0


def seeds() -> dict[str, bytes]:
    out: dict[str, bytes] = {}

    def add(name: str, data: bytes) -> None:
        name = re.sub(r"[^A-Za-z0-9_.+-]+", "-", name)
        assert name not in out, name
        out[name] = data

    for v in tv.ALL_VECTORS:
        data = v.data[:MAX_SEED]  # a longer one is cut: its header and first bytes stay
        o = v.options
        if v.decoder == "frames":
            flags = (
                o.get("client", False)
                | o.get("allow_rsv1", False) << 1
                | o.get("allow_rsv2", False) << 2
                | o.get("allow_rsv3", False) << 3
            )
            head = bytes(
                [T["t_frame_decoder"], flags, limit_index(o.get("max_frame_size", 1 << 20))]
            )
        else:
            flags = o.get("client", False) | (not o.get("decode_text", True)) << 1
            head = bytes(
                [
                    T["t_message_decoder"],
                    flags,
                    limit_index(o.get("max_message_size", 1 << 20)),
                    limit_index(o.get("max_frame_size")),
                ]
            )
        # whole, then byte by byte for the short ones: both split modes seeded
        add(f"{v.decoder}-{v.name}", head + u16(0) + b"\x00" + data)
        if len(data) <= 64:
            add(f"{v.decoder}-{v.name}-bytewise", head + u16(1) + b"\x01" + data)

    for hv in tv.HEADER_VECTORS:
        # offset 0, opcode TEXT, FIN, 16-bit length 126, a 4-byte key; then the header
        # (the first 64 bytes: a header is at most 14, the rest is payload)
        add(f"header-{hv.name}", bytes([T["t_header"], 0, 1, 1, 3, 0]) + tv.KEY + hv.data[:64])

    utf8 = {
        "ascii": b"Hello, world",
        "two-byte": "é and ß".encode(),
        "three-byte": "日本語".encode(),
        "four-byte": "😀".encode() * 3,
        "max-code-point": b"\xf4\x8f\xbf\xbf",
        "overlong-2-byte": b"\xc0\xaf",
        "overlong-3-byte": b"\xe0\x80\xaf",
        "surrogate": b"\xed\xa0\x80",
        "above-max": b"\xf4\x90\x80\x80",
        "truncated-4-byte": b"ab\xf0\x9f\x98",
        "lone-continuation": b"a\x80b",
        "long-ascii-then-bad": b"x" * 200 + b"\xff",
    }
    for name, data in utf8.items():
        add(f"utf8-{name}", bytes([T["t_utf8"]]) + u16(7) + b"\x00" + data)

    add("mask-rfc-hello", bytes([T["t_mask"], 0]) + u16(0) + u16(0) + b"\x00" + tv.KEY + b"Hello")
    add(
        "mask-offset-3-split",
        bytes([T["t_mask"], 0]) + u16(3) + u16(9) + b"\x01" + tv.KEY + tv.pattern(300),
    )
    add("mask-key-5-bytes", bytes([T["t_mask"], 253]) + u16(0) + u16(0) + b"\x00" + b"12345" + b"x")

    add("close-empty", bytes([T["t_close"], 1]))
    add("close-1000-reason", bytes([T["t_close"], 0]) + u16(1000) + tv.close_payload(1000, b"bye"))
    add("close-4999-utf16-reason", bytes([T["t_close"], 2]) + u16(4999) + "é😀".encode("utf-16-le"))
    add("close-1005-bad", bytes([T["t_close"], 0]) + u16(1005) + tv.close_payload(1005))
    add("close-one-byte", bytes([T["t_close"], 0]) + u16(1000) + b"\x03")

    def call(method: int, arg: int, payload: bytes) -> bytes:
        return bytes([method]) + u16(arg) + u16(len(payload)) + payload

    add(
        "encoder-each-method",
        bytes([T["t_encoder"], 7]) + b"".join(call(m, 0x8000 | 2, b"hello") for m in range(8)),
    )
    add(
        "encoder-fragments",
        bytes([T["t_encoder"], 2])
        + call(1, 1, "über".encode())
        + call(3, 0x8000, b"tail")
        + call(0, 0x8000 | 9, b"p" * 126),
    )
    return out


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    all_seeds = seeds()
    for name, data in sorted(all_seeds.items()):
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
    size = sum(map(len, all_seeds.values()))
    print(f"{len(all_seeds)} seeds, {size} bytes, in {target}")


if __name__ == "__main__":
    main()
