"""``python -m wsfast run``: an unmodified command, and the processes it starts, patched.

Each test starts real interpreters (the command, its multiprocessing children,
a uvicorn server with two workers on loopback) from a temporary directory, so
what they import is the installed wsfast, not the source tree.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import wsfast
from wsfast.integrations import _run

# The runner replaces itself with the command (exec) on POSIX; these tests also
# stop servers by process group.  Elsewhere it is a subprocess, not tested here.
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX process handling")

#: websockets is patched on the compiled twin only (with the pure twin its own
#: code is faster and patch() declines); the subprocesses inherit the choice.
needs_patch = pytest.mark.skipif(
    wsfast.IMPLEMENTATION != "c", reason="patch('websockets') declines with the pure twin"
)

#: Prints, as JSON, what a process sees: its pid, patched(), and websockets' parser.
REPORT = """
import json, os, sys
import wsfast
try:
    from websockets.protocol import Protocol
    parse = Protocol.parse.__module__
except ImportError:
    parse = None
print(json.dumps({"pid": os.getpid(), "patched": sorted(wsfast.patched()), "parse": parse,
                  "path_has_startup": any(p.endswith("_startup") for p in sys.path)}))
"""

SPAWNING = """
import multiprocessing

def child(queue):
    import contextlib, io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(REPORT, {})
    queue.put(out.getvalue())

if __name__ == "__main__":
    exec(REPORT, {})
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=child, args=(queue,))
    process.start()
    print(queue.get(timeout=60), end="")
    process.join()
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WSFAST_PATCH")}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def _wsfast(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsfast", "run", *args], cwd=tmp_path, env=env or _env(),
        capture_output=True, text=True, timeout=timeout,
    )


def _reports(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@needs_patch
def test_module_and_script_are_patched(tmp_path: Path) -> None:
    pytest.importorskip("websockets")
    (tmp_path / "report_mod.py").write_text(REPORT)
    for args in (["-m", "report_mod"], ["report_mod.py"], ["-c", REPORT]):
        done = _wsfast(tmp_path, "--stacks", "websockets", *args)
        assert done.returncode == 0, done.stderr
        (report,) = _reports(done.stdout)
        assert report["patched"] == ["websockets"]
        assert report["parse"] == "wsfast.integrations.websockets"
        assert not report["path_has_startup"]  # the startup directory stepped aside


@needs_patch
def test_spawned_children_are_patched(tmp_path: Path) -> None:
    pytest.importorskip("websockets")
    script = tmp_path / "spawning.py"
    script.write_text(f"REPORT = {REPORT!r}\n" + SPAWNING)
    done = _wsfast(tmp_path, "-v", "spawning.py")
    assert done.returncode == 0, done.stderr
    parent, child = _reports(done.stdout)
    assert parent["pid"] != child["pid"]
    for report in (parent, child):
        assert "websockets" in report["patched"]
        assert report["parse"] == "wsfast.integrations.websockets"
    # -v: each process said what it patched (multiprocessing's resource
    # tracker, a Python process too, may also have).
    said = {int(pid) for pid in re.findall(r"wsfast\[(\d+)\]: websockets: ", done.stderr)}
    assert {parent["pid"], child["pid"]} <= said


def test_unpatched_without_the_runner(tmp_path: Path) -> None:
    """The same spawning program, started plainly: nothing is patched anywhere."""
    script = tmp_path / "spawning.py"
    script.write_text(f"REPORT = {REPORT!r}\n" + SPAWNING)
    done = subprocess.run([sys.executable, "spawning.py"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for report in _reports(done.stdout):
        assert report["patched"] == []


@pytest.mark.parametrize("value", ["0", "off", ""])
def test_wsfast_patch_off(tmp_path: Path, value: str) -> None:
    startup = _run.STARTUP_DIR
    done = subprocess.run([sys.executable, "-c", REPORT], cwd=tmp_path,
                          env=_env(PYTHONPATH=startup, WSFAST_PATCH=value),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _reports(done.stdout)[0]["patched"] == []


@needs_patch
def test_environment_switch_by_hand(tmp_path: Path) -> None:
    """What the runner sets up, set by hand (for commands that cannot be wrapped)."""
    pytest.importorskip("websockets")
    printed = _wsfast(tmp_path, "--pythonpath").stdout.strip()
    assert printed == _run.STARTUP_DIR
    assert os.listdir(printed) == ["sitecustomize.py"] or set(os.listdir(printed)) <= {
        "sitecustomize.py", "__pycache__"}
    done = subprocess.run([sys.executable, "-c", REPORT], cwd=tmp_path,
                          env=_env(PYTHONPATH=printed, WSFAST_PATCH="websockets"),
                          capture_output=True, text=True, timeout=60)
    assert _reports(done.stdout)[0]["patched"] == ["websockets"]


def test_a_hidden_sitecustomize_still_runs(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import os\nos.environ['OTHER_SITE_RAN'] = 'yes'\n")
    done = _wsfast(tmp_path, "-c", "import os; print(os.environ.get('OTHER_SITE_RAN'))",
                   env=_env(PYTHONPATH=str(other)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "yes"


def test_bad_names_at_startup_are_reported_not_fatal(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "print('still runs')"], cwd=tmp_path,
                          env=_env(PYTHONPATH=_run.STARTUP_DIR, WSFAST_PATCH="nonsense"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == "still runs"
    assert "stacks not patched: ValueError" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "no command"), (["--stacks", "nope", "-m", "x"], "unknown stack"),
     (["-m"], "needs an argument"), (["--bogus", "x"], "unknown option"),
     (["no-such-command-wsfast-test"], "no such file")],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = _wsfast(tmp_path, *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_exit_status_is_the_commands(tmp_path: Path) -> None:
    done = _wsfast(tmp_path, "-c", "import sys; sys.exit(7)")
    assert done.returncode == 7


def test_environment_keeps_pythonpath() -> None:
    env = _run.environment("websockets", False, {"PYTHONPATH": os.pathsep.join(["a", "b"])})
    assert env["PYTHONPATH"].split(os.pathsep) == [_run.STARTUP_DIR, "a", "b"]
    assert env["WSFAST_PATCH"] == "websockets"
    again = _run.environment("1", True, env)
    assert again["PYTHONPATH"].split(os.pathsep) == [_run.STARTUP_DIR, "a", "b"]
    assert again["WSFAST_PATCH_VERBOSE"] == "1"


# --- a real uvicorn with two spawned workers, on loopback ----------------------------

APP = """
import json, os

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].replace("lifespan.", "lifespan.") + ".complete"
            await send({"type": kind})
            if message["type"] == "lifespan.shutdown":
                return
    assert scope["type"] == "websocket"
    await receive()
    await send({"type": "websocket.accept"})
    import wsfast
    from websockets.protocol import Protocol
    await send({"type": "websocket.send", "text": json.dumps(
        {"pid": os.getpid(), "patched": sorted(wsfast.patched()),
         "parse": Protocol.parse.__module__})})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "bytes": message.get("bytes"),
                    "text": message.get("text")})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@needs_patch
@pytest.mark.slow
def test_uvicorn_workers_are_patched(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    pytest.importorskip("websockets")
    from websockets.sync.client import connect

    (tmp_path / "echo_app.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "wsfast", "run", "-m", "uvicorn", "echo_app:app",
             "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
             "--log-level", "warning"],
            cwd=tmp_path, env=_env(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        reports: list[dict[str, Any]] = []
        while time.monotonic() < deadline and len(reports) < 4:
            try:
                with connect(f"ws://127.0.0.1:{port}/", open_timeout=5) as ws:
                    reports.append(json.loads(ws.recv(timeout=10)))
                    ws.send("hello")
                    assert ws.recv(timeout=10) == "hello"
                    big = bytes(range(256)) * 1024  # 256 KiB: unmasked as it arrives
                    ws.send(big)
                    assert ws.recv(timeout=10) == big
            except (ConnectionRefusedError, OSError):
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert reports, log.read_text(errors="replace")
        for report in reports:
            assert report["pid"] != server.pid  # a worker answered, not the supervisor
            assert report["patched"] == ["websockets"] or "websockets" in report["patched"]
            assert report["parse"] == "wsfast.integrations.websockets"
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
