"""`journeys bench recs`: the whole run (split, validation tuning, peers and journeys side by side,
steering figures) and the --query steering figure on synthetic Debian blends users."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from journeys.bench import recs
from journeys.bench.cache import EmbeddingCache

DATASETS = ("movielens-small", "movielens-100k")


def _space(items: dict, settings, emb, cache):
    from journeys.embed import item_text
    from journeys.pipeline import Pipeline
    from journeys.recommend import ItemSpace

    pipe = Pipeline(settings, store=cache, embedder=emb)
    ids = tuple(sorted(items))
    vecs = pipe.embed_texts({i: item_text(items[i], settings.embed.template) for i in ids})
    return ItemSpace(ids, tuple(items[i].title for i in ids), np.stack([vecs[i] for i in ids]))


def _setup(settings, embedder):
    from journeys.config import Settings
    from journeys.embed import EMBEDDERS

    settings = settings or Settings()
    s = settings.embed
    return settings, EMBEDDERS.create(embedder or s.model, {"threads": s.threads, "batch_size": s.batch_size})


def run(dataset: str = "movielens-small", embedder: str | None = None, max_users: int | None = None,
        seed: int = 0, settings=None, cache: EmbeddingCache | None = None, k: int = 20) -> dict[str, Any]:
    from journeys.ingest.movielens import load_movielens_100k, load_movielens_small
    from journeys.recommend import Steering

    settings, emb = _setup(settings, embedder)
    cache = cache if cache is not None else EmbeddingCache()
    data = {"movielens-small": load_movielens_small, "movielens-100k": load_movielens_100k}[dataset]()
    space = _space(data.items, settings, emb, cache)
    events_at: dict[str, list] = {}
    for e in data.events:
        events_at.setdefault(e.user_id, []).append(e)
    parts = recs.split(data.events, settings.ingest.min_rating)
    if max_users:
        parts = {u: parts[u] for u in sorted(parts, key=lambda u: (len(u), u))[:max_users]}
    val_parts = {u: (tr[: -max(1, round(0.2 * len(tr)))], tr[-max(1, round(0.2 * len(tr))):])
                 for u, (tr, _) in parts.items() if len(tr) >= 5}
    val = recs.Setup(space, data.items, val_parts, events_at)
    best = recs.tune(val, recs.discover(val, settings, emb, cache), k, seed)
    st = recs.Setup(space, data.items, parts, events_at)
    t0 = time.perf_counter()
    journeys = recs.discover(st, settings, emb, cache)
    secs = {"discover": time.perf_counter() - t0}
    lists: dict[str, dict] = {}
    for name in recs.PEERS:
        t = time.perf_counter()
        lists[name] = recs.peer_lists(name, best[name], st, k, seed)
        secs[name] = time.perf_counter() - t
    t = time.perf_counter()
    lists["journeys"], jids, rec = recs.journey_lists(best["journeys"], st, journeys, k, best["ease"]["l2"])
    secs["journeys"] = time.perf_counter() - t
    fall = recs.falls_in(st, journeys, rec)
    rows = [{"method": m, **recs.evaluate(lists[m], st, fall)} for m in (*recs.PEERS, "journeys")]
    no_journey = sum(1 for u in st.users if not journeys[u])
    unattributed = sum(1 for u in st.users for j in jids[u] if not j)
    # --journey: for users with >= 2 journeys, every slot from their top journey
    share, hit = [], []
    steered_users = [u for u in st.users if len(journeys[u]) >= 2]
    for u in steered_users:
        target = journeys[u][0]
        got, _, _ = recs.journey_lists(best["journeys"], _one(st, u), {u: journeys[u]}, k, best["ease"]["l2"],
                                       Steering(journey=target.journey_id), rec=rec)
        sims = rec.centroids(journeys[u]) @ space.vectors[got[u]].T
        share.append(float(np.mean(sims.argmax(0) == 0)) if got[u] else 0.0)
        in_j = [i for i in st.test[u] if fall[u][i] == 0]
        if in_j:
            hit.append(len(set(got[u]) & set(in_j)) / min(k, len(in_j)))
    steering = {"users": len(steered_users), "journey_share": float(np.mean(share)) if share else None,
                "journey_recall": float(np.mean(hit)) if hit else None}
    setup = {"dataset": dataset, "users": len(st.users), "items": len(space.item_ids), "embedder": emb.name,
             "min_rating": settings.ingest.min_rating, "seed": seed, "users_without_journeys": no_journey,
             "unattributed_recommendations": unattributed, "tuned": best,
             "seconds": {n: round(v, 2) for n, v in secs.items()}}
    return {"setup": setup, "results": rows, "steering": steering}


class _one:
    """A view of a Setup holding one user (for steered runs)."""

    def __init__(self, st, u):
        self.space, self.index, self.x, self.users = st.space, st.index, st.x, [u]
        self.train = {u: st.train[u]}


def query_run(collections: str | Path, users: int = 100, seed: int = 0, k: int = 10, embedder: str | None = None,
              settings=None, cache: EmbeddingCache | None = None, query_match: float | None = None) -> dict[str, Any]:
    """--query on synthetic Debian blends users: the query is the name of a collection the user
    pursues; precision = share of the k recommendations in that collection (plain lists alongside;
    the ceiling: the share the collection's unseen items could fill at best)."""
    from scipy import sparse

    from journeys.bench.synth import load_collections, make_users
    from journeys.pipeline import Pipeline
    from journeys.recommend import RECOMMENDERS, Steering, UserState

    settings, emb = _setup(settings, embedder)
    cache = cache if cache is not None else EmbeddingCache()
    data = make_users(load_collections(collections), n_users=users, seed=seed)
    pipe = Pipeline(settings, store=cache, embedder=emb).prepare(data.items, data.events)
    space = _space(data.items, settings, emb, cache)
    index = space.index()
    by_user = data.events_by_user()
    journeys = {u: pipe.run_user(u, by_user[u]).journeys for u in data.users}
    rows = {u: list(dict.fromkeys(index[e.item_id] for e in sorted(by_user[u], key=lambda e: e.timestamp)))
            for u in data.users}  # oldest first
    r = [n for n, u in enumerate(data.users) for _ in rows[u]]
    c = [i for u in data.users for i in rows[u]]
    x = sparse.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(data.users), len(index)))
    opts = {} if query_match is None else {"query_match": query_match}
    rec = RECOMMENDERS.create("journeys", **opts).fit(space, x, [j for u in data.users for j in journeys[u]],
                                                      embed=emb.embed)
    steered, plain, ceiling, matched = [], [], [], 0
    for u in data.users:
        coll = data.collections[data.journeys[u][0].collection]
        members = {it.item_id for it in coll.items}
        state = UserState(u, journeys[u], np.array(sorted(rows[u])), np.array(rows[u]))
        got = rec.recommend(state, k, Steering(query=coll.name))
        base = rec.recommend(state, k)
        matched += bool(got) and not got[0].journey_id.startswith("q_")
        steered.append(sum(g.item_id in members for g in got) / k)
        plain.append(sum(g.item_id in members for g in base) / k)
        ceiling.append(min(k, len(members - {space.item_ids[i] for i in rows[u]})) / k)
    return {"setup": {"collections": str(collections), "users": users, "seed": seed, "k": k, "embedder": emb.name,
                      "query_match": rec.query_match},
            "precision_query": float(np.mean(steered)), "precision_plain": float(np.mean(plain)),
            "precision_ceiling": float(np.mean(ceiling)),
            "matched_a_journey": matched / len(data.users)}
