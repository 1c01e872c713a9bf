"""Per-user work on an executor (`[batch]`): what the driver ships, what the workers run.

Two maps over hash buckets of users, on one executor:
1. `compute`: partition, identity against the stored journeys, the user's edits, names and
   evidence (`compute_user`, with a `UserPrior` standing in for the store), then stage, rank and
   diversify, and the online state. Events travel as columns.
2. `expand`: related journeys, once every user's journeys are known (collaborative candidates see
   them all, as a `PeerIndex`); the store's expansion entries for the names at hand travel with
   the task (`KVSnapshot`) and what the workers would write comes back to be stored.

The fitted model goes to the workers as npz bytes, decoded once per process. Every executor gives
the journeys that the in-process path (`finish_users`) gives; tests/services/test_batch_discover.py
checks it."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence

from journeys.config import Settings
from journeys.pipeline import Pipeline
from journeys.store import Store
from journeys.threads import blas_threads

# what a pool process imports while the driver embeds (`LocalExecutor.warm`)
WORKER_MODULES = ("journeys.services.batch", "journeys.services.living", "journeys.model", "journeys.after",
                  "scipy.cluster.hierarchy", "scipy.spatial.distance", "sklearn.feature_extraction.text")

_WORKER_PIPES: dict[str, tuple[Pipeline, dict]] = {}  # a worker's pipeline per fitted model, decoded once


def _worker_pipeline(shared: bytes) -> tuple[Pipeline, dict]:
    """The pipeline the model bytes describe, and a cache that lives as long as it does."""
    from journeys.model import FittedModel

    key = hashlib.blake2b(shared, digest_size=16).hexdigest()
    if key not in _WORKER_PIPES:
        _WORKER_PIPES.clear()
        _WORKER_PIPES[key] = (FittedModel.from_bytes(shared).pipeline(), {})
    return _WORKER_PIPES[key]


def _partition_part(shared: bytes, users: list) -> list:
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


def run_parts(ex, fn: Callable, shared, settings: Settings, work: list) -> list:
    """`fn(shared, chunk)` over hash buckets of `work` ((user, ...) tuples), results per chunk."""
    from journeys.batch import partition_users as buckets

    by_user = {w[0]: w for w in work}
    chunks = [[by_user[u] for u in part] for part in buckets(by_user, partitions(settings, len(work))) if part]
    return ex.map(fn, shared, chunks)


def partition_in_batch(pipe: Pipeline, settings: Settings, users: list) -> dict:
    """The clusterer's partition of each (user, events) on the configured executor; {} when the
    work stays in this process (each user is then partitioned when computed)."""
    from journeys.batch.columns import EventColumns
    from journeys.model import FittedModel

    if stays_here(settings, len(users)):
        return {}
    with open_executor(settings) as ex:
        done = run_parts(ex, _partition_part, FittedModel.of(pipe).to_bytes(), settings,
                         [(u, EventColumns.of(evs)) for u, evs in users])
    return {p.user_id: p for part in done for p in part}


def compute_in_batch(ex, model: bytes, store: Store, settings: Settings, users: list[str],
                     by_user: Mapping[str, list], after: tuple | None) -> dict:
    """Map 1 for every given user: user -> (UserResult, Identity, online state bytes, items met).
    The driver reads what each user needs of the store (`UserPrior`); `after`: (AfterStages, now)."""
    from journeys.batch.columns import EventColumns
    from journeys.services.living import UserPrior

    work = [(u, EventColumns.of(by_user[u]), UserPrior.of(store, u)) for u in users]
    done = run_parts(ex, _compute_part, (model, after), settings, work)
    return {r[0].user_id: r for part in done for r in part}


def expand_in_batch(ex, model: bytes, store: Store, settings: Settings, journeys: Mapping[str, Sequence],
                    seen: Mapping[str, frozenset], stages, peers) -> dict:
    """Map 2: user -> journeys with their related journeys. The store's expansion entries for the
    users' journey names go with the task; the entries the workers computed are stored here."""
    from journeys.peers import normalise

    keys = sorted({normalise(j.name) for js in journeys.values() for j in js if not j.hidden})
    entries = {k: v for k in keys if (v := store.get_expansion(k)) is not None} \
        if hasattr(store, "get_expansion") else {}
    work = [(u, journeys[u], seen[u]) for u in journeys]
    done = run_parts(ex, _expand_part, (model, stages, peers, entries), settings, work)
    written: dict[str, dict] = {}
    for _, part_written in done:
        written.update(part_written)
    if hasattr(store, "put_expansion"):
        for k in sorted(written):
            store.put_expansion(k, written[k])
    return {u: js for part, _ in done for u, js in part}
