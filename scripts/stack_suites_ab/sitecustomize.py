"""Patches the stacks named in ``WSFAST_SUITE_PATCH`` when an interpreter starts.

Only for ``scripts/stack_suites_autobahn_wsclient.sh``, which puts this
directory on ``PYTHONPATH``: the test runner and every Python process it
starts (daphne's test servers included) run the stack patched.  A failure is
logged (the script then finds no proof and fails) and printed.  Afterwards the
``sitecustomize`` this one hides, if any, still runs.
"""

from __future__ import annotations

import os
import sys


def _patch() -> None:
    if not os.environ.get("WSFAST_SUITE_PATCH"):
        return
    try:
        import wsfast_suite_hook

        wsfast_suite_hook.install()
    except Exception as exc:  # the script reports the missing proof
        print(f"wsfast suite hook [{os.getpid()}]: {type(exc).__name__}: {exc}", file=sys.stderr)


def _run_hidden() -> None:
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_patch()
_run_hidden()
