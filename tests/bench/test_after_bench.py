"""bench journeys: the planted stage part (known truth) and the NDCG helper."""

from __future__ import annotations

import math

from journeys.bench import stages
from journeys.bench.after_ml import ndcg_at


def test_planted_stages_reach_the_target_on_both_axes():
    out = stages.run(n_users=20, seed=3)
    assert out["accuracy"]["activity"] >= 0.9 and out["accuracy"]["kind"] >= 0.9
    conf = out["confusion"]["activity"]
    assert sum(conf["ongoing"].values()) == sum(conf["ended"].values()) == 40  # two planted kinds each


def test_the_none_stager_gets_nothing_right():
    out = stages.run(n_users=5, seed=3, stager="none")
    assert out["accuracy"] == {"activity": 0.0, "kind": 0.0}


def test_ndcg_known_answers():
    assert ndcg_at([3, 2, 1]) == 1.0
    assert ndcg_at([0, 0, 1]) == 0.5  # 1/log2(4) over 1
    assert math.isnan(ndcg_at([0, 0]))


def test_paired_bootstrap_known_answers():
    from journeys.bench.after_expand import paired

    same = paired([1, 0, 1, 0], [1, 0, 1, 0])
    assert same["diff"] == 0.0 and same["ci95"] == [0.0, 0.0]
    better = paired([1, 1, 1], [0, 0, 0])
    assert (better["a"], better["b"], better["diff"], better["ci95"]) == (1.0, 0.0, 1.0, [1.0, 1.0])


def test_expansion_benchmark_on_planted_peers():
    """Knitters bake; chess players do nothing else. A knitter whose later items are bread is hit
    by the expansion; both sides get the same item budget and never an item the user has seen."""
    import dataclasses

    import numpy as np

    from journeys.bench.after_expand import evaluate
    from journeys.expand import Catalogue, Expander, PeerIndex
    from tests.after_shared import journey

    def J(jid, user, name, vec, items):
        return dataclasses.replace(journey(jid, [0, 1], user=user, name=name, centroid=vec)[0], item_ids=tuple(items))

    knit, bread, chess = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
    peers = [J(f"k{u}", f"p{u}", "Knitting", knit, ["y1", "y2"]) for u in range(4)]
    peers += [J(f"b{u}", f"p{u}", "Bread", bread, ["b1", "b2", "b3"]) for u in range(4)]
    peers += [J(f"c{u}", f"q{u}", "Chess", chess, ["c1", "c2"]) for u in range(4)]
    me = [J("m1", "me", "Knitting", knit, ["y1"])]
    vecs = {i: np.array(v) for v, ids in ((knit, "y1 y2"), (bread, "b1 b2 b3"), (chess, "c1 c2")) for i in ids.split()}
    out = evaluate(["me"], {"me": me}, {"me": {"b2"}}, {"me": {"y1", "b1"}}, Catalogue.of(vecs),
                   PeerIndex.of(peers + me), Expander(["collaborative"], items=2), top=1)
    assert out["users"] == 1 and out["collaborative"]["hit_rate_expansion"] == 1.0
    assert out["mean_items_per_user"]["expansion"] == 2  # b2, b3: b1 was seen
    assert out["mean_items_per_user"]["random"] <= 2
