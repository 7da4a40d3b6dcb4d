"""The embedded benchmark behind ``python -m wsfast bench``.

Standard library only (``time.perf_counter_ns``), so it runs after a plain
``pip install wsfast``; the pytest-benchmark suites in ``bench/`` reuse the
implementation discovery of the topic modules.

How it measures
---------------
For every case (one implementation at one size) the loop count is calibrated so
that one sample takes about ``sample_ms`` milliseconds; then ``samples`` samples
are taken and the median is reported.  The cases of a group are interleaved
(round-robin, starting at a different case every round), so a burst of noise on
the machine hits all of them alike.  A case whose single call is slower than its
whole time budget gets fewer samples (at least one).  The garbage collector is
off while timing.  Times include the call from Python, as an application sees
it, plus a minimal loop (an ``itertools.repeat`` ``for`` loop calling a local).

What it prints
--------------
At the top the environment and the peers: every library a topic compares
against (the integrations' peers), with its version, and those not installed
(``pip install 'wsfast[bench]'`` installs them all).  Then one table per group
as it completes, columns aligned whatever the labels (``--markdown``: GitHub
tables), and at the end a summary: per topic and size, the compiled twin's
speed-up against the fastest other library (geometric mean over the topic's
groups, and the least favourable group) and against the pure twin, then the
same over every group.  Progress goes to standard error, one line per group
with an ETA (a line rewritten in place on a terminal), then the total time.
``--json`` writes the same report, ``--plot FILE.png`` draws speed by size
(:mod:`._plot`, needs matplotlib).  Output paths are checked before anything
runs.  Rows of kind ``wsfast-kernel`` (the compiled twin's kernels at other
SIMD levels, through test hooks) are timed only with ``--kernels``.

How long: on 2 vCPUs of a Xeon (AVX-512, CPython 3.11, every peer but one
installed) shared with other work (load average 2-4), a full run of the default
topics (366 cases) took 54-56 s and ``--quick`` (286 cases) 3 s, wall clock.
The samples are timed by the wall clock, so most of that is the sampling
budget; the slowest groups are the 16 MiB ones through pure Python.

Where the peers come from
-------------------------
Nothing here names another library.  What a topic compares wsfast against is
declared by the integrations, each in its own module
``wsfast/integrations/<stack>.py``, as data: ``BENCH_PEERS[topic]``, a tuple
of :class:`wsfast.integrations.BenchPeer` (the library's import name, an id,
a kind, the topic's row groups, a call convention of the topic, candidate
dotted paths, a rank giving the row order).  :func:`peers` collects them from
every integration (importing the integration modules, never the stacks), and
:func:`find_object` imports the first dotted path that exists.  Where the
topic's call needs code of the stack's own (building its parser, reading its
frames), the path names a hook function in the integration module, which
imports the stack only when called.

Adding a topic
--------------
A topic is a module ``wsfast._bench.<topic>`` for a name in :data:`TOPICS`; the
runner imports the ones that exist and skips the others.  The module defines::

    TITLE = "UTF-8 validation (RFC 3629)"          # a heading for the report
    PEERS = peer_libraries("utf8")                 # libraries compared (import names)

    def count(ctx: Context) -> int:                # how many groups groups() yields
        ...

    def groups(ctx: Context) -> Iterator[Group]:
        ...

``PEERS`` lists the top-level modules of the libraries the topic compares
against, for the list at the top (a library row's label starts with that
name); ``count`` gives the progress line its ETA (both are optional).  The
topic's docstring says what its row groups and call conventions are, for the
integrations that declare peers of it.

``groups`` yields one :class:`Group` per (row group, size): a group name (for
example ``"validate"``), the size in bytes, and the :class:`Case` objects to
time side by side, each an implementation label, a callable with its
arguments, the bytes one call processes, and its :data:`KINDS` entry.  Use
``ctx.twins`` for the two wsfast twins (``ctx.twins["py"]`` always;
``ctx.twins["c"]`` is ``None`` when the compiled twin is missing, and may lack
the topic's names in a partial build: look them up with ``.get``; the reason is
in ``ctx.twin_errors["c"]``), ``ctx.sizes`` for the payload sizes, and
``ctx.unavailable(name, reason)`` for a library that is not installed (printed
once as one line).  Build each group's buffers inside the generator, just before
yielding it, so only one group's inputs are alive at a time, and check every
implementation's result against the pure twin before yielding its case.  The
table, the ratios and the JSON file are shared: see :mod:`wsfast._bench.mask`
for a complete topic.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any

from wsfast._info import environment  # re-exported: the report starts with it

__all__ = [
    "KINDS",
    "QUICK_SIZES",
    "SIZES",
    "TOPICS",
    "EXTRA_TOPICS",
    "Case",
    "at_level",
    "Context",
    "Group",
    "Result",
    "Progress",
    "Settings",
    "environment",
    "find_object",
    "load_topic",
    "load_twins",
    "main",
    "output_problem",
    "peer_libraries",
    "peers",
    "run",
    "pytest_params",
    "size_id",
    "size_name",
    "write_json",
]

#: Topic names, in report order; ``wsfast._bench.<name>`` contributes the rows.
TOPICS = ("mask", "utf8", "text", "frames")
#: Topics run only when named with ``--only``: ``deflate`` (permessage-deflate, about
#: 10-15 s more).
EXTRA_TOPICS = ("deflate",)

#: Payload sizes of a full run and of ``--quick``.
SIZES = (16, 125, 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024)
QUICK_SIZES = (16, 125, 1024, 64 * 1024)

#: Case kinds and the tag shown in the table.
KINDS = {
    "wsfast-c": "wsfast",  # the compiled twin
    "wsfast-py": "wsfast",  # the pure twin
    "lib-c": "C",  # another library's compiled code
    "lib-py": "py",  # another library's pure-Python code
    "ref": "ref",  # a reference point (copy, memcpy), not a masker
    # The compiled twin's kernel at another SIMD level, through a test hook: an
    # internal row, timed and shown only with --kernels.
    "wsfast-kernel": "kernel",
}


@dataclass
class Case:
    """One implementation timed in a group: ``func(*args)`` processes ``nbytes``.

    ``keep`` holds objects that must stay alive while the case is timed (for
    example the buffers behind raw addresses passed in ``args``); ``around``, a
    context entered around every timed run of the case and its warm-up (for
    example :func:`at_level`), so what it costs is not timed."""

    label: str
    func: Callable[..., object]
    args: tuple[Any, ...]
    nbytes: int
    kind: str
    keep: Any = None
    around: Callable[[], AbstractContextManager[Any]] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown case kind {self.kind!r}: expected one of {sorted(KINDS)}")


@dataclass
class Group:
    """Cases compared side by side: one row group (e.g. ``"mask"``) at one size."""

    topic: str
    name: str
    size: int
    cases: list[Case]


@dataclass
class Settings:
    """How long to measure: one sample is about ``sample_ms``; ``samples`` per case;
    ``kernels`` times the ``wsfast-kernel`` rows too."""

    quick: bool = False
    sample_ms: float = 20.0
    samples: int = 5
    sizes: tuple[int, ...] = SIZES
    kernels: bool = False

    @classmethod
    def for_run(cls, quick: bool) -> Settings:
        """The defaults of a full run, or of ``--quick`` (a few seconds in all)."""
        if quick:
            return cls(quick=True, sample_ms=1.0, samples=3, sizes=QUICK_SIZES)
        return cls()


@dataclass
class Context:
    """What a topic's ``groups()`` needs: settings, the twins, a place for notes."""

    settings: Settings
    twins: dict[str, dict[str, Any] | None]
    twin_errors: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def quick(self) -> bool:
        return self.settings.quick

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.settings.sizes

    def unavailable(self, name: str, reason: str = "not installed") -> None:
        """Record that library ``name`` is left out of the comparison, and why."""
        note = f"{name}: {reason}"
        if note not in self.notes:
            self.notes.append(note)


@dataclass
class Result:
    """The timing of one case: median ns per call over ``samples``."""

    topic: str
    group: str
    size: int
    label: str
    kind: str
    nbytes: int
    loops: int
    samples_ns: list[float]
    ratio_pure: float | None = None
    ratio_best_lib: float | None = None
    best_lib: str | None = None

    @property
    def ns_per_call(self) -> float:
        return statistics.median(self.samples_ns)

    @property
    def gb_per_s(self) -> float:
        """Bytes per nanosecond, i.e. GB/s (10**9 bytes per second)."""
        return self.nbytes / self.ns_per_call if self.ns_per_call > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "group": self.group,
            "size": self.size,
            "label": self.label,
            "kind": self.kind,
            "nbytes": self.nbytes,
            "ns_per_call": self.ns_per_call,
            "min_ns_per_call": min(self.samples_ns),
            "gb_per_s": self.gb_per_s,
            "ratio_pure": self.ratio_pure,
            "ratio_best_lib": self.ratio_best_lib,
            "best_lib": self.best_lib,
            "loops": self.loops,
            "samples_ns": self.samples_ns,
        }


# -- timing -----------------------------------------------------------------------

_LOOPS: dict[int, Callable[..., int]] = {}


def _loop(arity: int) -> Callable[..., int]:
    """A timing loop calling ``f`` with ``arity`` positional locals (as timeit does)."""
    loop = _LOOPS.get(arity)
    if loop is None:
        names = [f"_a{i}" for i in range(arity)]
        unpack = f"    {', '.join(names)}, = _args\n" if arity else ""
        source = (
            "def loop(_it, _timer, _f, _args):\n"
            f"{unpack}"
            "    _t0 = _timer()\n"
            "    for _ in _it:\n"
            f"        _f({', '.join(names)})\n"
            "    return _timer() - _t0\n"
        )
        namespace: dict[str, Any] = {}
        exec(compile(source, f"<wsfast bench loop/{arity}>", "exec"), namespace)
        loop = _LOOPS[arity] = namespace["loop"]
    return loop


def _time(case: Case, loops: int) -> int:
    """Nanoseconds for ``loops`` calls of the case."""
    loop = _loop(len(case.args))
    with _around(case):
        return loop(itertools.repeat(None, loops), time.perf_counter_ns, case.func, case.args)


def _around(case: Case) -> AbstractContextManager[Any]:
    """The context a case's runs are timed in (``Case.around``; none by default)."""
    return case.around() if case.around is not None else contextlib.nullcontext()


@contextlib.contextmanager
def at_level(module: Any, level: str) -> Iterator[None]:
    """A compiled topic module's kernels at SIMD ``level`` (its private test hook
    ``_set_level``), put back after: for rows that time the kernels of every level
    (``Case(around=functools.partial(at_level, module, level))``)."""
    previous = module._set_level(level)
    try:
        yield
    finally:
        module._set_level(previous)


def _calibrate(case: Case, target_ns: float) -> tuple[int, int]:
    """(loops for one sample of about ``target_ns``, ns of a single call)."""
    with _around(case):
        case.func(*case.args)  # warm up: caches, lazily built tables, page faults
    single = _time(case, 1)
    loops = 1
    elapsed = single
    while elapsed < target_ns / 5:
        loops = max(loops * 2, int(loops * target_ns / 5 / max(elapsed, 1)))
        elapsed = _time(case, loops)
    loops = max(1, round(loops * target_ns / max(elapsed, 1)))
    return loops, single


def _measure(group: Group, settings: Settings) -> list[Result]:
    """Time every case of a group, interleaved; return them in case order."""
    target_ns = settings.sample_ms * 1e6
    budget_ns = target_ns * settings.samples
    plan: list[tuple[Case, int, int]] = []  # case, loops, samples
    times: list[list[float]] = []
    for case in group.cases:
        loops, single = _calibrate(case, target_ns)
        samples = settings.samples
        if loops == 1 and single * samples > budget_ns:
            # A slow case: as many single calls as fit in the budget, the
            # calibration call being the first.
            samples = int(max(1, min(samples, budget_ns // max(single, 1))))
        plan.append((case, loops, samples))
        times.append([float(single)] if loops == 1 else [])
    for round_ in range(max(s for _, _, s in plan)):
        start = round_ % len(plan)
        for i in itertools.chain(range(start, len(plan)), range(start)):
            case, loops, samples = plan[i]
            if len(times[i]) < samples:
                times[i].append(_time(case, loops) / loops)
    return [
        Result(group.topic, group.name, group.size, case.label, case.kind, case.nbytes,
               loops, t)
        for (case, loops, _), t in zip(plan, times, strict=True)
    ]


def _ratios(results: list[Result]) -> None:
    """Fill in speed ratios (larger is faster): vs the pure twin, vs the best library.

    The compiled twin (and its kernel rows) is compared with the fastest library
    row of any kind, the pure twin with the fastest pure-Python library row.
    """
    pure = next((r for r in results if r.kind == "wsfast-py"), None)
    for r in results:
        if pure is not None and r.kind != "ref":
            r.ratio_pure = pure.ns_per_call / r.ns_per_call
    for twins, kinds in ((("wsfast-c", "wsfast-kernel"), ("lib-c", "lib-py")),
                         (("wsfast-py",), ("lib-py",))):
        libs = [r for r in results if r.kind in kinds]
        if not libs:
            continue
        best = min(libs, key=lambda r: r.ns_per_call)
        for r in results:
            if r.kind in twins:
                r.ratio_best_lib = best.ns_per_call / r.ns_per_call
                r.best_lib = best.label


# -- peers ------------------------------------------------------------------------


def peers(topic: str) -> list[Any]:
    """The integrations' :class:`wsfast.integrations.BenchPeer` entries for
    ``topic``, in report order."""
    from wsfast.integrations import bench_peers

    return bench_peers(topic)


def peer_libraries(topic: str) -> tuple[str, ...]:
    """The libraries (top-level modules) ``topic`` compares against, in report
    order: a topic's ``PEERS``."""
    return tuple(dict.fromkeys(peer.library for peer in peers(topic)))


def find_object(candidates: Sequence[str]) -> tuple[Any, str] | None:
    """The first ``module.attribute`` of ``candidates`` that imports, and its path."""
    for path in candidates:
        module_name, _, attr = path.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except Exception:  # missing, or broken in this environment: try the next
            continue
        value = getattr(module, attr, None)
        if value is not None:
            return value, path
    return None


# -- report -----------------------------------------------------------------------


def pytest_params(
    impls: Sequence[Any],
    unavailable: Sequence[tuple[str, str]],
    twin_error: str,
) -> list[Any]:
    """Parameters for a ``bench/`` suite: one per implementation (``impl.id``),
    a placeholder for a missing compiled twin (an error under
    ``WSFAST_REQUIRE_EXTENSION``, else a skip) and a skip per missing library."""
    import pytest  # only the pytest-benchmark suites call this

    from wsfast import _env

    params: list[Any] = [pytest.param(impl, id=impl.id) for impl in impls]
    if not any(impl.kind == "wsfast-c" for impl in impls):
        reason = f"wsfast compiled twin: {twin_error}"
        marks = (
            pytest.mark.xfail(reason=reason, run=False, strict=True)
            if _env.flag("WSFAST_REQUIRE_EXTENSION")
            else pytest.mark.skip(reason=reason)
        )
        params.insert(0, pytest.param(None, id="wsfast-c", marks=marks))
    for name, why in unavailable:
        skip = pytest.mark.skip(reason=f"{name}: {why}")
        params.append(pytest.param(None, id=name.replace(" ", "-"), marks=skip))
    return params


def size_id(n: int) -> str:
    """``16B``, ``64KiB``: a size as a test id."""
    return size_name(n).replace(" ", "")


def size_name(n: int) -> str:
    """``16 B``, ``64 KiB``, ``16 MiB``: a size as the report shows it."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


# -- runner -----------------------------------------------------------------------


def load_topic(name: str) -> Any | None:
    """Import ``wsfast._bench.<name>``; ``None`` when this install has no such topic."""
    if name not in TOPICS + EXTRA_TOPICS:
        raise ValueError(
            f"unknown benchmark topic {name!r}: expected one of "
            f"{', '.join(TOPICS + EXTRA_TOPICS)}"
        )
    module_name = f"{__name__}.{name}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


def load_twins() -> tuple[dict[str, dict[str, Any] | None], dict[str, str]]:
    """Both twins' public names (``load_twin``), and why the compiled one is
    missing or incomplete.

    When some compiled topic module cannot be imported (a partial build), the
    compiled twin holds the names of the modules that do import, so each topic
    can still time what exists (a topic looks its own names up); it is ``None``
    when none imports.
    """
    from wsfast import _codec

    twins: dict[str, dict[str, Any] | None] = {"py": _codec.load_twin("py")}
    errors: dict[str, str] = {}
    try:
        twins["c"] = _codec.load_twin("c")
    except ImportError as exc:
        partial: dict[str, Any] = {}
        for topic in _codec.TOPICS:
            try:
                module = importlib.import_module(f"wsfast.{topic}_c")
            except ImportError:
                continue
            partial.update((name, getattr(module, name)) for name in module.__all__)
            partial.setdefault("SIMD", getattr(module, "SIMD", None))
        twins["c"] = partial or None
        # Why, as the chooser says it: a source tree shadowing the installed
        # copy (``python -m pytest bench/`` in the checkout) names the fix.
        errors["c"] = f"{'incomplete' if partial else 'not available'} ({_codec.diagnose(exc)[0]})"
    return twins, errors



class Progress:
    """Progress on standard error while the benchmark runs.

    On a terminal, one line rewritten in place (``\\r``) before each group; else
    one line per group.  The ETA takes each topic's groups still to run (from
    its ``count(ctx)``) at the time per group so far: the average of that topic
    once it has started, else the median over all groups."""

    def __init__(self, stream: IO[str], plan: dict[str, int | None],
                 started: float | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.stream = stream
        self.clock = clock
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.plan = plan
        self.done: dict[str, int] = dict.fromkeys(plan, 0)
        self.spent: dict[str, float] = dict.fromkeys(plan, 0.0)
        self.durations: list[float] = []  # of every group so far
        self.started = clock() if started is None else started
        self._group_started = self.started
        self._topic: str | None = None
        self._shown = False

    @property
    def total(self) -> int | None:
        counts = list(self.plan.values())
        return None if None in counts else sum(c for c in counts if c is not None)

    def eta(self) -> float | None:
        """Seconds still to go; ``None`` before the first group ends, or when a
        topic cannot say how many groups it has."""
        if not self.durations:
            return None
        # The median: one slow group (16 MiB through pure Python) must not
        # inflate the topics still to come, whose groups may all be quick.
        typical = statistics.median(self.durations)
        left = 0.0
        for topic, count in self.plan.items():
            if count is None:
                return None
            per_group = (self.spent[topic] / self.done[topic]) if self.done[topic] else typical
            left += max(0, count - self.done[topic]) * per_group
        return left

    def _close(self, now: float) -> None:
        """The running group ended at ``now``."""
        assert self._topic is not None
        self.done[self._topic] += 1
        self.spent[self._topic] += now - self._group_started
        self.durations.append(now - self._group_started)

    def _line(self, topic: str, what: str, now: float, ahead: int = 0) -> str:
        total = self.total
        index = sum(self.done.values()) + 1 + ahead
        count = f"{index}/{total}" if total is not None else f"{index}"
        eta = self.eta()
        return (f"[{count}] {topic}: {what}; {now - self.started:.0f} s"
                + (f", ETA ~{eta:.0f} s" if eta is not None else ""))

    def _show(self, line: str) -> None:
        self.stream.write(f"\r\x1b[K{line}")
        self.stream.flush()
        self._shown = True

    def preparing(self, topic: str) -> None:
        """``topic`` builds its next group's inputs and checks every implementation
        (seconds for 16 MiB through pure Python): said on a terminal only."""
        if self.tty:
            # The group last started has ended (its table is out): the next one
            # is one further on.
            ahead = 0 if self._topic is None else 1
            self._show(self._line(topic, "preparing the next group", self.clock(), ahead))

    def start(self, topic: str, title: str, cases: int) -> None:
        """Group ``title`` of ``topic`` (``cases`` to time) is about to run."""
        now = self.clock()
        if self._topic is not None:
            self._close(now)
        self._topic, self._group_started = topic, now
        line = self._line(topic, f"{title} ({cases} cases)", now)
        if self.tty:
            self._show(line)
        else:
            self.stream.write(f"wsfast bench {line}\n")
            self.stream.flush()

    def clear(self) -> None:
        """Erase the terminal's progress line (before other output)."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def finish(self, cases: int) -> float:
        """Close the last group; print the total time (since ``started``); return it."""
        now = self.clock()
        if self._topic is not None:
            self._close(now)
            self._topic = None
        self.clear()
        elapsed = now - self.started
        self.stream.write(f"wsfast bench: {sum(self.done.values())} groups, {cases} cases "
                          f"in {elapsed:.1f} s\n")
        self.stream.flush()
        return elapsed


def run(
    topics: Sequence[str] = TOPICS,
    settings: Settings | None = None,
    out: IO[str] | None = None,
    *,
    markdown: bool = False,
    progress: IO[str] | None = None,
) -> dict[str, Any]:
    """Run the benchmark of ``topics``, printing each group's table to ``out`` as it
    completes (GitHub markdown with ``markdown``), then the summary; progress and
    the ETA go to ``progress``.  Return the report (what ``--json`` writes)."""
    from . import _report

    started = time.perf_counter()
    settings = settings or Settings()
    twins, twin_errors = load_twins()
    ctx = Context(settings, twins, twin_errors)
    modules = {name: load_topic(name) for name in topics}
    bar: Progress | None = None

    def say(text: str = "") -> None:
        if out is not None:
            if bar is not None:  # on a terminal, out is most likely the same screen
                bar.clear()
            print(text, file=out, flush=True)

    def para(text: str) -> str:  # a markdown paragraph keeps its line breaks
        return text.replace("\n", "  \n") if markdown else text

    env = environment()
    peers = _report.find_peers(
        name for module in modules.values() for name in getattr(module, "PEERS", ()))
    missing = {peer.name for peer in peers if peer.status == "not installed"}
    if markdown:
        say("## wsfast benchmark\n")
    say(para(
        f"wsfast {env['version']}: {env['implementation']} twin active, SIMD {env['simd']} "
        f"(CPU supports: {', '.join(env['simd_supported'] or ['-'])}); "
        f"{env['python']['implementation']} {env['python']['version']} on "
        f"{env['platform']['machine']} ({env['platform']['processor']})"
    ))
    if markdown:
        say()
    say(_report.format_peers(peers, markdown))
    # After the peers, which stay the second line whatever the twin.
    if markdown and (twins["c"] is None or "c" in twin_errors):
        say()
    if twins["c"] is None:
        say(para(f"wsfast compiled twin: {twin_errors['c']}; showing the pure twin"))
    elif "c" in twin_errors:
        say(para(f"wsfast compiled twin: {twin_errors['c']}; timing the compiled modules "
                 "that import"))
    if markdown:
        say()
    say(para(
        f"{'quick run' if settings.quick else 'full run'}: median of up to {settings.samples} "
        f"sample{'s' if settings.samples > 1 else ''} of ~{settings.sample_ms:g} ms per case, "
        "cases interleaved"
        + ("" if settings.kernels else "; kernel rows hidden (--kernels shows them)")
    ))
    if markdown:
        say()
    say(para(_report.LEGEND))
    plan: dict[str, int | None] = {}
    for name, module in modules.items():
        count = getattr(module, "count", None)
        plan[name] = 0 if module is None else (count(ctx) if count is not None else None)
    if progress is not None:
        bar = Progress(progress, plan, started)
    results: list[Result] = []
    shown_notes = 0

    def notes() -> None:
        nonlocal shown_notes
        while shown_notes < len(ctx.notes):
            note = ctx.notes[shown_notes]
            shown_notes += 1
            # A missing peer is said once, at the top.
            if note.partition(":")[0] not in missing:
                say(f"  {note}" if not markdown else f"- {note}")

    for name, module in modules.items():
        if module is None:
            say(f"\n{'###' if markdown else '=='} {name}: no benchmark in this version")
            continue
        say(f"\n{'###' if markdown else '=='} {getattr(module, 'TITLE', name)}")
        gc_was_enabled = gc.isenabled()
        if bar is not None:
            bar.preparing(name)
        for group in module.groups(ctx):
            notes()
            if not settings.kernels:
                group.cases = [c for c in group.cases if c.kind != "wsfast-kernel"]
            if bar is not None:
                bar.start(name, f"{group.name}, {size_name(group.size)}", len(group.cases))
            gc.collect()
            gc.disable()
            try:
                measured = _measure(group, settings)
            finally:
                if gc_was_enabled:
                    gc.enable()
            _ratios(measured)
            results.extend(measured)
            say()
            say(_report.format_group(measured, markdown=markdown))
            if bar is not None:
                bar.preparing(name)
        notes()
    if bar is not None:
        bar.finish(len(results))
    elapsed = time.perf_counter() - started
    summary = _report.summarize(results)
    overall = _report.headline(summary, results)
    if summary:
        say()
        say(_report.format_summary(summary, overall, markdown))
    say()
    say(f"{len(results)} cases in {elapsed:.1f} s")
    return {
        "wsfast": env,
        "settings": {
            "quick": settings.quick,
            "sample_ms": settings.sample_ms,
            "samples": settings.samples,
            "sizes": list(settings.sizes),
            "topics": list(topics),
            "kernels": settings.kernels,
        },
        "peers": [peer.as_dict() for peer in peers],
        "notes": list(ctx.notes),
        "elapsed_s": elapsed,
        "summary": {"rows": [row.as_dict() for row in summary], "overall": overall},
        "rows": [r.as_dict() for r in results],
    }


def write_json(report: dict[str, Any], path: str) -> None:
    """Write a report from :func:`run` as JSON (``-`` for standard output)."""
    text = json.dumps(report, indent=2, sort_keys=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def output_problem(path: str) -> str | None:
    """Why ``path`` cannot be written, or ``None``: checked before the run, so a
    typo costs nothing.  Nothing is created."""
    if os.path.isdir(path):
        return "is a directory"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"no such directory: {folder}"
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            return "not writable"
    elif not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot create a file in {folder}"
    return None


def main(
    only: Sequence[str] | None = None,
    quick: bool = False,
    json_path: str | None = None,
    samples: int | None = None,
    sample_ms: float | None = None,
    *,
    kernels: bool = False,
    markdown: bool = False,
    plot_path: str | None = None,
    progress: bool = True,
) -> int:
    """``python -m wsfast bench``: check the arguments (and that the output files
    can be written) before anything runs, run, print the tables and the summary,
    then write the JSON and the plot."""

    def fail(message: str) -> int:
        print(f"wsfast bench: {message}", file=sys.stderr)
        return 2

    topics = list(only) if only else list(TOPICS)
    for name in topics:
        if name not in TOPICS + EXTRA_TOPICS:
            return fail(f"unknown topic {name!r} (expected {', '.join(TOPICS + EXTRA_TOPICS)})")
        if only and load_topic(name) is None:
            return fail(f"this version of wsfast has no {name!r} benchmark")
    settings = Settings.for_run(quick)
    settings.kernels = kernels
    if samples is not None:
        if samples < 1:
            return fail("--samples must be at least 1")
        settings.samples = samples
    if sample_ms is not None:
        if sample_ms <= 0:
            return fail("--sample-ms must be positive")
        settings.sample_ms = sample_ms
    for option, path in (("--json", json_path), ("--plot", plot_path)):
        if path and path != "-":
            problem = output_problem(path)
            if problem:
                return fail(f"{option} {path}: {problem}")
    if plot_path:
        from . import _plot

        problem = _plot.unavailable(plot_path)
        if problem:
            return fail(f"--plot {plot_path}: {problem}")
    # With --json - the JSON goes to standard output and the tables to standard error.
    out = sys.stderr if json_path == "-" else sys.stdout
    # Progress lines between tables on the same stream would only be noise.
    show_progress = progress and (out is not sys.stderr or sys.stderr.isatty())
    report = run(topics, settings, out, markdown=markdown,
                 progress=sys.stderr if show_progress else None)
    if json_path:
        write_json(report, json_path)
    if plot_path:
        from . import _plot

        _plot.plot(report, plot_path, kernels=kernels)
        print(f"wsfast bench: plot written to {plot_path}", file=sys.stderr)
    return 0
