"""Collaborative scorers for recommendations, chosen by name from `SCORERS`.

Each learns from a binary users x items matrix of interest (scipy CSR) and scores any rows of
that shape. The item-item ones are linear: score(rows) = rows @ W, so a user's score is the sum
of what each of their items says, and the part that one journey's items say is that journey's own
score (how journeys attribute a collaborative recommendation). `popularity` scores every row
alike. Implicit ALS, a latent-factor peer, lives in the benchmark (bench/recs.py).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from journeys.registry import Registry


@runtime_checkable
class Scorer(Protocol):
    name: str

    def fit(self, x) -> "Scorer": ...

    def scores(self, rows) -> np.ndarray: ...  # (m, n_items) float32


SCORERS: Registry[Scorer] = Registry("scorer")


def _csr(x):
    from scipy import sparse

    return sparse.csr_matrix(x, dtype=np.float32)


@SCORERS.register("popularity")
class Popularity:
    """How many users have each item; the same for everyone."""

    name = "popularity"

    def __init__(self, **_: object):
        pass

    def fit(self, x) -> "Popularity":
        self.counts_ = np.asarray(_csr(x).sum(axis=0), dtype=np.float32).ravel()
        return self

    def scores(self, rows) -> np.ndarray:
        return np.tile(self.counts_ / max(float(self.counts_.max(initial=0.0)), 1.0), (rows.shape[0], 1))


@SCORERS.register("item-knn")
class ItemKNN:
    """Cosine similarity between item columns, each item keeping its `neighbours` most similar
    items (0: all). `shrink` damps similarities resting on few common users."""

    name = "item-knn"

    def __init__(self, neighbours: int = 100, shrink: float = 0.0, **_: object):
        self.neighbours = neighbours
        self.shrink = shrink

    def fit(self, x) -> "ItemKNN":
        from scipy import sparse

        x = _csr(x)
        co = (x.T @ x).tocsr().astype(np.float32)
        norms = np.sqrt(co.diagonal())
        co.setdiag(0.0)
        co.eliminate_zeros()
        c = co.tocoo()
        sim = c.data / (norms[c.row] * norms[c.col] + self.shrink + 1e-9)
        w = sparse.csr_matrix((sim.astype(np.float32), (c.row, c.col)), shape=co.shape)
        if self.neighbours:
            w = _top_per_column(w, self.neighbours)
        self.weights_ = w.tocsr()
        return self

    def scores(self, rows) -> np.ndarray:
        return np.asarray((_csr(rows) @ self.weights_).todense(), dtype=np.float32)


def _top_per_column(w, n: int):
    """Keep, for every target item (column), its n strongest source items."""
    from scipy import sparse

    wc = w.tocsc()
    rows, cols, vals = [], [], []
    for j in range(wc.shape[1]):
        lo, hi = wc.indptr[j], wc.indptr[j + 1]
        if hi == lo:
            continue
        data, idx = wc.data[lo:hi], wc.indices[lo:hi]
        keep = np.argsort(-data, kind="stable")[:n]
        rows.append(idx[keep])
        cols.append(np.full(len(keep), j))
        vals.append(data[keep])
    if not rows:
        return sparse.csr_matrix(w.shape, dtype=np.float32)
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=w.shape)


@SCORERS.register("ease")
class EASE:
    """EASE (Steck 2019): a closed-form item-item model, B = I - P / diag(P) with
    P = (X'X + lambda I)^-1 and a zero diagonal. Learned on the `max_items` items most users have
    (the inverse is cubic in the items); the others get no collaborative score."""

    name = "ease"

    def __init__(self, l2: float = 200.0, max_items: int = 3000, **_: object):
        self.l2 = l2
        self.max_items = max_items

    def fit(self, x) -> "EASE":
        x = _csr(x)
        counts = np.asarray(x.sum(axis=0)).ravel()
        order = np.argsort(-counts, kind="stable")
        cols = np.sort(order[: min(self.max_items, int((counts > 0).sum()))])
        xs = x[:, cols]
        g = np.asarray((xs.T @ xs).todense(), dtype=np.float64)
        g[np.diag_indices_from(g)] += self.l2
        p = np.linalg.inv(g)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.n_items_ = x.shape[1]
        self.cols_ = cols
        self.pos_ = np.full(x.shape[1], -1, dtype=np.int64)
        self.pos_[cols] = np.arange(len(cols))
        self.weights_ = b.astype(np.float32)
        return self

    def scores(self, rows) -> np.ndarray:
        from scipy import sparse

        rows = _csr(rows)
        p = self.pos_[rows.indices]
        keep = p >= 0
        row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of[keep], minlength=rows.shape[0]))])
        sub = sparse.csr_matrix((rows.data[keep], p[keep], indptr), shape=(rows.shape[0], len(self.cols_)))
        out = np.zeros((rows.shape[0], self.n_items_), dtype=np.float32)
        out[:, self.cols_] = np.asarray(sub @ self.weights_, dtype=np.float32)
        return out


def pair_scores(scorer, src, dst) -> np.ndarray:
    """(len(src), len(dst)): what each source item alone says for each target item (the parts
    a linear scorer sums), without scoring the whole catalogue."""
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if isinstance(scorer, EASE):
        ps, pd = scorer.pos_[src], scorer.pos_[dst]
        out = scorer.weights_[np.maximum(ps, 0)][:, np.maximum(pd, 0)].copy()
        out[ps < 0, :] = 0.0
        out[:, pd < 0] = 0.0
        return out
    if isinstance(scorer, ItemKNN):
        return np.asarray(scorer.weights_[src][:, dst].todense(), dtype=np.float32)
    from scipy import sparse

    rows = sparse.csr_matrix((np.ones(len(src), dtype=np.float32), (np.arange(len(src)), src)),
                             shape=(len(src), getattr(scorer, "n_items_", int(max(src.max(initial=0), dst.max(initial=0)) + 1))))
    return scorer.scores(rows)[:, dst]


__all__ = ["SCORERS", "pair_scores", "Scorer", "EASE", "ItemKNN", "Popularity"]
