"""Runs a stack's own test suite with wsfast patched in, and proves it was.

Used by ``scripts/stack_suites_autobahn_wsclient.sh``, with this directory on
``PYTHONPATH``.  ``sitecustomize.py`` beside this file calls ``install()`` in
every interpreter that starts (test runner, forked or spawned servers), so the
patch is in place before any test module imports the stack.  The same module
``wsfast_suite_plugin.py`` is the pytest plugin (``-p wsfast_suite_plugin``).

Environment:

``WSFAST_SUITE_PATCH``    stacks to patch, separated by commas ("autobahn",
                          "websocket-client"); empty: the reference run
``WSFAST_SUITE_LOG``      file that receives one line per call that went
                          through wsfast: ``<pid> <what>``
``WSFAST_SUITE_RESULTS``  file that receives every pytest test's outcome (JSON;
                          written by the plugin)

Proof that the patch was active: every replacement is wrapped so that its
calls are logged (the maskers autobahn creates and the chunks it validates,
websocket-client's mask and validate_utf8 calls), from every process.  Before
each pytest test the replaced objects are checked; a test that reloads the
stack's modules (websocket-client's own suite does, to test its import-time
fallbacks) loses the patch, and it is put back for the next test (logged as
``reapplied``).  ``python wsfast_suite_hook.py proof LOG`` sums the log up;
``python wsfast_suite_hook.py compare REFERENCE PATCHED`` compares two result
files and exits 1 if any test's outcome differs.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import sys
from typing import Any

_log_fd: int | None = None
_manual: dict[str, list[tuple[Any, str, Any]]] = {}
_MODULES = {"autobahn": "autobahn", "websocket-client": "websocket_client"}


def stacks() -> list[str]:
    """The stacks this run patches."""
    return [s.strip() for s in os.environ.get("WSFAST_SUITE_PATCH", "").split(",") if s.strip()]


def _log(what: str) -> None:
    global _log_fd
    path = os.environ.get("WSFAST_SUITE_LOG")
    if not path:
        return
    if _log_fd is None:
        _log_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(_log_fd, f"{os.getpid()} {what}\n".encode())


def _counted_autobahn(targets: list[tuple[Any, str, Any]]) -> list[tuple[Any, str, Any]]:
    out = []
    for owner, name, replacement in targets:
        if name == "create_xor_masker":
            factory = replacement

            def create_xor_masker(mask: Any, length: Any = None, _f: Any = factory) -> Any:
                _log("autobahn.masker")
                return _f(mask, length)

            create_xor_masker.__module__ = factory.__module__
            create_xor_masker._wsfast_counted = True  # type: ignore[attr-defined]
            out.append((owner, name, create_xor_masker))
        elif name == "Utf8Validator":
            base = replacement

            class Utf8Validator(base):  # type: ignore[misc, valid-type]
                __slots__ = ()
                __module__ = base.__module__
                _wsfast_counted = True

                def validate(self, ba: Any) -> Any:
                    _log("autobahn.validate")
                    return super().validate(ba)

            out.append((owner, name, Utf8Validator))
        else:
            raise RuntimeError(f"unexpected autobahn target {name}")
    # The same replacement object for every binding, as the integration gives.
    by_name = {name: r for _, name, r in out}
    return [(owner, name, by_name[name]) for owner, name, _ in out]


def _counted_websocket_client(targets: list[tuple[Any, str, Any]]) -> list[tuple[Any, str, Any]]:
    made: dict[str, Any] = {}
    out = []
    for owner, name, replacement in targets:
        if name == "mask":
            func = replacement.__func__

            def mask(mask_key: Any, data: Any, _f: Any = func) -> Any:
                _log("websocket-client.mask")
                return _f(mask_key, data)

            mask._wsfast_counted = True  # type: ignore[attr-defined]
            out.append((owner, name, staticmethod(mask)))
        elif name == "validate_utf8":
            if name not in made:
                func = replacement

                def validate_utf8(utfbytes: Any, _f: Any = func) -> Any:
                    _log("websocket-client.validate_utf8")
                    return _f(utfbytes)

                validate_utf8._wsfast_counted = True  # type: ignore[attr-defined]
                made[name] = validate_utf8
            out.append((owner, name, made[name]))
        else:
            raise RuntimeError(f"unexpected websocket-client target {name}")
    return out


_COUNTERS = {"autobahn": _counted_autobahn, "websocket-client": _counted_websocket_client}


def _integration(stack: str) -> Any:
    return importlib.import_module(f"wsfast.integrations.{_MODULES[stack]}")


def _wrap_targets(stack: str) -> None:
    integration = _integration(stack)
    if getattr(integration.targets, "_wsfast_counted", False):
        return
    plain = integration.targets

    def targets() -> list[tuple[Any, str, Any]]:
        return _COUNTERS[stack](plain())

    targets._wsfast_counted = True  # type: ignore[attr-defined]
    integration.targets = targets


def _patch(stack: str) -> str:
    import wsfast

    if hasattr(wsfast, "patch"):
        return wsfast.patch(stack)[stack]  # type: ignore[no-any-return]
    # Before the registry exists: install the targets by hand.
    saved = []
    for owner, name, replacement in _integration(stack).targets():
        saved.append((owner, name, vars(owner)[name]))
        setattr(owner, name, replacement)
    _manual[stack] = saved
    return _integration(stack).describe()  # type: ignore[no-any-return]


def _unpatch(stack: str) -> None:
    import wsfast

    if hasattr(wsfast, "unpatch"):
        wsfast.unpatch(stack)
    for owner, name, original in reversed(_manual.pop(stack, [])):
        setattr(owner, name, original)


def _installed(stack: str) -> bool:
    """Every object the integration replaces is (still) the counted replacement."""
    for owner, name, _ in _integration(stack).targets():
        current = vars(owner).get(name)
        current = getattr(current, "__func__", current)  # a staticmethod
        if not getattr(current, "_wsfast_counted", False):
            return False
    return True


def install() -> None:
    """Patch the stacks named in the environment (called at interpreter startup)."""
    import wsfast

    for stack in stacks():
        if wsfast.IMPLEMENTATION != "c":
            raise RuntimeError("the stack suites run on wsfast's compiled twin")
        _wrap_targets(stack)
        description = _patch(stack)
        if description.startswith("not accelerated") or not _installed(stack):
            _log(f"FAILED-TO-PATCH {stack}")
            raise RuntimeError(f"wsfast: {stack} was not patched: {description}")
        _log(f"patched {stack}")
    if stacks():
        atexit.register(_check_at_exit)


def ensure() -> None:
    """Put the patch back where a test lost it (a reloaded module)."""
    for stack in stacks():
        if not _installed(stack):
            _unpatch(stack)
            _patch(stack)
            if not _installed(stack):
                raise RuntimeError(f"wsfast: {stack} could not be patched again")
            _log(f"reapplied {stack}")


def _check_at_exit() -> None:
    for stack in stacks():
        _log(f"{'installed' if _installed(stack) else 'LOST'}-at-exit {stack}")


# --- command line: proof and comparison ------------------------------------------------------


def _proof(log_path: str) -> int:
    """Sum up a log: calls per kind and processes; 1 if nothing went through wsfast."""
    counts: dict[str, int] = {}
    pids: dict[str, set[str]] = {}
    try:
        with open(log_path, encoding="utf-8") as f:
            for line in f:
                pid, what = line.split(" ", 1)
                what = what.strip()
                counts[what] = counts.get(what, 0) + 1
                pids.setdefault(what, set()).add(pid)
    except FileNotFoundError:
        pass
    for what in sorted(counts):
        print(f"    {counts[what]:7d} x {what}  ({len(pids[what])} process(es))")
    calls = sum(n for what, n in counts.items() if "." in what)
    bad = [what for what in counts if what.startswith(("FAILED", "LOST"))]
    if not calls or bad:
        print(f"    NO PROOF: {calls} calls through wsfast; problems: {bad or 'none'}")
        return 1
    return 0


def _compare(reference_path: str, patched_path: str) -> int:
    with open(reference_path, encoding="utf-8") as f:
        reference = json.load(f)
    with open(patched_path, encoding="utf-8") as f:
        patched = json.load(f)
    differ = sorted(n for n in set(reference) | set(patched) if reference.get(n) != patched.get(n))
    counts: dict[str, int] = {}
    for outcome in patched.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f"    patched: {len(patched)} test ids ({summary}); {len(differ)} differ from the "
          f"reference")
    for nodeid in differ:
        print(f"    DIFFERS: {nodeid}: {reference.get(nodeid)} -> {patched.get(nodeid)}")
    return 1 if differ or not patched else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "proof":
        sys.exit(_proof(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(_compare(sys.argv[2], sys.argv[3]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
