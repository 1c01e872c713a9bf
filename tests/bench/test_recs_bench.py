"""`journeys bench recs`: the split and the rule that keeps journeys' setting (known answers)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from journeys.bench.recs import pick, split
from journeys.types import Event

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def m(recall, diversity, interest):
    return {"recall@20": recall, "diversity@20": diversity, "interest@20": interest}


def test_pick_prefers_interest_among_near_ties_that_meet_every_target():
    peer = m(0.20, 0.50, 0.90)
    ms = [m(0.25, 0.49, 0.99),   # best recall, but less diverse than the peer
          m(0.22, 0.51, 0.91),   # meets the targets
          m(0.2195, 0.52, 0.95),  # within 1% of it and covers more interest: kept
          m(0.21, 0.60, 0.99)]   # meets the targets but 4.5% below the best recall
    assert pick(ms, peer, 20) == 2


def test_pick_falls_back_to_recall_when_no_setting_meets_the_targets():
    peer = m(0.30, 0.50, 0.90)
    assert pick([m(0.22, 0.6, 0.95), m(0.25, 0.4, 0.8)], peer, 20) == 1


def test_split_keeps_the_last_fifth_of_distinct_interest_items_as_test():
    ev = [Event("u", f"i{n}", T0 + timedelta(days=n), "rate", 4.0) for n in range(10)]
    ev += [Event("u", "i3", T0 + timedelta(days=20), "rate", 4.0),  # a repeat keeps its first place
           Event("u", "low", T0 + timedelta(days=21), "rate", 2.0),  # not interest
           Event("v", "a", T0, "rate", 5.0)]  # fewer than 5 interest items: left out
    parts = split(ev, min_rating=3.5)
    assert list(parts) == ["u"]
    assert parts["u"] == ([f"i{n}" for n in range(8)], ["i8", "i9"])
