"""Journeys after naming on real logs: MovieLens cut at 80% (BENCHMARKS.md section 6).

Per user (>= 10 interest events): journeys are found on the first 80% of their interest events;
the later 20% are the future. A later movie engages the user's journey whose centroid is nearest
to it, if at least `assign` (the ICPC join threshold) near; a journey's gain is how many it gets.
- stage at the cut: precision and recall of "ongoing" against "gets >= 1 later movie";
- rank: NDCG@3 of the gains, learned ranker (ridge on log1p(gain), cross-fitted: the users are
  split in two halves by a stable hash and each half is ranked by the model learned on the other) vs size, recency and the heuristic on the same users, with
  paired bootstrap 95% intervals of the differences;
- diversify: mean pairwise centroid cosine of the top 3 (users with >= 4 journeys), without and
  with the 0.95 penalty, at the threshold chosen on the training half (a percentile of its
  within-user centroid pairs, the one that leaves the least similar top 3 there);
- expand (bench/after_expand.py): share of users with a later movie among the grounded items of
  their top-3 expansions vs as many random journeys of other users grounded the same way; with
  `llm_users`, the llm source on a sample.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np

from journeys.activity import UserActivity
from journeys.diversify import PenaltyDiversifier, mean_pairwise_similarity
from journeys.expand import Catalogue, Expander, PeerIndex
from journeys.rank import RANKERS, LearnedRanker, features
from journeys.stage import STAGERS


def _half(user: str) -> int:
    return int(hashlib.sha1(user.encode()).hexdigest(), 16) % 2


def _pair_sims(journeys) -> list[float]:
    from journeys.diversify import _unit_rows

    m = _unit_rows(journeys)
    if len(journeys) < 2 or not m.shape[1]:
        return []
    return (m @ m.T)[np.triu_indices(len(journeys), 1)].tolist()


def ndcg_at(gains: list[float], k: int = 3) -> float:
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(gains, reverse=True)[:k]))
    return dcg / ideal if ideal else float("nan")


@dataclass
class CutData:
    """Every user's journeys found and staged at the cut, their activity before it, the gain of
    each journey (later movies it attracts) and the later movies themselves."""

    dataset: str
    embedder: str
    cut: float
    assign: float
    rows: dict  # user -> (journeys staged at the cut, activity before it, gains)
    later: dict  # user -> later interest items not seen before the cut
    vectors: dict  # item -> vector
    embed: object = None  # texts -> vectors (the embedder used)


def prepare(dataset: str = "movielens-small", embedder: str | None = None, max_users: int | None = None,
            cut: float = 0.8, settings=None) -> CutData:
    from journeys.bench.cache import EmbeddingCache
    from journeys.config import Settings
    from journeys.embed import EMBEDDERS, item_text
    from journeys.ingest import DATASETS
    from journeys.pipeline import Pipeline

    settings = settings or Settings()
    data = DATASETS[dataset]()
    s = settings.embed
    emb = EMBEDDERS.create(embedder or s.model, threads=s.threads, batch_size=s.batch_size)
    pipe = Pipeline(settings, store=EmbeddingCache(), embedder=emb)
    by_user: dict[str, list] = {}
    for e in sorted(data.events, key=lambda e: (e.user_id, e.timestamp, e.item_id)):
        if pipe.is_interest(e):
            by_user.setdefault(e.user_id, []).append(e)
    users = sorted((u for u, evs in by_user.items() if len(evs) >= 10), key=lambda u: (len(u), u))[:max_users]
    before, later, cuts = [], {}, {}
    for u in users:
        evs = by_user[u]
        k = int(len(evs) * cut)
        cuts[u] = evs[k].timestamp
        before += evs[:k]
        seen = {e.item_id for e in evs[:k]}
        later[u] = {e.item_id for e in evs[k:]} - seen
    pipe.prepare(data.items, before)
    vectors = pipe.embed_texts({i: item_text(it, s.template) for i, it in data.items.items()})
    stager = STAGERS.create("timeseries")
    assign = settings.extract.icpc.threshold
    rows = {}
    for u in users:
        res = pipe.run_user(u, [e for e in before if e.user_id == u])
        if not res.journeys:
            continue
        act = UserActivity.of(u, [e for e in by_user[u] if e.timestamp < cuts[u]], cuts[u])
        js = stager.stage(res.journeys, act)
        cent = np.asarray([j.centroid for j in js], dtype=np.float32)
        gains = np.zeros(len(js))
        for i in later[u]:
            sims = cent @ vectors[i]
            if sims.max() >= assign:
                gains[int(sims.argmax())] += 1
        rows[u] = (js, act, gains)
    return CutData(dataset, emb.name, cut, assign, rows, later, vectors, emb.embed)


def run(dataset: str = "movielens-small", embedder: str | None = None, max_users: int | None = None,
        cut: float = 0.8, seed: int = 0, settings=None, llm_users: int = 0) -> dict:
    from journeys.config import Settings

    t0 = time.perf_counter()
    settings = settings or Settings()
    d = prepare(dataset, embedder, max_users, cut, settings)
    rows, later, vectors, assign = d.rows, d.later, d.vectors, d.assign
    out = {"setup": {"dataset": dataset, "embedder": d.embedder, "users": len(rows), "cut": cut,
                     "assign_threshold": assign, "journeys": sum(len(r[0]) for r in rows.values())}}
    # -- stage ----------------------------------------------------------------------------------
    tp = fp = fn = 0
    later_by = {"ongoing": [], "ended": []}
    for js, _, gains in rows.values():
        for j, g in zip(js, gains):
            on = j.stage_activity == "ongoing"
            tp, fp, fn = tp + (on and g > 0), fp + (on and g == 0), fn + (not on and g > 0)
            later_by[j.stage_activity].append(g)
    out["stage"] = {"precision_ongoing": tp / max(tp + fp, 1), "recall_ongoing": tp / max(tp + fn, 1),
                    "share_ongoing": len(later_by["ongoing"]) / max(sum(map(len, later_by.values())), 1),
                    "base_rate": (tp + fn) / max(sum(map(len, later_by.values())), 1),
                    "mean_later_items": {k: float(np.mean(v)) if v else None for k, v in later_by.items()}}
    # -- rank: cross-fitted; each half of the users is ranked by a model learned on the other half,
    # so every user is evaluated and none by a model that saw them ------------------------------
    train = [u for u in rows if _half(u) == 0]
    models = {}
    for fold in (0, 1):
        fit_on = [u for u in rows if _half(u) == fold]
        X = np.stack([features(j, rows[u][1]) for u in fit_on for j in rows[u][0]])
        y = np.log1p(np.array([g for u in fit_on for g in rows[u][2]]))  # graded label
        models[1 - fold] = (LearnedRanker(seed=seed).fit(X, y), len(y))
    fixed = {n: RANKERS.create(n) for n in ("size", "recency", "heuristic")}
    evaluated = [u for u in rows if len(rows[u][0]) >= 2 and rows[u][2].sum() > 0]
    ndcg: dict[str, list[float]] = {n: [] for n in ("learned", *fixed)}
    top3: dict[str, list] = {}
    for u in evaluated:
        js, act, gains = rows[u]
        g = {j.journey_id: x for j, x in zip(js, gains)}
        for n, r in {"learned": models[_half(u)][0], **fixed}.items():
            ranked = r.rank(js, act)
            ndcg[n].append(ndcg_at([g[j.journey_id] for j in ranked]))
            if n == "learned":
                top3[u] = ranked
    learned = models[1][0]  # learned on half 0: used below for half-1 users, as the diversify fit
    from journeys.bench.after_expand import paired

    out["rank"] = {"users": len(evaluated), "cross_fitted": "2 folds by user hash; each user ranked by the "
                   "model learned on the other fold",
                   "train_journeys": [models[1][1], models[0][1]],
                   "ndcg@3": {n: float(np.mean(v)) for n, v in ndcg.items()},
                   "learned_minus": {n: {k: p[k] for k in ("diff", "ci95")}
                                     for n in ("size", "recency", "heuristic")
                                     if (p := paired(ndcg["learned"], ndcg[n], seed))}}
    # -- diversify: the threshold is chosen on the training half ----------------------------------
    # among percentiles of its within-user centroid pairs, the one whose penalty leaves the lowest
    # mean top-3 similarity there (ties: the higher threshold); users with >= 4 journeys, whose top
    # 3 the penalty can change
    pairs = [s for u in train for s in _pair_sims(rows[u][0])]

    def top3_sims(users, threshold, penalty=settings.after.penalty):
        div = PenaltyDiversifier(penalty, threshold)
        sims, changed = {"without": [], "with": []}, 0
        for u in users:
            ranked = learned.rank(rows[u][0], rows[u][1])
            d = div.diversify(ranked)
            sims["without"].append(mean_pairwise_similarity(ranked[:3]))
            sims["with"].append(mean_pairwise_similarity(d[:3]))
            changed += {j.journey_id for j in d[:3]} != {j.journey_id for j in ranked[:3]}
        return sims, changed

    fit_users = [u for u in train if len(rows[u][0]) >= 4]
    grid = {q: round(float(np.percentile(pairs, q)), 3) for q in (10, 25, 50, 75, 90)} if pairs else {}
    scores = {q: float(np.mean(top3_sims(fit_users, t)[0]["with"])) for q, t in grid.items()}
    q = min(scores, key=lambda q: (round(scores[q], 4), -q)) if scores else None
    threshold = grid[q] if q is not None else settings.after.similarity
    test_users = [u for u in rows if _half(u) == 1 and len(rows[u][0]) >= 4]
    sims, changed = top3_sims(test_users, threshold)
    div = PenaltyDiversifier(settings.after.penalty, threshold)
    cost = [ndcg_at([dict(zip([j.journey_id for j in rows[u][0]], rows[u][2]))[j.journey_id]
                     for j in div.diversify(top3[u])]) for u in evaluated]
    out["diversify"] = {"users": len(test_users), "threshold": threshold,
                        "threshold_from": f"percentile {q} of {len(pairs)} train-half pairs (grid {grid}, "
                                          f"train top-3 similarity {({k: round(v, 4) for k, v in scores.items()})})",
                        "configured_threshold": settings.after.similarity, "penalty": settings.after.penalty,
                        "top3_changed": changed,
                        "stronger_penalties": {p: {"top3_changed": c, "mean_sim_top3_with": float(np.mean(v["with"]))}
                                               for p in (0.8, 0.5) for v, c in [top3_sims(test_users, threshold, p)]},
                        "ndcg@3_learned_diversified": float(np.mean(cost)) if cost else None,
                        **{f"mean_sim_top3_{k}": float(np.mean(v)) if v else None for k, v in sims.items()}}
    # -- expand (collaborative): top-3 expansions vs as many random journeys of other users -----
    from journeys.bench import after_expand

    expander = Expander(["collaborative"], ground_threshold=settings.after.ground_threshold,
                        params=settings.after.params)
    users = [u for u in rows if _half(u) == 1 and later[u]]
    ranked = {u: learned.rank(rows[u][0], rows[u][1]) for u in users}
    seen = {u: {e.item_id for e in rows[u][1].events} for u in users}
    catalogue, peers = Catalogue.of(vectors), PeerIndex.of([j for js, _, _ in rows.values() for j in js])
    out["expand"] = after_expand.evaluate(users, ranked, later, seen, catalogue, peers, expander, seed)
    if llm_users:  # the llm source on a sample of the evaluated users (local LLM, one thread)
        sample = sorted(users, key=lambda u: hashlib.sha1(f"llm{u}".encode()).hexdigest())[:llm_users]
        llm = Expander(["llm"], ground_threshold=settings.after.ground_threshold,
                       params={"llm": {"threads": 1, **settings.after.options("llm")}})
        out["expand"]["llm"] = after_expand.evaluate_llm(sample, ranked, later, seen, catalogue, peers, llm, d.embed, seed)
    out["setup"]["seconds"] = round(time.perf_counter() - t0, 1)
    return out
