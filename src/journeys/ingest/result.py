"""What a load gives: events, items, counts and the quarantined rows (no pandas here, so that a
run that reads nothing afresh does not import it)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from journeys.ingest.quarantine import Quarantine
from journeys.types import Event, Item


@dataclass
class IngestStats:
    rows: int = 0
    events: int = 0
    duplicates: int = 0
    quarantined: int = 0
    items: int = 0
    item_rows_quarantined: int = 0
    title_conflicts: int = 0  # inline titles that differ from the item's first title (first kept)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> "IngestStats":
        """The counts of `as_dict` (keys this version does not know are left out)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


@dataclass
class IngestResult:
    events: list[Event]
    items: dict[str, Item]
    stats: IngestStats
    quarantine: Quarantine
    enrichment: Any = None  # bundled datasets: what extra item text was matched (ingest/credits.py)
    unchanged: bool = False  # the store already holds this input whole: nothing was read (ingest/source.py)
