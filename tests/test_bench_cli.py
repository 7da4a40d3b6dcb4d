"""``python -m wsfast bench``: the report around the timings.

Run in a subprocess as a user would (see ``WSFAST``), always with ``--quick`` and
tiny samples (``TINY``) so each run takes seconds; timings are never asserted,
only the shape of what is printed and written: the peers at the top, aligned
tables (also with no peer installed), the summary, markdown, progress, the
kernel rows, and output paths checked before anything runs.
"""

from __future__ import annotations

import io
import json
import os
import builtins
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import wsfast
from wsfast import _bench
from wsfast._bench import Progress, _report

ROOT = str(Path(wsfast.__file__).resolve().parents[1])

#: ``python -I`` running the wsfast this suite tests (as tests/test_cli.py does),
#: after ``PRELUDE`` (Python statements, e.g. hiding libraries).
SCRIPT = (
    "import runpy, sys; sys.path.insert(0, {root!r}); {prelude}"
    "runpy.run_module('wsfast', run_name='__main__', alter_sys=True)"
)

#: The shortest measurement: one sample of 50 us per case.
TINY = ("--quick", "--samples", "1", "--sample-ms", "0.05")

#: Every library a topic compares against (the topics' PEERS).
PEERS = sorted({name for topic in _bench.TOPICS + _bench.EXTRA_TOPICS
                for name in getattr(_bench.load_topic(topic), "PEERS", ())})


def bench(*args: str, hide: tuple[str, ...] = (), timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m wsfast bench ARGS`` with the modules ``hide`` made unimportable
    (as if not installed); the exit status is the caller's to check."""
    prelude = "".join(f"sys.modules[{name!r}] = None; " for name in hide)
    return subprocess.run(
        [sys.executable, "-I", "-c", SCRIPT.format(root=ROOT, prelude=prelude), "bench", *args],
        capture_output=True, text=True, timeout=timeout, env=dict(os.environ),
    )


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def text_tables(out: str) -> list[list[str]]:
    """The group tables of a text report: a title line with the column headers,
    then its rows."""
    return [block.splitlines() for block in out.split("\n\n")
            if "time/call" in block.splitlines()[0]]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """One quick run of every default topic with JSON: (process, report)."""
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = ok(bench(*TINY, "--json", str(path)))
    return proc, json.loads(path.read_text())


# -- output paths are checked before anything runs ----------------------------------


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_unwritable_output_fails_at_once(option: str, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.png"
    proc = bench(option, str(missing))
    assert proc.returncode == 2
    assert proc.stdout == ""  # nothing ran
    assert "Traceback" not in proc.stderr
    assert proc.stderr == f"wsfast bench: {option} {missing}: no such directory: {missing.parent}\n"


def test_json_to_a_directory_fails_at_once(tmp_path: Path) -> None:
    proc = bench("--json", str(tmp_path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"wsfast bench: --json {tmp_path}: is a directory\n"


def test_output_problem_is_silent_for_writable_paths(tmp_path: Path) -> None:
    assert _bench.output_problem(str(tmp_path / "new.json")) is None
    (tmp_path / "old.json").write_text("{}")
    assert _bench.output_problem(str(tmp_path / "old.json")) is None
    assert not (tmp_path / "new.json").exists()  # checking creates nothing


# -- the report: peers at the top, the tables, the summary --------------------------


def test_peers_are_listed_at_the_top_with_versions(full: Any) -> None:
    import importlib.metadata

    proc, report = full
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("peers: ")
    by_name = {peer["name"]: peer for peer in report["peers"]}
    assert set(by_name) == {n for t in _bench.TOPICS for n in _bench.load_topic(t).PEERS}
    for name, peer in by_name.items():
        if peer["status"] == "installed":
            assert f"{name} {peer['version']}" in lines[1]
            dists = importlib.metadata.packages_distributions().get(name, [name])
            assert peer["version"] == importlib.metadata.version(dists[0])
        else:
            assert peer["version"] is None
    missing = [name for name, peer in by_name.items() if peer["status"] == "not installed"]
    if missing:
        assert lines[2] == (f"not installed: {', '.join(missing)} "
                            "(pip install 'wsfast[bench]' installs them)")


def test_every_library_row_names_a_declared_peer_or_python_itself(full: Any) -> None:
    _, report = full
    declared = {peer["name"] for peer in report["peers"]}
    for row in report["rows"]:
        if row["kind"] in ("lib-c", "lib-py"):
            first = _report.peer_of(row["label"])
            module = first.split(".")[0].split("(")[0]  # codecs, bytes.decode('utf-8')
            assert (first in declared or module in sys.stdlib_module_names
                    or hasattr(builtins, module)), f"declare {first!r} in its topic's PEERS"


def test_text_tables_are_aligned(full: Any) -> None:
    proc, _ = full
    tables = text_tables(proc.stdout)
    assert len(tables) > 10
    for table in tables:
        assert len({len(line) for line in table}) == 1, "\n".join(table)


def test_summary_has_one_row_per_topic_and_size(full: Any) -> None:
    proc, report = full
    cells = list(dict.fromkeys((row["topic"], row["size"]) for row in report["rows"]))
    rows = report["summary"]["rows"]
    assert [(r["topic"], r["size"]) for r in rows] == cells
    assert _report.SUMMARY_TITLE in proc.stdout
    summary = proc.stdout.split(_report.SUMMARY_TITLE, 1)[1]
    for topic, size in cells:
        assert any(line.split()[:3] == [topic, *_bench.size_name(size).split()]
                   for line in summary.splitlines()), (topic, size)
    # The benchmark times the compiled twin whenever it imports, whichever is active.
    compiled = any(row["kind"] == "wsfast-c" for row in report["rows"])
    overall = report["summary"]["overall"]
    if compiled:
        assert all(r["twin"] == "c" and r["vs_pure"] > 0 for r in rows)
        assert overall["groups"] == len({(r["topic"], r["group"], r["size"])
                                         for r in report["rows"]})
        assert "the compiled twin is" in summary
    else:
        assert all(r["twin"] == "py" and r["vs_pure"] is None for r in rows)
        assert "No compiled-twin rows" in summary


def test_summary_quotes_the_ratios_of_the_tables(full: Any) -> None:
    _, report = full
    for cell in report["summary"]["rows"]:
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in report["rows"]:
            if (row["topic"], row["size"]) == (cell["topic"], cell["size"]):
                groups.setdefault(row["group"], []).append(row)
        heads = [next(r for r in rows if r["kind"] == f"wsfast-{cell['twin']}")
                 for rows in groups.values()]
        ratios = [h["ratio_best_lib"] for h in heads if h["ratio_best_lib"] is not None]
        assert cell["groups"] == len(heads)
        if ratios:
            assert cell["lowest_vs_best_lib"] == min(ratios)
            product = 1.0
            for r in ratios:
                product *= r
            assert cell["vs_best_lib"] == pytest.approx(product ** (1 / len(ratios)))
        else:
            assert cell["vs_best_lib"] is None


def test_progress_goes_to_stderr_one_line_per_group(full: Any) -> None:
    proc, report = full
    groups = list(dict.fromkeys((r["topic"], r["group"], r["size"]) for r in report["rows"]))
    lines = [line for line in proc.stderr.splitlines() if line.startswith("wsfast bench [")]
    assert len(lines) == len(groups)
    assert lines[0].startswith(f"wsfast bench [1/{len(groups)}] ")
    assert "ETA" in lines[-1]
    assert proc.stderr.splitlines()[-1].startswith(
        f"wsfast bench: {len(groups)} groups, {len(report['rows'])} cases in ")
    assert "wsfast bench [" not in proc.stdout


def test_each_topic_counts_its_groups(full: Any) -> None:
    """count(ctx) drives the ETA: it must say how many groups groups(ctx) yields."""
    _, report = full
    settings = _bench.Settings.for_run(quick=True)
    ctx = _bench.Context(settings, *_bench.load_twins())
    for topic in _bench.TOPICS:
        ran = {(r["group"], r["size"]) for r in report["rows"] if r["topic"] == topic}
        assert _bench.load_topic(topic).count(ctx) == len(ran), (
            f"update count() in wsfast/_bench/{topic}.py")


def test_text_rows_by_script_and_size(full: Any) -> None:
    """decode_utf8 against bytes.decode per kind of text and size, and one text
    message per kind (str data, bytes data) against bytes.decode of its payload."""
    from wsfast._bench import text as topic
    from wsfast._bench.utf8 import KINDS_OF_TEXT

    proc, report = full
    assert "text" in report["settings"]["topics"]
    assert f"== {topic.TITLE}" in proc.stdout
    compiled = any(row["kind"] == "wsfast-c" for row in report["rows"])
    rows = [r for r in report["rows"] if r["topic"] == "text"]
    titles = {table[0].split("  ")[0] for table in text_tables(proc.stdout)}
    for kind in KINDS_OF_TEXT:
        cells = [(f"decode {kind}", size) for size in topic.QUICK_SIZES]
        cells.append((topic.message_group(kind), topic.QUICK_MESSAGE_SIZE))
        for group, size in cells:
            assert f"{group}, {_bench.size_name(size)}" in titles
            got = {r["label"]: r for r in rows if (r["group"], r["size"]) == (group, size)}
            if group.startswith("decode"):
                expected = {"wsfast decode_utf8, pure": "wsfast-py",
                            "bytes.decode('utf-8')": "lib-c"}
                prefixes = ["wsfast decode_utf8, compiled"]
            else:
                expected = {"wsfast MessageDecoder.feed -> str, pure": "wsfast-py",
                            "bytes.decode('utf-8') of the payload alone": "lib-c"}
                prefixes = ["wsfast MessageDecoder.feed -> str, compiled",
                            "wsfast MessageDecoder.feed -> bytes (decode_text=False), compiled"]
            for label, kind_of_row in expected.items():
                assert got[label]["kind"] == kind_of_row, (group, size, label)
            for prefix in prefixes:
                hits = [r for label, r in got.items() if label.startswith(prefix)]
                assert len(hits) == (1 if compiled else 0), (group, size, prefix)
                assert all(r["kind"] == "wsfast-c" and r["ratio_best_lib"] for r in hits)
            # The reference is CPython's decoder: the compiled rows are compared with it.
            assert all(r["best_lib"].startswith("bytes.decode('utf-8')")
                       for r in got.values() if r["kind"] == "wsfast-c")
            assert all(r["nbytes"] == size and r["ns_per_call"] > 0 for r in got.values())
            assert len(got) == len(expected) + (len(prefixes) if compiled else 0)


def test_feed_in_4_kib_fragments_has_the_one_shot_reference(full: Any) -> None:
    """The cost of fragmenting, as a ratio of one group: feed in 4 KiB fragments
    and one-shot validate_utf8 of the same text, side by side."""
    from wsfast._bench.utf8 import KINDS_OF_TEXT, QUICK_SIZES

    _, report = full
    compiled = any(row["kind"] == "wsfast-c" for row in report["rows"])
    for kind in KINDS_OF_TEXT:
        for size in QUICK_SIZES:
            got = {r["label"]: r for r in report["rows"]
                   if (r["topic"], r["group"], r["size"]) ==
                   ("utf8", f"feed {kind}, 4 KiB fragments", size)}
            if size < 16 * 1024:
                assert not got
                continue
            assert "wsfast Utf8Validator.feed, pure" in got
            refs = [r for r in got.values() if r["kind"] == "ref"]
            assert [r["label"].split(" (")[0] for r in refs] == (
                ["one-shot: wsfast validate_utf8 of the whole text, compiled"] if compiled
                else [])
            assert all(r["ratio_pure"] is None and r["ratio_best_lib"] is None for r in refs)


def test_text_implementations_are_checked_before_they_are_timed() -> None:
    from wsfast._bench import text as topic

    payload = "déjà vu, 日本語 😀".encode()
    twins, _ = _bench.load_twins()
    found = topic.discover(twins)
    for impl in found.decode + found.message:
        impl.check(payload)  # each returns the text
    wrong = [
        topic.Impl("x", "returns bytes", "wsfast-py", lambda p: topic.Prepared(bytes, (p,))),
        topic.Impl("y", "drops a character", "wsfast-py",
                   lambda p: topic.Prepared(lambda b: b.decode()[:-1], (p,))),
        topic.Impl("z", "decodes although it keeps bytes", "wsfast-py",
                   lambda p: topic.Prepared(bytes.decode, (p,)), keeps_bytes=True),
    ]
    for impl in wrong:
        with pytest.raises(AssertionError, match=impl.label):
            impl.check(payload)


def test_kernel_rows_are_hidden_by_default(full: Any) -> None:
    proc, report = full
    assert not [r for r in report["rows"] if r["kind"] == "wsfast-kernel"]
    assert "WSFAST_SIMD=" not in proc.stdout
    assert "(--kernels shows them)" in proc.stdout


def test_kernels_shows_each_level_by_the_kernel_it_runs(tmp_path: Path) -> None:
    utf8_c = pytest.importorskip("wsfast._utf8_c", reason="no compiled twin: no kernel rows")
    path = tmp_path / "k.json"
    proc = ok(bench(*TINY, "--only", "utf8", "--kernels", "--no-progress", "--json", str(path)))
    rows = [r for r in json.loads(path.read_text())["rows"] if r["kind"] == "wsfast-kernel"]
    others = [level for level in utf8_c._supported_levels() if level != utf8_c.SIMD]
    labels = {r["label"] for r in rows}
    assert labels == {f"wsfast validate_utf8, {utf8_c._kernel_name(level)} kernel "
                      f"(WSFAST_SIMD={level})" for level in others}
    for label in labels:
        assert label in proc.stdout
    assert "(test hook)" not in proc.stdout
    assert all(r["ratio_pure"] and r["ratio_best_lib"] for r in rows)


def test_x86_base_level_is_named_for_its_ssse3_kernel() -> None:
    utf8_c = pytest.importorskip("wsfast._utf8_c")
    levels = utf8_c._supported_levels()
    if "sse2" not in levels:
        pytest.skip("not an x86 CPU")
    flags = _cpu_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo to compare with")
    expected = "ssse3+sse4.1" if {"ssse3", "sse4_1"} <= flags else "scalar"
    assert utf8_c._kernel_name("sse2") == expected
    assert utf8_c._kernel_name("scalar") == "scalar"
    for level in ("avx2", "avx512"):
        if level in levels:
            assert utf8_c._kernel_name(level).startswith(level)
    with pytest.raises(ValueError):
        utf8_c._kernel_name("nonsense")


def _cpu_flags() -> set[str] | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


# -- no peer installed -----------------------------------------------------------------


def test_no_peers_installed_lists_them_and_keeps_tables_aligned(tmp_path: Path) -> None:
    path = tmp_path / "alone.json"
    proc = ok(bench(*TINY, "--only", "frames", "--only", "mask", "--json", str(path),
                    hide=tuple(PEERS)))
    lines = proc.stdout.splitlines()
    assert lines[1] == "peers: none installed"
    assert lines[2].startswith("not installed: ") and all(p in lines[2] for p in
                                                           ("aiohttp", "websockets", "wsproto"))
    # Said once at the top, not again per topic.
    assert "  websockets: not installed" not in proc.stdout
    report = json.loads(path.read_text())
    assert {p["status"] for p in report["peers"]} == {"not installed"}
    assert not [r for r in report["rows"] if r["kind"] in ("lib-c", "lib-py")]
    tables = text_tables(proc.stdout)
    assert any(t[0].startswith("decode 1,000 masked TEXT frames -> frames") for t in tables)
    for table in tables:
        assert len({len(line) for line in table}) == 1, "\n".join(table)
        header = table[0]
        for line in table[1:]:  # the columns end where their headers end
            assert line[: header.index("time/call") + 9].endswith(("ns", "us", "ms"))
    assert "no lib" in proc.stdout  # the summary says there was nothing to compare with


def test_format_group_aligns_a_long_title_over_short_labels() -> None:
    rows = [_bench.Result("t", "a rather long group name, with details, 64 KiB feeds", 16,
                          label, kind, 16, 1, [100.0], 1.0, None, None)
            for label, kind in (("x", "wsfast-c"), ("y", "wsfast-py"))]
    table = _report.format_group(rows, label_width=10).splitlines()
    assert len({len(line) for line in table}) == 1
    assert table[0].index("time/call") + 9 == table[1].index("ns") + 2


def test_summary_says_when_the_samples_were_noisy() -> None:
    def result(label: str, kind: str, samples: list[float]) -> _bench.Result:
        return _bench.Result("t", "g", 16, label, kind, 16, 1, samples)

    steady = [result("w", "wsfast-c", [100.0, 101.0, 102.0]),
              result("p", "wsfast-py", [900.0, 910.0, 905.0])]
    busy = [result("w", "wsfast-c", [100.0, 400.0, 102.0]),
            result("p", "wsfast-py", [900.0, 910.0, 2000.0])]
    for rows, noisy in ((steady, 0), (busy, 2)):
        _bench._ratios(rows)
        summary = _report.summarize(rows)
        overall = _report.headline(summary, rows)
        assert (overall["noisy_cases"], overall["sampled_cases"]) == (noisy, 2)
        assert ("Noisy: in 2 of 2 cases" in _report.format_summary(summary, overall)) == bool(noisy)


# -- markdown ------------------------------------------------------------------------


def test_markdown_tables(tmp_path: Path) -> None:
    proc = ok(bench(*TINY, "--only", "mask", "--markdown", "--no-progress"))
    out = proc.stdout
    assert out.startswith("## wsfast benchmark\n")
    assert "\n### masking (RFC 6455 section 5.3)\n" in out
    assert "time/call     GB/s" not in out  # no text table
    header = "| implementation | kind | time/call | GB/s | vs py twin | vs best lib |"
    blocks = out.split("\n\n")
    titles = [b for b in blocks if b.startswith("**mask")]
    tables = [b.splitlines() for b in blocks if b.startswith(header)]
    assert len(titles) == len(tables) == 2 * len(_bench.QUICK_SIZES)
    for table in tables:
        assert table[1] == "|:--|:--|--:|--:|--:|--:|"
        for line in table[2:]:
            assert line.startswith("| ") and line.endswith(" |")
            assert line.replace("\\|", "").count("|") == 7, line
    assert f"### {_report.SUMMARY_TITLE}" in out
    summary = out.split(f"### {_report.SUMMARY_TITLE}", 1)[1]
    rows = [line for line in summary.splitlines() if line.startswith("| mask |")]
    assert len(rows) == len(_bench.QUICK_SIZES)
    assert all(line.count("|") == 8 for line in rows)


# -- plot ----------------------------------------------------------------------------


def test_plot_without_matplotlib_says_what_to_install(tmp_path: Path) -> None:
    proc = bench("--plot", str(tmp_path / "x.png"), hide=("matplotlib",))
    assert proc.returncode == 2
    assert proc.stdout == ""  # checked before running
    assert "matplotlib" in proc.stderr and "pip install 'wsfast[plot]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "bench.png"
    proc = ok(bench(*TINY, "--only", "mask", "--plot", str(path), "--no-progress"))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot written to {path}" in proc.stderr


def test_plot_rejects_a_type_matplotlib_cannot_write(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    proc = bench("--plot", str(tmp_path / "x.nonsense"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "matplotlib cannot write .nonsense" in proc.stderr


def test_plot_panels_one_per_topic() -> None:
    def row(topic: str, group: str, size: int, label: str, kind: str) -> dict[str, Any]:
        return {"topic": topic, "group": group, "size": size, "label": label, "kind": kind,
                "gb_per_s": size / 10}

    report = {"rows": [
        row("a", "validate ascii", 64, "w", "wsfast-c"),
        row("a", "validate ascii", 64, "k", "wsfast-kernel"),
        row("a", "feed ascii", 64, "w feed", "wsfast-c"),
        row("a", "validate cjk", 64, "w", "wsfast-c"),
        row("a", "validate cjk", 128, "w", "wsfast-c"),
        row("b", "mask", 16, "w", "wsfast-c"),
    ]}
    panels = _plot_panels(report)
    assert [p["topic"] for p in panels] == ["a", "b"]
    assert panels[0]["groups"] == ["validate ascii", "validate cjk"]
    assert panels[0]["series"] == {"w": {"kind": "wsfast-c", "points": {64: 6.4, 128: 12.8}}}
    assert "k" in _plot_panels(report, kernels=True)[0]["series"]


def _plot_panels(report: dict[str, Any], kernels: bool = False) -> list[dict[str, Any]]:
    from wsfast._bench import _plot

    return _plot.panels(report, kernels)


# -- progress ------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [False, True])
def test_progress_lines_and_eta(tty: bool) -> None:
    times = iter([1.0, 3.0, 5.0, 6.0])
    now = [0.0]

    def clock() -> float:  # start() and finish() move it on; preparing() reads it
        return now[0]

    def tick() -> None:
        now[0] = next(times)

    stream = _Terminal() if tty else io.StringIO()
    bar = Progress(stream, {"a": 2, "b": 1}, started=0.0, clock=clock)
    bar.preparing("a")  # on a terminal only
    tick()
    bar.start("a", "g1", 3)  # at 1
    bar.preparing("a")
    tick()
    bar.start("a", "g2", 3)  # at 3: one group of a took 2 s
    assert bar.eta() == pytest.approx(2.0 + 2.0)  # a's last group, then b's at 2 s
    tick()
    bar.start("b", "g3", 2)  # at 5
    tick()
    bar.finish(8)  # at 6
    text = stream.getvalue()
    if tty:  # one line, rewritten in place, cleared before the total
        assert text.count("\n") == 1
        assert "\r\x1b[K[1/3] a: preparing the next group; 0 s\r" in text
        assert "\r\x1b[K[2/3] a: preparing the next group; 1 s\r" in text
        assert "\r\x1b[K[2/3] a: g2 (3 cases); 3 s, ETA ~4 s\r" in text
    else:
        assert text.splitlines()[:3] == [
            "wsfast bench [1/3] a: g1 (3 cases); 1 s",
            "wsfast bench [2/3] a: g2 (3 cases); 3 s, ETA ~4 s",
            "wsfast bench [3/3] b: g3 (2 cases); 5 s, ETA ~2 s",
        ]
    assert text.endswith("wsfast bench: 3 groups, 8 cases in 6.0 s\n")


def test_progress_eta_is_not_inflated_by_one_slow_group() -> None:
    clock = iter([1.0, 2.0, 3.0, 13.0])
    bar = Progress(io.StringIO(), {"a": 3, "b": 2}, started=0.0, clock=lambda: next(clock))
    for title in ("small", "medium", "huge", "b1"):  # a's groups take 1, 1 and 10 s
        bar.start("a" if title != "b1" else "b", title, 1)
    # b has not finished a group: both of its groups (the running one too) are
    # taken at the median group time, 1 s, not at the mean, 4 s.
    assert bar.eta() == pytest.approx(2 * 1.0)


def test_progress_without_a_count_gives_no_eta() -> None:
    bar = Progress(io.StringIO(), {"a": None}, started=0.0)
    bar.done["a"], bar.spent["a"] = 1, 1.0
    assert bar.eta() is None and bar.total is None

