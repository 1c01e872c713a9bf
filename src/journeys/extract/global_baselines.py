"""ALLY's global baselines: clusters learnt once over everybody, a user's journeys are their items
grouped by global cluster. They are what personalized clustering (ICPC) has to beat.

- `cooccurrence`: item-item co-occurrence over all users' histories (a user's items co-occur),
  weighted by PPMI, factorised by truncated SVD, clustered by k-means;
- `global-semantic`: k-means over all items' text embeddings.

`n_clusters=None` picks sqrt(n_items / 2) (a common rule of thumb); the benchmark passes the true
number of collections, which favours the baselines. Items a method never saw in `fit` are noise
(`cooccurrence`) or go to the nearest centroid (`global-semantic`). Groups with fewer than
`min_size` of the user's items are noise, as in the per-user methods.
"""

from __future__ import annotations

import numpy as np

from journeys.extract import CLUSTERERS, NOISE, Corpus, UserHistory, drop_small


def _default_k(n_items: int) -> int:
    return max(2, int(round(np.sqrt(n_items / 2.0))))


def _kmeans(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(x)))
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    return model.labels_.astype(np.int64), model.cluster_centers_


class _GlobalGrouping:
    name = "global"

    def __init__(self, n_clusters: int | None = None, min_size: int = 3, seed: int = 0, **_: object):
        self.n_clusters = n_clusters
        self.min_size = min_size
        self.seed = seed

    def _labels_of(self, history: UserHistory) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def assign(self, history: UserHistory) -> np.ndarray:
        if not hasattr(self, "cluster_of_"):
            raise RuntimeError(f"{self.name}: call fit(corpus) before assign()")
        return drop_small(self._labels_of(history), self.min_size)


@CLUSTERERS.register("cooccurrence")
class Cooccurrence(_GlobalGrouping):
    name = "cooccurrence"

    def __init__(self, n_clusters: int | None = None, min_size: int = 3, seed: int = 0,
                 dims: int = 64, **_: object):
        super().__init__(n_clusters, min_size, seed)
        self.dims = dims

    def fit(self, corpus: Corpus) -> "Cooccurrence":
        from scipy import sparse

        ids = sorted({i for h in corpus.histories for i in h.item_ids})
        index = {item: n for n, item in enumerate(ids)}
        rows, cols = [], []
        for u, h in enumerate(corpus.histories):
            for item in dict.fromkeys(h.item_ids):
                rows.append(u)
                cols.append(index[item])
        self.cluster_of_: dict[str, int] = {}
        if not ids:
            return self
        x = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, cols)),
            shape=(len(corpus.histories), len(ids)),
        )
        cooc = (x.T @ x).tocsr()  # item-item co-occurrence counts (diagonal: item frequency)
        marg = np.asarray(cooc.sum(axis=1)).ravel()
        c = cooc.tocoo()
        total = c.sum()
        pmi = np.log(np.maximum(c.data * total / (marg[c.row] * marg[c.col]), 1e-12))
        ppmi = sparse.csr_matrix((np.maximum(pmi, 0.0), (c.row, c.col)), shape=c.shape)
        emb = self._factorise(ppmi)
        k = self.n_clusters or _default_k(len(ids))
        labels, _ = _kmeans(emb, k, self.seed)
        self.cluster_of_ = {item: int(lab) for item, lab in zip(ids, labels)}
        return self

    def _factorise(self, m) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD

        dims = max(1, min(self.dims, m.shape[0] - 1))
        if dims < 2:
            return m.toarray()
        emb = TruncatedSVD(n_components=dims, random_state=self.seed).fit_transform(m)
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        return emb / np.where(norms == 0, 1.0, norms)

    def _labels_of(self, history: UserHistory) -> np.ndarray:
        return np.array([self.cluster_of_.get(i, NOISE) for i in history.item_ids], dtype=np.int64)


@CLUSTERERS.register("global-semantic")
class GlobalSemantic(_GlobalGrouping):
    name = "global-semantic"

    def fit(self, corpus: Corpus) -> "GlobalSemantic":
        vecs: dict[str, np.ndarray] = {}
        for h in corpus.histories:
            for item, v in zip(h.item_ids, h.vectors):
                vecs.setdefault(item, v)
        ids = sorted(vecs)
        self.cluster_of_ = {}
        self.centroids_ = np.zeros((0, 0), dtype=np.float32)
        if not ids:
            return self
        x = np.stack([vecs[i] for i in ids]).astype(np.float64)
        labels, centres = _kmeans(x, self.n_clusters or _default_k(len(ids)), self.seed)
        self.cluster_of_ = {item: int(lab) for item, lab in zip(ids, labels)}
        self.centroids_ = centres
        return self

    def _labels_of(self, history: UserHistory) -> np.ndarray:
        out = np.empty(len(history), dtype=np.int64)
        for n, (item, v) in enumerate(zip(history.item_ids, history.vectors)):
            lab = self.cluster_of_.get(item)
            if lab is None:
                lab = int(np.argmin(((self.centroids_ - v) ** 2).sum(axis=1))) if len(self.centroids_) else NOISE
            out[n] = lab
        return out
