"""Expansion on MovieLens cut at 80% (part of `journeys bench journeys`, BENCHMARKS.md section 6).

For each evaluated user, the top-3 expansions of their journeys at the cut (ranked by the learned
ranker) each keep `items` grounded movies the user has not rated before the cut; a hit is a user
whose later movies include at least one of them. The baseline draws, for the same user, as many
journeys of other users uniformly at random (so a popular kind of journey is drawn often), none
with a name the user already has, and grounds each exactly as an expansion is grounded, with the
same item budget and the same exclusion of seen movies. So the two sides differ only in which
journeys are chosen. Two groundings are reported:
- `collaborative`: the items of the peers' journeys of that name, ranked for the user by the votes
  of their 50 nearest neighbours (the default, `Expander.for_user`);
- `centroid`: the catalogue movies nearest the name's centroid (content only, no neighbours).
The difference is given with a paired bootstrap 95% interval over users.
"""

from __future__ import annotations

import numpy as np

from journeys.expand import ExpandContext, Expander, normalise


def paired(a, b, seed: int = 0, n: int = 2000) -> dict:
    """Mean of a, of b, and of a - b with a paired bootstrap 95% interval (resampling users)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not len(a):
        return {"a": None, "b": None, "diff": None, "ci95": None, "n": 0}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n, len(a)))
    boot = (a[idx] - b[idx]).mean(axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"a": float(a.mean()), "b": float(b.mean()), "diff": float((a - b).mean()),
            "ci95": [round(float(lo), 4), round(float(hi), 4)], "n": int(len(a))}


def evaluate(users, ranked, later, seen, catalogue, peers, expander: Expander, seed: int = 0, top: int = 3) -> dict:
    """`ranked[u]`: the user's journeys in rank order; `seen[u]`: items met before the cut."""
    rng = np.random.default_rng(seed)
    n = expander.items
    hits = {g: {"expansion": [], "random": []} for g in ("collaborative", "centroid")}
    budget = {"expansion": [], "random": []}
    memo: dict = {}
    for u in users:
        ctx = ExpandContext(ranked[u], catalogue, peers, memo=memo, seen=frozenset(seen[u]))
        exp = expander.expand_user(ctx)[:top]
        if not exp:
            continue
        mine = {normalise(j.name) for j in ranked[u]}
        pool = [r for r, j in enumerate(peers.journeys) if j.user_id != u and normalise(j.name) not in mine]
        drawn: list[str] = []
        while len(drawn) < len(exp) and pool:
            k = normalise(peers.journeys[pool[int(rng.integers(len(pool)))]].name)
            if k not in drawn:
                drawn.append(k)
            pool = [r for r in pool if normalise(peers.journeys[r].name) not in drawn]
        weights = expander.weights(ctx)
        sides = {"expansion": [normalise(e.name) for e in exp], "random": drawn}
        for side, keys in sides.items():
            got = {i for e in exp for i in e.item_ids} if side == "expansion" else {i for k in keys for i in expander.for_user(
                k, [i for i in peers.name_items(k, expander.pool) if i in catalogue], ctx, weights)}
            hits["collaborative"][side].append(bool(got & later[u]))
            budget[side].append(len(got))
            near = set()
            for k in keys:
                v = peers.name_vector(k)
                found = catalogue.nearest(v, n + len(seen[u]), expander.ground_threshold) if v is not None else ()
                near |= set([i for i in found if i not in seen[u]][:n])
            hits["centroid"][side].append(bool(near & later[u]))
    out = {"users": len(hits["centroid"]["random"]), "items_per_expansion": n,
           "mean_items_per_user": {k: float(np.mean(v)) if v else None for k, v in budget.items()}}
    for g, h in hits.items():
        p = paired(h["expansion"], h["random"], seed)
        out[g] = {"hit_rate_expansion": p["a"], "hit_rate_random": p["b"], "diff": p["diff"], "ci95": p["ci95"]}
    return out


def evaluate_llm(users, ranked, later, seen, catalogue, peers, expander: Expander, embed, seed: int = 0,
                 top: int = 3) -> dict:
    """The `llm` source on a sample of users. Its names are free text, so both sides are grounded
    alike: the catalogue movies nearest the embedded name, ranked for the user by their
    neighbours' votes over all their journeys; the baseline draws random names of other users'
    journeys as `evaluate` does."""
    rng = np.random.default_rng(seed)
    hits: dict[str, list] = {"expansion": [], "random": []}
    names, budget = [], {"expansion": [], "random": []}
    memo: dict = {}
    for u in users:
        ctx = ExpandContext(ranked[u], catalogue, peers, embed, memo=memo, seen=frozenset(seen[u]))
        exp = expander.expand_user(ctx)[:top]
        if not exp:
            continue
        mine = {normalise(j.name) for j in ranked[u]}
        keys = sorted({normalise(j.name) for j in peers.journeys if j.user_id != u} - mine)
        pool = [normalise(j.name) for j in peers.journeys if j.user_id != u and normalise(j.name) in set(keys)]
        drawn: list[str] = []
        while len(drawn) < len(exp) and len(drawn) < len(set(pool)):
            k = pool[int(rng.integers(len(pool)))]
            drawn += [k] if k not in drawn else []
        weights = expander.weights(ctx)
        vecs = embed([peers.display_name(k) for k in drawn]) if drawn else []
        rand = {i for v in vecs for i in expander.for_user(
            "", catalogue.nearest(v, expander.pool, expander.ground_threshold), ctx, weights, by_name=False)}
        got = {i for e in exp for i in e.item_ids}
        for side, items in (("expansion", got), ("random", rand)):
            hits[side].append(bool(items & later[u]))
            budget[side].append(len(items))
        names.append({"user": u, "journeys": [j.name for j in ranked[u][:3]], "expansions": [e.name for e in exp]})
    p = paired(hits["expansion"], hits["random"], seed)
    return {"users": p["n"], "hit_rate_expansion": p["a"], "hit_rate_random": p["b"], "diff": p["diff"],
            "ci95": p["ci95"], "mean_items_per_user": {k: float(np.mean(v)) if v else None for k, v in budget.items()},
            "examples": names[:5]}
