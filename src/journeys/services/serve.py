"""Read-side service functions the HTTP API needs beyond core: who owns a journey, a user's
journeys as cards (with evidence titles), and a timeline of event density."""

from __future__ import annotations

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
    owner = entry["user_id"] if entry else store.journey_owner(journey_id)
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
