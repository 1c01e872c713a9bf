"""The one vocabulary that crosses every boundary: frozen dataclasses, no behaviour beyond checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

EVENT_KINDS = ("view", "click", "save", "rate", "search", "like", "share", "purchase")


@dataclass(frozen=True, slots=True)
class Item:
    """Something a user interacted with: a movie, a pin, a package, or a search query."""

    item_id: str
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One interaction. `timestamp` is timezone-aware UTC; `query` holds a search's text."""

    user_id: str
    item_id: str
    timestamp: datetime
    kind: str = "view"
    weight: float = 1.0
    query: str | None = None

    def __post_init__(self) -> None:
        tz = self.timestamp.tzinfo
        if tz is not timezone.utc and (tz is None or self.timestamp.utcoffset() != timezone.utc.utcoffset(None)):
            raise ValueError(f"Event.timestamp must be UTC-aware, got {self.timestamp!r}")


class JourneyStage(str, Enum):
    """Pinterest's two axes: evergreen vs situational and ongoing vs ended."""

    ONGOING = "ongoing"
    ENDED = "ended"
    EVERGREEN = "evergreen"
    SITUATIONAL = "situational"


@dataclass(frozen=True, slots=True)
class Journey:
    """A named cluster of one user's items, with its evidence in time order."""

    journey_id: str
    user_id: str
    name: str
    name_source: str
    keywords: tuple[str, ...]
    item_ids: tuple[str, ...]
    n_events: int
    first_seen: datetime
    last_seen: datetime
    centroid: tuple[float, ...] = field(repr=False, default=())
    evidence: tuple[str, ...] = ()  # the most representative item ids (nearest the centroid)
    score: float = 0.0
    stage: str = ""  # one-line summary of the two axes, e.g. "ongoing, evergreen"
    stage_activity: str = ""  # "ongoing" | "ended" | "" (not staged)
    stage_kind: str = ""  # "evergreen" | "situational" | ""
    score_source: str = ""  # what produced `score`: "size", "heuristic", "ranker:v1", ...
    parent_id: str | None = None  # a sub-journey's broader journey (or a split's origin)
    hidden: bool = False  # hidden by the user: kept, never shown or recommended for
    pinned: bool = False  # pinned by the user: ranked first
    related: tuple[str, ...] = ()  # names of related journeys the user has not started (expansion)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """An item suggested to a user because of one of their journeys."""

    user_id: str
    item_id: str
    journey_id: str
    score: float
    reason: str = ""
    rank: int = 0
