"""`journeys bench scale`: throughput and peak memory per stage on seeded synthetic activity.

Users are built from a collections file with MovieLens-shaped activity: the number of events per
user is long-tailed (at least 20, a Pareto tail, as in MovieLens where a few users rate thousands
of movies), collections and the items inside them are drawn with Zipf popularity, and a user
re-visits items. Stages, each timed on its own:

- generate: the synthetic events (arrays, no Python object per event);
- embed: the catalogue's item texts (the `hashing` embedder by default, so MiniLM does not dominate);
- fit: ICPC's global co-occurrence model over every user's history;
- assign: per-user ICPC extraction over hash partitions of users, once per executor setting
  (local; ray with 1 and 2 workers); every setting must give identical labels (checked).
Peak memory is the driver process's maximum resident set (Ray workers are separate processes)."""

from __future__ import annotations

import hashlib
import resource
import time
from pathlib import Path

import numpy as np

from journeys.bench.synth import load_collections
from journeys.embed import EMBEDDERS, item_text
from journeys.extract import CLUSTERERS, Corpus, UserHistory


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def generate(collections, n_events: int, seed: int = 0):
    """(user ids, per-user item-index arrays in time order, catalogue items), MovieLens-shaped."""
    rng = np.random.default_rng(seed)
    items = [it for c in collections for it in c.items]
    offsets = np.cumsum([0] + [len(c.items) for c in collections])
    n_coll = len(collections)
    coll_pop = 1.0 / np.arange(1, n_coll + 1) ** 0.8
    coll_pop = coll_pop[rng.permutation(n_coll)]
    coll_pop /= coll_pop.sum()
    mean_activity = 160.0  # MovieLens latest-small: 100k ratings over ~600 users
    n_users = max(1, int(round(n_events / mean_activity)))
    activity = 20 + rng.pareto(1.3, n_users) * 60
    activity = np.maximum(1, np.round(activity * (n_events / activity.sum()))).astype(np.int64)
    activity[-1] = max(1, activity[-1] + n_events - int(activity.sum()))
    histories = []
    for n in activity:
        k = int(rng.integers(2, 9))
        chosen = rng.choice(n_coll, size=min(k, n_coll), replace=False, p=coll_pop)
        which = chosen[rng.integers(0, len(chosen), size=n)]
        sizes = offsets[which + 1] - offsets[which]
        rank = np.minimum((rng.zipf(1.5, size=n) - 1), sizes - 1)  # popular items inside a collection
        histories.append((offsets[which] + rank).astype(np.int32))
    users = [str(u + 1) for u in range(n_users)]
    return users, histories, items


def _assign_partition(shared: dict, partition: list[tuple[str, np.ndarray]]) -> list[tuple[str, str]]:
    """ICPC labels of one partition's users, as (user id, digest of labels)."""
    clusterer, vectors, ids = shared["clusterer"], shared["vectors"], shared["item_ids"]
    out = []
    for user_id, idx in partition:
        order = np.asarray(list(dict.fromkeys(idx.tolist())), dtype=np.int64)
        h = UserHistory(user_id, tuple(ids[i] for i in order), vectors[order])
        labels = clusterer.assign(h)
        out.append((user_id, hashlib.sha1(np.asarray(labels, dtype=np.int64).tobytes()).hexdigest()[:12]))
    return out


def run(collections_path: str | Path, n_events: int, seed: int = 0, embedder: str = "hashing",
        settings: tuple[tuple[str, int], ...] = (("local", 1), ("ray", 1), ("ray", 2))) -> dict:
    from journeys.batch import EXECUTORS, bucket, default_partitions

    collections = load_collections(collections_path)
    stages: dict[str, dict] = {}

    t = time.perf_counter()
    users, histories, items = generate(collections, n_events, seed)
    stages["generate"] = {"seconds": time.perf_counter() - t}

    t = time.perf_counter()
    emb = EMBEDDERS.create(embedder)
    vectors = np.asarray(emb.embed([item_text(i) for i in items]), dtype=np.float32)
    stages["embed"] = {"seconds": time.perf_counter() - t, "items": len(items), "embedder": emb.name}

    ids = tuple(i.item_id for i in items)
    t = time.perf_counter()
    corpus = Corpus([UserHistory(u, tuple(ids[i] for i in dict.fromkeys(h.tolist())), np.zeros((0, 0)))
                     for u, h in zip(users, histories)])
    clusterer = CLUSTERERS.create("icpc", seed=seed).fit(corpus)
    del corpus
    stages["fit"] = {"seconds": time.perf_counter() - t}

    shared = {"clusterer": clusterer, "vectors": vectors, "item_ids": ids}
    digests = None
    for name, workers in settings:
        n_parts = default_partitions(len(users), max(w for _, w in settings))
        parts: list[list] = [[] for _ in range(n_parts)]
        for u, h in zip(users, histories):
            parts[bucket(u, n_parts)].append((u, h))
        t = time.perf_counter()
        with EXECUTORS.create(name, workers=workers) as ex:
            started = time.perf_counter()
            results = ex.map(_assign_partition, shared, parts)
            seconds = time.perf_counter() - started
        got = dict(x for r in results for x in r)
        identical = digests is None or got == digests
        digests = digests or got
        stages[f"assign[{name}x{workers}]"] = {"seconds": seconds, "startup_seconds": time.perf_counter() - t - seconds,
                                               "partitions": n_parts, "identical": identical}
    for s in stages.values():
        s["events_per_s"] = n_events / s["seconds"] if s["seconds"] > 0 else None
    return {"setup": {"collections": str(collections_path), "events": n_events, "users": len(users),
                      "catalogue": len(items), "seed": seed, "embedder": embedder},
            "stages": stages, "peak_mb": _peak_mb()}


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
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Events/s per stage and peak memory on synthetic MovieLens-shaped activity (issue 14)."""
        from journeys.bench import report
        from journeys.errors import JourneysError

        settings = tuple((n, int(w)) for n, w in (x.split(":") for x in executors.split(",")))
        try:
            out = run(collections, events, seed, embedder, settings)
        except JourneysError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        s = out["setup"]
        typer.echo(f"{s['events']:,} events, {s['users']:,} users, {s['catalogue']:,} items, {s['embedder']}; "
                   f"peak {out['peak_mb']:.0f} MB")
        for name, st in out["stages"].items():
            extra = f"  (+{st['startup_seconds']:.1f} s start, identical={st['identical']})" if "identical" in st else ""
            typer.echo(f"  {name:<16} {st['seconds']:8.2f} s  {st['events_per_s'] or 0:>12,.0f} events/s{extra}")
        if as_json:
            typer.echo(report.json_line(out))
