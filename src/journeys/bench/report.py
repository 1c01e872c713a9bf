"""Rendering benchmark results: a rich table, one JSON line, a PNG."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# (key, header, format) of the extraction table, in order
EXTRACTION_COLUMNS = (
    ("recall", "recall", "{:.3f}"),
    ("purity", "purity", "{:.3f}"),
    ("ari", "ARI", "{:.3f}"),
    ("nmi", "NMI", "{:.3f}"),
    ("count_error", "|Δ journeys|", "{:.2f}"),
    ("noise_absorbed", "noise absorbed", "{:.2f}"),
    ("journeys_per_user", "journeys/user", "{:.2f}"),
    ("mean_length", "mean length", "{:.1f}"),
    ("share_1_3", "users 1-3", "{:.2f}"),
    ("unassigned", "unassigned", "{:.2f}"),
    ("seconds", "time (s)", "{:.1f}"),
)


def console():
    """A rich console; when output is not a terminal (a pipe, a file, CI) it is 160 wide so the
    table is not squeezed into 80 columns."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _fmt(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def table(rows: Sequence[dict], title: str, columns=EXTRACTION_COLUMNS, first: str = "method"):
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(title))  # titles name user-supplied files: never markup
    t.add_column(first)
    for _, header, _ in columns:
        t.add_column(header, justify="right")
    for row in rows:
        t.add_row(Text(str(row.get(first, ""))), *(_fmt(row.get(key), fmt) for key, _, fmt in columns))
    return t


def markdown(rows: Sequence[dict], columns=EXTRACTION_COLUMNS, first: str = "method") -> str:
    head = "| " + " | ".join([first] + [h for _, h, _ in columns]) + " |"
    sep = "|" + "---|" * (len(columns) + 1)
    body = [
        "| " + " | ".join([str(r.get(first, ""))] + [_fmt(r.get(k), f) for k, _, f in columns]) + " |"
        for r in rows
    ]
    return "\n".join([head, sep, *body])


def json_line(payload: dict) -> str:
    def clean(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(payload), sort_keys=False, separators=(",", ":"))


def _pyplot():
    from journeys.errors import require

    mpl = require("matplotlib", "bench")
    mpl.use("Agg")
    return require("matplotlib.pyplot", "bench")


def _save(plt, fig, path: str | Path) -> Path:
    """Write the figure as a PNG (making its folder) and release it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_methods(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Grouped bars: recall, purity, ARI, NMI per method."""
    plt = _pyplot()
    keys = ("recall", "purity", "ari", "nmi")
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    width = 0.8 / len(keys)
    for n, key in enumerate(keys):
        vals = [r.get(key) if r.get(key) is not None else 0.0 for r in rows]
        xs = [i + (n - (len(keys) - 1) / 2) * width for i in range(len(rows))]
        ax.bar(xs, vals, width, label=key)
    ax.set_xticks(range(len(rows)), [r["method"] for r in rows])
    ax.set_ylim(0, 1.18)
    ax.axhline(0.85, color="grey", lw=0.8, ls="--")
    ax.legend(ncol=4, fontsize=8, loc="upper center")
    ax.set_title(title or "journey extraction", fontsize=9)
    fig.tight_layout()
    return _save(plt, fig, path)


def plot_sweep(rows: Sequence[dict], path: str | Path, title: str = "", chosen: dict | None = None) -> Path:
    """Recall (solid) and purity (dashed) against the ICPC threshold. Left: one line per
    collaborative weight, the other settings as chosen; right: every min_size/merge/refine
    combination at the chosen collaborative weight."""
    plt = _pyplot()
    chosen = chosen or max(rows, key=lambda r: r.get("f", 0))["params"]
    same = ("min_size", "merge_threshold", "refine")
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), dpi=110, sharey=True)
    panels = [
        (axes[0], [r for r in rows if all(r["params"][k] == chosen[k] for k in same)],
         lambda p: f"collaborative={p.get('collaborative', 0)}",
         f"min_size={chosen['min_size']} merge={chosen['merge_threshold']} refine={chosen['refine']}"),
        (axes[1], [r for r in rows if r["params"].get("collaborative", 0) == chosen.get("collaborative", 0)],
         lambda p: f"min={p['min_size']} merge={p['merge_threshold']} refine={'y' if p['refine'] else 'n'}",
         f"collaborative={chosen.get('collaborative', 0)}"),
    ]
    cmap = plt.get_cmap("tab20")
    for ax, subset, label_of, subtitle in panels:
        series: dict[str, list[dict]] = {}
        for r in subset:
            series.setdefault(label_of(r["params"]), []).append(r)
        for n, (label, rs) in enumerate(sorted(series.items())):
            rs = sorted(rs, key=lambda r: r["params"]["threshold"])
            th = [r["params"]["threshold"] for r in rs]
            colour = cmap(n % 20)
            ax.plot(th, [r["recall"] for r in rs], color=colour, lw=1.2, label=label)
            ax.plot(th, [r["purity"] for r in rs], color=colour, lw=1.2, ls="--")
        ax.axvline(chosen["threshold"], color="black", lw=0.8, ls=":")
        ax.axhline(0.85, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("ICPC threshold (cosine to journey centroid)")
        ax.set_title(subtitle, fontsize=9)
        ax.legend(fontsize=6, ncol=2, loc="lower left")
    axes[0].set_ylabel("recall (solid) / purity (dashed)")
    axes[0].set_ylim(0.3, 1.02)
    fig.suptitle(title or "ICPC sweep")
    fig.tight_layout()
    return _save(plt, fig, path)
