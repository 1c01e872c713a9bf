"""Per-user work on an executor (`[batch]`): what the driver ships, what the workers run.

Two maps over hash buckets of users, on one executor:
1. `compute`: partition, identity against the stored journeys, the user's edits, names and
   evidence (`compute_user`, with a `UserPrior` standing in for the store), then stage, rank and
   diversify, and the online state. Events travel as columns.
2. `expand`: related journeys, once every user's journeys are known (collaborative candidates see
   them all, as a `PeerIndex`); the store's expansion entries for the names at hand travel with
   the task (`KVSnapshot`) and what the workers would write comes back to be stored.

The fitted model goes to the workers as npz bytes (`ship_model`), decoded once per process. Every executor gives
the journeys that the in-process path (`finish_users`) gives; tests/services/test_batch_discover.py
checks it."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence

from journeys.batch.columns import EventColumns, UserColumns
from journeys.config import Settings
from journeys.pipeline import Pipeline
from journeys.store import Store
from journeys.threads import blas_threads

# what a pool process imports while the driver embeds (`LocalExecutor.warm`)
WORKER_MODULES = ("journeys.services.batch", "journeys.services.living", "journeys.model", "journeys.after",
                  "scipy.cluster.hierarchy", "scipy.spatial.distance")

_WORKER_PIPES: dict[str, tuple[Pipeline, dict]] = {}  # a worker's pipeline per fitted model, decoded once


def ship_model(pipe: Pipeline) -> tuple[str, bytes]:
    """The fitted model as (digest, npz bytes), what the maps send; this process (the last
    worker of a local pool) uses `pipe` itself for that digest instead of decoding the bytes."""
    from journeys.model import FittedModel

    blob = FittedModel.of(pipe).to_bytes()
    key = hashlib.blake2b(blob, digest_size=16).hexdigest()
    _WORKER_PIPES.clear()
    _WORKER_PIPES[key] = (pipe, {})
    return key, blob


def forget_models() -> None:
    _WORKER_PIPES.clear()


def _worker_pipeline(model: tuple[str, bytes]) -> tuple[Pipeline, dict]:
    """The pipeline the model bytes describe, and a cache that lives as long as it does."""
    from journeys.model import FittedModel

    key, blob = model
    if key not in _WORKER_PIPES:
        _WORKER_PIPES.clear()
        _WORKER_PIPES[key] = (FittedModel.from_bytes(blob).pipeline(), {})
    return _WORKER_PIPES[key]


def _partition_part(shared: tuple[str, bytes], users: list) -> list:
    """Partition these (user, EventColumns) with the fitted model (online ingest's executor work)."""
    with blas_threads(1):
        pipe, _ = _worker_pipeline(shared)
        return [pipe.partition(user, cols.events()) for user, cols in users]


def _compute_part(shared: tuple, users: list) -> list:
    """Map 1 for (user, EventColumns, UserPrior): (UserResult, Identity, online state bytes or
    None, the items the user met); journeys staged, ranked and diversified when `after` is given."""
    from journeys.activity import UserActivity
    from journeys.after import AfterContext, finish_user
    from journeys.services.living import OnlineState, compute_user

    model, after = shared
    with blas_threads(1):
        pipe, _ = _worker_pipeline(model)
        out = []
        for user, cols, prior in users:
            events = cols.events()
            res, ident = compute_user(pipe, prior, user, events)
            seen: frozenset = frozenset()
            if after is not None:
                stages, now = after
                act = UserActivity.of(user, [e for e in events if pipe.is_interest(e)], now)
                res = dataclasses.replace(res, journeys=tuple(finish_user(res.journeys, AfterContext(act, stages))))
                seen = frozenset(e.item_id for e in act.events)
            state = OnlineState.build(pipe, res, events)
            out.append((res, ident, state.to_bytes() if state is not None else None, seen))
        return out


def _expand_part(shared: tuple, users: list) -> tuple[list, dict]:
    """Map 2 for (user, journeys, items met): each user's journeys with their related journeys,
    and the expansion entries the store should keep."""
    from journeys.after import AfterContext, KVSnapshot, expand_user
    from journeys.expand import Catalogue

    model, stages, peers, entries = shared
    with blas_threads(1):
        pipe, cache = _worker_pipeline(model)
        if "catalogue" not in cache:
            cache["catalogue"] = Catalogue.of(pipe.vectors_)
        kv = KVSnapshot(entries)
        ctx = AfterContext(None, stages, cache["catalogue"], peers, pipe.embedder.embed, kv, {})
        return [(user, expand_user(js, seen, ctx)) for user, js, seen in users], kv.written


def warm_up(ex, settings: Settings) -> None:
    """Have the executor's worker processes (where it keeps any) import what the per-user maps
    need and load the embedder that embeds chunks there, while this process reads and prepares."""
    from journeys.pipeline import load_shard_embedder, shard_spec, shards

    if hasattr(ex, "warm"):
        sharded = ex.workers > 1 and shards(settings)
        ex.warm(WORKER_MODULES, [(load_shard_embedder, shard_spec(settings, ex.workers))] if sharded else [])


def stays_here(settings: Settings, n_users: int) -> bool:
    """True when per-user work runs in this process: no users, or the local executor with one
    worker or too few users for a second partition."""
    b = settings.batch
    return not n_users or (b.executor == "local" and (b.workers <= 1 or partitions(settings, n_users) <= 1))


def partitions(settings: Settings, n_users: int) -> int:
    from journeys.batch import default_partitions

    b = settings.batch
    return min(b.partitions, n_users) if b.partitions else default_partitions(n_users, b.workers)


def open_executor(settings: Settings):
    from journeys.batch import EXECUTORS

    b = settings.batch
    options = {"workers": b.workers} | ({"address": b.ray_address} if b.executor == "ray" else {})
    return EXECUTORS.create(b.executor, **options)


def run_parts(ex, fn: Callable, shared, settings: Settings, work: list, meanwhile: Callable[[], None] | None = None) -> list:
    """`fn(shared, chunk)` over hash buckets of `work` ((user, ...) tuples), results per chunk;
    `meanwhile()` runs in this process while the executor's workers start on them."""
    from journeys.batch import partition_users as buckets

    by_user = {w[0]: w for w in work}
    chunks = [[by_user[u] for u in part] for part in buckets(by_user, partitions(settings, len(work))) if part]
    return ex.map(fn, shared, chunks, meanwhile=meanwhile)


def partition_in_batch(pipe: Pipeline, settings: Settings, users: list) -> dict:
    """The clusterer's partition of each (user, events) on the configured executor; {} when the
    work stays in this process (each user is then partitioned when computed)."""
    if stays_here(settings, len(users)):
        return {}
    try:
        with open_executor(settings) as ex:
            done = run_parts(ex, _partition_part, ship_model(pipe), settings,
                             [(u, EventColumns.of(evs)) for u, evs in users])
    finally:
        forget_models()
    return {p.user_id: p for part in done for p in part}


def compute_in_batch(ex, model: tuple[str, bytes], store: Store, settings: Settings, users: list[str],
                     by_user: Mapping[str, EventColumns], after: tuple | None,
                     meanwhile: Callable[[], None] | None = None) -> dict:
    """Map 1 for every given user: user -> (UserResult, Identity, online state bytes, items met).
    The driver reads what each user needs of the store (`UserPrior`); `after`: (AfterStages, now);
    `meanwhile()` runs here while the workers start."""
    from journeys.services.living import UserPrior

    work = [(u, by_user[u], UserPrior.of(store, u)) for u in users]
    done = run_parts(ex, _compute_part, (model, after), settings, work, meanwhile)
    return {r[0].user_id: r for part in done for r in part}


def expand_in_batch(ex, model: tuple[str, bytes], store: Store, settings: Settings, journeys: Mapping[str, Sequence],
                    seen: Mapping[str, frozenset], stages, peers, meanwhile: Callable[[], None] | None = None) -> dict:
    """Map 2: user -> journeys with their related journeys. The store's expansion entries for the
    users' journey names go with the task; the entries the workers computed are stored here.
    `meanwhile()` runs here while the workers start."""
    from journeys.peers import normalise

    keys = sorted({normalise(j.name) for js in journeys.values() for j in js if not j.hidden})
    entries = store.get_expansions(keys) if hasattr(store, "get_expansions") else {}
    work = [(u, journeys[u], seen[u]) for u in journeys]
    done = run_parts(ex, _expand_part, (model, stages, peers, entries), settings, work, meanwhile)
    written: dict[str, dict] = {}
    for _, part_written in done:
        written.update(part_written)
    if written and hasattr(store, "put_expansions"):
        store.put_expansions({k: written[k] for k in sorted(written)})
    return {u: js for part, _ in done for u, js in part}


def compute_users(ex, pipe: Pipeline, store: Store, settings: Settings, wanted: list[str],
                  by_user: UserColumns, secs: dict,
                  between: Callable[[dict, dict], None] | None = None) -> tuple[dict, dict, dict]:
    """Both maps for the wanted users on `ex`: user -> (UserResult, Identity), user -> online
    state bytes, user -> finished journeys. `secs` gets `per_user_extract` (map 1) and
    `per_user_after` (map 2) wall seconds. `between(results, states)`, when given, gets map 1's
    results while the workers run map 2 (or at once when there is no map 2)."""
    import time

    from journeys.after import AfterStages, resolve_now
    from journeys.peers import PeerIndex

    t = time.perf_counter()
    s = settings.after
    stages = AfterStages.build(s, store) if s.enabled else None
    now = resolve_now(s, store, by_user.columns) if s.enabled else None
    try:
        model = ship_model(pipe)
        done = compute_in_batch(ex, model, store, settings, wanted, by_user, (stages, now) if s.enabled else None,
                                pipe.store_held_embeddings)  # new vectors go to the store while the workers start
        results = {u: done[u][:2] for u in wanted}
        states = {u: done[u][2] for u in wanted}
        finished = {u: list(done[u][0].journeys) for u in wanted}
        secs["per_user_extract"] = time.perf_counter() - t
        t = time.perf_counter()
        meanwhile = (lambda: between(results, states)) if between is not None else None
        if stages is not None and stages.expander is not None and wanted:
            others = [j for j in store.journeys() if j.user_id not in results]
            peers = PeerIndex.of([j for js in finished.values() for j in js] + others)
            finished = expand_in_batch(ex, model, store, settings, finished, {u: done[u][3] for u in wanted},
                                       stages, peers, meanwhile)
        elif meanwhile is not None:
            meanwhile()
        secs["per_user_after"] = time.perf_counter() - t
    finally:
        forget_models()
    return results, states, finished
