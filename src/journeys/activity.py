"""One user's activity as the stages after naming see it: their interest events and `now`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from journeys.types import Event, Journey

DAY = 86400.0
T = TypeVar("T")


@dataclass(frozen=True)
class UserActivity:
    """A user's interest events in time order and the moment the stages judge from."""

    user_id: str
    events: tuple[Event, ...]
    now: datetime
    _memo: dict = field(default_factory=dict, repr=False, compare=False)  # what `memo` worked out

    @classmethod
    def of(cls, user_id: str, events: Sequence[Event], now: datetime | None = None) -> "UserActivity":
        evs = tuple(sorted((e for e in events if e.user_id == user_id), key=lambda e: (e.timestamp, e.item_id)))
        if now is None:
            if not evs:
                raise ValueError(f"no events for user {user_id!r} and no `now` given")
            now = evs[-1].timestamp
        return cls(user_id, evs, now)

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """`make()`, worked out once per activity (what every journey of the user reads)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def by_item(self) -> dict[str, list[Event]]:
        def make() -> dict[str, list[Event]]:
            out: dict[str, list[Event]] = {}
            for e in self.events:
                out.setdefault(e.item_id, []).append(e)
            return out

        return self.memo("by_item", make)

    def journey_events(self, j: Journey) -> list[Event]:
        """The journey's events up to `now`, in time order."""
        idx = self.by_item()
        return sorted((e for i in j.item_ids for e in idx.get(i, ()) if e.timestamp <= self.now),
                      key=lambda e: (e.timestamp, e.item_id))

    def days_before_now(self, when: datetime) -> float:
        return max(0.0, (self.now - when).total_seconds() / DAY)

    def seconds(self) -> tuple[float, ...]:
        """Epoch seconds of the events up to `now`, in time order."""
        return self.memo("seconds", lambda: tuple(e.timestamp.timestamp() for e in self.events if e.timestamp <= self.now))
