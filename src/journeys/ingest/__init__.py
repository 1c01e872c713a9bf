"""Ingest: activity logs (CSV, JSONL, Parquet) or a bundled dataset -> Events + Items."""

from journeys.ingest.movielens import load_movielens_100k, load_movielens_small
from journeys.ingest.quarantine import Quarantine, QuarantinedRow
from journeys.ingest.validate import ColumnMap, IngestResult, IngestStats, load_events, parse_timestamps

DATASETS = {"movielens-small": load_movielens_small, "movielens-100k": load_movielens_100k}

__all__ = [
    "DATASETS",
    "ColumnMap",
    "IngestResult",
    "IngestStats",
    "Quarantine",
    "QuarantinedRow",
    "load_events",
    "load_movielens_small",
    "parse_timestamps",
]
