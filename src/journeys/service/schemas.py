"""Request bodies: unknown fields are refused (extra=forbid) and types are strict."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from journeys.types import EVENT_KINDS


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JourneyPatch(Body):
    """Any of: a new name, hide or show, pin or unpin."""

    name: StrictStr | None = Field(None, min_length=1, max_length=200)
    hidden: StrictBool | None = None
    pinned: StrictBool | None = None


class MergeBody(Body):
    other_id: StrictStr = Field(..., min_length=1, description="the journey merged into this one")


class SplitBody(Body):
    item_ids: list[StrictStr] = Field(..., min_length=1, description="items that leave for a new journey")


class EventIn(Body):
    """One event row; `timestamp` must carry a timezone (ISO 8601) or be epoch seconds."""

    user_id: StrictStr = Field(..., min_length=1)
    item_id: StrictStr = Field(..., min_length=1)
    timestamp: datetime | StrictInt | StrictFloat
    kind: Literal[EVENT_KINDS] = "view"  # type: ignore[valid-type]
    weight: StrictFloat | StrictInt = 1.0
    query: StrictStr | None = None


class EventsBody(Body):
    """A batch of events; each row is checked on its own, so the valid ones are stored even when
    others are refused (their row numbers and reasons come back)."""

    events: list[dict] = Field(..., min_length=1)


def to_event(row: EventIn):
    """An EventIn as the vocabulary's Event: timestamps in UTC (epoch seconds, or milliseconds
    from 1e11 on, as ingest reads them); a timestamp without a timezone is refused."""
    from datetime import timezone

    from journeys.types import Event

    ts = row.timestamp
    if isinstance(ts, (int, float)):
        ts = datetime.fromtimestamp(ts / 1000 if abs(ts) >= 1e11 else ts, tz=timezone.utc)
    elif ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("timestamp needs a timezone (e.g. 2024-05-01T10:00:00Z)")
    else:
        ts = ts.astimezone(timezone.utc)
    return Event(row.user_id, row.item_id, ts, row.kind, float(row.weight), row.query)


def parse_rows(rows: list[dict]) -> tuple[list, list[int], list[dict]]:
    """Each row checked on its own: (events, their row numbers, [{"row", "reason"}] refused)."""
    from pydantic import ValidationError

    events, where, rejected = [], [], []
    for n, raw in enumerate(rows):
        try:
            events.append(to_event(EventIn.model_validate(raw)))
            where.append(n)
        except ValidationError as exc:
            reason = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())
            rejected.append({"row": n, "reason": reason})
        except ValueError as exc:
            rejected.append({"row": n, "reason": str(exc)})
    return events, where, rejected
