"""The plain (and query-boosted) path of the `journeys` recommender: collaborative candidates,
reranked, spread over and attributed to the user's journeys.

1. **Profile.** The user's interest items in time order, each weighted 0.5^(age / half_life),
   age counted in items from the latest (`half_life` 0: all alike); items of hidden or excluded
   journeys weigh nothing, so an edit steers the whole list, not only the slots.
2. **Candidates.** The collaborative scorer (EASE by default) scores the catalogue from that
   profile; the `pool` best unseen items are the candidates, and with `every` > 0 each active
   journey adds its own best unseen item (its share of the scorer plus `every` x text cosine to
   its centroid), so every journey has a candidate.
3. **Attribution.** Because the scorer is linear, each journey's own items give that journey's
   part of an item's score; a candidate goes to the journey with the largest part (plus
   `text_weight` x cosine to its centroid).
4. **Slots.** Greedy: the best candidate next, its score lowered by `spread` for every slot its
   journey already holds (diminishing returns per journey) and by `diversity` x its largest text
   cosine to an item already picked (maximal marginal relevance); every journey with a candidate gets
   a slot while slots last (pinned first, then rank order); `calibration` (0..1) caps each journey
   at its share of the candidates plus (1 - calibration) x k.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from journeys.recommend import slot_quotas
from journeys.types import Journey


def profile_weights(positives: np.ndarray, dropped: Sequence[int], half_life: float) -> np.ndarray:
    """Weights of `positives` (time order, oldest first): recency decay, zero for dropped items."""
    n = len(positives)
    w = np.ones(n, dtype=np.float32)
    if half_life > 0 and n:
        w = (0.5 ** (np.arange(n - 1, -1, -1, dtype=np.float32) / half_life)).astype(np.float32)
    if len(dropped):
        w[np.isin(positives, np.asarray(dropped, dtype=np.int64))] = 0.0
    return w


def rerank(rec, user, js: Sequence[Journey], k: int, unseen: np.ndarray, boost=None,
           weights: np.ndarray | None = None, text_weight: float | None = None, half_life: float | None = None,
           diversity: float | None = None):
    """(chosen item rows, their journeys, scores) for the plain path; `boost` is added to every
    item's collaborative score (a query), `weights` scale the journeys' slot quotas; `text_weight`
    `half_life` and `diversity` override the recommender's."""
    from scipy import sparse

    tw = rec.text_weight if text_weight is None else text_weight
    half_life = rec.half_life if half_life is None else half_life
    diversity = rec.diversity if diversity is None else diversity
    index, n_items = rec.index_, len(rec.index_)
    groups = [np.array([index[i] for i in j.item_ids if i in index], dtype=np.int64) for j in js]
    live = set(j.journey_id for j in js)
    dropped = [index[i] for j in user.journeys if j.journey_id not in live for i in j.item_ids if i in index]
    pos = np.asarray(user.positives, dtype=np.int64)
    w = profile_weights(pos, dropped, half_life)
    wmap = np.zeros(n_items, dtype=np.float32)
    wmap[pos] = w
    # rows: each journey's items (weighted as in the profile), then the whole profile
    r = np.concatenate([np.full(len(g), n) for n, g in enumerate(groups)] + [np.full(len(pos), len(js))]).astype(np.int64)
    c = np.concatenate(groups + [pos]).astype(np.int64)
    m = sparse.csr_matrix((wmap[c], (r, c)), shape=(len(js) + 1, n_items))
    cf = rec.scorer_.scores(m)
    total = cf[-1]
    norm = float(np.max(np.where(unseen, total, -np.inf), initial=0.0)) or 1.0
    cf = cf / norm
    score = cf[-1] + (boost if boost is not None else 0.0)
    score = np.where(unseen, score, -np.inf)
    n_pool = min(int(rec.pool), int(unseen.sum()))
    if n_pool <= 0:
        return [], [], []
    pool = np.argpartition(-score, n_pool - 1)[:n_pool]
    pool = pool[np.isfinite(score[pool])]
    if rec.every > 0 and js:
        text_all = rec.centroids(js) @ rec.space_.vectors.T
        own = np.where(unseen[None, :], cf[:-1] + rec.every * text_all, -np.inf)
        best = own.argmax(axis=1)
        best = best[np.isfinite(own[np.arange(len(js)), best])]
        pool = np.union1d(pool, best)
    if not js or not len(pool):
        order = pool[np.argsort(-score[pool], kind="stable")][:k]
        return order.tolist(), [None] * len(order), score[order]
    text = rec.centroids(js) @ rec.space_.vectors[pool].T if tw else 0.0
    part = cf[:-1][:, pool] + tw * text
    attr = np.argmax(part, axis=0)
    base = score[pool] + (tw * text[attr, np.arange(len(pool))] if tw else 0.0)
    share = np.bincount(attr, minlength=len(js)).astype(np.float64)
    wq = share if weights is None else share * weights
    quotas = slot_quotas(np.maximum(wq, 1e-9), k)
    caps = np.floor(share / len(pool) * k + (1.0 - rec.calibration) * k).astype(np.int64)
    vecs = rec.space_.vectors[pool] if diversity else None
    chosen = _greedy(base, attr, quotas, np.maximum(caps, 1), k, rec.spread, vecs, diversity)
    pinned = np.array([js[attr[i]].pinned for i in chosen], dtype=bool)
    chosen = [chosen[n] for n in np.argsort(~pinned, kind="stable")]
    return ([int(pool[i]) for i in chosen], [js[attr[i]] for i in chosen],
            np.array([base[i] for i in chosen], dtype=np.float64))


def _greedy(base: np.ndarray, attr: np.ndarray, quotas: np.ndarray, caps: np.ndarray, k: int,
            spread: float, vecs: np.ndarray | None = None, diversity: float = 0.0) -> list[int]:
    """Pick k of the candidates: best adjusted score first (minus `spread` per slot its journey
    already holds, minus `diversity` x the largest text cosine to an item already picked), each
    journey up to its cap, keeping a slot for every journey with a quota and a candidate while
    slots last; then fill by score."""
    m = len(quotas)
    count = np.zeros(m, dtype=np.int64)
    has = np.bincount(attr, minlength=m) > 0
    unserved = has & (quotas > 0)
    free = np.ones(len(base), dtype=bool)
    near = np.zeros(len(base), dtype=np.float64)  # largest cosine to a picked item
    chosen: list[int] = []
    while len(chosen) < min(k, len(base)):
        ok = free & (count[attr] < caps[attr])
        if k - len(chosen) <= unserved.sum():
            ok &= unserved[attr]
        if not ok.any():
            break
        adj = np.where(ok, base - spread * count[attr] - diversity * near, -np.inf)
        i = int(np.argmax(adj))
        if vecs is not None:
            near = np.maximum(near, vecs @ vecs[i])
        chosen.append(i)
        free[i] = False
        count[attr[i]] += 1
        unserved[attr[i]] = False
    if len(chosen) < min(k, len(base)):
        rest = [int(i) for i in np.argsort(-base, kind="stable") if free[i]]
        chosen += rest[: k - len(chosen)]
    return chosen
