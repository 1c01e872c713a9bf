"""Journey-aware recommendations: known answers on a tiny planted catalogue (hashing embedder)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse

from journeys.embed import EMBEDDERS
from journeys.recommend import RECOMMENDERS, ItemSpace, Steering, UserState, slot_quotas
from journeys.recommend_hybrid import profile_weights
from journeys.types import Journey

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
TOPICS = {
    "u": ("ukulele", ["Ukulele chords for beginners", "Tuning a soprano ukulele", "Ukulele strumming patterns",
                      "Ukulele fingerpicking exercises", "Ukulele songs with three chords", "Baritone ukulele basics"]),
    "h": ("hydroponics", ["Hydroponic lettuce on a windowsill", "Kratky hydroponics explained",
                          "Hydroponic nutrient solution", "LED grow lights for hydroponics",
                          "Building a hydroponic tower", "Hydroponic basil and mint"]),
    "p": ("pizza", ["Neapolitan pizza dough", "Pizza dough baking in a home oven", "Sourdough pizza dough",
                    "Pizza stone or steel", "Tomato sauce for pizza", "Pizza dough hydration"]),
}


@pytest.fixture(scope="module")
def world():
    emb = EMBEDDERS.create("hashing")
    ids, titles, texts = [], [], []
    for prefix, (tag, names) in TOPICS.items():
        for n, name in enumerate(names, 1):
            ids.append(f"{prefix}{n}")
            titles.append(name)
            texts.append(f"{name}. {tag}")
    space = ItemSpace(tuple(ids), tuple(titles), emb.embed(texts))
    index = space.index()
    users = {  # alice: two journeys; others complete each topic (collaborative signal)
        "alice": ["u1", "u2", "u3", "h1", "h2", "h3"],
        "bob": [f"u{i}" for i in range(1, 7)],
        "carol": [f"h{i}" for i in range(1, 7)],
        "dan": [f"p{i}" for i in range(1, 7)],
    }
    names = sorted(users)
    r = [n for n, u in enumerate(names) for _ in users[u]]
    c = [index[i] for u in names for i in users[u]]
    x = sparse.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(names), len(ids)))

    def journey(jid, user, name, items, day):
        rows = [index[i] for i in items]
        cent = space.vectors[rows].sum(0)
        return Journey(jid, user, name, "test", (), tuple(items), len(items), T0 + timedelta(days=day),
                       T0 + timedelta(days=day + 3), tuple(float(v) for v in cent / np.linalg.norm(cent)))

    uke = journey("j_uke", "alice", "Ukulele", ["u1", "u2", "u3"], 0)
    hydro = journey("j_hydro", "alice", "Hydroponics", ["h1", "h2", "h3"], 1)
    others = [journey("j_dan", "dan", "Pizza", users["dan"], 0)]
    rec = RECOMMENDERS.create("journeys", scorer="item-knn", query_match=0.15, text_weight=0.1)
    rec.fit(space, x, [uke, hydro, *others], embed=emb.embed)
    seen = np.array(sorted(index[i] for i in users["alice"]))
    return rec, space, uke, hydro, seen


def _alice(world, *journeys):
    rec, space, uke, hydro, seen = world
    return UserState("alice", tuple(journeys) or (uke, hydro), seen, seen)


def test_plain_recommendations_share_slots_and_never_repeat_seen_items(world):
    rec, space, uke, hydro, seen = world
    recs = rec.recommend(_alice(world), 6)
    items = [r.item_id for r in recs]
    assert sorted(items) == ["h4", "h5", "h6", "u4", "u5", "u6"]  # the unseen items of her two topics
    assert {r.journey_id for r in recs if r.item_id.startswith("u")} == {"j_uke"}
    assert {r.journey_id for r in recs if r.item_id.startswith("h")} == {"j_hydro"}
    assert [r.rank for r in recs] == list(range(1, 7))
    assert all(r.reason.startswith("for your journey ") and ": like " in r.reason for r in recs)
    uke_reason = next(r.reason for r in recs if r.journey_id == "j_uke")
    assert uke_reason.split(": like ")[1] in {"Ukulele chords for beginners", "Tuning a soprano ukulele",
                                              "Ukulele strumming patterns"}


def test_every_journey_with_candidates_gets_a_slot_even_when_k_is_small(world):
    rec, *_ = world
    recs = rec.recommend(_alice(world), 2)
    assert {r.journey_id for r in recs} == {"j_uke", "j_hydro"}


def test_a_hidden_journey_gets_no_slots(world):
    rec, space, uke, hydro, seen = world
    recs = rec.recommend(_alice(world, replace(uke, hidden=True), hydro), 6)
    assert recs and all(r.journey_id == "j_hydro" for r in recs)
    assert [r.item_id for r in recs][:3] and set(r.item_id for r in recs[:3]) == {"h4", "h5", "h6"}
    # the hidden journey's items leave the profile too: nothing speaks for ukulele items any more
    # (with it in the profile they score well above the unrelated pizza items)
    assert all(r.score < 0.1 for r in recs if not r.item_id.startswith("h"))  # text only (weight 0.1)
    shown = rec.recommend(_alice(world), 12)
    assert min(r.score for r in shown if r.item_id.startswith("u")) > 0.5


def test_a_pinned_journey_comes_first(world):
    rec, space, uke, hydro, seen = world
    recs = rec.recommend(_alice(world, uke, replace(hydro, pinned=True)), 6)
    assert [r.journey_id for r in recs[:3]] == ["j_hydro"] * 3


def test_exclude_journey(world):
    rec, *_ = world
    recs = rec.recommend(_alice(world), 6, Steering(exclude_journeys=("j_hydro",)))
    assert {r.journey_id for r in recs} == {"j_uke"}


def test_steer_to_one_journey_fills_every_slot_with_its_most_specific_items(world):
    rec, *_ = world
    recs = rec.recommend(_alice(world), 5, Steering(journey="j_uke"))
    assert len(recs) == 5 and {r.journey_id for r in recs} == {"j_uke"}
    assert {r.item_id for r in recs[:3]} == {"u4", "u5", "u6"}  # ukulele items before the rest


def test_query_matching_a_journey_boosts_it(world):
    rec, *_ = world
    recs = rec.recommend(_alice(world), 3, Steering(query="hydroponic growing"))
    assert [r.journey_id for r in recs] == ["j_hydro"] * 3
    assert {r.item_id for r in recs} == {"h4", "h5", "h6"}


def test_query_matching_no_journey_becomes_a_search_driven_journey(world):
    rec, *_ = world
    recs = rec.recommend(_alice(world), 3, Steering(query="pizza dough"))
    assert all(r.journey_id.startswith("q_") and "pizza dough" in r.reason for r in recs)
    assert all(r.item_id.startswith("p") for r in recs)


def test_explore_recommends_from_related_journeys(world):
    rec, space, uke, hydro, seen = world
    related = replace(uke, related=("pizza dough baking",))
    recs = rec.recommend(_alice(world, related, hydro), 3, Steering(explore=True))
    assert recs and all(r.item_id.startswith("p") for r in recs)
    assert all(r.journey_id == "j_uke" and "pizza dough baking" in r.reason for r in recs)


def test_explore_without_related_names_uses_other_users_journeys(world):
    import copy

    rec = copy.copy(world[0])
    rec.explore_low = -1.0  # in hashing space every foreign journey counts as a neighbour
    recs = rec.recommend(_alice(world), 3, Steering(explore=True))
    assert len(recs) == 3 and all(r.item_id.startswith("p") for r in recs)  # dan's pizza journey
    assert all(r.journey_id in {"j_uke", "j_hydro"} and r.reason.endswith(": Pizza") for r in recs)


def test_a_user_with_no_journeys_gets_a_provisional_one(world):
    rec, space, uke, hydro, seen = world
    recs = rec.recommend(UserState("alice", (), seen, seen), 3)
    assert recs and all(r.journey_id.startswith("p_") for r in recs)


@given(st.lists(st.floats(0.01, 100.0), min_size=0, max_size=12), st.integers(0, 30))
def test_slot_quotas_sum_to_k_give_one_each_and_never_favour_lower_ranks(weights, k):
    q = slot_quotas(np.array(weights), k)
    assert len(q) == len(weights)
    if weights:
        assert q.sum() == k
        assert (q[: min(k, len(weights))] >= 1).all()
        assert (np.diff(q) <= 0).all() or len(q) < 2
    else:
        assert q.sum() == 0


def test_profile_weights_halve_every_half_life_items_and_drop_hidden_items():
    w = profile_weights(np.array([5, 3, 9]), dropped=[3], half_life=1.0)
    assert w.tolist() == [0.25, 0.0, 1.0]  # oldest first; item 3 belongs to a hidden journey
    assert profile_weights(np.array([5, 3]), (), half_life=0.0).tolist() == [1.0, 1.0]


@given(st.lists(st.sampled_from(["u", "h", "x"]), min_size=6, max_size=6), st.integers(1, 12),
       st.booleans(), st.floats(0.0, 1.0))
def test_every_recommendation_is_attributed_to_an_active_journey_of_the_user(world, owners, k, hide, spread):
    """Any split of alice's items into journeys (x: unassigned), any k, a hidden journey or not."""
    import copy

    rec, space, uke, hydro, seen = world
    rec = copy.copy(rec)
    rec.spread = spread
    items = ["u1", "u2", "u3", "h1", "h2", "h3"]
    a = replace(uke, item_ids=tuple(i for i, o in zip(items, owners) if o == "u") or ("u1",))
    b = replace(hydro, item_ids=tuple(i for i, o in zip(items, owners) if o == "h") or ("h1",), hidden=hide)
    recs = rec.recommend(UserState("alice", (a, b), seen, seen), k)
    active = {"j_uke"} | (set() if hide else {"j_hydro"})
    assert len(recs) == min(k, len(space.item_ids) - len(seen))
    assert all(r.journey_id in active and r.reason.startswith("for your journey ") for r in recs)
    assert len({r.item_id for r in recs}) == len(recs) and not {r.item_id for r in recs} & set(items)
    assert [r.rank for r in recs] == list(range(1, len(recs) + 1))


def test_greedy_slots_keep_one_per_journey_and_spread_lowers_a_journeys_next_item():
    from journeys.recommend_hybrid import _greedy

    base, attr, quotas, caps = np.array([1.0, 0.95, 0.9, 0.5]), np.array([0, 0, 0, 1]), np.array([1, 1]), np.array([9, 9])
    assert _greedy(base, attr, quotas, caps, 2, spread=0.0) == [0, 3]  # journey 1's only item keeps its slot
    assert _greedy(base, attr, quotas, caps, 3, spread=0.0) == [0, 1, 3]
    assert _greedy(base, attr, quotas, caps, 3, spread=0.5) == [0, 3, 1]  # 0.95 - 0.5 < 0.5
    assert _greedy(base, attr, np.array([1, 0]), caps, 2, spread=0.0) == [0, 1]  # no quota: no reserved slot
