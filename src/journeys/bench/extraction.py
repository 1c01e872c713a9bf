"""Mixed-collections extraction benchmark (BENCHMARKS.md section 1).

Seeded synthetic users from a collections file go, one user at a time, through the same
`Pipeline` as `journeys discover` (prepare: embed with cache, keyword background, global fit;
run_user: history in time order -> clusterer -> journeys). The metrics compare each user's
journeys with the collections the user was built from.

    from journeys.bench import extraction
    report = extraction.run("debian_blends_collections.json.gz", methods=["icpc", "cooccurrence"])
    report["results"][0]["recall"]
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeys.bench import metrics
from journeys.bench.cache import EmbeddingCache
from journeys.bench.synth import SynthData, load_collections, make_users
from journeys.extract import CLUSTERERS, NOISE, Clusterer

METHODS = ("icpc", "hierarchical", "cooccurrence", "global-semantic", "bertopic")
GLOBAL = ("cooccurrence", "global-semantic")


@dataclass
class Bench:
    """Synthetic users plus what every method shares: settings, embedder, embedding cache."""

    data: SynthData
    settings: Any
    embedder: Any
    cache: Any
    setup: dict


def prepare(
    collections: str | Path,
    users: int = 200,
    seed: int = 0,
    k: tuple[int, int] = (2, 5),
    items: tuple[int, int] = (8, 20),
    noise: float = 0.1,
    embedder: str | None = None,
    settings=None,
    cache: EmbeddingCache | None = None,
    popularity: float = 0.0,
) -> Bench:
    from journeys.config import Settings
    from journeys.embed import EMBEDDERS

    settings = settings or Settings()
    colls = load_collections(collections)
    data = make_users(colls, n_users=users, seed=seed, k=k, items=items, noise=noise,
                      popularity=popularity)
    s = settings.embed
    emb = EMBEDDERS.create(embedder or s.model, {"threads": s.threads, "batch_size": s.batch_size})
    setup = {
        "collections": str(collections), "n_collections": len(colls), "users": users, "seed": seed,
        "k": list(k), "items": list(items), "noise": noise, "popularity": popularity,
        "embedder": emb.name,
        "events": len(data.events),
    }
    return Bench(data, settings, emb, cache if cache is not None else EmbeddingCache(), setup)


def make_clusterer(bench: Bench, method: str, overrides: Mapping[str, Any] | None = None) -> Clusterer:
    """The method as `discover` would build it from Settings; global baselines are given the
    true number of collections (which favours them) and every method shares ICPC's min_size."""
    ex = bench.settings.extract
    shared = {"min_size": ex.icpc.min_size, "seed": bench.settings.seed}
    opts: dict[str, Any] = {}
    if method in GLOBAL:
        opts["n_clusters"] = bench.setup["n_collections"]
    opts.update(ex.options(method))
    opts.update(overrides or {})
    return CLUSTERERS.create(method, shared, **opts)


def pipeline_for(bench: Bench, clusterer: Clusterer):
    from journeys.pipeline import Pipeline

    return Pipeline(bench.settings, store=bench.cache, embedder=bench.embedder, clusterer=clusterer)


def predict_user(pipe, user: str, events) -> dict[str, int]:
    """The one place a user goes through the product: `Pipeline.run_user` -> item labels."""
    result = pipe.run_user(user, events)
    labels = {item: NOISE for item in result.unassigned}
    for n, journey in enumerate(result.journeys):
        labels.update({item: n for item in journey.item_ids})
    return labels


def evaluate(bench: Bench, method: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run one method over every synthetic user (prepare + run_user each) and average the metrics."""
    t0 = time.perf_counter()
    clusterer = make_clusterer(bench, method, overrides)
    pipe = pipeline_for(bench, clusterer).prepare(bench.data.items, bench.data.events)
    preds: dict[str, dict[str, int]] = {}
    for user, events in bench.data.events_by_user().items():
        preds[user] = predict_user(pipe, user, events)
        for item in bench.data.truth[user]:
            preds[user].setdefault(item, NOISE)
    seconds = time.perf_counter() - t0
    row = {"method": method, **metrics.summarize(bench.data.truth, preds), "seconds": seconds}
    if overrides:
        row["params"] = dict(overrides)
    return row


def run(
    collections: str | Path,
    methods: Sequence[str] = ("icpc",),
    users: int = 200,
    seed: int = 0,
    k: tuple[int, int] = (2, 5),
    items: tuple[int, int] = (8, 20),
    noise: float = 0.1,
    embedder: str | None = None,
    settings=None,
    cache: EmbeddingCache | None = None,
    popularity: float = 0.0,
) -> dict[str, Any]:
    """Benchmark `methods` on one collections file; returns {"setup": ..., "results": [...]}."""
    bench = prepare(collections, users, seed, k, items, noise, embedder, settings, cache, popularity)
    # embed once up front so no method's time includes it
    pipeline_for(bench, make_clusterer(bench, "icpc")).embed_texts(
        {i: t for i, t in _texts(bench).items()}
    )
    results = [evaluate(bench, m) for m in methods]
    return {"setup": bench.setup, "results": results}


def _texts(bench: Bench) -> dict[str, str]:
    from journeys.embed import item_text

    used = {e.item_id for e in bench.data.events}
    template = bench.settings.embed.template
    return {i: item_text(it, template) for i, it in bench.data.items.items() if i in used}
