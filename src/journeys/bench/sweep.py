"""Sweep ICPC's settings on a collections file; the defaults in config come from this.

Each grid point clusters every synthetic user with the same history as `run_user` (naming is
skipped: it does not change the labels). The best point maximises the harmonic mean of recall
and purity (F); ties go to the simpler setting (no merge, no refine, larger min_size).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeys.bench import extraction
from journeys.extract import Corpus

COLUMNS = (
    ("recall", "recall", "{:.3f}"),
    ("purity", "purity", "{:.3f}"),
    ("f", "F", "{:.3f}"),
    ("ari", "ARI", "{:.3f}"),
    ("journeys_per_user", "journeys/user", "{:.2f}"),
    ("noise_absorbed", "noise absorbed", "{:.2f}"),
)


@dataclass
class Grid:
    thresholds: Sequence[float] = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60)
    min_sizes: Sequence[int] = (2, 3, 4)
    merges: Sequence[float | None] = (None, 0.7, 0.8)
    refines: Sequence[bool] = (False, True)
    collaboratives: Sequence[float] = (0.0, 0.3, 0.5, 0.7)
    text_thresholds: Sequence[float | None] = (None,)
    extra: dict[str, Any] = field(default_factory=dict)

    def points(self) -> list[dict[str, Any]]:
        return [
            {"threshold": t, "min_size": m, "merge_threshold": g, "refine": r, "collaborative": c,
             "text_threshold": tt, **self.extra}
            for c, tt, t, m, g, r in itertools.product(
                self.collaboratives, self.text_thresholds, self.thresholds, self.min_sizes,
                self.merges, self.refines,
            )
        ]


def f_score(row: dict) -> float:
    r, p = row["recall"], row["purity"]
    return 2 * r * p / (r + p) if r + p > 0 else 0.0


def _simplicity(p: dict) -> tuple:
    return (p.get("collaborative", 0) > 0, p.get("text_threshold") is not None,
            p["merge_threshold"] is not None, bool(p["refine"]), -p["min_size"])


def top(rows: Sequence[dict], n: int | None = None) -> list[dict]:
    ranked = sorted(rows, key=lambda r: (-round(r["f"], 4), _simplicity(r["params"]), r["params"]["threshold"]))
    return ranked[:n] if n else ranked


def evaluate_points(bench: extraction.Bench, points: Sequence[dict]) -> list[dict]:
    """Histories are built once (by the pipeline, as `run_user` does); each point only clusters."""
    import time

    from journeys.bench import metrics

    pipe = extraction.pipeline_for(bench, extraction.make_clusterer(bench, "icpc"))
    pipe.prepare(bench.data.items, bench.data.events)
    hists = {u: pipe.history(u, evs) for u, evs in bench.data.events_by_user().items()}
    corpus = Corpus(list(hists.values()))
    learnt: dict[tuple, object] = {}  # what fit() learns depends only on these settings
    rows = []
    for p in points:
        t0 = time.perf_counter()
        clusterer = extraction.make_clusterer(bench, "icpc", p)
        key = (clusterer.collaborative > 0, clusterer.collaborative_dims, clusterer.seed)
        if key not in learnt:
            learnt[key] = clusterer.fit(corpus)
        clusterer.__dict__.update({k: v for k, v in vars(learnt[key]).items() if k.endswith("_")})
        preds = {u: dict(zip(h.item_ids, clusterer.assign(h).tolist())) for u, h in hists.items()}
        row = {"method": "icpc", **metrics.summarize(bench.data.truth, preds),
               "seconds": time.perf_counter() - t0, "params": dict(p)}
        row["f"] = f_score(row)
        row["setting"] = _label(p)
        rows.append(row)
    return rows


def _label(p: dict) -> str:
    merge = "-" if p["merge_threshold"] is None else f"{p['merge_threshold']:.2f}"
    tt = p.get("text_threshold")
    return (f"t={p['threshold']:.2f} min={p['min_size']} merge={merge} "
            f"refine={'y' if p['refine'] else 'n'} collab={p.get('collaborative', 0):.1f} "
            f"text_t={'-' if tt is None else f'{tt:.2f}'}")


def run(collections: str | Path, grid: Grid | None = None, users: int = 200, seed: int = 0,
        embedder: str | None = None, **synth) -> dict[str, Any]:
    grid = grid or Grid()
    bench = extraction.prepare(collections, users=users, seed=seed, embedder=embedder, **synth)
    rows = evaluate_points(bench, grid.points())
    return {"setup": bench.setup, "best": top(rows, 1)[0], "results": rows}
