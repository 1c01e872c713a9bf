"""Text embedders: item text -> L2-normalised vectors. Chosen by name from `EMBEDDERS`."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from journeys.registry import Registry


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into an (n, dim) float32 array of unit-length rows."""

    name: str  # identifies model + settings; part of the embedding cache key
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


EMBEDDERS: Registry[Embedder] = Registry("embedder")

from journeys.embed import hashing, minilm, onnx  # noqa: E402,F401  (registers the plug-ins)
from journeys.embed.text import item_text  # noqa: E402

__all__ = ["EMBEDDERS", "Embedder", "item_text"]
