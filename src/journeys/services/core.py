"""The service functions that the CLI and the HTTP API both call."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from journeys.after import finish_users
from journeys.batch.columns import EventColumns, UserColumns, UserEvents
from journeys.config import Settings
from journeys.errors import ConfigError, NotFound
from journeys.ingest import IngestResult
from journeys.pipeline import Pipeline
from journeys.progress import Progress, QuietProgress
from journeys.services.batch import compute_users, open_executor, stays_here, warm_up
from journeys.store import Store, user_order
from journeys.threads import blas_threads
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
    data: IngestResult | Callable[[], IngestResult],
    settings: Settings,
    store: Store,
    progress: Progress | None = None,
    quarantine_path: Path | None = None,
    users: Sequence[str] | None = None,
    pipeline: Pipeline | None = None,
    load_seconds: float | None = None,
    fingerprint: str | None = None,
) -> DiscoverSummary:
    """Add the input to the store (deduplicated against what it holds) and recompute the journeys
    of every user whose inputs changed, from all their stored events: the store is the truth, the
    input file only adds to it. With the input's `fingerprint` (journeys.ingest.source), the store
    remembers that it holds this input whole, and `stored_input` answers the next run with the
    same fingerprint without reading it. `data` may be a function that reads the input: a local
    executor of several workers then starts its processes first, so that they start up while
    this process reads (`journeys.services.inputs` passes one for bundled datasets and large files)."""
    with contextlib.ExitStack() as stack:
        ex = None
        if callable(data):
            b = settings.batch
            if b.executor == "local" and b.workers > 1:
                ex = stack.enter_context(open_executor(settings))
                warm_up(ex, settings)
            t = time.perf_counter()
            data = data()
            load_seconds = (load_seconds or 0.0) + time.perf_counter() - t
        return _discover(data, settings, store, progress, quarantine_path, users, pipeline, load_seconds,
                         fingerprint, ex)


def _discover(data: IngestResult, settings: Settings, store: Store, progress, quarantine_path, users, pipeline,
              load_seconds, fingerprint, ex) -> DiscoverSummary:
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
    if fingerprint is not None and not data.unchanged:
        store.put_artifact(fingerprint, json.dumps({"stats": data.stats.as_dict()}).encode())
    secs["store_input"] = time.perf_counter() - t0
    summary = recompute(store, settings, progress, users=users, pipeline=pipe, secs=secs, run_id=run_id,
                        ingest={**data.stats.as_dict(), **({"unchanged_input": True} if data.unchanged else {})},
                        quarantine_file=str(quarantine_path) if quarantine_path is not None and len(data.quarantine) else None,
                        executor=ex)
    summary.seconds["total"] = round(time.perf_counter() - t0 + secs.get("load", 0.0), 3)
    store.finish_run(run_id, summary.as_dict())
    return summary


def stored_input(store: Store, fingerprint: str) -> IngestResult | None:
    """The input of this fingerprint as an earlier `discover` stored it whole: no events or items
    to add (they are in the store), its load's counts, `unchanged` set; None when the store does
    not hold it (never stored, or forgotten since)."""
    from journeys.ingest import IngestStats, Quarantine

    raw = store.get_artifact(fingerprint)
    if raw is None:
        return None
    try:
        stats = IngestStats.from_dict(json.loads(raw)["stats"])
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable note: read the input again
    return IngestResult([], {}, stats, Quarantine(), unchanged=True)


def refresh(store: Store, settings: Settings, progress: Progress | None = None,
            users: Sequence[str] | None = None, pipeline: Pipeline | None = None) -> DiscoverSummary:
    """The costly part of incremental updates: refit the global model on everything stored and
    recompute the given users (all when None) with the full clusterer (merge, refine). The result
    equals a full run's."""
    t0 = time.perf_counter()
    known = set(store.user_ids())
    missing = [u for u in users or () if u not in known]
    if missing:  # checked before the run starts, so a typo leaves no unfinished run
        raise NotFound(f"no user '{missing[0]}' in the store")
    if pipeline is None:
        check_discover(settings)
    pipe = pipeline or Pipeline(settings, store, progress=progress)
    run_id = store.start_run({"settings": settings.model_dump(mode="json"), "refresh": list(users or [])})
    summary = recompute(store, settings, progress, users=users, pipeline=pipe, secs={}, run_id=run_id,
                        ingest={}, quarantine_file=None, force=True)
    summary.seconds["total"] = round(time.perf_counter() - t0, 3)
    store.finish_run(run_id, summary.as_dict())
    return summary


def _config_digest(settings: Settings, model_version: str) -> str:
    conf = settings.model_dump(mode="json")
    conf.pop("db", None)
    conf.pop("batch", None)  # where the work runs does not change its results (tests/services/test_batch_discover.py)
    return hashlib.sha256(json.dumps([conf, model_version], sort_keys=True, default=str).encode()).hexdigest()


def _input_digest(config: str, events: EventColumns) -> str:
    """A digest of the settings' digest and one user's events (in any order): the events sorted
    by time, item, kind, weight and query, each as the repr of (item, seconds since the epoch,
    kind, weight, query)."""
    h = hashlib.sha256(config.encode())
    for micros, item, kind, weight, query in events.sorted_rows():
        h.update(repr((item, micros / 1_000_000, kind, weight, query)).encode())
    return h.hexdigest()


def recompute(store: Store, settings: Settings, progress: Progress | None = None, *,
              users: Sequence[str] | None = None, pipeline: Pipeline | None = None, secs: dict,
              run_id: int, ingest: dict, quarantine_file: str | None, force: bool = False,
              executor=None) -> DiscoverSummary:
    """Recompute journeys from what the store holds: refit the global model (a versioned artifact,
    reused when nothing changed), then every user whose inputs (their events, the settings, the
    model version) changed since their journeys were computed, or the given users when `force`.
    `executor`: one already started (by `discover`), used instead of opening one."""
    with contextlib.ExitStack() as stack:
        return _recompute(stack, store, settings, progress, users=users, pipeline=pipeline, secs=secs,
                          run_id=run_id, ingest=ingest, quarantine_file=quarantine_file, force=force, ex=executor)


def _recompute(stack: contextlib.ExitStack, store: Store, settings: Settings, progress: Progress | None, *,
               users, pipeline, secs: dict, run_id: int, ingest: dict, quarantine_file: str | None,
               force: bool, ex=None) -> DiscoverSummary:
    progress = progress or QuietProgress()
    t, cpu = time.perf_counter(), time.process_time()  # CPU seconds: what a busy machine does not inflate
    columns = store.event_columns()  # every event, as columns: no object per event
    stored = store.input_digests()  # what each user's journeys were computed from (prepare leaves it)
    n_users = len(columns.users)
    if ex is None and not stays_here(settings, n_users) and (force or len(stored) < n_users):
        # users to compute for sure: start the pool's processes while this one embeds and fits
        ex = stack.enter_context(open_executor(settings))
        warm_up(ex, settings)
    pipe = pipeline or Pipeline(settings, store, progress=progress)
    pipe.hold_embeddings = ex is not None  # stored while the workers start on the users
    stack.callback(_release_held, pipe)  # those no map stored (no users to compute, or a failure)
    pipe.prepare(store.items(sorted(columns.items)), columns, executor=ex)
    secs["embed_and_prepare"] = time.perf_counter() - t
    secs["embed_and_prepare_cpu"] = time.process_time() - cpu
    secs.update({f"prepare_{k}": v for k, v in pipe.seconds_.items()})

    t, cpu = time.perf_counter(), time.process_time()
    by_user = columns.by_user()
    config = _config_digest(settings, pipe.model_version_)
    digests = {u: _input_digest(config, evs) for u, evs in by_user.items()}
    candidates = sorted(by_user, key=user_order) if users is None else [u for u in users if u in by_user]
    wanted = [u for u in candidates if force or stored.get(u) != digests[u]]
    batched = not stays_here(settings, len(wanted))
    if batched and ex is None:
        ex = stack.enter_context(open_executor(settings))
    with blas_threads(1):  # many small products: one BLAS thread each (journeys/threads.py)
        n_j, changed, unassigned = _per_user(pipe, store, settings, progress, wanted, by_user, digests, secs,
                                             ex if batched else None)
    secs["extract_and_name"] = time.perf_counter() - t
    secs["extract_and_name_cpu"] = time.process_time() - cpu
    return DiscoverSummary(
        run_id=run_id,
        ingest=ingest,
        not_interest=int(len(columns) - pipe.interest_mask(columns).sum()),
        users=len(wanted),
        journeys=n_j,
        users_changed=changed,
        unassigned_items=unassigned,
        items_embedded=pipe.embedded_,
        quarantine_file=quarantine_file,
        seconds={k: round(v, 3) for k, v in secs.items()},
    )


def _release_held(pipe: Pipeline) -> None:
    pipe.store_held_embeddings()
    pipe.hold_embeddings = False


def _per_user(pipe: Pipeline, store: Store, settings: Settings, progress: Progress, wanted: list[str],
              by_user: UserColumns, digests: dict[str, str], secs: dict, ex=None) -> tuple[int, int, int]:
    """Partition, identity, naming, the stages after naming, and the store, for the wanted users
    (on the executor `ex` when given: services/batch.py); returns (journeys, users changed,
    unassigned items). `secs` gets the wall seconds of its parts (`per_user_*`). A user's `Event`
    objects exist only while that user is at hand (`UserEvents`)."""
    from journeys.services.living import compute_user, save_beside, save_user

    t = time.perf_counter()
    n_j = changed = unassigned = 0
    saved: set[str] = set()  # users whose identity and online state are stored already

    def beside(results: dict, states: dict) -> None:  # while the workers expand
        for user, (res, ident) in results.items():
            save_beside(pipe, store, res, ident, (), states.get(user))
            saved.add(user)

    with progress.task(f"finding journeys for {len(wanted)} users", len(wanted)) as tick:
        if ex is not None:
            results, states, finished = compute_users(ex, pipe, store, settings, wanted, by_user, secs, beside)
            ex.close()  # nothing more for the workers: they wind down while the results are stored
            tick.advance(len(wanted))
        else:
            results, states = {}, {}
            for user in wanted:
                results[user] = compute_user(pipe, store, user, by_user[user].events())
                tick.advance()
            secs["per_user_extract"] = time.perf_counter() - t
            t = time.perf_counter()
            # stage, rank, diversify, expand: collaborative candidates see every user's journeys
            others = [j for j in store.journeys() if j.user_id not in results] if results else []
            finished = finish_users({u: r.journeys for u, (r, _) in results.items()}, UserEvents(by_user), settings.after,
                                    store, pipe.vectors_, pipe.embedder.embed, pipe.is_interest, peers_from=others)
            secs["per_user_after"] = time.perf_counter() - t
    t = time.perf_counter()
    for user, (res, ident) in results.items():
        res = dataclasses.replace(res, journeys=tuple(finished[user]))
        if user in saved:
            changed += int(store.replace_journeys(user, res.journeys, res.unassigned))
        else:
            state = states.get(user, b"")
            changed += save_user(pipe, store, res, ident, by_user[user] if state == b"" else (), state)
        store.set_input_digest(user, digests[user])  # last: the user counts as computed once all is stored
        n_j += len(res.journeys)
        unassigned += len(res.unassigned)
    secs["per_user_store"] = time.perf_counter() - t
    return n_j, changed, unassigned


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


@dataclass
class UserView:
    """What `show` (and the API's journey list) presents for one user."""

    user_id: str
    journeys: list[Journey]
    titles: dict[str, str]  # evidence item -> title
    unassigned: int


def user_view(store: Store, user_id: str, evidence: int = 3) -> UserView:
    journeys = user_journeys(store, user_id)
    ids = [i for j in journeys for i in j.evidence[:evidence]]
    titles = {k: v.title for k, v in store.items(ids).items()}
    return UserView(user_id, journeys, titles, len(store.unassigned(user_id)))


def export_records(store: Store) -> list[dict]:
    """Every journey as a record, by user, then rank (1 = first)."""
    records, seen = [], {}
    for j in store.journeys():
        seen[j.user_id] = seen.get(j.user_id, 0) + 1
        records.append({**journey_record(j), "rank": seen[j.user_id]})
    return records
