"""The service functions that the CLI and the HTTP API both call."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from journeys.config import Settings
from journeys.errors import ConfigError, NotFound
from journeys.ingest import IngestResult
from journeys.pipeline import Pipeline
from journeys.progress import Progress, QuietProgress
from journeys.store import Store, user_order
from journeys.types import Journey


@dataclass
class DiscoverSummary:
    run_id: int
    ingest: dict
    not_interest: int
    users: int
    journeys: int
    users_changed: int
    unassigned_items: int
    items_embedded: int
    quarantine_file: str | None
    seconds: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def check_discover(settings: Settings, quarantine_path: Path | None = None) -> None:
    """Raise ConfigError for an unknown plug-in name or an unwritable quarantine path: checked
    before anything is read or written, so a bad option never leaves a half-done run."""
    from journeys.embed import EMBEDDERS
    from journeys.extract import CLUSTERERS
    from journeys.name import NAMERS
    from journeys.paths import check_writable

    for registry, name in ((CLUSTERERS, settings.extract.method), (NAMERS, settings.name.namer),
                           (EMBEDDERS, settings.embed.model)):
        if name not in registry:
            raise ConfigError(f"unknown {registry.kind} '{name}'; choose one of: {', '.join(registry.names())}")
    try:  # the settings are stored with the run as JSON, which has no NaN or infinity
        json.dumps(settings.model_dump(mode="json"), allow_nan=False)
    except ValueError:
        raise ConfigError("a setting is not a finite number (NaN or infinity)") from None
    if quarantine_path is not None:
        check_writable(quarantine_path, "--quarantine")


def discover(
    data: IngestResult,
    settings: Settings,
    store: Store,
    progress: Progress | None = None,
    quarantine_path: Path | None = None,
    users: Sequence[str] | None = None,
    pipeline: Pipeline | None = None,
    load_seconds: float | None = None,
) -> DiscoverSummary:
    """Store the input, find every (or the given) user's journeys, and store them."""
    progress = progress or QuietProgress()
    secs: dict[str, float] = {} if load_seconds is None else {"load": load_seconds}
    t0 = time.perf_counter()
    if pipeline is None:
        check_discover(settings, quarantine_path if len(data.quarantine) else None)
    elif quarantine_path is not None and len(data.quarantine):
        check_discover(settings, quarantine_path)
    pipe = pipeline or Pipeline(settings, store, progress=progress)  # bad options fail before any write
    run_id = store.start_run({"settings": settings.model_dump(mode="json"), "ingest": data.stats.as_dict()})
    store.upsert_items(data.items.values())
    store.add_events(data.events)
    if quarantine_path is not None and len(data.quarantine):
        data.quarantine.write(quarantine_path)
    secs["store_input"] = time.perf_counter() - t0

    t = time.perf_counter()
    pipe.prepare(data.items, data.events)
    secs["embed_and_prepare"] = time.perf_counter() - t

    t = time.perf_counter()
    by_user: dict[str, list] = {}
    for e in data.events:
        by_user.setdefault(e.user_id, []).append(e)
    wanted = sorted(by_user, key=user_order) if users is None else [u for u in users if u in by_user]
    n_j = changed = unassigned = 0
    with progress.task(f"finding journeys for {len(wanted)} users", len(wanted)) as tick:
        for user in wanted:
            res = pipe.run_user(user, by_user[user])
            changed += store.replace_journeys(user, res.journeys, res.unassigned)
            n_j += len(res.journeys)
            unassigned += len(res.unassigned)
            tick.advance()
    secs["extract_and_name"] = time.perf_counter() - t
    secs["total"] = time.perf_counter() - t0 + secs.get("load", 0.0)
    summary = DiscoverSummary(
        run_id=run_id,
        ingest=data.stats.as_dict(),
        not_interest=sum(1 for e in data.events if not pipe.is_interest(e)),
        users=len(wanted),
        journeys=n_j,
        users_changed=changed,
        unassigned_items=unassigned,
        items_embedded=pipe.embedded_,
        quarantine_file=str(quarantine_path) if quarantine_path is not None and len(data.quarantine) else None,
        seconds={k: round(v, 3) for k, v in secs.items()},
    )
    store.finish_run(run_id, summary.as_dict())
    return summary


def list_users(store: Store) -> list[dict]:
    return store.users()


def user_journeys(store: Store, user_id: str) -> list[Journey]:
    journeys = store.journeys(user_id)
    if not journeys and not any(u["user_id"] == user_id for u in store.users()):
        raise NotFound(f"no user '{user_id}' in the store")
    return journeys


def journey_record(j: Journey, titles: dict[str, str] | None = None) -> dict:
    rec = {
        "journey_id": j.journey_id,
        "user_id": j.user_id,
        "name": j.name,
        "name_source": j.name_source,
        "keywords": list(j.keywords),
        "item_ids": list(j.item_ids),
        "evidence": list(j.evidence),
        "size": len(j.item_ids),
        "n_events": j.n_events,
        "first_seen": j.first_seen.isoformat(),
        "last_seen": j.last_seen.isoformat(),
        "score": j.score,
        "score_source": j.score_source,
        "stage": j.stage,
        "stage_activity": j.stage_activity,
        "stage_kind": j.stage_kind,
        "parent_id": j.parent_id,
        "hidden": j.hidden,
        "pinned": j.pinned,
        "related": list(j.related),
    }
    if titles is not None:
        rec["titles"] = [titles.get(i, i) for i in j.item_ids]
    return rec
