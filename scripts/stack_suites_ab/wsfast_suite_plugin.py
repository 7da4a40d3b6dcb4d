"""pytest plugin for ``scripts/stack_suites_autobahn_wsclient.sh`` (``-p wsfast_suite_plugin``).

Before each test it puts back a patch that a test lost (see
``wsfast_suite_hook``); it records every test's outcome in the JSON file named
by ``WSFAST_SUITE_RESULTS``.  ``WSFAST_SUITE_DAPHNE_STARTUP`` (seconds) replaces
the 2 s that daphne's test harness waits for its forked server to start, in the
reference and the patched run alike: on a loaded machine the server can take
longer, the test then fails, and the server it leaves behind keeps pytest from
exiting.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import wsfast_suite_hook

_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3, "error": 3}
_outcomes: dict[str, str] = {}


def pytest_configure(config: Any) -> None:
    names = wsfast_suite_hook.stacks()
    what = f"patched: {', '.join(names)}" if names else "reference run, nothing patched"
    print(f"\n=== wsfast suite plugin: {what}", file=sys.stderr)
    startup = os.environ.get("WSFAST_SUITE_DAPHNE_STARTUP")
    if startup:
        from daphne.testing import BaseDaphneTestingInstance

        BaseDaphneTestingInstance.startup_timeout = float(startup)


def pytest_runtest_setup(item: Any) -> None:
    wsfast_suite_hook.ensure()


def pytest_runtest_logreport(report: Any) -> None:
    if report.passed:
        outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
    elif report.skipped:
        outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    else:
        outcome = "failed" if report.when == "call" else "error"
    old = _outcomes.get(report.nodeid)  # setup, call, teardown: the worst
    if old is None or _RANK[outcome] > _RANK[old]:
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("WSFAST_SUITE_RESULTS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_outcomes, f, indent=0, sort_keys=True)
