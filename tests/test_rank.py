"""Rank: conformance for every ranker; pinned first, hidden last; the learned artifact."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from journeys.rank import FEATURES, RANKERS, LearnedRanker, features
from journeys.store.sqlite import SQLiteStore
from tests.after_shared import journey, user


def sample():
    big_old = journey("big", [0, 1, 2, 3, 4, 5, 6, 7])
    small_new = journey("new", [95, 97, 99], kinds=["save", "like", "view"])
    mid = journey("mid", [50, 60, 70, 80])
    return user(big_old, small_new, mid, now=100)


class RankerConformance:
    name = ""

    def make(self):
        return RANKERS.create(self.name)

    def test_permutation_with_scores_and_source(self):
        js, act = sample()
        out = self.make().rank(js, act)
        assert sorted(j.journey_id for j in out) == sorted(j.journey_id for j in js)
        assert all(j.score_source for j in out)
        scores = [j.score for j in out]
        assert scores == sorted(scores, reverse=True)

    def test_pinned_first_hidden_last(self):
        js, act = sample()
        js = [dataclasses.replace(js[0], hidden=True), js[1], dataclasses.replace(js[2], pinned=True)]
        out = self.make().rank(js, act)
        assert out[0].journey_id == "mid" and out[-1].journey_id == "big"


@pytest.mark.parametrize("name", RANKERS.names())
def test_every_registered_ranker_is_covered(name):
    assert name in {c.name for c in RankerConformance.__subclasses__()}


class TestHeuristic(RankerConformance):
    name = "heuristic"


class TestSize(RankerConformance):
    name = "size"


class TestRecency(RankerConformance):
    name = "recency"


class TestLearned(RankerConformance):
    name = "learned"


def test_known_orders():
    js, act = sample()
    assert [j.journey_id for j in RANKERS.create("size").rank(js, act)] == ["big", "mid", "new"]
    assert [j.journey_id for j in RANKERS.create("recency").rank(js, act)] == ["new", "mid", "big"]
    # 3+3+1 strength-weighted events 1 day old beat 8 views 93+ days old
    assert [j.journey_id for j in RANKERS.create("heuristic").rank(js, act)][0] == "new"


def test_saves_and_likes_weigh_more_than_views():
    js, act = sample()
    f = dict(zip(FEATURES, features(js[1], act)))
    assert f["strong_share"] == pytest.approx(2 / 3) and f["log_weighted"] == pytest.approx(np.log1p(7))


def test_untrained_learned_ranker_says_heuristic_then_trains_saves_and_loads_a_version(tmp_path):
    js, act = sample()
    with SQLiteStore(tmp_path / "j.db") as store:
        assert LearnedRanker(store=store).rank(js, act)[0].score_source == "heuristic"
        X = np.stack([features(j, act) for j in js] * 4)
        y = np.array([0, 1, 1] * 4)
        r = LearnedRanker().fit(X, y)
        assert r.save(store) == 1 and r.save(store) == 2
        loaded = LearnedRanker(store=store)
        assert loaded.trained and loaded.version_ == 2
        assert b"pickle" not in store.get_artifact("ranker:v2")
        out = loaded.rank(js, act)
        assert out[0].score_source == "ranker:v2" and out[-1].journey_id == "big"
        np.testing.assert_allclose(loaded.decision(X), r.decision(X))


def test_recent_focus_features_known_answers():
    # a: 10 events on days 0-9; b: 5 events on days 20-24; now = day 25
    js, act = user(journey("a", list(range(10))), journey("b", [20, 21, 22, 23, 24]), now=25)
    fa, fb = (dict(zip(FEATURES, features(j, act))) for j in js)
    assert (fa["share_last_5"], fb["share_last_5"]) == (0.0, 1.0)
    assert (fa["share_last_10"], fb["share_last_10"]) == (0.5, 0.5)
    assert fa["share_last_50"] == 10 / 15 and fb["share_last_50"] == 5 / 15  # all 15 events
    assert fb["log_last_7_days"] == math.log1p(5) and fa["log_last_7_days"] == 0.0
    assert fa["log_last_30_days"] == math.log1p(10)
