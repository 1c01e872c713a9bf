"""The fitted model: what a full run learned, as plain arrays, apart from the store and progress.

It holds the settings it was fitted with, the embedder's name, the clusterer's learned state, the
keyword model and the title, description, text and vector of every item in use. `to_bytes` /
`from_bytes` give an npz (no pickle), so the same object is what the store keeps, what an executor
ships to its workers once (a local process pool or Ray's object store), and what a worker
rebuilds a pipeline from to compute its users (services/batch.py). Workers never touch the store;
they embed only if a namer or an expansion source asks for a vector the model lacks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from journeys.pipeline import Partition, Pipeline, dump_arrays, load_arrays
from journeys.types import Event, Item


@dataclass
class FittedModel:
    settings: dict  # Settings as JSON
    model_version: str
    embedder: str
    clusterer_state: dict[str, np.ndarray]
    keyword_state: dict[str, np.ndarray]
    item_ids: list[str]
    titles: list[str]
    texts: list[str]
    vectors: np.ndarray  # (n_items, dim) float32, rows aligned with item_ids
    descriptions: list[str] | None = None  # what the injection check reads besides the title

    @classmethod
    def of(cls, pipe: Pipeline) -> "FittedModel":
        ids = sorted(pipe.vectors_)
        dim = getattr(pipe.embedder, "dim", 0)
        state = pipe.clusterer.state() if hasattr(pipe.clusterer, "state") else {}
        return cls(pipe.settings.model_dump(mode="json"), pipe.model_version_, pipe.embedder.name, state,
                   pipe.keywords.state(), ids, [pipe.items_[i].title for i in ids], [pipe.texts_[i] for i in ids],
                   np.stack([pipe.vectors_[i] for i in ids]).astype(np.float32) if ids
                   else np.zeros((0, dim), dtype=np.float32), [pipe.items_[i].description for i in ids])

    def to_bytes(self) -> bytes:
        meta = {"settings": self.settings, "model_version": self.model_version, "embedder": self.embedder}
        arrays = {"meta": np.asarray(json.dumps(meta)), "item_ids": np.asarray(self.item_ids, dtype=str),
                  "titles": np.asarray(self.titles, dtype=str), "texts": np.asarray(self.texts, dtype=str),
                  "vectors": self.vectors}
        if self.descriptions is not None:
            arrays["descriptions"] = np.asarray(self.descriptions, dtype=str)
        arrays.update({f"clusterer.{k}": v for k, v in self.clusterer_state.items()})
        arrays.update({f"keywords.{k}": v for k, v in self.keyword_state.items()})
        return dump_arrays(arrays)

    @classmethod
    def from_bytes(cls, blob: bytes) -> "FittedModel":
        a = load_arrays(blob)
        meta = json.loads(str(a["meta"]))
        pick = lambda prefix: {k[len(prefix):]: v for k, v in a.items() if k.startswith(prefix)}  # noqa: E731
        return cls(meta["settings"], meta["model_version"], meta["embedder"], pick("clusterer."), pick("keywords."),
                   a["item_ids"].tolist(), a["titles"].tolist(), a["texts"].tolist(), a["vectors"],
                   a["descriptions"].tolist() if "descriptions" in a else None)

    def pipeline(self) -> Pipeline:
        """A pipeline that partitions, names and builds online state exactly as the fitted one does
        (no store; it embeds only if a namer asks it to)."""
        from journeys.config import Settings

        pipe = Pipeline(Settings(**self.settings))
        if self.clusterer_state and hasattr(pipe.clusterer, "load_state"):
            pipe.clusterer.load_state(self.clusterer_state)
        pipe.keywords.load_state(self.keyword_state)
        descriptions = self.descriptions if self.descriptions is not None else [""] * len(self.item_ids)
        pipe.items_ = {i: Item(i, t, d) for i, t, d in zip(self.item_ids, self.titles, descriptions)}
        pipe.texts_ = dict(zip(self.item_ids, self.texts))
        pipe.vectors_ = {i: self.vectors[n] for n, i in enumerate(self.item_ids)}
        pipe.model_version_ = self.model_version
        return pipe


def partition_users(model: FittedModel | Pipeline, users: Sequence[tuple[str, Sequence[Event]]]) -> list[Partition]:
    """The per-user work an executor runs on one partition of users: the clusterer's partition of
    each user's items (identity, edits and naming follow in the driver, next to the store)."""
    pipe = model if isinstance(model, Pipeline) else model.pipeline()
    return [pipe.partition(user, events) for user, events in users]
