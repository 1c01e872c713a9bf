"""Rank: one score per journey, then the user's order (pinned first, hidden kept but last).

Plug-ins: `heuristic` (transparent: strength-weighted events, halved every `half_life_days` since
the last event, ongoing journeys x1.5), `size`, `recency`, and `learned`: a pointwise ridge
regression (scikit-learn) over `FEATURES` (including the journey's share of the user's latest events,
which tuning on held-out users showed to matter most beyond size), trained on a temporal split with a graded label
(log1p of how much the user engaged with the journey after the cut, services/after.py; chosen over
a binary logistic label on held-out users, docs/after-naming.md) and stored as a versioned artifact of plain arrays
(npz, no pickle). Until one is trained, `learned` scores with the heuristic and says so in
`Journey.score_source`.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from journeys.activity import UserActivity
from journeys.registry import Registry
from journeys.types import Journey

KIND_WEIGHTS = {"save": 3.0, "like": 3.0, "purchase": 3.0, "share": 2.0, "click": 1.5}  # others 1
FEATURES = ("log_size", "log_events", "log_weighted", "strong_share", "log_recency_days", "log_per_week",
            "log_span_days", "ongoing", "evergreen", "share_of_user", "llm_named",
            "share_last_5", "share_last_10", "share_last_20", "share_last_50", "log_last_7_days", "log_last_30_days")
RECENT_EVENTS, RECENT_DAYS = (5, 10, 20, 50), (7, 30)
ARTIFACT = "ranker"


def features(j: Journey, act: UserActivity) -> np.ndarray:
    evs = act.journey_events(j)
    weighted = sum(KIND_WEIGHTS.get(e.kind, 1.0) for e in evs)
    strong = sum(1 for e in evs if KIND_WEIGHTS.get(e.kind, 1.0) >= 3.0)
    last = evs[-1].timestamp if evs else j.last_seen
    span = (evs[-1].timestamp - evs[0].timestamp).total_seconds() / 86400.0 if evs else 0.0
    upto = [e for e in act.events if e.timestamp <= act.now]
    n_user, items = len(upto), set(j.item_ids)
    # recent focus: the journey's share of the user's last k events, its events in the last days
    recent = [sum(e.item_id in items for e in upto[-k:]) / max(len(upto[-k:]), 1) for k in RECENT_EVENTS]
    recent += [math.log1p(sum(1 for e in evs if act.days_before_now(e.timestamp) <= d)) for d in RECENT_DAYS]
    return np.array([
        math.log1p(len(j.item_ids)), math.log1p(len(evs)), math.log1p(weighted), strong / max(len(evs), 1),
        math.log1p(act.days_before_now(last)), math.log1p(7.0 * len(evs) / max(span, 1.0)), math.log1p(span),
        float(j.stage_activity == "ongoing"), float(j.stage_kind == "evergreen"), len(evs) / max(n_user, 1),
        float(j.name_source.startswith("llm")), *recent,
    ], dtype=np.float64)


def order(journeys: Sequence[Journey]) -> list[Journey]:
    """Pinned first, hidden last, by score in between (ties: older first, then id)."""
    return sorted(journeys, key=lambda j: (not j.pinned, j.hidden, -j.score, j.first_seen, j.journey_id))


@runtime_checkable
class Ranker(Protocol):
    name: str

    def rank(self, journeys: Sequence[Journey], activity: UserActivity) -> list[Journey]: ...


RANKERS: Registry[Ranker] = Registry("ranker")


class _Pointwise:
    name = ""
    source = ""

    def scores(self, journeys: Sequence[Journey], act: UserActivity) -> list[float]:
        raise NotImplementedError

    def rank(self, journeys: Sequence[Journey], activity: UserActivity) -> list[Journey]:
        scored = self.scores(journeys, activity) if journeys else []
        return order([dataclasses.replace(j, score=round(float(s), 6), score_source=self.source)
                      for j, s in zip(journeys, scored)])


@RANKERS.register("heuristic")
class HeuristicRanker(_Pointwise):
    name = source = "heuristic"

    def __init__(self, half_life_days: float = 90.0, ongoing_boost: float = 1.5, **_: object):
        self.half_life_days = half_life_days
        self.ongoing_boost = ongoing_boost

    def scores(self, journeys, act):
        out = []
        for j in journeys:
            evs = act.journey_events(j)
            weighted = sum(KIND_WEIGHTS.get(e.kind, 1.0) for e in evs)
            days = act.days_before_now(evs[-1].timestamp if evs else j.last_seen)
            boost = self.ongoing_boost if j.stage_activity == "ongoing" else 1.0
            out.append(weighted * 0.5 ** (days / self.half_life_days) * boost)
        return out


@RANKERS.register("size")
class SizeRanker(_Pointwise):
    name = source = "size"

    def __init__(self, **_: object):
        pass

    def scores(self, journeys, act):
        return [float(len(j.item_ids)) for j in journeys]


@RANKERS.register("recency")
class RecencyRanker(_Pointwise):
    name = source = "recency"

    def __init__(self, **_: object):
        pass

    def scores(self, journeys, act):
        out = []
        for j in journeys:
            evs = act.journey_events(j)
            out.append(1.0 / (1.0 + act.days_before_now(evs[-1].timestamp if evs else j.last_seen)))
        return out


@RANKERS.register("learned")
class LearnedRanker(_Pointwise):
    """Ridge regression of the graded label on standardised `FEATURES`; score = exp(prediction). `store`: loads the latest trained version
    (artifacts `ranker:v<N>`, pointer `ranker:latest`); none trained -> the heuristic."""

    name = "learned"

    def __init__(self, store=None, alpha: float = 1.0, seed: int = 0, **heuristic: object):
        self.alpha = alpha
        self.seed = seed
        self.fallback = HeuristicRanker(**heuristic)
        self.coef_: np.ndarray | None = None
        self.intercept_ = 0.0
        self.mean_ = self.scale_ = None
        self.version_ = 0
        if store is not None:
            self.load(store)

    @property
    def source(self) -> str:
        return f"ranker:v{self.version_}" if self.coef_ is not None else "heuristic"

    @property
    def trained(self) -> bool:
        return self.coef_ is not None

    def fit(self, X: np.ndarray, y: np.ndarray) -> "LearnedRanker":
        """`y`: graded (e.g. log1p of later engagement) or 0/1."""
        from sklearn.linear_model import Ridge

        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        model = Ridge(alpha=self.alpha, random_state=self.seed)
        model.fit((X - self.mean_) / self.scale_, np.asarray(y, dtype=np.float64))
        self.coef_, self.intercept_ = np.asarray(model.coef_, dtype=np.float64).copy(), float(model.intercept_)
        return self

    def decision(self, X: np.ndarray) -> np.ndarray:
        z = ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        return np.exp(np.clip(z, -30.0, 30.0))  # positive and monotone, so the 0.95 penalty still demotes

    def scores(self, journeys, act):
        if not self.trained:
            return self.fallback.scores(journeys, act)
        return self.decision(np.stack([features(j, act) for j in journeys])).tolist()

    # -- the artifact: plain arrays, versioned -------------------------------------------------
    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, coef=self.coef_, intercept=np.array([self.intercept_]), mean=self.mean_,
                 scale=self.scale_, features=np.array(FEATURES), version=np.array([self.version_]))
        return buf.getvalue()

    def from_bytes(self, blob: bytes) -> "LearnedRanker":
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            if tuple(z["features"].tolist()) != FEATURES:
                return self  # trained on other features: stay untrained rather than mis-score
            self.coef_, self.intercept_ = z["coef"], float(z["intercept"][0])
            self.mean_, self.scale_, self.version_ = z["mean"], z["scale"], int(z["version"][0])
        return self

    def save(self, store) -> int:
        latest = store.get_artifact(f"{ARTIFACT}:latest")
        self.version_ = int(latest.decode()) + 1 if latest else 1
        store.put_artifact(f"{ARTIFACT}:v{self.version_}", self.to_bytes())
        store.put_artifact(f"{ARTIFACT}:latest", str(self.version_).encode())
        return self.version_

    def load(self, store) -> "LearnedRanker":
        latest = store.get_artifact(f"{ARTIFACT}:latest") if hasattr(store, "get_artifact") else None
        blob = store.get_artifact(f"{ARTIFACT}:v{int(latest.decode())}") if latest else None
        return self.from_bytes(blob) if blob else self
