"""Granularity of journeys on real logs (issue 12): is a heavy user's history cut into specific
journeys, or swallowed by one blob?

`report(preds)` takes one {item: label} per user (label -1: unassigned; the user's activity is
the number of items in it) and gives:

- `journeys_by_decile`: mean journeys per user in each activity decile (users ranked by the
  number of items they have, lightest first; decile 10 is the heaviest tenth);
- `share_dominant`: share of users with at least one journey whose largest journey holds
  >= `DOMINANT` (80%) of their journey items;
- `size_p50` / `size_p90` / `size_p99` / `size_max`: journey size percentiles over all journeys;
- `over_200`: how many journeys hold more than `MAX_SIZE` (200) items.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

NOISE = -1
DOMINANT = 0.8
MAX_SIZE = 200

COLUMNS = (
    ("share_dominant", "largest>=80%", "{:.2f}"),
    ("top_decile", "journeys top 10%", "{:.2f}"),
    ("size_p50", "size p50", "{:.0f}"),
    ("size_p90", "size p90", "{:.0f}"),
    ("size_p99", "size p99", "{:.0f}"),
    ("size_max", "size max", "{:.0f}"),
    ("over_200", ">200", "{:.0f}"),
)


def _sizes(pred: Mapping[str, int]) -> list[int]:
    counts = Counter(int(lab) for lab in pred.values() if lab != NOISE)
    return sorted(counts.values(), reverse=True)


def deciles(activity: np.ndarray) -> np.ndarray:
    """Decile 1..10 of each user by activity (ties broken by position, so deciles are equal-sized;
    the heaviest user is always in decile 10)."""
    n = len(activity)
    order = np.argsort(activity, kind="stable")
    out = np.empty(n, dtype=np.int64)
    out[order] = -((-(np.arange(n) + 1) * 10) // max(n, 1))  # ceil((rank + 1) * 10 / n)
    return out


def report(preds: Iterable[Mapping[str, int]]) -> dict[str, object]:
    preds = list(preds)
    if not preds:
        return {"journeys_by_decile": [], "top_decile": math.nan, "share_dominant": math.nan,
                "size_p50": math.nan, "size_p90": math.nan, "size_p99": math.nan,
                "size_max": math.nan, "over_200": 0}
    sizes = [_sizes(p) for p in preds]
    activity = np.array([len(p) for p in preds])
    journeys = np.array([len(s) for s in sizes], dtype=float)
    dec = deciles(activity)
    by_decile = [float(journeys[dec == d].mean()) if (dec == d).any() else math.nan
                 for d in range(1, 11)]
    with_journeys = [s for s in sizes if s]
    dominant = [s[0] / sum(s) >= DOMINANT for s in with_journeys]
    flat = np.array([x for s in sizes for x in s], dtype=float)
    pct = np.percentile(flat, [50, 90, 99]) if len(flat) else [math.nan] * 3
    return {
        "journeys_by_decile": by_decile,
        "top_decile": by_decile[-1],
        "share_dominant": float(np.mean(dominant)) if dominant else math.nan,
        "size_p50": float(pct[0]), "size_p90": float(pct[1]), "size_p99": float(pct[2]),
        "size_max": float(flat.max()) if len(flat) else math.nan,
        "over_200": int((flat > MAX_SIZE).sum()),
    }


def decile_table(rows: list[dict], title: str):
    """Rich table: one row per method, one column per activity decile (mean journeys per user)."""
    from rich.table import Table

    t = Table(title=title)
    t.add_column("method")
    for d in range(1, 11):
        t.add_column(f"d{d}", justify="right")
    for row in rows:
        t.add_row(row["method"], *(f"{v:.1f}" for v in row.get("journeys_by_decile", [])))
    return t
