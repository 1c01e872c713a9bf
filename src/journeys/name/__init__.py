"""Journey namers: turn a journey's items and keywords into the name a user would say.

Chosen by name from `NAMERS`. A namer receives everything it needs in a `NamingContext`
(never the pipeline) and returns one name per journey candidate, unique within the user.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from journeys.registry import Registry


@dataclass(frozen=True)
class JourneyDraft:
    """A journey candidate before naming: its items (time order), representative titles
    (nearest the centroid first) and keywords (best first)."""

    user_id: str
    item_ids: tuple[str, ...]
    titles: tuple[str, ...]
    keywords: tuple[str, ...]
    representative_titles: tuple[str, ...] = ()
    broad: tuple[str, ...] = ()  # keywords that much of the whole catalogue carries (categories)


@dataclass(frozen=True)
class NamedJourney:
    name: str
    source: str  # which namer produced it: "keywords", "llm", "llm-fallback-keywords", ...


@dataclass(frozen=True)
class NamingContext:
    """What a namer may use for one user: all of the user's drafts, so names can be unique, and
    optionally the text embedder (texts -> unit vectors) to check a name against the titles."""

    user_id: str
    drafts: Sequence[JourneyDraft] = field(default_factory=tuple)
    embed: Callable[[list[str]], object] | None = None


@runtime_checkable
class Namer(Protocol):
    name: str

    def name_user(self, context: NamingContext) -> list[NamedJourney]: ...


NAMERS: Registry[Namer] = Registry("namer")

from journeys.name import keywords, llm  # noqa: E402,F401  (registers the plug-ins)

__all__ = ["NAMERS", "JourneyDraft", "NamedJourney", "Namer", "NamingContext"]
