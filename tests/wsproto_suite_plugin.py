"""pytest plugin: run a stack's own test suite (wsproto's, uvicorn's) with wsproto patched.

    PYTHONPATH=<wsfast>/tests python -m pytest -p wsproto_suite_plugin <the suite>

It patches wsproto before any test runs (``wsfast.patch("wsproto")`` when the
registry exists, else the integration's targets), checks that the replacements
are where wsproto looks them up, counts the calls that reach wsfast, prints the
counts at the end, and turns a run in which no frame reached wsfast into a
failure (exit status 3), so a patch that silently did nothing cannot pass.
"""

from __future__ import annotations

import collections
from typing import Any

import wsfast

COUNTS: collections.Counter[str] = collections.Counter()


def _count(cls: Any, name: str) -> None:
    original = cls.__dict__[name]

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS[f"{cls.__name__}.{name}"] += 1
        return original(self, *args, **kwargs)

    setattr(cls, name, counted)


def pytest_configure(config: Any) -> None:
    if hasattr(wsfast, "patch"):
        wsfast.patch("wsproto")
    else:
        from wsfast.integrations import wsproto as integration

        for owner, name, replacement in integration.targets():
            setattr(owner, name, replacement)
    from wsproto import connection, extensions, frame_protocol

    protocol = frame_protocol.FrameProtocol
    assert protocol.__module__ == "wsfast.integrations.wsproto", protocol
    assert connection.FrameProtocol is protocol and extensions.FrameProtocol is protocol
    assert frame_protocol.XorMaskerSimple.__module__ == "wsfast.integrations.wsproto"
    for name in ("__init__", "_batch", "_stream", "_serialize_frame"):
        _count(protocol, name)
    _count(frame_protocol.XorMaskerSimple, "__init__")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"wsfast ({wsfast.IMPLEMENTATION} twin) calls: {dict(COUNTS)}")


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    decoded = COUNTS["FrameProtocol._batch"] + COUNTS["FrameProtocol._stream"]
    if exitstatus == 0 and not decoded:
        session.exitstatus = 3
