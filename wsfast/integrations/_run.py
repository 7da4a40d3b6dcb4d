"""``python -m wsfast run``: start an unmodified Python command with stacks patched.

    python -m wsfast run [--stacks NAMES] [-v] -m MODULE [ARGS...]
    python -m wsfast run [--stacks NAMES] [-v] -c CODE [ARGS...]
    python -m wsfast run [--stacks NAMES] [-v] SCRIPT_OR_COMMAND [ARGS...]

The command is run by this same interpreter, with two variables added to its
environment:

``WSFAST_PATCH``
    what to patch: ``1`` (or ``true``, ``yes``, ``on``, ``all``) for every
    supported stack that is installed, or names separated by commas
    (``websockets,wsproto``); off (``0``, ``false``, ``no``, ``off``, empty)
    for nothing.
``PYTHONPATH``
    gains, in front, a directory that holds only a ``sitecustomize`` module.
    Python imports ``sitecustomize`` at startup, so every process of the
    command -- the server, and the workers it starts with ``multiprocessing``
    (uvicorn ``--workers``, ``--reload``), which begin with a fresh
    interpreter and inherit nothing patched in memory -- calls
    ``wsfast.patch()`` before the application is imported.  That module then
    runs the ``sitecustomize`` it hides, if there is one, and leaves
    ``sys.path`` as it found it.

Forked workers (gunicorn) inherit the patch from their parent.  Python
started with ``-I`` or ``-E`` ignores ``PYTHONPATH`` and is not patched.  The
two variables can also be set by hand where the command line cannot be
wrapped: ``python -m wsfast run --pythonpath`` prints the directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._env import OFF, ON

__all__ = ["STARTUP_DIR", "add_subcommand", "apply_from_environment", "main"]

#: The directory ``run`` puts in front of ``PYTHONPATH``: only ``sitecustomize.py``.
STARTUP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_startup")

USAGE = """\
usage: python -m wsfast run [--stacks NAMES] [-v] -m MODULE [ARGS...]
       python -m wsfast run [--stacks NAMES] [-v] -c CODE [ARGS...]
       python -m wsfast run [--stacks NAMES] [-v] SCRIPT_OR_COMMAND [ARGS...]
       python -m wsfast run --pythonpath

Run a Python command (a module, a script, or a command on PATH written in
Python, such as uvicorn or daphne) with WebSocket stacks patched to use wsfast,
in its own process and in every Python process it starts (uvicorn --workers).

options:
  --stacks NAMES   stacks to patch, separated by commas (default: every
                   supported stack that is installed); one of: {stacks}
  -v, --verbose    each process says on standard error what it patched
  --pythonpath     print the directory to put in front of PYTHONPATH (with
                   WSFAST_PATCH=1) to do the same without this command
  -h, --help       show this help

example: python -m wsfast run -m uvicorn app:app --workers 4
"""


def _stack_names(value: str) -> tuple[str, ...] | None:
    """``WSFAST_PATCH``'s value: () for nothing, None for every stack, or names."""
    text = value.strip()
    if text.lower() in OFF:
        return ()
    if text.lower() in ON or text.lower() == "all":
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())


def apply_from_environment(environ: Any = None) -> dict[str, str]:
    """Patch what ``WSFAST_PATCH`` names (what ``sitecustomize`` calls at startup).

    With ``WSFAST_PATCH_VERBOSE`` on, one line per stack goes to standard
    error.  Returns ``patch()``'s result (empty when nothing is asked).
    """
    from . import patch

    env = os.environ if environ is None else environ
    names = _stack_names(env.get("WSFAST_PATCH", ""))
    if names == ():
        return {}
    result = patch() if names is None else patch(*names)
    if env.get("WSFAST_PATCH_VERBOSE", "").strip().lower() in ON:
        # One write per line: the processes of a command share standard error.
        sys.stderr.write("".join(
            f"wsfast[{os.getpid()}]: {stack}: {description}\n"
            for stack, description in result.items()))
        sys.stderr.flush()
    return result


def _fail(message: str) -> NoReturn:
    print(f"python -m wsfast run: error: {message}", file=sys.stderr)
    print(USAGE.split("\n\n")[0], file=sys.stderr)
    raise SystemExit(2)


def _parse(argv: Sequence[str]) -> tuple[str, bool, list[str]]:
    """(WSFAST_PATCH value, verbose, the command to run); exits on a usage error."""
    from . import STACKS

    stacks, verbose = "1", False
    args = list(argv)
    while args:
        arg = args[0]
        if arg in ("-h", "--help"):
            print(USAGE.format(stacks=", ".join(STACKS)))
            raise SystemExit(0)
        if arg == "--pythonpath":
            print(STARTUP_DIR)
            raise SystemExit(0)
        if arg in ("-v", "--verbose"):
            verbose = True
        elif arg == "--stacks" or arg.startswith("--stacks="):
            if arg == "--stacks":
                if len(args) < 2:
                    _fail("--stacks needs a value")
                arg = args.pop(1)
            else:
                arg = arg.partition("=")[2]
            names = _stack_names(arg)
            unknown = [n for n in names or () if n not in STACKS]
            if unknown:
                _fail(f"unknown stack(s) {', '.join(unknown)}; expected some of "
                      f"{', '.join(STACKS)}")
            stacks = arg
        elif arg == "--":
            args.pop(0)
            break
        else:
            break
        args.pop(0)
    if not args:
        _fail("no command to run")
    if args[0] in ("-m", "-c"):
        if len(args) < 2:
            _fail(f"{args[0]} needs an argument")
        return stacks, verbose, [sys.executable, *args]
    if args[0].startswith("-"):
        _fail(f"unknown option {args[0]}")
    target = args[0]
    if not os.path.exists(target):
        found = shutil.which(target)
        if found is None:
            _fail(f"{target}: no such file, and no such command on PATH")
        target = found
    return stacks, verbose, [sys.executable, target, *args[1:]]


def environment(stacks: str, verbose: bool, environ: Any = None) -> dict[str, str]:
    """The environment of the command: ``WSFAST_PATCH`` and the startup directory."""
    env = dict(os.environ if environ is None else environ)
    env["WSFAST_PATCH"] = stacks
    if verbose:
        env["WSFAST_PATCH_VERBOSE"] = "1"
    path = env.get("PYTHONPATH", "")
    parts = [p for p in path.split(os.pathsep) if p and p != STARTUP_DIR]
    env["PYTHONPATH"] = os.pathsep.join([STARTUP_DIR, *parts])
    return env


def main(argv: Sequence[str]) -> int:
    """Run the command with stacks patched; its exit status (POSIX: replaced by it)."""
    stacks, verbose, command = _parse(argv)
    env = environment(stacks, verbose)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # The command takes this process's place: same pid, signals, exit status.
        os.execve(command[0], command, env)
    return subprocess.call(command, env=env)


def add_subcommand(commands: Any) -> argparse.ArgumentParser:
    """Register ``run`` on the ``add_subparsers()`` object of ``python -m wsfast``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="run a Python command (uvicorn, daphne, a script) with stacks patched",
        description="Run a Python command with WebSocket stacks patched to use wsfast, "
        "worker processes included. See 'python -m wsfast run --help'.",
        # Every argument belongs to `run` or to the command: argparse must not
        # take `-m` or `--workers` for options of its own.
        prefix_chars="+",
        add_help=False,
    )
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    parser.set_defaults(run=lambda args: main(args.argv))
    return parser
