"""Granularity report on known answers (issue 12)."""

from __future__ import annotations

import numpy as np

from journeys.bench import granularity
from journeys.bench.synth import PROFILES, load_collections, make_users
from tests.bench.test_synth import TINY


def test_report_known_answers():
    light = {"a": 0, "b": 0, "c": 0, "d": -1}  # one journey of 3: dominant
    heavy = {f"i{n}": n // 5 for n in range(20)}  # 4 journeys of 5: not dominant
    skew = {**{f"j{n}": 0 for n in range(9)}, "x": 1}  # 9 of 10 in one journey: dominant
    out = granularity.report([light, heavy, skew])
    assert out["share_dominant"] == 2 / 3
    assert out["size_max"] == 9 and out["size_p50"] == 5 and out["over_200"] == 0
    assert out["top_decile"] == 4.0  # the heaviest user (20 items) has 4 journeys


def test_deciles_are_equal_sized_and_ordered():
    d = granularity.deciles(np.arange(100)[::-1])
    assert np.bincount(d)[1:].tolist() == [10] * 10 and d[0] == 10 and d[-1] == 1


def test_heavy_profile_is_popularity_skewed():
    colls = load_collections(TINY)
    p = PROFILES["heavy"]
    data = make_users(colls, n_users=300, seed=0, k=(1, 1), items=(2, 2), popularity=3.0)
    uniform = make_users(colls, n_users=300, seed=0, k=(1, 1), items=(2, 2))
    from collections import Counter

    top = Counter(e.item_id for e in data.events).most_common(1)[0][1]
    top_u = Counter(e.item_id for e in uniform.events).most_common(1)[0][1]
    assert top > 2 * top_u and p["k"] == (5, 15) and p["items"] == (20, 150)
