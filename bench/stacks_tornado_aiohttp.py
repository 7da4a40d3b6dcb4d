#!/usr/bin/env python3
"""tornado and aiohttp, patched with wsfast vs as they are: stack-level ratios.

    python bench/stacks_tornado_aiohttp.py                  # ~3-5 min on a quiet machine
    python bench/stacks_tornado_aiohttp.py --rounds 3 --only tornado
    python bench/stacks_tornado_aiohttp.py --json out.json

The workloads are the integrations' own (``workloads()`` in
``wsfast/integrations/tornado.py`` and ``aiohttp.py``), timed by
``bench/stacks.py``: in every round each workload runs unpatched and patched,
one right after the other, in alternating order, in one process; the ratio is
unpatched time / patched time (> 1: faster patched), median over the rounds.

tornado: its mask function as ``tornado.websocket`` binds it, and a server-side
``WebSocketProtocol13`` receiving masked client frames through a socket pair
(tornado's ``IOStream`` on both ends).  aiohttp: the reader class aiohttp binds
in ``aiohttp.web_ws`` fed masked client frames over aiohttp's queue, once with
aiohttp's compiled reader and queue (its default) and once, in a child process,
with ``AIOHTTP_NO_EXTENSIONS=1`` (its pure-Python reader and queue, what PyPy
and platforms without aiohttp wheels run).  ``patch()`` replaces both by
default (``wsfast.integrations.aiohttp.REPLACE_COMPILED_READER``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent


def _stacks_bench() -> Any:
    """bench/stacks.py, imported from beside this file."""
    spec = importlib.util.spec_from_file_location("wsfast_bench_stacks", HERE / "stacks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _aiohttp_kind() -> str:
    from aiohttp._websocket import reader

    return "pure" if reader.WebSocketReader.__module__.endswith("reader_py") else "compiled"


def run(stacks: list[str], rounds: int, repeat: int) -> list[dict[str, Any]]:
    # The compiled rows are measured replaced, as patch() does by default.
    from wsfast.integrations import aiohttp as integration

    integration.REPLACE_COMPILED_READER = True
    bench = _stacks_bench()
    rows: list[dict[str, Any]] = []
    for stack in stacks:
        got = bench.bench_stack(stack, rounds, repeat)
        if stack == "aiohttp":
            kind = _aiohttp_kind()
            for row in got:
                row["stack"] = f"aiohttp ({kind})"
        rows += got
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=("tornado", "aiohttp"),
                        help="this stack only (may be repeated)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per cell and round, the best is kept (default 3)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stacks = args.only or ["tornado", "aiohttp"]
    if args.child:  # the aiohttp pure-Python run: rows as JSON on stdout
        print(json.dumps(run(["aiohttp"], args.rounds, args.repeat)))
        return 0
    _stacks_bench().print_header()
    rows = run(stacks, args.rounds, args.repeat)
    if "aiohttp" in stacks and _aiohttp_kind() == "compiled":
        env = dict(os.environ, AIOHTTP_NO_EXTENSIONS="1")
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--rounds", str(args.rounds),
             "--repeat", str(args.repeat)],
            env=env, stdout=subprocess.PIPE, check=True, text=True)
        rows += json.loads(child.stdout)
    return int(_stacks_bench().report(rows, args))


if __name__ == "__main__":
    sys.exit(main())
