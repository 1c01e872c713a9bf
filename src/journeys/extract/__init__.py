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
    counts: dict[int, int] = {}
    for lab in labels:
        if lab != NOISE:
            counts[int(lab)] = counts.get(int(lab), 0) + 1
    mapping: dict[int, int] = {}
    for i, lab in enumerate(labels):
        lab = int(lab)
        if lab == NOISE or counts[lab] < min_size:
            continue
        if lab not in mapping:
            mapping[lab] = len(mapping)
        out[i] = mapping[lab]
    return out


from journeys.extract import bertopic_peer, global_baselines, hierarchical, icpc  # noqa: E402,F401  (registers)

__all__ = ["CLUSTERERS", "NOISE", "Clusterer", "Corpus", "UserHistory", "drop_small"]
