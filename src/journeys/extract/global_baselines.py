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

    distinct = len(np.unique(np.round(x, 6), axis=0))
    k = max(1, min(k, distinct))  # k-means cannot find more clusters than distinct points
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    return model.labels_.astype(np.int64), model.cluster_centers_


class _GlobalGrouping:
    name = "global"

    def __init__(self, n_clusters: int | None = None, min_size: int = 3, seed: int = 0):
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
                 dims: int = 64):
        super().__init__(n_clusters, min_size, seed)
        self.dims = dims

    def fit(self, corpus: Corpus) -> "Cooccurrence":
        from journeys.extract.cooccur import cooccurrence_vectors

        cv = cooccurrence_vectors(corpus, self.dims, self.seed)
        self.cluster_of_: dict[str, int] = {}
        if cv.item_ids:
            k = self.n_clusters or _default_k(len(cv.item_ids))
            labels, _ = _kmeans(cv.vectors, k, self.seed)
            self.cluster_of_ = {item: int(lab) for item, lab in zip(cv.item_ids, labels)}
        return self

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
