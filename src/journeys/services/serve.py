"""Read-side service functions the HTTP API needs beyond core: who owns a journey, a user's
journeys as cards (with evidence titles), and a timeline of event density."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from datetime import datetime

from journeys.errors import NotFound
from journeys.services.core import journey_record, user_journeys
from journeys.store import Store
from journeys.types import Journey

TIMELINE_BINS = 48


def journey_owner(store: Store, journey_id: str) -> str:
    """The user whose journey this is; NotFound names the id."""
    entry = store.registry_entry(journey_id) if hasattr(store, "registry_entry") else None
    if entry:
        owner = entry["user_id"]
    elif hasattr(store, "journey_owner"):
        owner = store.journey_owner(journey_id)
    else:  # a backend without the lookup: scan (slow, but right)
        owner = next((j.user_id for j in store.journeys() if j.journey_id == journey_id), None)
    if owner is None:
        raise NotFound(f"no journey '{journey_id}'")
    return owner


def _card(j: Journey, titles: dict[str, str]) -> dict:
    rec = journey_record(j)
    rec["evidence_titles"] = [titles.get(i, i) for i in j.evidence]
    return rec


def journey_cards(store: Store, user_id: str, include_hidden: bool = False) -> list[dict]:
    """A user's journeys in rank order as records, with titles for the evidence items."""
    journeys = [j for j in user_journeys(store, user_id) if include_hidden or not j.hidden]
    items = store.items(sorted({i for j in journeys for i in j.evidence}))
    titles = {k: v.title for k, v in items.items()}
    return [_card(j, titles) for j in journeys]


def store_version(store: Store):
    """A token that changes whenever the store's contents may have changed (None: unknown, do not
    cache). For SQLite: this connection's view of commits by any connection, and its own writes."""
    fn = getattr(store, "data_version", None)
    return fn() if fn is not None else None


def timeline(store: Store, user_id: str, bins: int = TIMELINE_BINS) -> dict:
    """Event density over time: one row per journey (hidden ones left out), `bins` equal spans
    from the user's first to last event; an event counts for the journey that holds its item."""
    journeys = [j for j in user_journeys(store, user_id) if not j.hidden]
    events = store.events(user_id)
    if not events:
        return {"user_id": user_id, "start": None, "end": None, "bins": bins, "rows": []}
    start, end = events[0].timestamp, events[-1].timestamp
    span = max((end - start).total_seconds(), 1.0)
    edges = [start.timestamp() + span * k / bins for k in range(1, bins)]
    where = {i: n for n, j in enumerate(journeys) for i in j.item_ids}
    counts = [[0] * bins for _ in journeys]
    for e in events:
        n = where.get(e.item_id)
        if n is not None:
            counts[n][bisect_right(edges, e.timestamp.timestamp())] += 1
    return {"user_id": user_id, "start": _iso(start), "end": _iso(end), "bins": bins,
            "rows": [{"journey_id": j.journey_id, "name": j.name, "counts": c} for j, c in zip(journeys, counts)]}


def _iso(dt: datetime) -> str:
    return dt.isoformat()


class RecCache:
    """The fitted recommender a server keeps between requests. It is built on the first request
    and rebuilt in the background once older than `max_age` seconds (or at once after
    `invalidate`, e.g. when a user is forgotten); each request still reads the user's current
    journeys and events from the store, so edits and new events show at once."""

    def __init__(self, max_age: float = 600.0):
        self.max_age = max_age
        self._engine = None
        self._built = 0.0
        self._lock = threading.Lock()
        self._rebuilding = False

    def invalidate(self) -> None:
        with self._lock:
            self._engine = None

    def engine(self, store: Store, settings, open_store=None):
        from journeys.services.recommend import build_engine

        with self._lock:
            if self._engine is None:
                self._engine, self._built = build_engine(store, settings), time.monotonic()
            elif time.monotonic() - self._built > self.max_age and not self._rebuilding and open_store:
                self._rebuilding = True
                threading.Thread(target=self._rebuild, args=(open_store, settings), daemon=True).start()
            return self._engine

    def _rebuild(self, open_store, settings) -> None:
        from journeys.services.recommend import build_engine

        try:
            with open_store() as store:
                engine = build_engine(store, settings)
            with self._lock:
                self._engine, self._built = engine, time.monotonic()
        finally:
            self._rebuilding = False


def recommendations(store: Store, settings, cache: RecCache, user_id: str, k: int = 20, journey: str | None = None,
                    explore: bool = False, query: str | None = None, exclude_journey: str | None = None,
                    open_store=None) -> list[dict]:
    """A user's steered recommendations as records with titles and the journey's name, from the
    cached recommender and the user's current journeys and events."""
    import numpy as np

    from journeys.services.recommend import RecEngine, rec_record, recommend

    engine = cache.engine(store, settings, open_store)
    journeys = tuple(j for j in store.journeys(user_id))
    index = engine.space.index()
    rows = {index[e.item_id] for e in store.events(user_id) if e.item_id in index}
    empty = np.zeros(0, dtype=np.int64)
    seen = np.array(sorted(rows | set(engine.seen.get(user_id, empty).tolist())), dtype=np.int64)
    if not journeys and not len(seen):
        raise NotFound(f"no user '{user_id}' in the store")
    view = RecEngine(engine.recommender, engine.space, {user_id: seen},
                     {user_id: engine.positives.get(user_id, empty)}, {user_id: journeys})
    recs = recommend(store, user_id, settings, k, journey=journey, explore=explore, query=query,
                     exclude_journey=exclude_journey, engine=view)
    names = {j.journey_id: j.name for j in journeys}
    titles = engine.space.titles
    out = []
    for r in recs:
        rec = rec_record(r)
        row = index.get(r.item_id)
        rec["title"] = titles[row] if row is not None else r.item_id
        rec["journey_name"] = names.get(r.journey_id, "")
        out.append(rec)
    return out
