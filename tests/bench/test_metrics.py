"""Extraction metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from journeys.bench import metrics

TRUTH = {"a1": "A", "a2": "A", "a3": "A", "a4": "A", "b1": "B", "b2": "B", "b3": "B", "n1": None}
# journey 0 = a1 a2 a3 n1; journey 1 = a4 b1 b2; b3 unassigned
PRED = {"a1": 0, "a2": 0, "a3": 0, "n1": 0, "a4": 1, "b1": 1, "b2": 1, "b3": -1}
PERFECT = {"a1": 0, "a2": 0, "a3": 0, "a4": 0, "b1": 1, "b2": 1, "b3": 1, "n1": -1}


def test_perfect_split_scores_one():
    m = metrics.user_metrics(TRUTH, PERFECT)
    for key in ("recall", "purity", "ari", "nmi"):
        assert m[key] == pytest.approx(1.0), key
    assert m["count_error"] == 0 and m["noise_absorbed"] == 0
    assert m["journeys"] == 2 and m["unassigned"] == pytest.approx(1 / 8)


def test_known_imperfect_split():
    # recall: A -> 3 of 4 in journey 0; B -> 2 of 3 in journey 1; mean(3/4, 2/3)
    assert metrics.recall(TRUTH, PRED) == pytest.approx((3 / 4 + 2 / 3) / 2)  # 0.7083
    # purity: journey 0 majority A holds 3 (n1 is noise, never pure); journey 1 majority B holds 2
    assert metrics.purity(TRUTH, PRED) == pytest.approx(5 / 7)
    # ARI with noise and unassigned items as singletons: contingency A/P0=3, A/P1=1, B/P1=2,
    # B/{b3}=1, N/P0=1 -> sum C(nij,2)=4, rows 9, cols 9, C(8,2)=28 -> (4-81/28)/(9-81/28)=31/171
    ari, nmi = metrics.ari_nmi(TRUTH, PRED)
    assert ari == pytest.approx(31 / 171)
    n = 8
    mi = (3 / n * math.log(n * 3 / (4 * 4)) + 1 / n * math.log(n * 1 / (4 * 3))
          + 2 / n * math.log(n * 2 / (3 * 3)) + 1 / n * math.log(n * 1 / (3 * 1))
          + 1 / n * math.log(n * 1 / (1 * 4)))
    h = -(4 / n * math.log(4 / n) + 3 / n * math.log(3 / n) + 1 / n * math.log(1 / n))
    assert nmi == pytest.approx(mi / h)  # both sides have sizes (4, 3, 1), so H(true) = H(pred)
    m = metrics.user_metrics(TRUTH, PRED)
    assert m["count_error"] == 0 and m["noise_absorbed"] == 1.0


def test_everything_unassigned():
    pred = {i: -1 for i in TRUTH}
    m = metrics.user_metrics(TRUTH, pred)
    assert m["recall"] == 0 and math.isnan(m["purity"]) and m["count_error"] == 2
    assert m["ari"] == pytest.approx(0.0)


def test_one_big_journey():
    pred = {i: 0 for i in TRUTH}
    assert metrics.recall(TRUTH, pred) == 1.0
    assert metrics.purity(TRUTH, pred) == pytest.approx(4 / 8)
    assert metrics.user_metrics(TRUTH, pred)["count_error"] == 1


def test_granularity_and_summary():
    preds = {"u1": PRED, "u2": PERFECT, "u3": {"x": -1}}
    g = metrics.granularity(preds.values())
    assert g["journeys_per_user"] == pytest.approx(4 / 3)
    assert g["mean_length"] == pytest.approx((4 + 3 + 4 + 3) / 4)
    assert g["share_1_3"] == pytest.approx(2 / 3)
    assert g["unassigned"] == pytest.approx((1 / 8 + 1 / 8 + 1) / 3)
    s = metrics.summarize({"u1": TRUTH, "u2": TRUTH}, {"u1": PRED, "u2": PERFECT})
    assert s["recall"] == pytest.approx(((3 / 4 + 2 / 3) / 2 + 1) / 2)
    assert s["purity"] == pytest.approx((5 / 7 + 1) / 2)


def test_mismatched_items_are_rejected():
    with pytest.raises(ValueError):
        metrics.recall(TRUTH, {"a1": 0})
