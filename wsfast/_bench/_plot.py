"""``python -m wsfast bench --plot FILE.png``: speed by size, from the run's report.

One panel per topic, GB/s against payload size (both axes logarithmic), one
line per implementation.  A panel shows the topic's first kind of row group:
the groups whose name starts with the same word as the topic's first group
(``mask``; ``validate``; ``decode``; ``inflate``), so each line is one
operation at every size; where a label appears in several of those groups at
one size (several kinds of text), the first group run is plotted.  wsfast's
compiled twin is the thick line, its pure twin the thin solid one, other
libraries' compiled code dashed, their pure Python dotted, references grey.

matplotlib is optional (``pip install 'wsfast[plot]'``); it is imported only
here, after the arguments were checked.
"""

from __future__ import annotations

import importlib
import io
import os
from typing import Any

__all__ = ["INSTALL_HINT", "panels", "plot", "unavailable"]

INSTALL_HINT = "pip install 'wsfast[plot]' (or: pip install matplotlib)"

#: Line style per row kind: (linestyle, linewidth, colour or None for the cycle).
_STYLE: dict[str, tuple[str, float, str | None]] = {
    "wsfast-c": ("-", 2.6, None),
    "wsfast-kernel": ("-", 1.2, None),
    "wsfast-py": ("-", 1.2, None),
    "lib-c": ("--", 1.2, None),
    "lib-py": (":", 1.4, None),
    "ref": ("-.", 1.0, "0.55"),
}


def unavailable(path: str) -> str | None:
    """Why the plot cannot be drawn to ``path`` (matplotlib missing, a file type it
    cannot write), or ``None``."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return f"needs matplotlib, which is not installed: {INSTALL_HINT}"
    from matplotlib.figure import Figure

    types = Figure().canvas.get_supported_filetypes()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in types:
        return (f"matplotlib cannot write {'.' + ext if ext else 'a file without an extension'}"
                f" (it writes {', '.join('.' + t for t in sorted(types))})")
    return None


def panels(report: dict[str, Any], kernels: bool = False) -> list[dict[str, Any]]:
    """What each panel shows: the topic, the row groups that gave a point, and
    per label its kind and its {size: GB/s} points, in report order."""
    out: list[dict[str, Any]] = []
    for topic in dict.fromkeys(row["topic"] for row in report["rows"]):
        rows = [r for r in report["rows"] if r["topic"] == topic]
        family = rows[0]["group"].split(" ", 1)[0].rstrip(",")
        series: dict[str, dict[str, Any]] = {}
        groups: list[str] = []
        for r in rows:
            if r["group"].split(" ", 1)[0].rstrip(",") != family:
                continue
            if r["kind"] == "wsfast-kernel" and not kernels:
                continue
            line = series.setdefault(r["label"], {"kind": r["kind"], "points": {}})
            if r["size"] not in line["points"]:
                line["points"][r["size"]] = r["gb_per_s"]
                if r["group"] not in groups:
                    groups.append(r["group"])
        out.append({"topic": topic, "groups": groups, "series": series})
    return out


def _size_label(n: float, _pos: object = None) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n:g} B"


def plot(report: dict[str, Any], path: str, kernels: bool = False) -> None:
    """Draw the report's speeds by size to ``path`` (any type matplotlib writes)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    shown = panels(report, kernels)
    columns = 2 if len(shown) > 1 else 1
    rows = (len(shown) + columns - 1) // columns
    fig = Figure(figsize=(6.4 * columns, 4.6 * rows), layout="constrained")
    env = report["wsfast"]
    run = "quick run" if report["settings"]["quick"] else "full run"
    fig.suptitle(
        f"wsfast {env['version']} ({env['implementation']} twin, SIMD {env['simd']}), "
        f"{env['python']['implementation']} {env['python']['version']} on "
        f"{env['platform']['machine']}: `python -m wsfast bench`, {run}",
        fontsize=9)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, panel in zip(axes.flat, shown, strict=False):
        for label, line in panel["series"].items():
            points = sorted(line["points"].items())
            style, width, colour = _STYLE.get(line["kind"], ("-", 1.0, None))
            ax.plot([p[0] for p in points], [p[1] for p in points], linestyle=style,
                    linewidth=width, marker="o", markersize=3, label=label,
                    **({"color": colour} if colour else {}))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_size_label))
        ax.set_xlabel("payload size", fontsize=8)
        ax.set_ylabel("GB/s (higher is faster)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", linewidth=0.4, alpha=0.6)
        what = "; ".join(dict.fromkeys(g.split(", ")[0] for g in panel["groups"]))
        ax.set_title(f"{panel['topic']}: {what}", fontsize=8)
        ax.legend(fontsize=5.5, loc="best", framealpha=0.8)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    if os.path.splitext(path)[1].lower() != ".png":
        fig.savefig(path, dpi=100)
        return
    # Lines on white need few colours: a 256-colour palette keeps the PNG about
    # a third of its full-colour size (Pillow comes with matplotlib).
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)
