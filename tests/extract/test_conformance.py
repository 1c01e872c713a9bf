"""Every registered clusterer passes the same conformance tests (a shared mixin).

A clusterer registered in CLUSTERERS is picked up here automatically; `OPTIONS` gives the few a
known-answer test needs (global methods must be told there are two clusters to find).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.extract import CLUSTERERS, NOISE, Corpus, UserHistory

OPTIONS = {
    "cooccurrence": {"n_clusters": 2},
    "global-semantic": {"n_clusters": 2},
}
SLOW = {"bertopic"}
DIM = 16


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def planted(seed: int = 0, n: int = 10) -> tuple[UserHistory, Corpus, np.ndarray]:
    """Two unrelated collections (orthogonal directions, small jitter), interleaved in time, and a
    corpus where other users pursue one collection each (so co-occurrence can learn them too)."""
    rng = np.random.default_rng(seed)
    base = np.zeros((2, DIM))
    base[0, 0] = base[1, 1] = 1.0
    vecs, ids, truth = [], [], []
    for i in range(n):
        for c in (0, 1):
            vecs.append(base[c] + 0.15 * rng.standard_normal(DIM))
            ids.append(f"{'ab'[c]}{i}")
            truth.append(c)
    order = rng.permutation(len(ids))
    user = UserHistory("u", tuple(ids[i] for i in order), _unit(np.array(vecs)[order]),
                       tuple(f"topic {'ab'[truth[i]]} item {ids[i]}" for i in order))
    truth = np.array(truth)[order]
    others = []
    for k in range(6):
        members = [j for j in range(len(ids)) if truth_of(ids[j]) == k % 2]
        others.append(UserHistory(f"o{k}", tuple(ids[j] for j in members),
                                  _unit(np.array(vecs)[members])))
    return user, Corpus([user, *others]), truth


def truth_of(item_id: str) -> int:
    return 0 if item_id.startswith("a") else 1


class ClustererConformance:
    """The contract of a clusterer; subclasses set `method`."""

    method: str

    def make(self):
        return CLUSTERERS.create(self.method, **OPTIONS.get(self.method, {}))

    def labels(self, history: UserHistory, corpus: Corpus | None = None) -> np.ndarray:
        clusterer = self.make().fit(corpus or Corpus([history]))
        return np.asarray(clusterer.assign(history))

    def check_labels(self, labels: np.ndarray, n: int, min_size: int | None = None) -> None:
        assert labels.shape == (n,)
        assert np.issubdtype(labels.dtype, np.integer)
        found = sorted(set(labels.tolist()) - {NOISE})
        assert found == list(range(len(found))), "journeys are numbered 0..k-1"
        assert all(lab >= NOISE for lab in labels.tolist())
        if min_size is not None:
            for k in found:
                assert (labels == k).sum() >= min_size

    def test_has_its_registered_name_and_fit_returns_the_fitted_clusterer(self):
        c = self.make()
        assert c.name == self.method
        user, corpus, _ = planted()
        assert c.fit(corpus) is c
        assert np.asarray(c.assign(user)).shape == (len(user.item_ids),)

    def test_two_unrelated_collections_give_two_journeys(self):
        user, corpus, truth = planted()
        labels = self.labels(user, corpus)
        self.check_labels(labels, len(user))
        assert len(set(labels.tolist()) - {NOISE}) == 2
        for k in (0, 1):  # each journey holds one collection only, and most of it
            members = labels[truth == k]
            members = members[members != NOISE]
            assert len(members) >= 7 and len(set(members.tolist())) == 1
        assert set(labels[truth == 0].tolist()) - {NOISE} != set(labels[truth == 1].tolist()) - {NOISE}

    def test_deterministic(self):
        user, corpus, _ = planted(seed=3)
        assert np.array_equal(self.labels(user, corpus), self.labels(user, corpus))

    def test_empty_and_tiny_histories(self):
        for n in (0, 1, 2):
            hist = UserHistory("u", tuple(f"i{i}" for i in range(n)),
                               _unit(np.eye(DIM)[:n] + 1e-3) if n else np.zeros((0, DIM), np.float32))
            labels = self.labels(hist)
            self.check_labels(labels, n)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
    @given(st.integers(0, 30), st.integers(0, 2**16))
    def test_every_item_gets_one_label_or_noise(self, n, seed):
        rng = np.random.default_rng(seed)
        vecs = _unit(rng.standard_normal((n, DIM)) + (rng.random(DIM) if n else 0)) if n else np.zeros((0, DIM), np.float32)
        hist = UserHistory("u", tuple(f"i{i}" for i in range(n)), vecs,
                           tuple(f"word{i % 5} thing{i % 3}" for i in range(n)))
        clusterer = self.make().fit(Corpus([hist]))
        labels = np.asarray(clusterer.assign(hist))
        self.check_labels(labels, n, getattr(clusterer, "min_size", None))
        assert np.array_equal(labels, np.asarray(clusterer.assign(hist)))


def _case(name: str):
    marks = []
    if name in SLOW:
        marks.append(pytest.mark.slow)
        if importlib.util.find_spec("bertopic") is None:
            marks.append(pytest.mark.skip(reason="bench extra (bertopic) not installed"))
    cls = type(f"TestConformance_{name.replace('-', '_')}", (ClustererConformance,), {"method": name})
    for mark in marks:
        cls = mark(cls)
    return cls


for _name in CLUSTERERS.names():
    globals()[f"TestConformance_{_name.replace('-', '_')}"] = _case(_name)
