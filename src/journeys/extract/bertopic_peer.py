"""BERTopic per user, a peer to beat (optional `bench` extra: bertopic, umap-learn, hdbscan).

Run on the same item embeddings as the other methods, one user at a time, with the settings a
reasonable user would pick for small inputs: UMAP to 5 dimensions with n_neighbors shrunk to the
history (at most 15, cosine, min_dist 0), HDBSCAN with min_cluster_size = `min_size`, no topic
reduction. Its outlier topic (-1) is noise. Histories too small for UMAP (fewer than
`min_size` + 2 items) are clustered directly by HDBSCAN on the embeddings, or left unassigned.
"""

from __future__ import annotations

import numpy as np

from journeys.errors import require
from journeys.extract import CLUSTERERS, NOISE, Corpus, UserHistory, drop_small


@CLUSTERERS.register("bertopic")
class BERTopicPeer:
    name = "bertopic"

    def __init__(self, min_size: int = 3, n_neighbors: int = 15, n_components: int = 5,
                 seed: int = 0):
        self.min_size = min_size
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.seed = seed

    def fit(self, corpus: Corpus) -> "BERTopicPeer":
        require("bertopic", "bench")
        return self

    def assign(self, history: UserHistory) -> np.ndarray:
        n = len(history)
        if n < max(self.min_size, 2):
            return np.full(n, NOISE, dtype=np.int64)
        x = np.asarray(history.vectors, dtype=np.float32)
        if n < self.min_size + 2 or n <= self.n_components + 1:
            return drop_small(self._hdbscan(x), self.min_size)
        bertopic = require("bertopic", "bench")
        umap = require("umap", "bench")
        hdbscan = require("hdbscan", "bench")
        reducer = umap.UMAP(
            n_neighbors=max(2, min(self.n_neighbors, n - 1)),
            n_components=self.n_components,
            min_dist=0.0,
            metric="cosine",
            random_state=self.seed,
            n_jobs=1,
            init="random" if n <= self.n_components + 2 else "spectral",
        )
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=self.min_size, metric="euclidean", cluster_selection_method="eom"
        )
        texts = list(history.texts) if history.texts else list(history.item_ids)
        model = bertopic.BERTopic(
            umap_model=reducer,
            hdbscan_model=clusterer,
            min_topic_size=self.min_size,
            calculate_probabilities=False,
            verbose=False,
        )
        try:
            topics, _ = model.fit_transform(texts, embeddings=x)
        except (ValueError, TypeError):  # degenerate tiny inputs (e.g. an empty vocabulary)
            return drop_small(self._hdbscan(x), self.min_size)
        return drop_small(np.asarray(topics, dtype=np.int64), self.min_size)

    def _hdbscan(self, x: np.ndarray) -> np.ndarray:
        hdbscan = require("hdbscan", "bench")
        if len(x) < self.min_size:
            return np.full(len(x), NOISE, dtype=np.int64)
        return np.asarray(
            hdbscan.HDBSCAN(min_cluster_size=self.min_size, metric="euclidean").fit_predict(x),
            dtype=np.int64,
        )
