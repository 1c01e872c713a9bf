"""Extraction metrics for one user, and their average over users (BENCHMARKS.md section 1).

For one user, `truth` maps each item to its collection key (None: a noise item that belongs to no
journey) and `pred` maps each item to a predicted journey label (-1: unassigned). Both describe the
same items.

- recall (ALLY): for each true collection, the largest share of its items one predicted journey
  holds; mean over the user's collections.
- purity: share of clustered items (label != -1) whose journey's majority collection is their own;
  noise items are never pure. NaN when nothing was clustered (averaged with nanmean).
- ARI and NMI (scikit-learn) over all the user's items, where each true noise item and each
  unassigned item is its own singleton (so "collections as journeys, noise unassigned" scores 1).
- count_error: |predicted journeys - true journeys|.
- noise_absorbed: share of the user's noise items put into some journey (NaN with no noise).
- granularity: journeys per user, journey length, share of users with 1-3 journeys, unassigned share.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

NOISE = -1


def _check(truth: Mapping[str, str | None], pred: Mapping[str, int]) -> list[str]:
    if set(truth) != set(pred):
        missing = set(truth) ^ set(pred)
        raise ValueError(f"truth and pred describe different items: {sorted(missing)[:5]}")
    return sorted(truth)


def _groups(pred: Mapping[str, int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for item, lab in pred.items():
        if lab != NOISE:
            out.setdefault(int(lab), []).append(item)
    return out


def recall(truth: Mapping[str, str | None], pred: Mapping[str, int]) -> float:
    _check(truth, pred)
    colls: dict[str, list[str]] = {}
    for item, c in truth.items():
        if c is not None:
            colls.setdefault(c, []).append(item)
    if not colls:
        return math.nan
    scores = []
    for members in colls.values():
        counts = Counter(pred[i] for i in members if pred[i] != NOISE)
        scores.append(max(counts.values(), default=0) / len(members))
    return float(np.mean(scores))


def purity(truth: Mapping[str, str | None], pred: Mapping[str, int]) -> float:
    _check(truth, pred)
    groups = _groups(pred)
    clustered = sum(len(g) for g in groups.values())
    if not clustered:
        return math.nan
    pure = 0
    for members in groups.values():
        counts = Counter(truth[i] for i in members if truth[i] is not None)
        if counts:
            pure += max(counts.values())  # a tie gives the same count whichever wins
    return pure / clustered


def _singletons(labels: Iterable[object], is_noise) -> list[str]:
    return [f"_noise{n}" if is_noise(lab) else f"L{lab}" for n, lab in enumerate(labels)]


def ari_nmi(truth: Mapping[str, str | None], pred: Mapping[str, int]) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    items = _check(truth, pred)
    t = _singletons((truth[i] for i in items), lambda x: x is None)
    p = _singletons((pred[i] for i in items), lambda x: x == NOISE)
    return float(adjusted_rand_score(t, p)), float(normalized_mutual_info_score(t, p))


def user_metrics(truth: Mapping[str, str | None], pred: Mapping[str, int]) -> dict[str, float]:
    """Every per-user metric for one user."""
    ari, nmi = ari_nmi(truth, pred)
    groups = _groups(pred)
    n_true = len({c for c in truth.values() if c is not None})
    noise_items = [i for i, c in truth.items() if c is None]
    absorbed = (
        sum(pred[i] != NOISE for i in noise_items) / len(noise_items) if noise_items else math.nan
    )
    return {
        "recall": recall(truth, pred),
        "purity": purity(truth, pred),
        "ari": ari,
        "nmi": nmi,
        "count_error": float(abs(len(groups) - n_true)),
        "noise_absorbed": absorbed,
        **_granularity_one(pred),
    }


def _granularity_one(pred: Mapping[str, int]) -> dict[str, float]:
    groups = _groups(pred)
    n = len(pred)
    return {
        "journeys": float(len(groups)),
        "unassigned": (sum(lab == NOISE for lab in pred.values()) / n) if n else math.nan,
    }


def granularity(preds: Iterable[Mapping[str, int]]) -> dict[str, float]:
    """Journeys per user, mean journey length (over all journeys), share of users with 1-3
    journeys, and the mean share of a user's items left unassigned."""
    per_user, lengths, unassigned = [], [], []
    for pred in preds:
        groups = _groups(pred)
        per_user.append(len(groups))
        lengths.extend(len(g) for g in groups.values())
        if pred:
            unassigned.append(sum(lab == NOISE for lab in pred.values()) / len(pred))
    if not per_user:
        return {"journeys_per_user": math.nan, "mean_length": math.nan, "share_1_3": math.nan,
                "unassigned": math.nan}
    return {
        "journeys_per_user": float(np.mean(per_user)),
        "mean_length": float(np.mean(lengths)) if lengths else 0.0,
        "share_1_3": float(np.mean([1 <= k <= 3 for k in per_user])),
        "unassigned": float(np.mean(unassigned)) if unassigned else math.nan,
    }


def summarize(
    truths: Mapping[str, Mapping[str, str | None]], preds: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Average the per-user metrics over users (NaNs skipped) and add granularity."""
    users = list(truths)
    rows = [user_metrics(truths[u], preds[u]) for u in users]
    out: dict[str, float] = {}
    for key in ("recall", "purity", "ari", "nmi", "count_error", "noise_absorbed"):
        vals = np.array([r[key] for r in rows], dtype=float)
        out[key] = float(np.nanmean(vals)) if np.isfinite(vals).any() else math.nan
    out.update(granularity(preds[u] for u in users))
    return out
