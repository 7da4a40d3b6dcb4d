"""pytest plugin for ``scripts/stack_suites.sh``: a stack's own suite, with wsfast patched in.

Loaded with ``-p stack_suites_plugin`` (this directory on ``PYTHONPATH``):

``WSFAST_SUITE_PATCH``    stacks to patch, separated by commas; empty: the
                          reference run, with nothing patched
``WSFAST_SUITE_RESULTS``  file that receives every test's outcome as JSON

Patched runs prove the patch was active: before the first test and after the
last, every object the integrations replaced must still be wsfast's
replacement, and the frames that went through wsfast's decoders are counted
(websockets: through the integration's codec seam).  A stack that is not
accelerated (no integration yet, wrong version) fails the run.

``python stack_suites_plugin.py compare REFERENCE PATCHED DIFF`` compares two
result files and writes the tests whose outcome differs to DIFF (exit 1 if any).
"""

from __future__ import annotations

import json
import os
import sys
import types
from typing import Any

_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3, "error": 3}
_outcomes: dict[str, str] = {}
_counter: dict[str, int] = {"feeds": 0, "frames": 0}


def _stacks() -> list[str]:
    return [s.strip() for s in os.environ.get("WSFAST_SUITE_PATCH", "").split(",") if s.strip()]


class _CountingDecoder:
    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder

    def feed(self, data: Any) -> Any:
        import wsfast

        _counter["feeds"] += 1
        try:
            frames = self._decoder.feed(data)
        except wsfast.WebSocketError as exc:
            _counter["frames"] += len(exc.decoded)
            raise
        _counter["frames"] += len(frames)
        return frames


class _CountingCodec:
    """wsfast itself, with decoders that count what they decode."""

    def __getattr__(self, name: str) -> Any:
        import wsfast

        return getattr(wsfast, name)

    def FrameDecoder(self, **kwargs: Any) -> _CountingDecoder:  # noqa: N802
        import wsfast

        return _CountingDecoder(wsfast.FrameDecoder(**kwargs))


def _owner_name(owner: Any) -> str:
    """``module.Class`` for a class, ``module`` for a module (wsproto's masker)."""
    if isinstance(owner, types.ModuleType):
        return owner.__name__
    return f"{owner.__module__}.{owner.__qualname__}"


def _check_hooks(when: str) -> list[str]:
    """Every replaced object still in place; the lines that say so."""
    from wsfast import integrations

    lines = []
    for stack in _stacks():
        done = integrations._installed.get(stack)
        if done is None:
            raise RuntimeError(f"wsfast: {stack} is not patched {when}")
        for owner, name, _original, replacement in done.saved:
            if vars(owner).get(name) is not replacement:
                raise RuntimeError(
                    f"wsfast: {stack}: {_owner_name(owner)}.{name} is no longer wsfast's "
                    f"{when}")
            where = getattr(replacement, "__module__", "") or ""
            lines.append(f"{_owner_name(owner)}.{name} -> {where}")
    return lines


def pytest_configure(config: Any) -> None:
    stacks = _stacks()
    if not stacks:
        print("\n=== wsfast: reference run, nothing patched", file=sys.stderr)
        return
    import wsfast
    from wsfast.integrations import websockets as ws_integration

    if wsfast.IMPLEMENTATION != "c":
        raise RuntimeError("wsfast: the stack suites run on the compiled twin")
    ws_integration._CODEC = _CountingCodec()
    result = wsfast.patch(*stacks)
    for stack, description in result.items():
        print(f"\n=== wsfast: {stack}: {description}", file=sys.stderr)
        if description.startswith("not accelerated"):
            raise RuntimeError(f"wsfast: {stack} was not patched: {description}")
    for line in _check_hooks("before the first test"):
        print(f"=== wsfast: hook {line}", file=sys.stderr)


def pytest_runtest_logreport(report: Any) -> None:
    if report.passed:
        outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
    elif report.skipped:
        outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    else:
        outcome = "failed" if report.when == "call" else "error"
    old = _outcomes.get(report.nodeid)  # setup, call, teardown, subtests: the worst
    if old is None or _RANK[outcome] > _RANK[old]:
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("WSFAST_SUITE_RESULTS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_outcomes, f, indent=0, sort_keys=True)
    if _stacks():
        _check_hooks("after the last test")
        print(f"\n=== wsfast: patch active to the end; {_counter['frames']} frames "
              f"decoded by wsfast in {_counter['feeds']} feeds (websockets' Protocol)",
              file=sys.stderr)


def _compare(reference_path: str, patched_path: str, diff_path: str) -> int:
    with open(reference_path, encoding="utf-8") as f:
        reference = json.load(f)
    with open(patched_path, encoding="utf-8") as f:
        patched = json.load(f)
    differ = sorted(
        nodeid for nodeid in set(reference) | set(patched)
        if reference.get(nodeid) != patched.get(nodeid)
    )
    with open(diff_path, "w", encoding="utf-8") as f:
        f.writelines(f"{nodeid}\n" for nodeid in differ)
    counts: dict[str, int] = {}
    for outcome in patched.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f"    {len(patched)} tests patched ({summary}); {len(differ)} differ from the reference")
    for nodeid in differ:
        print(f"    DIFFERS: {nodeid}: {reference.get(nodeid)} -> {patched.get(nodeid)}")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "compare":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(_compare(*sys.argv[2:]))
