"""A fast, dependency-free embedder for tests: hashed words, word bigrams and character 4-grams
(so 'hydroponic' and 'hydroponics' land close)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from journeys.embed import EMBEDDERS

_WORD = re.compile(r"[a-z0-9]+")


@EMBEDDERS.register("hashing")
class HashingEmbedder:
    """Feature hashing of lower-cased words and word bigrams; deterministic across runs."""

    def __init__(self, dim: int = 1024):
        self.dim = dim
        self.name = f"hashing-{dim}"

    def _index(self, token: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        return h % self.dim, 1.0 if (h >> 63) & 1 else -1.0

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            grams = [w[i : i + 4] for w in words if len(w) > 4 for i in range(len(w) - 3)]
            for tok, weight in [(w, 1.0) for w in words] + [(a + "_" + b, 0.5) for a, b in zip(words, words[1:])] + [
                ("#" + g, 0.5) for g in grams
            ]:
                col, sign = self._index(tok)
                out[row, col] += sign * weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)
