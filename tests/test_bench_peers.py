"""The benchmark's peers live with the integrations, not in ``wsfast/_bench``.

``wsfast/_bench`` keeps the runner and its vocabulary; what it compares wsfast
against is each integration's ``BENCH_PEERS`` (``wsfast/integrations/<stack>.py``).
These tests keep it so: no stack is named in the benchmark's sources, every
declared entry is well-formed and reaches the topic that reads it, and declaring
the peers imports no stack.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import wsfast
from wsfast import _bench, integrations
from wsfast.integrations import BENCH_KINDS, BenchPeer, bench_peers

BENCH_DIR = Path(_bench.__file__).parent

#: The stacks wsfast integrates with, and wsaccel (websocket-client's optional
#: accelerator): none of them may be named in the benchmark's sources.
STACK_NAMES = ("aiohttp", "websockets", "wsproto", "tornado", "autobahn", "wsaccel",
               "websocket_client", "websocket-client")

#: What each topic accepts: row groups, and call conventions (see each topic's docstring).
ROWS = {
    "mask": {"mask", "mask_inplace"},
    "utf8": {"validate", "feed"},
    "frames": {"messages", "frames", "large", "encode"},
    "deflate": {"inflate", "deflate level 1", "deflate level 6"},
}
CALLS = {
    "mask": {"data, key", "key, data", "key, buf", "masker"},
    "utf8": {"validator"},
    "frames": {"decode->typed", "decode->data", "decode->pieces", "encode"},
    "deflate": {"inflate", "deflate"},
}


def _entries() -> list[tuple[str, str, BenchPeer]]:
    """(stack, topic, entry) of every integration's BENCH_PEERS."""
    out = []
    for stack, module_name in integrations._MODULES.items():
        module = importlib.import_module(module_name)
        for topic, entries in getattr(module, "BENCH_PEERS", {}).items():
            out.extend((stack, topic, entry) for entry in entries)
    return out


def test_bench_sources_name_no_stack() -> None:
    pattern = re.compile("|".join(map(re.escape, STACK_NAMES)), re.IGNORECASE)
    sources = sorted(BENCH_DIR.rglob("*.py"))
    assert len(sources) >= 6  # the runner, the report and the topics
    found = [f"{path.relative_to(BENCH_DIR.parent)}:{n}: {line.strip()}"
             for path in sources
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, ("stack knowledge belongs in wsfast/integrations/<stack>.py:\n"
                       + "\n".join(found))


def test_every_topic_has_peers_from_the_integrations() -> None:
    for topic in _bench.TOPICS + _bench.EXTRA_TOPICS:
        module = _bench.load_topic(topic)
        assert module is not None
        assert tuple(module.PEERS) == _bench.peer_libraries(topic)
        if topic in ROWS:
            assert module.PEERS, f"no integration declares a peer for {topic!r}"


@pytest.mark.parametrize(("stack", "topic", "entry"),
                         [pytest.param(*e, id=f"{e[0]}-{e[1]}-{e[2].id}") for e in _entries()])
def test_peer_entries_are_well_formed(stack: str, topic: str, entry: BenchPeer) -> None:
    assert type(entry) is BenchPeer
    assert topic in ROWS, f"{stack}: unknown benchmark topic {topic!r}"
    assert entry.library.isidentifier()
    assert entry.id and " " not in entry.id
    assert entry.kind in BENCH_KINDS
    assert entry.rows and set(entry.rows) <= ROWS[topic], entry.rows
    assert entry.call in CALLS[topic], entry.call
    assert entry.paths and all(isinstance(p, str) for p in entry.paths)
    for path in entry.paths:
        module_name, _, attr = path.rpartition(".")
        assert module_name and attr.isidentifier(), path
        if path.startswith("wsfast."):
            # A hook of the integration's own: it must exist without the stack.
            assert module_name == integrations._MODULES[stack], path
            assert callable(getattr(importlib.import_module(module_name), attr)), path
        else:
            assert module_name.split(".")[0] == entry.library, path
    assert isinstance(entry.rank, int)
    if topic in ("frames", "deflate"):
        assert entry.label.startswith(f"{entry.library} "), entry.label
    for name, meaning in entry.needs:
        assert name.split(".")[0] == entry.library and isinstance(meaning, str)
    for prefix in entry.py_modules:
        assert prefix.split(".")[0] == entry.library


def test_peer_ids_and_labels_are_unique_per_row_group() -> None:
    for topic in ROWS:
        for row in ROWS[topic]:
            ids = [e.id for e in bench_peers(topic) if row in e.rows]
            assert len(ids) == len(set(ids)), (topic, row, ids)
            labels = [e.label for e in bench_peers(topic) if row in e.rows and e.label]
            assert len(labels) == len(set(labels)), (topic, row, labels)


def test_bench_peers_follow_rank() -> None:
    for topic in ROWS:
        ranks = [e.rank for e in bench_peers(topic)]
        assert ranks == sorted(ranks)
    assert bench_peers("no such topic") == []


def test_declaring_peers_imports_no_stack() -> None:
    """The topics read every integration's BENCH_PEERS without importing a stack
    (or anything a stack would bring)."""
    root = str(Path(wsfast.__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path.insert(0, {root!r})\n"
        "from wsfast._bench import mask, utf8, frames, deflate\n"
        f"stacks = {STACK_NAMES!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in stacks))\n"
    )
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout
