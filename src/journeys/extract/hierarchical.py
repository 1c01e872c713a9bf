"""Hierarchical clustering, after Pinterest: agglomerative, cosine, average linkage, cut by distance."""

from __future__ import annotations

import numpy as np

from journeys.extract import CLUSTERERS, Corpus, UserHistory, drop_small


@CLUSTERERS.register("hierarchical")
class Hierarchical:
    name = "hierarchical"
    fit_uses_vectors = False  # nothing global to learn

    def __init__(self, distance_threshold: float = 0.6, min_size: int = 3):
        self.distance_threshold = distance_threshold
        self.min_size = min_size

    def fit(self, corpus: Corpus) -> "Hierarchical":
        return self

    def assign(self, history: UserHistory) -> np.ndarray:
        n = len(history)
        if n < 2:
            return drop_small(np.zeros(n, dtype=np.int64), self.min_size)
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=self.distance_threshold,
        )
        labels = model.fit_predict(np.asarray(history.vectors, dtype=np.float64))
        return drop_small(labels, self.min_size)
