"""Ingest: activity logs (CSV, JSONL, Parquet) or a bundled dataset -> Events + Items.

The loaders (and pandas, which they use) are imported on first use: a run whose input the store
already holds (`journeys.ingest.source`) reads nothing and does not pay for them."""

from __future__ import annotations

import importlib

from journeys.ingest.quarantine import Quarantine, QuarantinedRow
from journeys.ingest.result import IngestResult, IngestStats

_LAZY = {"load_movielens_small": "journeys.ingest.movielens", "load_movielens_100k": "journeys.ingest.movielens",
         "ColumnMap": "journeys.ingest.validate", "load_events": "journeys.ingest.validate",
         "parse_timestamps": "journeys.ingest.validate"}


def _dataset(loader: str):
    def load(*args, **kwargs) -> IngestResult:
        return getattr(importlib.import_module(_LAZY[loader]), loader)(*args, **kwargs)

    load.__name__ = loader
    return load


DATASETS = {"movielens-small": _dataset("load_movielens_small"), "movielens-100k": _dataset("load_movielens_100k")}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'journeys.ingest' has no attribute '{name}'")


__all__ = [
    "DATASETS",
    "ColumnMap",
    "IngestResult",
    "IngestStats",
    "Quarantine",
    "QuarantinedRow",
    "load_events",
    "load_movielens_100k",
    "load_movielens_small",
    "parse_timestamps",
]
