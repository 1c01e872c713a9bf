"""The right grain (issue 12): Ward splits of blob journeys, no journey holding nearly all of a
user's items, and the co-occurrence floor that keeps one-offs out."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.extract import NOISE, Corpus, UserHistory
from journeys.extract.icpc import ICPC
from journeys.extract.split import split_dominant, split_journeys, ward_pieces

DIM = 16


def _group(rng, axis: int, n: int, spread: float = 0.05) -> np.ndarray:
    v = np.zeros((n, DIM))
    v[:, axis] = 1.0
    v += spread * rng.standard_normal((n, DIM))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_a_tight_group_stays_whole_and_separate_groups_fall_apart():
    rng = np.random.default_rng(0)
    tight = _group(rng, 0, 150)
    assert set(ward_pieces(tight, 2.0, 3).tolist()) == {0}
    two = np.vstack([_group(rng, 0, 30), _group(rng, 1, 30)])
    pieces = ward_pieces(two, 2.0, 3)
    assert len(set(pieces[:30].tolist())) == 1 and len(set(pieces[30:].tolist())) == 1
    assert pieces[0] != pieces[30]


def test_small_pieces_fold_into_the_nearest_piece():
    rng = np.random.default_rng(1)
    x = np.vstack([_group(rng, 0, 20), _group(rng, 1, 20), _group(rng, 2, 2)])
    pieces = ward_pieces(x, 1.0, 3)
    assert len(set(pieces.tolist())) == 2  # the 2-item group joined one of the others
    assert np.bincount(pieces).min() >= 3


def test_split_keeps_noise_noise():
    rng = np.random.default_rng(2)
    x = np.vstack([_group(rng, 0, 20), _group(rng, 1, 20), _group(rng, 3, 4)])
    labels = np.array([0] * 40 + [NOISE] * 4)
    out = split_journeys(x, labels, 2.0, 3)
    assert (out[40:] == NOISE).all() and (out[:40] != NOISE).all()
    assert len(set(out[:40].tolist())) == 2


def test_a_dominant_journey_is_cut_and_a_balanced_user_is_left_alone():
    rng = np.random.default_rng(3)
    x = np.vstack([_group(rng, 0, 40, 0.3), _group(rng, 1, 5)])
    labels = np.array([0] * 40 + [1] * 5)
    out = split_dominant(x, labels, 0.8, 3)
    sizes = np.bincount(out[out != NOISE])
    assert sizes.max() <= 0.8 * sizes.sum() and len(sizes) >= 3
    balanced = np.array([0] * 20 + [1] * 20 + [NOISE] * 5)
    assert np.array_equal(split_dominant(x, balanced, 0.8, 3), balanced)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(6, 60))
def test_split_is_deterministic_and_never_loses_items(seed, n):
    rng = np.random.default_rng(seed)
    x = _group(rng, 0, n, 0.6)
    labels = np.where(rng.random(n) < 0.1, NOISE, 0)
    a = split_journeys(x, labels, 1.0, 3)
    assert np.array_equal(a, split_journeys(x, labels, 1.0, 3))
    assert np.array_equal(a == NOISE, labels == NOISE)


def test_cooc_floor_drops_a_one_off_whose_company_disagrees():
    """Text puts item z with the a-items; other users have z only with b-items."""
    rng = np.random.default_rng(4)
    a = [f"a{i}" for i in range(8)]
    b = [f"b{i}" for i in range(8)]
    vec = dict(zip(a + ["z"], _group(rng, 0, 9))) | dict(zip(b, _group(rng, 5, 8)))
    user_items = a + ["z"]
    user = UserHistory("u", tuple(user_items), np.stack([vec[i] for i in user_items]).astype(np.float32))
    others = [UserHistory(f"o{k}", tuple(m), np.stack([vec[i] for i in m]).astype(np.float32))
              for k in range(6) for m in ([*a] if k % 2 else [*b, "z"],)]
    corpus = Corpus([user, *others])
    kw = dict(collaborative=0.5, split_distance=None, max_share=None, outsider_llr=None)
    plain = ICPC(**kw).fit(corpus).assign(user)
    floored = ICPC(cooc_floor=0.5, **kw).fit(corpus).assign(user)
    assert plain[-1] != NOISE and floored[-1] == NOISE
    assert (floored[:-1] != NOISE).all()
