"""The blocked, bounded PPMI equals the whole-matrix PPMI until its budget binds, then caps each row."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from journeys.extract import Corpus, UserHistory
from journeys.extract.cooccur import _user_item_matrix, cooccurrence_vectors, ppmi_matrix


def _corpus(seed=1, users=120, items=250):
    rng = np.random.default_rng(seed)
    return Corpus([UserHistory(str(u), tuple(f"i{k}" for k in rng.choice(items, size=rng.integers(1, 40))),
                               np.zeros((0, 4), dtype=np.float32)) for u in range(users)])


def _whole_ppmi(x):
    """The textbook computation, dense: the full co-occurrence matrix at once."""
    c = (x.T @ x).toarray()
    marg = c.sum(axis=1)
    with np.errstate(divide="ignore"):
        pmi = np.log(c * c.sum() / np.outer(marg, marg))
    return sparse.csr_matrix(np.where(c > 0, np.maximum(pmi, 0.0), 0.0))


def test_blocks_give_exactly_the_whole_matrix_ppmi():
    corpus = _corpus()
    ids = sorted({i for h in corpus.histories for i in h.item_ids})
    x, lens = _user_item_matrix(corpus, {i: n for n, i in enumerate(ids)})
    assert list(lens) == [len(set(h.item_ids)) for h in corpus.histories]
    whole = _whole_ppmi(x)
    for block_budget in (1, 300, 10**9):  # one row per block, a few blocks, one block
        got = ppmi_matrix(x, budget=10**9, block_budget=block_budget)
        assert np.allclose(got.toarray(), whole.toarray(), rtol=0, atol=1e-12)
        assert got.nnz == (whole > 0).sum()


def test_budget_caps_rows_keeping_their_largest_entries():
    corpus = _corpus()
    ids = sorted({i for h in corpus.histories for i in h.item_ids})
    x, _ = _user_item_matrix(corpus, {i: n for n, i in enumerate(ids)})
    whole = ppmi_matrix(x, budget=10**9)
    capped = ppmi_matrix(x, budget=64 * len(ids), block_budget=500)  # 64 per row
    assert np.diff(capped.indptr).max() == 64 < np.diff(whole.indptr).max()
    r = int(np.argmax(np.diff(whole.indptr)))
    kept = capped[r].toarray().ravel()
    full = whole[r].toarray().ravel()
    assert np.all(kept[kept > 0] == full[kept > 0])  # kept values untouched
    assert kept[kept > 0].min() >= np.sort(full)[-64]  # and they are the largest


def test_vectors_are_unit_and_deterministic():
    corpus = _corpus()
    a = cooccurrence_vectors(corpus, dims=8, seed=0)
    b = cooccurrence_vectors(corpus, dims=8, seed=0, budget=10**9)
    assert np.array_equal(a.vectors, b.vectors)
    norms = np.linalg.norm(a.vectors, axis=1)
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
