"""Concurrency stress: many threads on shared and unshared objects of every kind.

- Unshared: every thread has its own decoders, Masker, Utf8Validator and
  encoders, and runs its own workload (tests/thread_stress.py: big frames fed
  in pieces above 128 KiB, so the compiled twin releases the GIL in the middle
  of a feed); each thread's results must equal what the pure twin gives for
  the same inputs, computed beforehand in one thread.
- Shared: all threads use ONE object, as the README's thread-safety contract
  allows. Memory is never corrupted and the process never crashes. A stateful
  object (decoders, Masker, Utf8Validator) returns a well-formed result or
  raises RuntimeError (the call overlapped another; the object is left as it
  was) or, for pieces of a stream that arrived out of order, WebSocketError;
  nothing else. Where one call's input is self-contained (whole frames, whole
  messages, whole code points, one ``process()``) its result is the one a
  serialised call gives. The functions and FrameEncoder are safe to share: they
  raise nothing. Each scenario runs in a subprocess, so a crash fails its test
  with the signal and faulthandler's stacks.

The runs are bounded in time: WSFAST_STRESS_SECONDS per scenario (default
0.3). The long variants (``slow``) run only with WSFAST_STRESS_LONG=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

import thread_stress as ts
from wsfast._env import flag

SECONDS = float(os.environ.get("WSFAST_STRESS_SECONDS", "0.3"))
LONG_SECONDS = 10.0
THREADS = 8
LONG = pytest.mark.skipif(
    not flag("WSFAST_STRESS_LONG"), reason="long stress variant: set WSFAST_STRESS_LONG=1"
)
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


@pytest.fixture(scope="module")
def workloads() -> tuple[list[ts.Workload], list[dict[str, Any]]]:
    """One workload per thread, and the pure twin's results for each."""
    loads = [ts.Workload(seed) for seed in range(THREADS)]
    return loads, [w.run(ts.PURE) for w in loads]


def _unshared(twin: Any, workloads: Any, seconds: float) -> None:
    loads, expected = workloads
    failures = ts.run_unshared(vars(twin), loads, expected, seconds)
    assert not failures, "\n".join(failures)


def test_unshared_objects_match_the_pure_twin(twin: Any, workloads: Any) -> None:
    _unshared(twin, workloads, SECONDS)


@pytest.mark.slow
@LONG
def test_unshared_objects_match_the_pure_twin_long(twin: Any, workloads: Any) -> None:
    _unshared(twin, workloads, LONG_SECONDS)


def _shared(twin: Any, scenario: str, seconds: float) -> None:
    if scenario == "mask-inplace-resized" and FREE_THREADED and sys.version_info < (3, 14):
        # CPython 3.13t counts a bytearray's buffer exports without a lock, so
        # threads exporting one bytearray at once can break its own bookkeeping
        # (fixed in 3.14): that would be the interpreter's failure, not ours.
        pytest.skip("3.13t's bytearray export count is not thread-safe")
    script = Path(ts.__file__)
    proc = subprocess.run(
        [sys.executable, "-I", str(script), scenario, twin.name, str(seconds), str(THREADS)],
        capture_output=True,
        text=True,
        timeout=seconds + 300,
    )
    out = proc.stdout + proc.stderr
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        pytest.fail(f"{scenario} on the {twin.name} twin crashed with {name}:\n{out}")
    assert proc.returncode == 0, out


@pytest.mark.parametrize("scenario", sorted(ts.SCENARIOS))
def test_shared_object_never_corrupts_memory(twin: Any, scenario: str) -> None:
    _shared(twin, scenario, SECONDS)


@pytest.mark.slow
@LONG
@pytest.mark.parametrize("scenario", sorted(ts.SCENARIOS))
def test_shared_object_never_corrupts_memory_long(twin: Any, scenario: str) -> None:
    _shared(twin, scenario, LONG_SECONDS)
