"""After naming: stage -> rank -> diversify -> expand, for one user's journeys at a time.

    stages = AfterStages.build(settings.after, store)
    ctx = AfterContext(UserActivity.of(user, interest_events, now), stages, catalogue, peers, embed, store)
    journeys = finish_user(journeys, ctx)

`finish_users` does it for a whole run (discover): everybody's journeys first, so that the
collaborative candidates of every user see the same peers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from journeys.activity import UserActivity
from journeys.batch.columns import EventColumns, UserEvents
from journeys.config import AfterSettings
from journeys.diversify import DIVERSIFIERS, Diversifier
from journeys.expand import Catalogue, ExpandContext, Expander, PeerIndex
from journeys.rank import RANKERS, Ranker
from journeys.stage import STAGERS, Stager
from journeys.types import Event, Journey


@dataclass
class AfterStages:
    stager: Stager
    ranker: Ranker
    diversifier: Diversifier
    expander: Expander | None

    @classmethod
    def build(cls, s: AfterSettings, store=None) -> "AfterStages":
        rank_opts = s.options(s.ranker)
        if s.ranker == "learned":
            rank_opts.setdefault("store", store)
        div_opts = {"penalty": s.penalty, "threshold": s.similarity, **s.options(s.diversifier)}
        expander = Expander(s.expand, per_journey=s.related, ground_threshold=s.ground_threshold,
                            params=s.params) if s.expand else None
        return cls(STAGERS.create(s.stager, **s.options(s.stager)), RANKERS.create(s.ranker, **rank_opts),
                   DIVERSIFIERS.create(s.diversifier, **div_opts), expander)


@dataclass
class AfterContext:
    """What the stages after naming may use for one user."""

    activity: UserActivity
    stages: AfterStages
    catalogue: Catalogue | None = None
    peers: PeerIndex | None = None
    embed: Callable[[list[str]], np.ndarray] | None = None
    kv: object | None = None  # the store's expansion table
    memo: dict | None = None


def finish_user(journeys: Sequence[Journey], ctx: AfterContext) -> list[Journey]:
    st = ctx.stages
    out = st.stager.stage(journeys, ctx.activity)
    out = st.ranker.rank(out, ctx.activity)
    out = st.diversifier.diversify(out)
    if st.expander is not None and ctx.catalogue is not None:
        out = expand_user(out, frozenset(e.item_id for e in ctx.activity.events), ctx)
    return out


def expand_user(journeys: Sequence[Journey], seen: frozenset, ctx: AfterContext) -> list[Journey]:
    """Related journeys for one user's staged, ranked journeys (`seen`: the items they met)."""
    ectx = ExpandContext(journeys, ctx.catalogue, ctx.peers, ctx.embed,
                         ctx.kv if hasattr(ctx.kv, "get_expansion") else None, seen=seen)
    if ctx.memo is not None:
        ectx.memo = ctx.memo
    return ctx.stages.expander.expand(ectx)


class KVSnapshot:
    """The store's expansion table as a worker sees it: the entries the driver read for the
    names at hand, and what the worker would write (`written`, for the driver to store)."""

    def __init__(self, entries: Mapping[str, dict]):
        self.entries = dict(entries)
        self.written: dict[str, dict] = {}

    def get_expansion(self, key: str) -> dict | None:
        return self.entries.get(key)

    def put_expansion(self, key: str, value: dict) -> None:
        self.entries[key] = self.written[key] = value


def resolve_now(settings: AfterSettings, store=None, events: Sequence[Event] | EventColumns = ()) -> datetime | None:
    """`after.now` if set, else the latest event time in the store (else in `events`)."""
    if settings.now is not None:
        return settings.now
    latest = store.latest_event_time() if hasattr(store, "latest_event_time") else None
    if latest is None and len(events):
        latest = events.latest() if isinstance(events, EventColumns) else max(e.timestamp for e in events)
    return latest


def finish_users(journeys: Mapping[str, Sequence[Journey]], events: Mapping[str, Sequence[Event]],
                 settings: AfterSettings, store=None, vectors: Mapping[str, np.ndarray] | None = None,
                 embed: Callable[[list[str]], np.ndarray] | None = None,
                 is_interest: Callable[[Event], bool] = lambda e: True,
                 peers_from: Sequence[Journey] = ()) -> dict[str, list[Journey]]:
    """Every given user's journeys, finished. `events`: each user's events (a `UserEvents` builds
    them one user at a time); `vectors`: the item vectors expansion grounds candidates in;
    `peers_from`: other users' (stored) journeys, which collaborative expansion also draws on."""
    if not settings.enabled:
        return {u: list(js) for u, js in journeys.items()}
    now = resolve_now(settings, store, events.columns if isinstance(events, UserEvents)
                      else [e for evs in events.values() for e in evs])
    stages = AfterStages.build(settings, store)
    catalogue = Catalogue.of(vectors) if vectors else None
    peers = PeerIndex.of([j for js in journeys.values() for j in js] + list(peers_from))
    memo: dict = {}
    out = {}
    for user, js in journeys.items():
        act = UserActivity.of(user, [e for e in events.get(user, ()) if is_interest(e)], now)
        out[user] = finish_user(js, AfterContext(act, stages, catalogue, peers, embed, store, memo))
    return out
