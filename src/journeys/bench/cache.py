"""An on-disk embedding cache for benchmarks, keyed by model name and item-text content hash.

It speaks the two store methods the pipeline uses for embeddings (`get_embeddings`,
`put_embeddings`), so benchmarks run the very same `Pipeline.prepare` as `discover` and repeated
runs embed nothing. Location: $JOURNEYS_CACHE_DIR, else ~/.cache/journeys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from journeys.paths import cache_dir


class EmbeddingCache:
    """One .npz file per model: content hashes and their vectors. Writes are atomic."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else cache_dir()
        self._mem: dict[str, dict[str, np.ndarray]] = {}

    def _file(self, model: str) -> Path:
        return self.directory / f"embeddings-{re.sub(r'[^A-Za-z0-9._-]+', '_', model)}.npz"

    def _load(self, model: str) -> dict[str, np.ndarray]:
        if model not in self._mem:
            table: dict[str, np.ndarray] = {}
            path = self._file(model)
            if path.is_file():
                try:
                    with np.load(path, allow_pickle=False) as z:
                        table = dict(zip(z["hashes"].tolist(), z["vectors"]))
                except (OSError, ValueError, KeyError):
                    table = {}  # a damaged cache is only a slower run
            self._mem[model] = table
        return self._mem[model]

    def get_embeddings(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        table = self._load(model)
        return {h: table[h] for h in hashes if h in table}

    def put_embeddings(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        table = self._load(model)
        table.update({h: np.asarray(v, dtype=np.float32) for h, v in vectors.items()})
        self.directory.mkdir(parents=True, exist_ok=True)
        keys = sorted(table)
        path = self._file(model)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, hashes=np.array(keys), vectors=np.stack([table[h] for h in keys]))
        os.replace(tmp, path)
