"""Recommendations on real logs (BENCHMARKS.md section 5): journeys against the recommenders
people use today, on the same split, in the same run.

Split: per user, distinct interest items (rating >= min_rating) in time order; the last 20% are
the test, the rest training; users with >= 5 interest items. Journeys and peers see training
only; training items are never recommended. Every method is tuned on a validation split carved
the same way from training (never on the test). Metrics at 10 and 20: recall (hits / min(k,
|test|)), NDCG, catalogue coverage, intra-list diversity (mean pairwise 1 - cosine of item text
vectors), interest coverage (share of a user's test items that fall in a journey the list serves:
an item falls in the journey whose centroid is nearest, when that cosine is >= FALL_IN; a list
serves the journeys its items fall in, the same rule for every method).
"""

from __future__ import annotations

import math

import numpy as np

FALL_IN = 0.3  # ICPC's join threshold for an item on text alone
KS = (10, 20)
PEERS = ("popularity", "item-knn", "ease", "als")
GRIDS = {
    "item-knn": [{"neighbours": n} for n in (50, 200)],
    "ease": [{"l2": x} for x in (50.0, 200.0, 500.0)],
    "als": [{"factors": f, "regularization": 0.05, "alpha": a} for f in (32, 64) for a in (1.0, 5.0)],
    "journeys": [{"half_life": h, "pool": 30, "every": e, "diversity": d}
                 for h in (10.0, 20.0) for e in (0.1, 1.0) for d in (0.2, 0.4)],
}


def split(events, min_rating: float, min_items: int = 5, test_share: float = 0.2):
    """{user: (train items in order, test items)} over distinct interest items."""
    by_user: dict[str, dict[str, None]] = {}
    for e in sorted(events, key=lambda e: (e.user_id, e.timestamp, e.item_id)):
        if not (e.kind == "rate" and e.weight < min_rating):
            by_user.setdefault(e.user_id, {}).setdefault(e.item_id, None)
    out = {}
    for u, items in by_user.items():
        ids = list(items)
        if len(ids) >= min_items:
            n_test = max(1, int(round(test_share * len(ids))))
            out[u] = (ids[:-n_test], ids[-n_test:])
    return out


class Setup:
    """Catalogue vectors and one train/test split as matrices."""

    def __init__(self, space, items: dict, parts: dict, events_at: dict):
        from scipy import sparse

        self.space, self.index, self.items = space, space.index(), items
        self.users = sorted(parts)
        self.train = {u: np.array([self.index[i] for i in parts[u][0]], dtype=np.int64) for u in self.users}
        self.test = {u: {self.index[i] for i in parts[u][1]} for u in self.users}
        r = [n for n, u in enumerate(self.users) for _ in self.train[u]]
        c = np.concatenate([self.train[u] for u in self.users])
        self.x = sparse.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)),
                                   shape=(len(self.users), len(space.item_ids)))
        self.events = [e for u in self.users for e in events_at[u] if e.item_id in set(parts[u][0])]


def _top(scores: np.ndarray, seen: np.ndarray, k: int) -> list[int]:
    s = scores.astype(np.float64).copy()
    s[seen] = -np.inf
    top = np.argpartition(-s, k)[:k]
    return [int(i) for i in top[np.argsort(-s[top], kind="stable")] if np.isfinite(s[i])]


def peer_lists(name: str, opts: dict, st: Setup, k: int, seed: int = 0) -> dict[str, list[int]]:
    if name == "als":
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(factors=opts["factors"], regularization=opts["regularization"],
                                        alpha=opts["alpha"], iterations=15, random_state=seed, num_threads=1)
        model.fit(st.x, show_progress=False)
        ids, _ = model.recommend(np.arange(len(st.users)), st.x, N=k, filter_already_liked_items=True)
        return {u: [int(i) for i in ids[n] if i >= 0] for n, u in enumerate(st.users)}
    from journeys.recommend_models import SCORERS

    scorer = SCORERS.create(name, **opts).fit(st.x)
    out = {}
    for start in range(0, len(st.users), 256):
        batch = st.users[start:start + 256]
        sc = scorer.scores(st.x[start:start + len(batch)])
        for n, u in enumerate(batch):
            out[u] = _top(sc[n], st.train[u], k)
    return out


def discover(st: Setup, settings, embedder, cache) -> dict[str, tuple]:
    """Journeys from the training events alone, through the same Pipeline as `discover`."""
    from journeys.pipeline import Pipeline

    pipe = Pipeline(settings, store=cache, embedder=embedder)
    pipe.prepare(st.items, st.events)
    by_user: dict[str, list] = {}
    for e in st.events:
        by_user.setdefault(e.user_id, []).append(e)
    return {u: pipe.run_user(u, by_user.get(u, [])).journeys for u in st.users}


def journey_lists(opts: dict, st: Setup, journeys: dict, k: int, l2: float, steering=None, rec=None):
    """Journeys' lists; `rec` (fitted) is reused with `opts` set on a copy (no refit)."""
    import copy

    from journeys.recommend import RECOMMENDERS, Steering, UserState

    if rec is None:
        rec = RECOMMENDERS.create("journeys", scorer="ease", scorer_options={"l2": l2}, **opts)
        rec.fit(st.space, st.x, [j for u in st.users for j in journeys[u]])
    elif opts:
        rec = copy.copy(rec)
        for name, value in opts.items():
            setattr(rec, name, value)
    out, jids = {}, {}
    for u in st.users:
        recs = rec.recommend(UserState(u, journeys[u], st.train[u], st.train[u]), k, steering or Steering())
        out[u] = [st.index[r.item_id] for r in recs]
        jids[u] = [r.journey_id for r in recs]
    return out, jids, rec


def falls_in(st: Setup, journeys: dict, rec) -> dict[str, np.ndarray]:
    """Per user: for every catalogue item, the index of the journey it falls in (or -1)."""
    out = {}
    for u in st.users:
        js = journeys[u]
        if not js:
            out[u] = np.full(len(st.index), -1)
            continue
        sims = rec.centroids(js) @ st.space.vectors.T
        best = sims.argmax(0)
        out[u] = np.where(sims[best, np.arange(sims.shape[1])] >= FALL_IN, best, -1)
    return out


def metrics(lists: dict[str, list[int]], st: Setup, fall: dict, k: int) -> dict[str, float]:
    rec, ndcg, ild, cov = [], [], [], []
    v = st.space.vectors
    for u in st.users:
        got, test = lists[u][:k], st.test[u]
        hits = [1.0 if i in test else 0.0 for i in got]
        rec.append(sum(hits) / min(k, len(test)))
        idcg = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(test))))
        ndcg.append(sum(h / math.log2(r + 2) for r, h in enumerate(hits)) / idcg)
        if len(got) > 1:
            s = v[got] @ v[got].T
            ild.append(float((1.0 - s[np.triu_indices(len(got), 1)]).mean()))
        served = {int(fall[u][i]) for i in got} - {-1}
        cov.append(sum(int(fall[u][i]) in served for i in test) / len(test))
    items = {i for u in st.users for i in lists[u][:k]}
    return {f"recall@{k}": float(np.mean(rec)), f"ndcg@{k}": float(np.mean(ndcg)),
            f"coverage@{k}": len(items) / len(st.index), f"diversity@{k}": float(np.mean(ild)) if ild else math.nan,
            f"interest@{k}": float(np.mean(cov))}


def evaluate(lists, st, fall) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in KS:
        out.update(metrics(lists, st, fall, k))
    return out


def tune(st: Setup, journeys: dict, k: int, seed: int) -> dict[str, dict]:
    """Each peer's best setting by recall@k on the validation split. Journeys, by the targets: among
    the settings whose recall@k is at least the best peer's and whose diversity@k and interest@k
    beat its, those within 1% of the best such recall count as tied, and the one with the highest
    interest@k (then diversity@k) wins; with no such setting, the best recall@k."""
    best: dict[str, dict] = {"popularity": {}}
    at: dict[str, float] = {}
    for name in ("item-knn", "ease", "als"):
        recall = [metrics(peer_lists(name, o, st, k, seed), st, _no_fall(st), k)[f"recall@{k}"] for o in GRIDS[name]]
        n = max(range(len(recall)), key=lambda n: (recall[n], -n))
        best[name], at[name] = GRIDS[name][n], recall[n]
    peer = max(at, key=lambda m: at[m])
    _, _, rec = journey_lists({}, st, journeys, k, best["ease"]["l2"])
    fall = falls_in(st, journeys, rec)
    pm = metrics(peer_lists(peer, best[peer], st, k, seed), st, fall, k)
    ms = [metrics(journey_lists(o, st, journeys, k, best["ease"]["l2"], rec=rec)[0], st, fall, k)
          for o in GRIDS["journeys"]]
    best["journeys"] = GRIDS["journeys"][pick(ms, pm, k)]
    return best


def pick(ms: list[dict], peer: dict, k: int, band: float = 0.01) -> int:
    """Index of the setting `tune` keeps for journeys (see there), given each setting's and the
    best peer's validation metrics."""
    r, d, i = f"recall@{k}", f"diversity@{k}", f"interest@{k}"
    ok = [n for n, m in enumerate(ms) if m[r] >= peer[r] and m[d] > peer[d] and m[i] > peer[i]]
    if not ok:
        return max(range(len(ms)), key=lambda n: (ms[n][r], -n))
    top = max(ms[n][r] for n in ok)
    return max((n for n in ok if ms[n][r] >= (1.0 - band) * top), key=lambda n: (ms[n][i], ms[n][d], -n))


def _no_fall(st: Setup) -> dict:
    return {u: np.full(len(st.index), -1) for u in st.users}
