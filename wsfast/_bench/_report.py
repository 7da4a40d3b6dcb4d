"""What ``python -m wsfast bench`` prints: the peers, the tables and the summary.

Plain text (columns aligned whatever the labels) or GitHub markdown
(``--markdown``).  Everything here works on the runner's vocabulary
(:class:`~wsfast._bench.Result`); nothing here knows a topic or a library.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import KINDS, Result, size_name

__all__ = [
    "LEGEND",
    "Peer",
    "SummaryRow",
    "find_peers",
    "format_group",
    "format_peers",
    "format_summary",
    "headline",
    "summarize",
]

LEGEND = (
    "time/call: median of the samples; GB/s = 10**9 bytes/s. Ratios are speed-ups "
    "(>1: faster):\n'vs py twin' against wsfast's pure twin; 'vs best lib' for the "
    "compiled twin against the fastest\nother library (C or py), for the pure twin "
    "against the fastest pure-Python library."
)

#: What installs the peers that are missing (the extra in pyproject.toml).
INSTALL_HINT = "pip install 'wsfast[bench]'"


# -- peers ------------------------------------------------------------------------


@dataclass
class Peer:
    """A library a topic compares against: its import name, its distribution's
    version (``None`` when it does not import), and ``"installed"``, ``"not
    installed"`` or why the import failed."""

    name: str
    version: str | None
    status: str

    @property
    def installed(self) -> bool:
        return self.status == "installed"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "status": self.status}


def _version(name: str, module: Any) -> str:
    """The version of the distribution that provides top-level module ``name``."""
    for dist in importlib.metadata.packages_distributions().get(name, []) + [name]:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return str(getattr(module, "__version__", "unknown version"))


def find_peers(names: Iterable[str]) -> list[Peer]:
    """Import each library (top-level module) of ``names``, in order, once: what
    is installed, with its version, and what is not, with the reason."""
    peers: list[Peer] = []
    for name in dict.fromkeys(names):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            status = "not installed" if exc.name == name else f"import failed ({exc})"
            peers.append(Peer(name, None, status))
        except Exception as exc:  # a broken install must not stop the benchmark
            peers.append(Peer(name, None, f"import failed ({type(exc).__name__}: {exc})"))
        else:
            peers.append(Peer(name, _version(name, module), "installed"))
    return peers


def format_peers(peers: Sequence[Peer], markdown: bool = False) -> str:
    """``peers: a 1.0, b 2.1; not installed: c (pip install ...)`` (one or two lines)."""
    found = [f"{p.name} {p.version}" for p in peers if p.installed]
    missing = [p.name for p in peers if p.status == "not installed"]
    broken = [f"{p.name}: {p.status}" for p in peers
              if not p.installed and p.status != "not installed"]
    lines = [f"peers: {', '.join(found) if found else 'none installed'}"]
    if missing:
        lines.append(f"not installed: {', '.join(missing)} ({INSTALL_HINT} installs them)")
    lines.extend(broken)
    if markdown:
        return "\n".join(f"- {line}" for line in lines)
    return "\n".join(lines)


# -- tables -----------------------------------------------------------------------


def _ns(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:,.2f} ms"
    if value >= 1e4:
        return f"{value / 1e3:,.1f} us"
    return f"{value:,.1f} ns"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}x"


#: Columns after the label: (header, width).
_COLUMNS = (("", 6), ("time/call", 11), ("GB/s", 8), ("vs py twin", 11), ("vs best lib", 12))


def _cells(r: Result) -> tuple[str, ...]:
    return (KINDS[r.kind], _ns(r.ns_per_call), f"{r.gb_per_s:.2f}", _ratio(r.ratio_pure),
            _ratio(r.ratio_best_lib))


def group_title(results: Sequence[Result]) -> str:
    """``mask, 16 B``: the group's name and size."""
    return f"{results[0].group}, {size_name(results[0].size)}"


def format_group(results: Sequence[Result], label_width: int = 50,
                 markdown: bool = False) -> str:
    """The table of one group: time per call, GB/s and the ratios, one row per case.

    In text, labels are padded to ``label_width`` or more, so that the title and
    every row line up whatever the labels (every line has the same length)."""
    title = group_title(results)
    if markdown:
        lines = [f"**{title}**", "",
                 "| implementation | kind | time/call | GB/s | vs py twin | vs best lib |",
                 "|:--|:--|--:|--:|--:|--:|"]
        for r in results:
            cells = " | ".join(c or " " for c in _cells(r))
            lines.append(f"| {_md(r.label)} | {cells} |")
        return "\n".join(lines)
    kind_width = _COLUMNS[0][1] + 1
    # The title stands over the labels and the kind column: widen the labels
    # when it is longer than both.
    width = max([label_width, len(title) - 2 - kind_width] + [len(r.label) for r in results])
    header = f"{title:<{width + 2 + kind_width}}" + "".join(
        f" {name:>{w}}" for name, w in _COLUMNS[1:])
    lines = [header]
    for r in results:
        lines.append(f"  {r.label:<{width}}" + "".join(
            f" {cell:>{w}}" for cell, (_, w) in zip(_cells(r), _COLUMNS, strict=True)))
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text for a markdown table cell."""
    return text.replace("|", "\\|")


# -- summary ----------------------------------------------------------------------


@dataclass
class SummaryRow:
    """One topic at one size: the headline wsfast row of each of its groups
    against the fastest other library (geometric mean, and the least favourable
    group) and against the pure twin (geometric mean).

    ``twin`` is ``"c"`` when the headline rows are the compiled twin's, ``"py"``
    when the topic has none (no compiled twin, or an engine both twins share)."""

    topic: str
    size: int
    twin: str
    groups: int
    vs_best_lib: float | None
    lowest: float | None
    lowest_group: str | None
    lowest_lib: str | None
    vs_pure: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic, "size": self.size, "twin": self.twin, "groups": self.groups,
            "vs_best_lib": self.vs_best_lib, "lowest_vs_best_lib": self.lowest,
            "lowest_group": self.lowest_group, "lowest_lib": self.lowest_lib,
            "vs_pure": self.vs_pure,
        }


def _geomean(values: Sequence[float]) -> float | None:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _headline_row(results: Sequence[Result]) -> Result | None:
    """The group's wsfast row to quote: the compiled twin's, else the pure twin's."""
    for kind in ("wsfast-c", "wsfast-py"):
        for r in results:
            if r.kind == kind:
                return r
    return None


def peer_of(label: str) -> str:
    """The library a row's label names first (``lib`` of ``lib module.function``)."""
    return label.split(" ", 1)[0]


def summarize(results: Sequence[Result]) -> list[SummaryRow]:
    """One :class:`SummaryRow` per (topic, size), in the order the groups ran."""
    groups: dict[tuple[str, str, int], list[Result]] = {}
    for r in results:
        groups.setdefault((r.topic, r.group, r.size), []).append(r)
    by_cell: dict[tuple[str, int], list[Result]] = {}
    for rows in groups.values():
        head = _headline_row(rows)
        if head is not None:
            by_cell.setdefault((head.topic, head.size), []).append(head)
    summary = []
    for (topic, size), heads in by_cell.items():
        twin = "c" if any(h.kind == "wsfast-c" for h in heads) else "py"
        heads = [h for h in heads if h.kind == f"wsfast-{twin}"]
        with_lib = [h for h in heads if h.ratio_best_lib is not None]
        lowest = min(with_lib, key=lambda h: h.ratio_best_lib or 0.0, default=None)
        summary.append(SummaryRow(
            topic, size, twin, len(heads),
            _geomean([h.ratio_best_lib for h in with_lib if h.ratio_best_lib is not None]),
            lowest.ratio_best_lib if lowest else None,
            lowest.group if lowest else None,
            peer_of(lowest.best_lib) if lowest and lowest.best_lib else None,
            _geomean([h.ratio_pure for h in heads if h.ratio_pure is not None])
            if twin == "c" else None,
        ))
    return summary


def headline(summary: Sequence[SummaryRow], results: Sequence[Result]) -> dict[str, Any]:
    """Over every group whose headline row is the compiled twin's: the geometric
    means against the best other library and against the pure twin, and the
    least favourable comparison."""
    groups: dict[tuple[str, str, int], list[Result]] = {}
    for r in results:
        groups.setdefault((r.topic, r.group, r.size), []).append(r)
    heads = [h for h in map(_headline_row, groups.values()) if h is not None and
             h.kind == "wsfast-c"]
    with_lib = [h for h in heads if h.ratio_best_lib is not None]
    lowest = min(with_lib, key=lambda h: h.ratio_best_lib or 0.0, default=None)
    return {
        "groups": len(heads),
        "vs_best_lib": _geomean([h.ratio_best_lib for h in with_lib
                                 if h.ratio_best_lib is not None]),
        "groups_with_lib": len(with_lib),
        "vs_pure": _geomean([h.ratio_pure for h in heads if h.ratio_pure is not None]),
        "lowest_vs_best_lib": lowest.ratio_best_lib if lowest else None,
        "lowest_group": f"{lowest.topic}: {lowest.group}, {size_name(lowest.size)}"
        if lowest else None,
        "lowest_lib": lowest.best_lib if lowest else None,
        **noise(results),
    }


#: Samples of one case further apart than this (slowest / fastest) mean the
#: machine was busy while it was timed.
NOISY_SPREAD = 1.5


def noise(results: Sequence[Result]) -> dict[str, Any]:
    """How many cases (of those with 3 samples or more) had samples spread over
    :data:`NOISY_SPREAD`: the ratios of a busy machine deserve less trust."""
    sampled = [r for r in results if len(r.samples_ns) >= 3]
    noisy = [r for r in sampled if max(r.samples_ns) > NOISY_SPREAD * min(r.samples_ns)]
    return {"noisy_cases": len(noisy), "sampled_cases": len(sampled)}


SUMMARY_TITLE = "Summary: wsfast's speed-up (>1: faster) per topic and size"
SUMMARY_NOTE = (
    "Each row group contributes its compiled-twin row ('py': the pure twin's, where a topic "
    "has no\ncompiled row). 'vs best lib': geometric mean over the groups of the ratio to the "
    "fastest other\nlibrary in that group; 'lowest': the least favourable group and that "
    "library; 'vs py twin':\ngeometric mean of the ratio to wsfast's pure twin."
)


def format_summary(summary: Sequence[SummaryRow], overall: dict[str, Any],
                   markdown: bool = False) -> str:
    """The summary table, then one line over every group."""
    header = ("topic", "size", "twin", "groups", "vs py twin", "vs best lib",
              "lowest vs best lib (row group: library)")
    rows = []
    for s in summary:
        lowest = ("" if s.lowest is None
                  else f"{_ratio(s.lowest)} {s.lowest_group}: {s.lowest_lib}")
        rows.append((s.topic, size_name(s.size), s.twin, str(s.groups), _ratio(s.vs_pure),
                     _ratio(s.vs_best_lib) or "no lib", lowest))
    if overall["groups"]:
        line = (f"Over its {overall['groups']} row groups the compiled twin is "
                f"{_ratio(overall['vs_pure'])} the pure twin")
        if overall["vs_best_lib"] is not None:
            line += (f" and {_ratio(overall['vs_best_lib'])} the best other library\n"
                     f"({overall['groups_with_lib']} groups have one; the least favourable: "
                     f"{_ratio(overall['lowest_vs_best_lib'])} in {overall['lowest_group']},\n"
                     f"against {overall['lowest_lib']})")
        else:
            line += "; no other library was timed"
        line += "; geometric means."
    else:
        line = "No compiled-twin rows: the summary quotes the pure twin."
    if overall.get("sampled_cases") and overall["noisy_cases"] * 10 > overall["sampled_cases"]:
        line += (f"\nNoisy: in {overall['noisy_cases']} of {overall['sampled_cases']} cases the "
                 f"slowest sample took over {NOISY_SPREAD:g}x the fastest (the machine was "
                 "busy);\nread the ratios with care, or run again on a quieter machine.")
    if markdown:
        out = [f"### {SUMMARY_TITLE}", "", SUMMARY_NOTE.replace("\n", " "), "",
               "| " + " | ".join(header) + " |",
               "|:--|--:|:--|--:|--:|--:|:--|"]
        out += ["| " + " | ".join(_md(c) or " " for c in row) + " |" for row in rows]
        return "\n".join(out + ["", line.replace("\n", " ")])
    right = (False, True, False, True, True, True, False)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(f"{c:>{w}}" if r else f"{c:<{w}}"
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return "\n".join([SUMMARY_TITLE, SUMMARY_NOTE, "", fmt(header)] + [fmt(r) for r in rows]
                     + ["", line])
