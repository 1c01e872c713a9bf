"""Online updates: `add_events` stores new events and applies them to the affected users' journeys
at once, with the current fitted model (never relearned per event); `ingest` does it for a file."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from journeys.config import Settings
from journeys.ingest import IngestResult
from journeys.pipeline import Pipeline
from journeys.progress import Progress, QuietProgress
from journeys.store import Store, user_order
from journeys.types import Event, Item

_MODELS: dict[tuple, Pipeline] = {}


@dataclass
class AddResult:
    added: int  # events that were new to the store
    duplicates: int  # events the store already held
    rejected: list[dict] = field(default_factory=list)  # {"index", "reason"} per refused event
    users: list[str] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)  # journey ids that changed
    items_loaded: int = 0  # catalogue items this process made usable (text, vector) for the batch
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def online_pipeline(store: Store, settings: Settings, progress: Progress | None = None) -> Pipeline:
    """A pipeline holding the store's current fitted model (global fit and keyword model), kept
    per process so that a server or a benchmark applies event after event without reloading it.
    With no model yet (nothing discovered), the model is fitted from the store once."""
    from journeys.name import NAMERS

    pointer = store.get_artifact("model:current"), store.get_artifact("keywords:current")
    key = (str(getattr(store, "path", id(store))), repr(settings.model_dump(mode="json")), pointer)
    pipe = _MODELS.get(key)
    if pipe is not None:
        pipe.store = store
    if pipe is None:
        pipe = Pipeline(settings, store, namer=NAMERS.create("keywords"), progress=progress or QuietProgress())
        if not pipe.load_current():
            events = store.events()
            pipe.prepare(store.items(sorted({e.item_id for e in events})), events)
        if len(_MODELS) > 8:
            _MODELS.clear()
        _MODELS[key] = pipe
    return pipe


def add_events(store: Store, events: Sequence[Event], settings: Settings, items: Iterable[Item] = (),
               progress: Progress | None = None) -> AddResult:
    """Store a batch of events and update the affected journeys online. Events for items the
    catalogue does not hold (and that bring no item) are refused with a reason; the rest of the
    batch is kept."""
    from journeys.services.batch import partition_in_batch, stays_here
    from journeys.services.living import apply_online, needs_full

    t0 = time.perf_counter()
    items = list(items)
    if items:
        store.upsert_items(items)
    known = set(store.items(sorted({e.item_id for e in events})))
    rejected = [{"index": n, "reason": f"unknown item '{e.item_id}'"} for n, e in enumerate(events)
                if e.item_id not in known]
    valid = [e for e in events if e.item_id in known]
    fresh = store.insert_new_events(valid)
    pipe = online_pipeline(store, settings, progress)
    before = len(pipe.items_)
    by_user: dict[str, list[Event]] = {}
    for e in fresh:
        by_user.setdefault(e.user_id, []).append(e)
    affected: list[str] = []
    users = sorted(by_user, key=user_order)
    # users without usable online state are partitioned whole, on the configured executor
    whole = [(u, store.events(u)) for u in users if needs_full(pipe, store, u)] \
        if not stays_here(settings, len(users)) else []
    if whole:
        pipe.ensure_items({e.item_id for _, evs in whole for e in evs})
    parts = partition_in_batch(pipe, settings, whole)
    for user in users:
        affected += sorted(apply_online(pipe, store, user, by_user[user], parts.get(user)))
    return AddResult(len(fresh), len(valid) - len(fresh), rejected, sorted(by_user, key=user_order), affected,
                     len(pipe.items_) - before, round(time.perf_counter() - t0, 4))


def ingest(data: IngestResult, settings: Settings, store: Store, progress: Progress | None = None,
           quarantine_path: Path | None = None) -> AddResult:
    """`journeys ingest`: a file's events, applied online (bad rows quarantined as in discover)."""
    run_id = store.start_run({"settings": settings.model_dump(mode="json"), "ingest": data.stats.as_dict(),
                              "online": True})
    if quarantine_path is not None and len(data.quarantine):
        data.quarantine.write(quarantine_path)
    res = add_events(store, data.events, settings, data.items.values(), progress)
    store.finish_run(run_id, {**res.as_dict(), "affected": len(res.affected), "ingest": data.stats.as_dict()})
    return res
