"""Global baselines: learnt once over everybody in fit(); a user's journeys are their items
grouped by global cluster."""

from __future__ import annotations

import numpy as np
import pytest

from journeys.extract import CLUSTERERS, NOISE, Corpus, UserHistory

DIM = 6


def _unit(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _corpus():
    """Items a0..a5 and b0..b5; six users pursue only a, six only b, one user both."""
    vec = {f"a{i}": np.eye(DIM)[0] + 0.01 * i for i in range(6)}
    vec.update({f"b{i}": np.eye(DIM)[1] + 0.01 * i for i in range(6)})
    users = []
    for k in range(12):
        ids = [f"{'ab'[k % 2]}{i}" for i in range(6)]
        users.append(UserHistory(f"o{k}", tuple(ids), _unit([vec[i] for i in ids])))
    both = ["a0", "b0", "a1", "b1", "a2", "b2", "a3"]
    me = UserHistory("me", tuple(both), _unit([vec[i] for i in both]))
    return me, Corpus([me, *users]), vec


@pytest.mark.parametrize("method", ["cooccurrence", "global-semantic"])
def test_users_items_grouped_by_global_cluster(method):
    me, corpus, _ = _corpus()
    labels = CLUSTERERS.create(method, n_clusters=2).fit(corpus).assign(me)
    by = {}
    for item, lab in zip(me.item_ids, labels.tolist()):
        by.setdefault(item[0], set()).add(lab)
    assert len(by["a"]) == 1 and len(by["b"]) == 1 and by["a"] != by["b"]
    assert labels.tolist()[0] == 0  # renumbered in order of first appearance


@pytest.mark.parametrize("method", ["cooccurrence", "global-semantic"])
def test_assign_before_fit_is_an_error(method):
    me, _, _ = _corpus()
    with pytest.raises(RuntimeError, match="fit"):
        CLUSTERERS.create(method).assign(me)


def test_unseen_items():
    me, corpus, vec = _corpus()
    new = UserHistory("new", ("x0", "x1", "x2"), _unit([vec["a0"], vec["a1"], vec["a2"]]))
    cooc = CLUSTERERS.create("cooccurrence", n_clusters=2).fit(corpus)
    assert cooc.assign(new).tolist() == [NOISE] * 3  # no history: nothing to group by
    sem = CLUSTERERS.create("global-semantic", n_clusters=2).fit(corpus)
    assert sem.assign(new).tolist() == [0, 0, 0]  # nearest global centroid


def test_default_cluster_count_and_min_size():
    me, corpus, _ = _corpus()
    sem = CLUSTERERS.create("global-semantic").fit(corpus)  # sqrt(12 / 2) -> 2 clusters
    assert len(set(sem.cluster_of_.values())) == 2
    small = CLUSTERERS.create("global-semantic", n_clusters=2, min_size=4).fit(corpus)
    labels = small.assign(me).tolist()
    assert labels.count(NOISE) == 3  # the b group holds only 3 of this user's items
