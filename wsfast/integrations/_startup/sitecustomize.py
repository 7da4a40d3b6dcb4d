"""Imported by Python at startup when ``python -m wsfast run`` started the process.

``python -m wsfast run`` puts this directory in front of ``PYTHONPATH`` and
names the stacks in ``WSFAST_PATCH``; ``site`` imports ``sitecustomize`` in
every interpreter that starts, so the command and the worker processes it
spawns all call ``wsfast.patch()`` before they import anything else.  Then
this module steps aside: it takes its directory off ``sys.path`` and runs the
``sitecustomize`` it hid, if any.  A failure is reported on standard error
and never stops the command.
"""

from __future__ import annotations

import os
import sys


def _patch() -> None:
    try:
        from wsfast.integrations._run import apply_from_environment

        apply_from_environment()
    except Exception as exc:  # never stop the command; say why it runs unpatched
        print(f"wsfast[{os.getpid()}]: stacks not patched: {type(exc).__name__}: {exc}",
              file=sys.stderr)


def _step_aside() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    try:
        import importlib.machinery
        import importlib.util

        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)
    except Exception as exc:
        print(f"wsfast[{os.getpid()}]: the hidden sitecustomize failed: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)


_patch()
_step_aside()
