"""Diversify, Pinterest's rule: walking the ranked list, a journey's score is multiplied by
`penalty` (0.95) for each similar journey ranked above it (centroid cosine >= `threshold`), then
the list is re-sorted. Pinned journeys stay first and hidden ones last (rank.order)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from journeys.rank import order
from journeys.registry import Registry
from journeys.types import Journey


def _unit_rows(journeys: Sequence[Journey]) -> np.ndarray:
    dims = {len(j.centroid) for j in journeys}
    if len(dims) != 1 or 0 in dims:
        return np.zeros((len(journeys), 0))
    m = np.asarray([j.centroid for j in journeys], dtype=np.float64)
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(n == 0, 1.0, n)


def mean_pairwise_similarity(journeys: Sequence[Journey]) -> float | None:
    """Mean centroid cosine over the pairs (None for fewer than two journeys)."""
    m = _unit_rows(journeys)
    if len(journeys) < 2 or not m.shape[1]:
        return None
    sims = m @ m.T
    iu = np.triu_indices(len(journeys), 1)
    return float(sims[iu].mean())


@runtime_checkable
class Diversifier(Protocol):
    name: str

    def diversify(self, journeys: Sequence[Journey]) -> list[Journey]: ...


DIVERSIFIERS: Registry[Diversifier] = Registry("diversifier")


@DIVERSIFIERS.register("pinterest")
class PenaltyDiversifier:
    name = "pinterest"

    def __init__(self, penalty: float = 0.95, threshold: float = 0.8, **_: object):
        if not 0.0 < penalty <= 1.0:
            raise ValueError(f"penalty must be in (0, 1], got {penalty}")
        self.penalty = penalty
        self.threshold = threshold

    def diversify(self, journeys: Sequence[Journey]) -> list[Journey]:
        ranked = order(journeys)
        if self.penalty == 1.0 or len(ranked) < 2:
            return ranked
        m = _unit_rows(ranked)
        if not m.shape[1]:
            return ranked
        similar = (m @ m.T) >= self.threshold
        out = []
        for i, j in enumerate(ranked):
            above = int(similar[i, :i].sum())
            out.append(dataclasses.replace(j, score=round(j.score * self.penalty ** above, 6)) if above else j)
        return order(out)


@DIVERSIFIERS.register("none")
class NoDiversifier:
    name = "none"

    def __init__(self, **_: object):
        pass

    def diversify(self, journeys: Sequence[Journey]) -> list[Journey]:
        return order(journeys)
