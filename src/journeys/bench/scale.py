"""`journeys bench scale`: throughput and memory per stage on seeded synthetic activity, end to end
on the columnar data path.

Users are built from a collections file with MovieLens-shaped activity: the number of events per
user is long-tailed (at least 20, a Pareto tail, as in MovieLens where a few users rate thousands
of movies), collections and the items inside them are drawn with Zipf popularity, and a user
re-visits items. Stages, each timed on its own:

- generate: the synthetic activity log, written to a Parquet file a slice of users at a time;
- ingest: the log read in chunks into Arrow, validated and written as hash buckets of users
  (`journeys.ingest.columnar`);
- embed: the catalogue's item texts (the `hashing` embedder by default, so MiniLM does not dominate);
- fit: ICPC's global co-occurrence model, from a users x items matrix built a bucket at a time;
- assign: per-user ICPC extraction, each task reading its own buckets, once per executor setting
  (local; ray with 1 and 2 workers); every setting must give identical labels (checked). Ray's
  start, and its workers' first imports, are reported as `startup_seconds`, not in the stage.

Memory: the driver's resident set is sampled every 20 ms; `bytes_per_event` is its peak during
ingest, fit and assign above what it held before ingest (the item vectors and the code), per event.
Ray workers and pool processes are separate processes, not counted there; `job_peak_mb` is the
peak of the driver and all its descendant processes together (Ray's included), sampled every 0.5 s."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from journeys.bench.memory import Sampler, peak_mb
from journeys.bench.synth import load_collections
from journeys.embed import EMBEDDERS, item_text
from journeys.extract import CLUSTERERS, UserHistory


def _activity(n_events: int, rng) -> np.ndarray:
    mean_activity = 160.0  # MovieLens latest-small: 100k ratings over ~600 users
    n_users = max(1, int(round(n_events / mean_activity)))
    activity = 20 + rng.pareto(1.3, n_users) * 60
    activity = np.maximum(1, np.round(activity * (n_events / activity.sum()))).astype(np.int64)
    activity[-1] = max(1, activity[-1] + n_events - int(activity.sum()))
    return activity


def _histories(collections, n_events: int, seed: int):
    """(catalogue items, activity per user, generator of each user's item-index array in time order)."""
    rng = np.random.default_rng(seed)
    items = [it for c in collections for it in c.items]
    offsets = np.cumsum([0] + [len(c.items) for c in collections])
    n_coll = len(collections)
    coll_pop = 1.0 / np.arange(1, n_coll + 1) ** 0.8
    coll_pop = coll_pop[rng.permutation(n_coll)]
    coll_pop /= coll_pop.sum()
    activity = _activity(n_events, rng)

    def each():
        for n in activity:
            k = int(rng.integers(2, 9))
            chosen = rng.choice(n_coll, size=min(k, n_coll), replace=False, p=coll_pop)
            which = chosen[rng.integers(0, len(chosen), size=n)]
            sizes = offsets[which + 1] - offsets[which]
            rank = np.minimum((rng.zipf(1.5, size=n) - 1), sizes - 1)  # popular items inside a collection
            yield (offsets[which] + rank).astype(np.int32)

    return items, activity, each()


def generate(collections, n_events: int, seed: int = 0):
    """(user ids, per-user item-index arrays in time order, catalogue items), MovieLens-shaped."""
    items, activity, each = _histories(collections, n_events, seed)
    histories = list(each)
    return [str(u + 1) for u in range(len(activity))], histories, items


def write_log(collections, n_events: int, path: Path, seed: int = 0, users_per_slice: int = 4096) -> tuple[list, int]:
    """The synthetic activity as a Parquet log (user_id, item_id, timestamp, kind, weight): one
    `view` per event, seconds to a day apart per user; written a slice of users at a time, so the
    log never exists as Python objects. Returns (catalogue items, users)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    items, activity, each = _histories(collections, n_events, seed)
    ids = pa.array([i.item_id for i in items], type=pa.string())
    rng = np.random.default_rng(seed + 1)
    schema = pa.schema([("user_id", pa.string()), ("item_id", pa.string()), ("timestamp", pa.int64()),
                        ("kind", pa.string()), ("weight", pa.float32())])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        user, buf = 0, []
        for hist in each:
            user += 1
            buf.append((user, hist))
            if len(buf) == users_per_slice or user == len(activity):
                lens = np.array([len(h) for _, h in buf])
                codes = np.concatenate([h for _, h in buf])
                uid = np.repeat(np.array([u for u, _ in buf]), lens)
                start = 1_300_000_000 + rng.integers(0, 300_000_000, size=len(buf))
                # minutes to a day apart, closer for very active users: a history spans <= ~10 years
                # (the heaviest synthetic users have 10^5 events; a day apart they would run past 2261)
                top = np.repeat(np.clip(300_000_000 // lens, 2, 86_400), lens)
                gaps = 1 + (rng.random(len(codes)) * (top - 1)).astype(np.int64)
                first = np.concatenate([[0], np.cumsum(lens)[:-1]])
                cum = np.cumsum(gaps)
                ts = np.repeat(start, lens) + cum - np.repeat(cum[first], lens)
                writer.write_table(pa.table({
                    "user_id": pa.array(uid.astype(str)), "item_id": ids.take(pa.array(codes)),
                    "timestamp": pa.array(ts.astype(np.int64)), "kind": pa.array(["view"] * len(codes)),
                    "weight": pa.array(np.ones(len(codes), np.float32))}, schema=schema))
                buf = []
    return items, len(activity)


def _warm(shared: dict, _: int) -> int:
    """Import what a task needs, in each worker, before the stage is timed (start-up, not work)."""
    import scipy.cluster.hierarchy  # noqa: F401

    from journeys.ingest.columnar import read_bucket  # noqa: F401

    return os.getpid()


def _assign_buckets(shared: dict, files: list[str]) -> list[tuple[str, str]]:
    """ICPC labels of the users in these bucket files, as (user id, digest of labels)."""
    from journeys.ingest.columnar import read_bucket

    clusterer, vectors, ids = shared["clusterer"], shared["vectors"], shared["item_ids"]
    out = []
    for f in files:
        rows = read_bucket(f)
        for k, user_id in enumerate(rows.users):
            order = rows.distinct(k)
            labels = clusterer.assign(UserHistory(user_id, tuple(ids[i] for i in order), vectors[order]))
            out.append((user_id, hashlib.sha1(np.asarray(labels, dtype=np.int64).tobytes()).hexdigest()[:12]))
    return out


def run(collections_path: str | Path, n_events: int, seed: int = 0, embedder: str = "hashing",
        settings: tuple[tuple[str, int], ...] = (("local", 1), ("ray", 1), ("ray", 2)),
        buckets: int = 64, workdir: str | Path | None = None) -> dict:
    from journeys.batch import EXECUTORS
    from journeys.ingest.columnar import user_item_matrix, write_buckets

    collections = load_collections(collections_path)
    stages: dict[str, dict] = {}
    mem = Sampler()
    with tempfile.TemporaryDirectory(prefix="journeys-scale-", dir=workdir) as tmp:
        log = Path(tmp) / "events.parquet"
        t = time.perf_counter()
        items, n_users = write_log(collections, n_events, log, seed)
        stages["generate"] = {"seconds": time.perf_counter() - t, "log_mb": round(log.stat().st_size / 2**20, 1)}

        t = time.perf_counter()
        emb = EMBEDDERS.create(embedder)
        vectors = np.asarray(emb.embed([item_text(i) for i in items]), dtype=np.float32)
        stages["embed"] = {"seconds": time.perf_counter() - t, "items": len(items), "embedder": emb.name,
                           "items_per_s": len(items) / max(time.perf_counter() - t, 1e-9)}

        ids = tuple(i.item_id for i in items)
        import pyarrow.compute, pyarrow.parquet, scipy.sparse, sklearn.decomposition  # noqa: F401,E401  (code is not per-event memory)

        base = mem.reset()
        t = time.perf_counter()
        b = write_buckets(log, ids, Path(tmp) / "buckets", buckets)
        stages["ingest"] = {"seconds": time.perf_counter() - t, "buckets": buckets, "quarantined": b.quarantined,
                            "reasons": dict(b.reasons)}
        peak = {"ingest": mem.peak - base}

        mem.reset()
        t = time.perf_counter()
        clusterer = CLUSTERERS.create("icpc", seed=seed)
        x, users = user_item_matrix(b.files, len(ids))
        clusterer.fit_matrix(x, ids, users)
        del x
        stages["fit"] = {"seconds": time.perf_counter() - t}
        peak["fit"] = mem.peak - base

        shared = {"clusterer": clusterer, "vectors": vectors, "item_ids": ids}
        files = [str(f) for f in b.files]
        digests = None
        for name, workers in settings:
            n_parts = min(len(files), 4 * max(w for _, w in settings))
            parts = [files[k::n_parts] for k in range(n_parts)]
            mem.reset()
            t = time.perf_counter()
            with EXECUTORS.create(name, workers=workers) as ex:
                if name != "local":
                    ex.map(_warm, None, list(range(2 * workers)))
                started = time.perf_counter()
                results = ex.map(_assign_buckets, shared, parts)
                seconds = time.perf_counter() - started
            got = dict(x for r in results for x in r)
            identical = digests is None or got == digests
            digests = digests or got
            stages[f"assign[{name}x{workers}]"] = {"seconds": seconds, "startup_seconds": time.perf_counter() - t - seconds,
                                                   "partitions": n_parts, "users": len(got), "identical": identical}
            peak[f"assign[{name}x{workers}]"] = mem.peak - base
    mem.stop()
    for s in stages.values():
        s["events_per_s"] = n_events / s["seconds"] if s["seconds"] > 0 else None
    worst = max(peak.values())
    return {"setup": {"collections": str(collections_path), "events": n_events, "users": n_users,
                      "catalogue": len(items), "seed": seed, "embedder": embedder, "buckets": buckets},
            "stages": stages, "peak_mb": peak_mb(), "baseline_mb": round(base / 2**20, 1),
            "job_peak_mb": round(mem.tree_peak / 2**20, 1),
            "bytes_per_event": round(worst / n_events, 1),
            "bytes_per_event_by_stage": {k: round(v / n_events, 1) for k, v in peak.items()}}


def register(app) -> None:
    """Mount `scale` on the bench sub-app."""
    import typer

    @app.command("scale")
    def scale_cmd(
        collections: Path = typer.Option(..., "--collections", help="collections file (JSON, optionally gzipped)"),
        events: int = typer.Option(100_000, "--events", min=1000),
        seed: int = typer.Option(0, "--seed"),
        embedder: str = typer.Option("hashing", "--embedder"),
        executors: str = typer.Option("local:1,ray:1,ray:2", "--executors", help="NAME:WORKERS list"),
        buckets: int = typer.Option(64, "--buckets", min=1, help="hash buckets of users (Parquet files)"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Events/s per stage and peak memory on synthetic MovieLens-shaped activity (issue 14)."""
        from journeys.bench import report
        from journeys.errors import JourneysError

        settings = tuple((n, int(w)) for n, w in (x.split(":") for x in executors.split(",")))
        try:
            out = run(collections, events, seed, embedder, settings, buckets)
        except JourneysError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        s = out["setup"]
        typer.echo(f"{s['events']:,} events, {s['users']:,} users, {s['catalogue']:,} items, {s['embedder']}; "
                   f"peak {out['peak_mb']:.0f} MB (with child processes {out['job_peak_mb']:.0f} MB), "
                   f"{out['bytes_per_event']:.0f} bytes/event above the vectors")
        for name, st in out["stages"].items():
            extra = f"  (+{st['startup_seconds']:.1f} s start, identical={st['identical']})" if "identical" in st else ""
            typer.echo(f"  {name:<16} {st['seconds']:8.2f} s  {st['events_per_s'] or 0:>12,.0f} events/s{extra}")
        if as_json:
            typer.echo(report.json_line(out))
