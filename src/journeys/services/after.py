"""Service functions after naming: train the ranker from the store; describe how scores were made."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from journeys.activity import UserActivity
from journeys.config import Settings
from journeys.errors import JourneysError
from journeys.rank import FEATURES, LearnedRanker, features
from journeys.stage import STAGERS
from journeys.types import Event, Journey


def cut_time(events: Sequence[Event], share: float = 0.8):
    """The time of the first event after the first `share` of a user's (time-ordered) events."""
    evs = sorted(events, key=lambda e: (e.timestamp, e.item_id))
    k = int(len(evs) * share)
    return evs[k].timestamp if 0 < k < len(evs) else None


def training_rows(journeys: Sequence[Journey], events: Sequence[Event], stager, share: float = 0.8):
    """Features of each journey as it stood at the user's cut, and whether the user engaged with
    it after the cut (an event on one of its items). Journeys with nothing before the cut are skipped."""
    cut = cut_time(events, share)
    if cut is None or not journeys:
        return [], []
    before = [e for e in events if e.timestamp < cut]
    after = {e.item_id for e in events if e.timestamp >= cut}
    act = UserActivity.of(journeys[0].user_id, before, cut)
    seen = {e.item_id for e in before}
    kept = [j for j in journeys if seen.intersection(j.item_ids)]
    staged = stager.stage(kept, act)
    X = [features(j, act) for j in staged]
    y = [int(bool(after.intersection(j.item_ids))) for j in staged]
    return X, y


def train_ranker(store, settings: Settings, share: float = 0.8) -> dict:
    """Fit the learned ranker on every user's stored journeys (temporal split at `share` of each
    user's interest events) and save it as the next version of the `ranker` artifact."""
    s = settings.after
    stager = STAGERS.create(s.stager, **s.options(s.stager))
    min_rating = settings.ingest.min_rating  # as Pipeline.is_interest

    def is_interest(e: Event) -> bool:
        return not (e.kind == "rate" and e.weight < min_rating)

    by_user: dict[str, list[Journey]] = {}
    for j in store.journeys():
        by_user.setdefault(j.user_id, []).append(j)
    X, y = [], []
    for user, js in sorted(by_user.items()):
        rows, labels = training_rows(js, [e for e in store.events(user) if is_interest(e)], stager, share)
        X += rows
        y += labels
    if len(set(y)) < 2:
        raise JourneysError(f"cannot train the ranker: {len(y)} journeys with labels {sorted(set(y))} "
                            "(need journeys engaged and not engaged after the cut)")
    ranker = LearnedRanker(**s.options("learned")).fit(np.stack(X), np.array(y))
    version = ranker.save(store)
    return {"version": version, "journeys": len(y), "positive": int(sum(y)), "users": len(by_user),
            "cut": share, "coefficients": dict(zip(FEATURES, np.round(ranker.coef_, 3).tolist()))}


def score_note(journeys: Sequence[Journey]) -> str:
    sources = sorted({j.score_source for j in journeys if j.score_source})
    if sources == ["heuristic"]:
        return ("scores: heuristic (strength-weighted events, halved every 90 days, ongoing x1.5); "
                "no trained ranker yet: journeys rank train")
    return f"scores: {', '.join(sources) or 'size'}"
