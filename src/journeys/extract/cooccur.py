"""Item vectors from co-occurrence in users' histories: PPMI of the item-item co-occurrence
matrix (two items co-occur when one user has both), factorised by truncated SVD, unit rows.
The PPMI matrix is built in blocks of item rows with a bounded number of entries per row, so
memory follows the catalogue size, not the sum over users of (items per user)^2.
Shared by the `cooccurrence` baseline and ICPC's optional collaborative signal."""

from __future__ import annotations

import os
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


# Memory bounds of the fit (entries of sparse matrices; about 12 bytes each). The item-item
# co-occurrence matrix is never held whole: it is built a block of item rows at a time, turned into
# PPMI, and each row keeps at most `budget // n_items` (>= MIN_ROW) of its largest PPMI entries.
# Below the budget nothing is pruned and the result is the exact PPMI factorisation.
PPMI_BUDGET = int(os.environ.get("JOURNEYS_COOC_BUDGET", 40_000_000))  # entries of the kept PPMI matrix
BLOCK_BUDGET = 8_000_000  # co-occurrence products computed per block
MIN_ROW = 64


def _user_item_matrix(corpus: Corpus, index: dict[str, int]):
    from scipy import sparse

    n_users = len(corpus.histories)
    lens = np.fromiter((len(dict.fromkeys(h.item_ids)) for h in corpus.histories), dtype=np.int64, count=n_users)
    cols = np.fromiter((index[i] for h in corpus.histories for i in dict.fromkeys(h.item_ids)),
                       dtype=np.int32, count=int(lens.sum()))
    indptr = np.concatenate([[0], np.cumsum(lens)])
    x = sparse.csr_matrix((np.ones(len(cols), dtype=np.float64), cols, indptr), shape=(n_users, len(index)))
    x.sort_indices()
    return x, lens


def _top_per_row(block, cap: int):
    """Keep each row's `cap` largest entries (ties: lower column first, so the result is deterministic)."""
    from scipy import sparse

    counts = np.diff(block.indptr)
    if counts.max(initial=0) <= cap:
        return block
    keep = np.ones(block.nnz, dtype=bool)
    for r in np.flatnonzero(counts > cap):
        a, b = block.indptr[r], block.indptr[r + 1]
        order = np.lexsort((block.indices[a:b], -block.data[a:b]))  # by value desc, then column
        keep[a + order[cap:]] = False
    rows = np.repeat(np.arange(block.shape[0]), counts)[keep]
    return sparse.csr_matrix((block.data[keep], (rows, block.indices[keep])), shape=block.shape)


def ppmi_matrix(x, budget: int = PPMI_BUDGET, block_budget: int = BLOCK_BUDGET):
    """PPMI of the item-item co-occurrence of the binary users x items matrix `x`, built in blocks of
    item rows; memory grows with the kept entries (<= `budget`), not with sum(items per user)^2."""
    from scipy import sparse

    n_items = x.shape[1]
    per_user = np.asarray(x.sum(axis=1)).ravel()
    marg = np.asarray(x.T @ per_user).ravel()  # row sums of X'X without forming it
    total = marg.sum()
    cap = max(MIN_ROW, budget // max(n_items, 1))
    xt = x.T.tocsr()
    work = np.cumsum(marg)  # products each item row costs
    blocks, start = [], 0
    while start < n_items:
        stop = int(np.searchsorted(work, (work[start - 1] if start else 0) + block_budget, side="right"))
        stop = min(max(stop, start + 1), n_items)
        c = (xt[start:stop] @ x).tocsr()  # co-occurrence counts of these item rows (diagonal: frequency)
        rows = np.repeat(np.arange(start, stop), np.diff(c.indptr))
        pmi = np.log(np.maximum(c.data * total / (marg[rows] * marg[c.indices]), 1e-12))
        p = sparse.csr_matrix((np.maximum(pmi, 0.0), c.indices, c.indptr), shape=c.shape)
        p.eliminate_zeros()
        blocks.append(_top_per_row(p, cap))
        start = stop
    return sparse.vstack(blocks, format="csr") if blocks else sparse.csr_matrix((0, n_items))


def cooccurrence_vectors(corpus: Corpus, dims: int = 64, seed: int = 0, budget: int | None = None) -> CooccurrenceVectors:
    ids = sorted({i for h in corpus.histories for i in h.item_ids})
    if not ids:
        return CooccurrenceVectors((), np.zeros((0, 0), dtype=np.float32), np.zeros(0))
    index = {item: n for n, item in enumerate(ids)}
    x, _ = _user_item_matrix(corpus, index)
    return _factorise(x, tuple(ids), dims, seed, budget)


def cooccurrence_from_matrix(x, catalogue, dims: int = 64, seed: int = 0, budget: int | None = None) -> CooccurrenceVectors:
    """The same fit from a binary users x catalogue-codes matrix (the columnar path): the columns
    of items nobody has are dropped and the rest put in item-id order, so the result equals
    `cooccurrence_vectors` on the same histories."""
    from scipy import sparse

    used = np.flatnonzero(np.bincount(x.indices, minlength=x.shape[1]))
    if not len(used):
        return CooccurrenceVectors((), np.zeros((0, 0), dtype=np.float32), np.zeros(0))
    names = [str(catalogue[i]) for i in used]
    perm = sorted(range(len(used)), key=names.__getitem__)
    column = np.full(x.shape[1], -1, dtype=np.int32)
    column[used[perm]] = np.arange(len(used), dtype=np.int32)  # renumber in place of a column slice
    x = sparse.csr_matrix((x.data, column[x.indices], x.indptr), shape=(x.shape[0], len(used)))
    x.sort_indices()
    return _factorise(x, tuple(names[i] for i in perm), dims, seed, budget)


def _factorise(x, ids: tuple[str, ...], dims: int, seed: int, budget: int | None) -> CooccurrenceVectors:
    users = np.asarray(x.sum(axis=0)).ravel()
    ppmi = ppmi_matrix(x, PPMI_BUDGET if budget is None else budget)
    dims = max(1, min(dims, len(ids) - 1))
    if dims < 2:
        emb = ppmi.toarray()
    else:
        from sklearn.decomposition import TruncatedSVD

        import warnings

        with warnings.catch_warnings():  # explained-variance ratio of a degenerate matrix: 0/0
            warnings.simplefilter("ignore", RuntimeWarning)
            # float64 on purpose: in float32 it is 2.4x faster on MovieLens, but its output moved by
            # up to 1e-2 with the BLAS thread count (float64: 4e-11), so runs were not reproducible
            emb = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(ppmi)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = emb / np.where(norms == 0, 1.0, norms)
    return CooccurrenceVectors(ids, emb.astype(np.float32), users)
