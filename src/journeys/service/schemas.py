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
