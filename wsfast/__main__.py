"""The command line: ``python -m wsfast info``, ``bench`` and ``decode``.

Also installed as the ``wsfast`` script.  ``--version`` prints the version;
with no command it prints the help.

``info``   version, where wsfast was imported from, the active twin and why,
           SIMD level in use and every level the CPU supports, Python and
           platform (``--json`` for a machine-readable form).
``bench``  the embedded benchmark (standard library only): wsfast's compiled and
           pure twins side by side with the installed WebSocket libraries, and
           copy / memcpy reference rows (see ``wsfast._bench``).
``decode`` list the frames of a captured byte stream and check it as a strict
           receiver would (see ``wsfast._inspect``).
``run``    run a Python command (a server, a script) with WebSocket stacks patched
           to use wsfast, worker processes included (see ``wsfast.integrations._run``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _info(args: argparse.Namespace) -> int:
    from wsfast._info import environment, format_info

    env = environment()
    if args.json:
        print(json.dumps(env, indent=2))
    else:
        print(format_info(env))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from wsfast import _bench

    return _bench.main(
        only=args.only,
        quick=args.quick,
        json_path=args.json,
        samples=args.samples,
        sample_ms=args.sample_ms,
        kernels=args.kernels,
        markdown=args.markdown,
        plot_path=args.plot,
        progress=args.progress,
    )


def _parser() -> argparse.ArgumentParser:
    from wsfast._bench import EXTRA_TOPICS, TOPICS

    from wsfast import __version__

    parser = argparse.ArgumentParser(
        prog="python -m wsfast",
        description="wsfast: a fast, strict RFC 6455 WebSocket frame codec.",
        epilog="The same command line is installed as the `wsfast` script. "
        "`python -m wsfast COMMAND --help` describes a command.",
    )
    parser.add_argument("--version", action="version", version=f"wsfast {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser(
        "info", help="version, where wsfast comes from, the twin in use and why, SIMD, platform",
        description="Show the wsfast version, the twin and SIMD level in use, every SIMD "
        "level this CPU supports, and the Python and platform.",
    )
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(run=_info)

    bench = commands.add_parser(
        "bench", help="benchmark the twins against installed WebSocket libraries",
        description="Time wsfast's compiled and pure twins side by side with the "
        "installed WebSocket libraries that the integrations name as peers (pip install "
        "'wsfast[bench]' installs them all) and copy/memcpy references: masking, "
        "UTF-8 validation, frames and messages. Median of several samples per case, "
        "cases interleaved; a summary of the ratios at the end; progress and the ETA "
        "on standard error. A full run takes about a minute and a quarter on 2 busy cores, "
        "--quick about 6 s.",
    )
    bench.add_argument("--quick", action="store_true",
                       help="short samples and sizes up to 64 KiB (about 6 s)")
    bench.add_argument("--json", metavar="FILE",
                       help="also write the results as JSON to FILE ('-': standard output, "
                       "tables then go to standard error)")
    bench.add_argument("--only", metavar="TOPIC", action="append",
                       choices=TOPICS + EXTRA_TOPICS,
                       help=f"run only this topic ({', '.join(TOPICS + EXTRA_TOPICS)}); "
                       "may be repeated")
    bench.add_argument("--samples", type=int, metavar="N",
                       help="samples per case (default 5; 3 with --quick)")
    bench.add_argument("--sample-ms", type=float, metavar="MS",
                       help="target length of one sample (default 20; 1 with --quick)")
    bench.add_argument("--kernels", action="store_true",
                       help="also time the compiled twin's kernels at every other SIMD level "
                       "(internal rows, through test hooks)")
    bench.add_argument("--markdown", action="store_true",
                       help="print the tables and the summary as GitHub markdown")
    bench.add_argument("--plot", metavar="FILE.png",
                       help="also draw speed by size, one panel per topic, to FILE "
                       "(needs matplotlib: pip install 'wsfast[plot]')")
    bench.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress lines on standard error")
    bench.set_defaults(run=_bench)

    from wsfast import _inspect

    _inspect.add_subcommand(commands)  # `decode`: the frame inspector

    from wsfast.integrations import _run

    _run.add_subcommand(commands)  # `run`: a command with stacks patched
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `python -m wsfast`: what it can do, not an error
        parser.print_help()
        return 0
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `python -m wsfast bench | head`
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
