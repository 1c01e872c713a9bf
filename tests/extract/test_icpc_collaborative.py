"""ICPC's collaborative signal: what other users' histories say about items tells apart interests
whose texts look alike; items nobody else has are walked on their text alone."""

from __future__ import annotations

import numpy as np

from journeys.extract import NOISE, Corpus, UserHistory
from journeys.extract.icpc import ICPC

DIM = 8


def _hist(user: str, ids: list[str], vecs: np.ndarray) -> UserHistory:
    return UserHistory(user, tuple(ids), vecs.astype(np.float32))


def _lookalikes(seed: int = 0):
    """Collections a and b have nearly the same text direction; other users pursue only one."""
    rng = np.random.default_rng(seed)
    direction = np.zeros(DIM)
    direction[0] = 1.0
    ids = [f"a{i}" for i in range(8)] + [f"b{i}" for i in range(8)]
    vecs = direction + 0.05 * rng.standard_normal((16, DIM))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vec = dict(zip(ids, vecs))
    order = list(rng.permutation(ids))
    user = _hist("u", order, np.stack([vec[i] for i in order]))
    others = []
    for k in range(8):
        members = [i for i in ids if i[0] == "ab"[k % 2]]
        others.append(_hist(f"o{k}", members, np.stack([vec[i] for i in members])))
    return user, Corpus([user, *others])


def test_text_alone_merges_lookalike_interests():
    user, corpus = _lookalikes()
    # the walk alone (no grain passes): one journey
    labels = ICPC(collaborative=0.0, split_distance=None, max_share=None).fit(corpus).assign(user)
    assert len(set(labels.tolist()) - {NOISE}) == 1


def test_cooccurrence_tells_them_apart():
    user, corpus = _lookalikes()
    labels = ICPC(collaborative=0.7).fit(corpus).assign(user)
    groups = {}
    for item, lab in zip(user.item_ids, labels.tolist()):
        groups.setdefault(item[0], set()).add(lab)
    assert len(groups["a"]) == 1 and len(groups["b"]) == 1 and groups["a"] != groups["b"]
    assert NOISE not in groups["a"] | groups["b"]


def test_items_only_this_user_has_use_text_alone():
    user, _ = _lookalikes()
    solo = ICPC(collaborative=0.7, threshold=0.9, text_threshold=0.3).fit(Corpus([user]))
    plain = ICPC(collaborative=0.0, threshold=0.3).fit(Corpus([user]))
    assert np.array_equal(solo.assign(user), plain.assign(user))


def test_threshold_slides_with_the_collaborative_weight():
    c = ICPC(threshold=0.5, text_threshold=0.3, collaborative=0.5)
    assert np.allclose(c._thresholds(np.array([0.0, 0.25, 0.5])), [0.3, 0.4, 0.5])
    assert np.allclose(ICPC(threshold=0.5, text_threshold=None)._thresholds(np.zeros(2)), 0.5)
    assert np.allclose(ICPC(threshold=0.5, collaborative=0.0)._thresholds(np.zeros(2)), 0.5)
    # two items at cosine 0.4 join one journey under text_threshold 0.3, not under threshold 0.5
    a = np.array([[1.0, 0.0], [0.4, np.sqrt(1 - 0.16)], [0.4, np.sqrt(1 - 0.16)]], dtype=np.float32)
    hist = UserHistory("u", ("i0", "i1", "i2"), a)
    assert ICPC(threshold=0.5, text_threshold=0.3, min_size=1, max_share=None).fit(Corpus([hist])).assign(hist).tolist() == [0, 0, 0]
    assert ICPC(threshold=0.5, text_threshold=None, min_size=1, max_share=None).fit(Corpus([hist])).assign(hist).tolist() == [0, 1, 1]


def test_unfitted_and_unseen_items_fall_back_to_text():
    user, corpus = _lookalikes()
    fresh = ICPC(collaborative=0.7)  # assign() before fit(): no collaborative state
    assert np.array_equal(fresh.assign(user), ICPC(collaborative=0.0).assign(user))
    fitted = ICPC(collaborative=0.7).fit(corpus)
    new = _hist("n", ["x1", "x2", "x3"], np.tile(np.eye(DIM)[1], (3, 1)))
    assert fitted.assign(new).tolist() == [0, 0, 0]
