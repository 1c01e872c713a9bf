"""Item vectors from co-occurrence in users' histories: PPMI of the item-item co-occurrence
matrix (two items co-occur when one user has both), factorised by truncated SVD, unit rows.
Shared by the `cooccurrence` baseline and ICPC's optional collaborative signal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeys.extract import Corpus


@dataclass(frozen=True)
class CooccurrenceVectors:
    item_ids: tuple[str, ...]
    vectors: np.ndarray  # (n_items, dims) unit rows (zero rows for items that co-occur with nothing)
    users: np.ndarray  # how many users have each item

    def index(self) -> dict[str, int]:
        return {item: n for n, item in enumerate(self.item_ids)}


def cooccurrence_vectors(corpus: Corpus, dims: int = 64, seed: int = 0) -> CooccurrenceVectors:
    from scipy import sparse

    ids = sorted({i for h in corpus.histories for i in h.item_ids})
    if not ids:
        return CooccurrenceVectors((), np.zeros((0, 0), dtype=np.float32), np.zeros(0))
    index = {item: n for n, item in enumerate(ids)}
    rows, cols = [], []
    for u, h in enumerate(corpus.histories):
        for item in dict.fromkeys(h.item_ids):
            rows.append(u)
            cols.append(index[item])
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(corpus.histories), len(ids))
    )
    users = np.asarray(x.sum(axis=0)).ravel()
    cooc = (x.T @ x).tocsr()  # item-item co-occurrence counts (diagonal: item frequency)
    marg = np.asarray(cooc.sum(axis=1)).ravel()
    c = cooc.tocoo()
    total = c.sum()
    pmi = np.log(np.maximum(c.data * total / (marg[c.row] * marg[c.col]), 1e-12))
    ppmi = sparse.csr_matrix((np.maximum(pmi, 0.0), (c.row, c.col)), shape=c.shape)
    dims = max(1, min(dims, len(ids) - 1))
    if dims < 2:
        emb = ppmi.toarray()
    else:
        from sklearn.decomposition import TruncatedSVD

        import warnings

        with warnings.catch_warnings():  # explained-variance ratio of a degenerate matrix: 0/0
            warnings.simplefilter("ignore", RuntimeWarning)
            emb = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(ppmi)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = emb / np.where(norms == 0, 1.0, norms)
    return CooccurrenceVectors(tuple(ids), emb.astype(np.float32), users)
