"""Recommendation services (the CLI and the HTTP API call these).

`build_engine` reads what the store knows (catalogue, interest events, journeys with the user's
edits), embeds catalogue items whose vectors are not cached yet (so every item can be
recommended), and fits the recommender once; `recommend` and `recommend_all` use it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from journeys.config import Settings
from journeys.errors import NotFound
from journeys.progress import Progress, QuietProgress
from journeys.recommend import RECOMMENDERS, ItemSpace, Recommender, Steering, UserState
from journeys.store import Store, user_order
from journeys.types import Recommendation


@dataclass
class RecEngine:
    """A fitted recommender and the per-user state it needs."""

    recommender: Recommender
    space: ItemSpace
    seen: dict[str, np.ndarray]
    positives: dict[str, np.ndarray]  # interest item rows, oldest first
    journeys: dict[str, tuple]

    def users(self) -> list[str]:
        return sorted(set(self.seen) | set(self.journeys), key=user_order)

    def state(self, user_id: str) -> UserState:
        if user_id not in self.seen and user_id not in self.journeys:
            raise NotFound(f"no user '{user_id}' in the store")
        empty = np.zeros(0, dtype=np.int64)
        return UserState(user_id, self.journeys.get(user_id, ()), self.seen.get(user_id, empty),
                         self.positives.get(user_id, empty))


def recommender_options(settings: Settings) -> tuple[str, dict]:
    rec = getattr(settings, "recommend", None)
    if rec is None:
        return "journeys", {}
    return rec.recommender, rec.options()


def build_engine(store: Store, settings: Settings, progress: Progress | None = None,
                 recommender: Recommender | None = None, embedder=None) -> RecEngine:
    from scipy import sparse

    from journeys.embed import item_text
    from journeys.name import NAMERS
    from journeys.pipeline import Pipeline

    pipe = Pipeline(settings, store, embedder=embedder, namer=NAMERS.create("keywords"),
                    progress=progress or QuietProgress())
    items = store.items()
    ids = tuple(sorted(items))
    template = settings.embed.template
    vecs = pipe.embed_texts({i: item_text(items[i], template) for i in ids})
    dim = getattr(pipe.embedder, "dim", 0)
    space = ItemSpace(ids, tuple(items[i].title for i in ids),
                      np.stack([vecs[i] for i in ids]) if ids else np.zeros((0, dim), dtype=np.float32))
    index = space.index()
    seen: dict[str, set[int]] = {}
    pos: dict[str, dict[int, None]] = {}  # interest items in time order (first interest event)
    for e in sorted(store.events(), key=lambda e: (e.user_id, e.timestamp, e.item_id)):
        row = index.get(e.item_id)
        if row is None:
            continue
        seen.setdefault(e.user_id, set()).add(row)
        if pipe.is_interest(e):
            pos.setdefault(e.user_id, {}).setdefault(row, None)
    users = sorted(set(seen), key=user_order)
    r = [n for n, u in enumerate(users) for _ in pos.get(u, ())]
    c = [i for u in users for i in sorted(pos.get(u, ()))]
    x = sparse.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(users), len(ids)))
    all_journeys = store.journeys()
    by_user: dict[str, list] = {}
    for j in all_journeys:
        by_user.setdefault(j.user_id, []).append(j)
    if recommender is None:
        name, opts = recommender_options(settings)
        recommender = RECOMMENDERS.create(name, **opts)
    recommender.fit(space, x, all_journeys, embed=pipe.embedder.embed)
    arr = lambda s: np.array(sorted(s), dtype=np.int64)  # noqa: E731
    return RecEngine(recommender, space, {u: arr(s) for u, s in seen.items()},
                     {u: np.array(list(s), dtype=np.int64) for u, s in pos.items()},
                     {u: tuple(js) for u, js in by_user.items()})


def recommend(store: Store, user_id: str, settings: Settings, k: int = 20, journey: str | None = None,
              explore: bool = False, query: str | None = None, exclude_journey: str | list[str] | None = None,
              engine: RecEngine | None = None, progress: Progress | None = None) -> list[Recommendation]:
    """One user's recommendations, steered as asked (see journeys.recommend.Steering)."""
    engine = engine or build_engine(store, settings, progress)
    state = engine.state(user_id)
    if journey is not None and not any(j.journey_id == journey for j in state.journeys):
        raise NotFound(f"user '{user_id}' has no journey '{journey}'")
    excl = (exclude_journey,) if isinstance(exclude_journey, str) else tuple(exclude_journey or ())
    steer = Steering(journey=journey, explore=explore, query=query or None, exclude_journeys=excl)
    return engine.recommender.recommend(state, k, steer)


def recommend_all(store: Store, settings: Settings, k: int = 20, engine: RecEngine | None = None,
                  progress: Progress | None = None) -> Iterator[list[Recommendation]]:
    """Every user's plain recommendations, one list per user in user order."""
    progress = progress or QuietProgress()
    engine = engine or build_engine(store, settings, progress)
    users = engine.users()
    with progress.task(f"recommending for {len(users)} users", len(users)) as tick:
        for u in users:
            yield engine.recommender.recommend(engine.state(u), k, Steering())
            tick.advance()


def rec_record(r: Recommendation) -> dict:
    return {"user_id": r.user_id, "item_id": r.item_id, "rank": r.rank, "score": round(float(r.score), 6),
            "journey_id": r.journey_id, "reason": r.reason}
