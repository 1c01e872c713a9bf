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
