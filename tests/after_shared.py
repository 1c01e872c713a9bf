"""Tiny hand-built journeys and events for the stages after naming."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from journeys.activity import UserActivity
from journeys.types import Event, Journey

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def journey(jid: str, days: list[float], user: str = "u", name: str | None = None, centroid=(1.0, 0.0),
            kinds: list[str] | None = None, **kw) -> tuple[Journey, list[Event]]:
    items = tuple(f"{jid}{k}" for k in range(len(days)))
    kinds = kinds or ["view"] * len(days)
    events = [Event(user, i, at(d), k) for i, d, k in zip(items, days, kinds)]
    j = Journey(jid, user, name or f"Journey {jid}", "keywords", (), items, len(days), at(min(days)),
                at(max(days)), tuple(centroid), items[:3], **kw)
    return j, events


def user(*parts, now: float, user_id: str = "u") -> tuple[list[Journey], UserActivity]:
    js = [p[0] for p in parts]
    evs = [e for p in parts for e in p[1]]
    return js, UserActivity.of(user_id, evs, at(now))
