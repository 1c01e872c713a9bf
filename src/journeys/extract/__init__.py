"""Journey extraction: group one user's items (in time order) into journey candidates.

Every clusterer returns one label per item of the user's history: a journey number >= 0, or
`NOISE` (-1) for items that belong to no journey. Nothing is lost: noise items are kept as the
user's unassigned items. Per-user methods ignore `fit`; global baselines learn there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from journeys.registry import Registry

NOISE = -1


@dataclass(frozen=True)
class UserHistory:
    """One user's distinct items in order of first interaction, with unit-length vectors."""

    user_id: str
    item_ids: tuple[str, ...]
    vectors: np.ndarray = field(repr=False)  # (n, dim) float32, rows aligned with item_ids
    texts: tuple[str, ...] = field(default=(), repr=False)  # item texts, for text-based peers

    def __len__(self) -> int:
        return len(self.item_ids)


@dataclass(frozen=True)
class Corpus:
    """What a global method may learn from: every user's history (and so every item vector)."""

    histories: Sequence[UserHistory]


@runtime_checkable
class Clusterer(Protocol):
    name: str

    def fit(self, corpus: Corpus) -> "Clusterer": ...

    def assign(self, history: UserHistory) -> np.ndarray: ...


CLUSTERERS: Registry[Clusterer] = Registry("clusterer")


def drop_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Relabel journeys with fewer than `min_size` items as NOISE and renumber the rest 0..k-1
    in order of first appearance (so labels are deterministic and time-ordered)."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, NOISE, dtype=np.int64)
    real = labels != NOISE
    if not real.any():
        return out
    _, first, inverse, counts = np.unique(labels[real], return_index=True, return_inverse=True, return_counts=True)
    kept = np.flatnonzero(counts >= min_size)
    number = np.full(len(counts), NOISE, dtype=np.int64)
    number[kept[np.argsort(first[kept], kind="stable")]] = np.arange(len(kept))
    out[real] = number[inverse]
    return out


from journeys.extract import bertopic_peer, global_baselines, hierarchical, icpc  # noqa: E402,F401  (registers)

__all__ = ["CLUSTERERS", "NOISE", "Clusterer", "Corpus", "UserHistory", "drop_small"]
