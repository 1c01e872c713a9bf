"""Journey-aware, steerable recommendations (plug-ins by name from `RECOMMENDERS`).

For one user, every active journey (not hidden, not excluded; pinned first, then in rank order)
scores the catalogue in two ways: collaboratively, by what its own items say (the journey's share
of a linear item-item scorer such as EASE: co-occurrence neighbours of its items), and by text,
the cosine between the journey's centroid and the item. Each unseen item is attributed to the
journey that scores it highest. The journeys then share the k slots in a calibrated way: quotas
proportional to each journey's size, decayed by rank (so higher-ranked journeys get more), at
least one for every journey that has candidates; `calibration` says how strictly quotas bind
(0: best items first whatever their journey). Each recommendation carries its journey and a
reason naming the journey and the item of it that speaks most for the recommendation.

Steering (`Steering`): `journey` gives every slot to one journey, items nearer it than the
user's other journeys first; `explore` recommends from the user's expansions (`Journey.related`
names, embedded) or, where there are none, from neighbouring journeys of other users; `query`
is embedded and boosts the journeys and items it matches, or, matching no journey, becomes a new
search-driven journey; `exclude_journey` drops journeys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from journeys.recommend_models import SCORERS
from journeys.registry import Registry
from journeys.types import Journey, Recommendation


@dataclass(frozen=True)
class ItemSpace:
    """The catalogue: ids, titles and unit text vectors, rows aligned."""

    item_ids: tuple[str, ...]
    titles: tuple[str, ...]
    vectors: np.ndarray = field(repr=False)  # (n, d) float32, unit rows

    def index(self) -> dict[str, int]:
        return {item: n for n, item in enumerate(self.item_ids)}


@dataclass(frozen=True)
class Steering:
    journey: str | None = None
    explore: bool = False
    query: str | None = None
    exclude_journeys: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserState:
    """What the recommender knows of one user: journeys in rank order and item rows."""

    user_id: str
    journeys: tuple[Journey, ...]
    seen: np.ndarray  # item rows never to recommend
    positives: np.ndarray  # item rows of interest, oldest first (the collaborative profile)


class Recommender:
    """Protocol-like base: fit on the catalogue and everybody's interest, then recommend."""

    name: str

    def fit(self, space: ItemSpace, interactions, journeys: Sequence[Journey] = (),
            embed: Callable[[list[str]], np.ndarray] | None = None) -> "Recommender": ...

    def recommend(self, user: UserState, k: int = 20, steering: Steering = Steering()) -> list[Recommendation]: ...


RECOMMENDERS: Registry[Recommender] = Registry("recommender")


def search_journey_id(user_id: str, query: str) -> str:
    return "q_" + hashlib.sha1(f"{user_id}\x1f{' '.join(query.lower().split())}".encode()).hexdigest()[:16]


def provisional_journey_id(user_id: str) -> str:
    return "p_" + hashlib.sha1(user_id.encode()).hexdigest()[:16]


def slot_quotas(weights: np.ndarray, k: int) -> np.ndarray:
    """Largest-remainder quotas summing to min(k, ...) with at least one slot per journey while
    slots last (the first journeys win when there are more journeys than slots); weights are made
    non-increasing, so a journey never gets more slots than one ranked above it."""
    m = len(weights)
    if m == 0 or k <= 0:
        return np.zeros(m, dtype=np.int64)
    w = np.minimum.accumulate(np.maximum(np.asarray(weights, dtype=np.float64), 1e-12))
    q = np.zeros(m, dtype=np.int64)
    base = min(m, k)
    q[:base] = 1
    rest = k - base
    if rest > 0:
        share = w / w.sum() * k - q
        share = np.maximum(share, 0.0)
        if share.sum() > 0:
            share = share / share.sum() * rest
            add = np.floor(share).astype(np.int64)
            left = rest - int(add.sum())
            order = np.lexsort((np.arange(m), -(share - add)))
            add[order[:left]] += 1
            q += add
    return q


def _unit_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n == 0, 1.0, n)


def active_journeys(journeys: Sequence[Journey], exclude: Sequence[str] = ()) -> list[Journey]:
    """Visible, not excluded; pinned first, otherwise in the given (rank) order."""
    keep = [j for j in journeys if not j.hidden and j.journey_id not in set(exclude)]
    return sorted(keep, key=lambda j: not j.pinned)  # stable: rank order within each group


from journeys import recommend_journeys  # noqa: E402,F401  (registers the plug-ins)

__all__ = ["ItemSpace", "RECOMMENDERS", "Recommender", "Steering", "UserState", "active_journeys",
           "provisional_journey_id", "search_journey_id", "slot_quotas", "SCORERS"]
