"""Noise stays noise: an item joins a journey only if the other users who have it behave like the
journey's members (evidence.py), not like strangers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.extract import NOISE, Corpus, UserHistory
from journeys.extract.evidence import drop_outsiders, incidence, member_llr
from journeys.extract.icpc import ICPC

DIM = 8


def _hist(user, ids, vec):
    return UserHistory(user, tuple(ids), np.stack([vec[i] for i in ids]).astype(np.float32))


def test_llr_known_answer():
    # me has a, b, x; u1-u3 have a and b; u4, u5 have x alone; u6 has a alone
    hs = [UserHistory(u, tuple(items), np.zeros((len(items), 1))) for u, items in
          [("me", "abx"), ("u1", "ab"), ("u2", "ab"), ("u3", "ab"), ("u4", "x"), ("u5", "x"), ("u6", "a")]]
    inc = incidence(hs, {"a": 0, "b": 1, "x": 2})
    llr = member_llr(inc, np.array([0, 1, 2]), self_user=0)
    # x: 2 co-users, none has a or b; stranger rate p0 = 4/6 (u1,u2,u3,u6 of 6 others),
    # member rate q = (6 + 1) / (7 + 2) from a's and b's co-users (k = 3 + 3 of n = 4 + 3)
    assert np.isclose(llr[2], 2 * np.log((1 - 7 / 9) / (1 - 4 / 6)))
    # a: q = (3 + 1) / (3 + 2) = 0.8 <= p0 = 5/6, the test has no power: untested
    assert np.isnan(llr[0])
    # b: q = (3 + 1) / (4 + 2), p0 = 4/6: also no power
    assert np.isnan(llr[1])
    # an item nobody else has, and an item the fit never saw, are untested
    assert np.isnan(member_llr(inc, np.array([0, 1, -1]), 0)[2])


def _one_off_lookalike(seed=0):
    """The user pursues collection a (12 items); x reads like a (same text direction) but the
    other users who have x pursue collection b, and never touch a."""
    rng = np.random.default_rng(seed)
    e = np.eye(DIM)
    ids_a, ids_b = [f"a{i}" for i in range(12)], [f"b{i}" for i in range(12)]
    vec = {i: e[0] + 0.1 * rng.standard_normal(DIM) for i in ids_a + ["x"]}
    vec.update({i: e[1] + 0.1 * rng.standard_normal(DIM) for i in ids_b})
    vec = {k: v / np.linalg.norm(v) for k, v in vec.items()}
    me = _hist("me", ids_a[:6] + ["x"] + ids_a[6:], vec)
    others = [_hist(f"a{k}", list(rng.choice(ids_a, 8, replace=False)), vec) for k in range(12)]
    others += [_hist(f"b{k}", list(rng.choice(ids_b, 8, replace=False)) + ["x"], vec) for k in range(6)]
    return me, Corpus([me, *others])


def test_one_off_with_a_lookalike_text_stays_noise():
    me, corpus = _one_off_lookalike()
    x = me.item_ids.index("x")
    off = ICPC(outsider_llr=None).fit(corpus).assign(me)
    assert off[x] != NOISE  # text pulls it in: the bug this test guards
    on = ICPC().fit(corpus).assign(me)
    assert on[x] == NOISE
    members = np.delete(on, x)
    assert (members != NOISE).all() and len(set(members.tolist())) == 1  # the journey is intact


def test_state_round_trip_keeps_the_test():
    me, corpus = _one_off_lookalike(1)
    fitted = ICPC().fit(corpus)
    loaded = ICPC().load_state(fitted.state())
    assert np.array_equal(fitted.assign(me), loaded.assign(me))
    # a stored model from before the test existed (no incidence arrays) still assigns
    old = {k: v for k, v in fitted.state().items() if not k.startswith("inc_")}
    assert np.array_equal(ICPC().load_state(old).assign(me), ICPC(outsider_llr=None).fit(corpus).assign(me))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=6), min_size=2, max_size=12),
       st.lists(st.integers(-1, 2), min_size=8, max_size=8), st.floats(0, 5))
def test_drop_outsiders_only_unassigns(histories, labels, margin):
    hs = [UserHistory(f"u{n}", tuple(f"i{i}" for i in sorted(s)), np.zeros((len(s), 1))) for n, s in enumerate(histories)]
    inc = incidence(hs, {f"i{i}": i for i in range(8)})
    labels = np.array(labels)
    out = drop_outsiders(inc, np.arange(8), labels, 0, margin)
    assert ((out == labels) | (out == NOISE)).all()
    # a larger margin never removes more
    wider = drop_outsiders(inc, np.arange(8), labels, 0, margin + 1.0)
    assert ((wider == NOISE) <= (out == NOISE)).all()
