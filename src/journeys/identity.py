"""Stable journey identity, lineage and people's edits, applied to a fresh partition of a user's items.

Every run (discover, ingest, refresh) ends in the same place: a partition of the user's items into
groups. This module decides which stored journey each group continues, so a journey keeps its id
as it grows, shrinks, is renamed or sees a late event with an earlier timestamp, and it applies
the user's overrides (merge, split, rename, hide, pin) so they survive every later computation.

Continuation: a stored journey continues into the group that holds most (> half) of its items.
When several stored journeys continue into one group, the oldest id survives and the others are
recorded as merged into it. A group that continues no journey but whose items are mostly one
stored journey's is split from it (parent recorded); any other group is a new journey, with the
id derived from the user and its first item, as a full run derives it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


def journey_id(user_id: str, seed_item: str, salt: int = 0) -> str:
    """Stable across runs: a new journey is identified by its user and the item that started it."""
    key = f"{user_id}\x1f{seed_item}" + (f"\x1f{salt}" if salt else "")
    return "j_" + hashlib.sha1(key.encode()).hexdigest()[:16]


@dataclass
class Group:
    """One journey of the new partition: its items in time order and what the edits say of it."""

    item_ids: list[str]
    journey_id: str | None = None
    parent_id: str | None = None
    name: str | None = None  # a name the user gave it (or one kept as it was)
    name_source: str = "user"
    hidden: bool = False
    pinned: bool = False


@dataclass
class Identity:
    """The outcome for one user: named groups, registry updates and lineage events."""

    groups: list[Group]
    registry: dict[str, dict] = field(default_factory=dict)
    lineage: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # (id, event, other, detail)


@dataclass(frozen=True)
class Overrides:
    """A user's edits, in the order they were made (later ones win)."""

    names: Mapping[str, str] = field(default_factory=dict)
    hidden: Mapping[str, bool] = field(default_factory=dict)
    pinned: Mapping[str, bool] = field(default_factory=dict)
    merges: Sequence[tuple[str, tuple[str, ...]]] = ()  # (surviving id, the items of the one merged in)
    splits: Sequence[tuple[str, str, tuple[str, ...]]] = ()  # (parent id, child id, the child's items)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping]) -> "Overrides":
        names: dict[str, str] = {}
        hidden: dict[str, bool] = {}
        pinned: dict[str, bool] = {}
        merges, splits = [], []
        for r in rows:
            jid, kind, value = r["journey_id"], r["kind"], r["value"]
            if kind == "rename":
                names[jid] = value
            elif kind == "hide":
                hidden[jid] = value == "1"
            elif kind == "pin":
                pinned[jid] = value == "1"
            elif kind == "merge":
                v = json.loads(value)
                merges.append((jid, tuple(v["items"])))
                if v["other"] in names and jid not in names:  # the merged-in journey's name moves over
                    names[jid] = names[v["other"]]
            elif kind == "split":
                v = json.loads(value)
                splits.append((jid, v["child"], tuple(v["items"])))
        return cls(names, hidden, pinned, tuple(merges), tuple(splits))

    @property
    def forced_ids(self) -> set[str]:
        return {child for _, child, _ in self.splits}


def resolve(
    user_id: str,
    partition: Sequence[Sequence[str]],
    stored: Mapping[str, Sequence[str]],
    registry: Mapping[str, Mapping],
    overrides: Overrides,
    created: Callable[[Sequence[str]], float],
) -> Identity:
    """Give each group of `partition` its journey id and apply the user's edits.

    `stored` maps the user's active stored journey ids to their items; `registry` holds every id
    the user ever had (so a new id never reuses one); `created(items)` gives a new journey's
    creation time (its first event)."""
    groups = [Group(list(g)) for g in partition]
    out = Identity(groups)
    forced = overrides.forced_ids
    old = {jid: set(items) for jid, items in stored.items() if jid not in forced}
    age = {jid: (registry.get(jid, {}).get("created", 0.0), jid) for jid in old}
    sets = [set(g.item_ids) for g in groups]

    # stored journeys that continue into a group (most of their items are there)
    continuing: dict[int, list[str]] = {}
    placed: dict[str, int] = {}
    for jid, items in old.items():
        if not items:
            continue
        best = max(range(len(groups)), key=lambda k: (len(items & sets[k]), -k), default=None)
        if best is not None and 2 * len(items & sets[best]) > len(items):
            continuing.setdefault(best, []).append(jid)
            placed[jid] = best
    for k, jids in continuing.items():
        jids.sort(key=lambda j: age[j])
        groups[k].journey_id = jids[0]
        for gone in jids[1:]:
            out.lineage.append((gone, "merged_into", jids[0], f"{len(old[gone] & sets[k])} items"))
            out.registry[gone] = {**registry.get(gone, {"created": age[gone][0]}), "status": "merged",
                                  "merged_into": jids[0]}
    # groups without an id: split from the stored journey most of their items came from
    for k, g in enumerate(groups):
        if g.journey_id is not None:
            continue
        src = max(old, key=lambda j: (len(old[j] & sets[k]), -age[j][0], j), default=None)
        if src is not None and 2 * len(old[src] & sets[k]) > len(sets[k]):
            if src not in placed:  # the stored journey continues nowhere else: this is it
                g.journey_id = src
                placed[src] = k
                continue
            g.parent_id = src
    # stored journeys that continue nowhere have ended
    for jid in old:
        if jid not in placed and registry.get(jid, {}).get("status", "active") == "active" \
                and jid not in out.registry:
            out.registry[jid] = {**registry.get(jid, {"created": age[jid][0]}), "status": "dissolved"}
            out.lineage.append((jid, "dissolved", None, ""))

    _apply_merges(groups, overrides)
    _apply_splits(groups, overrides)
    taken = set(registry) | {g.journey_id for g in groups if g.journey_id}
    for g in groups:
        if g.journey_id is None and g.item_ids:
            salt = 0
            while (jid := journey_id(user_id, g.item_ids[0], salt)) in taken:
                salt += 1
            g.journey_id = jid
            taken.add(jid)
            out.registry[jid] = {"created": created(g.item_ids), "status": "active", "parent_id": g.parent_id}
            if g.parent_id:
                out.lineage.append((jid, "split_from", g.parent_id, f"{len(g.item_ids)} items"))
            else:
                out.lineage.append((jid, "created", None, f"{len(g.item_ids)} items"))
    out.groups = [g for g in groups if g.item_ids]
    for g in out.groups:
        g.name = overrides.names.get(g.journey_id)
        g.hidden = overrides.hidden.get(g.journey_id, False)
        g.pinned = overrides.pinned.get(g.journey_id, False)
        reg = out.registry.get(g.journey_id) or dict(registry.get(g.journey_id, {}))
        if reg.get("status", "active") != "active" or g.journey_id not in registry:
            out.registry[g.journey_id] = {**reg, "created": reg.get("created", created(g.item_ids)),
                                          "status": "active", "merged_into": None,
                                          "parent_id": g.parent_id or reg.get("parent_id")}
        if g.parent_id is None:
            g.parent_id = reg.get("parent_id")
    return out


def _apply_merges(groups: list[Group], overrides: Overrides) -> None:
    """A merge the user made stays made: groups made mostly of the merged-in journey's items join
    the surviving journey's group (or become it, when it has none)."""
    for keep, items in overrides.merges:
        merged = set(items)
        target = next((g for g in groups if g.journey_id == keep), None)
        for g in groups:
            if g is target or not g.item_ids or g.journey_id == keep:
                continue
            if 2 * len(merged & set(g.item_ids)) > len(g.item_ids):
                if target is None:
                    g.journey_id, g.parent_id, target = keep, None, g
                    continue
                target.item_ids += g.item_ids
                g.item_ids = []
        if target is not None:
            order = {i: n for n, i in enumerate(target.item_ids)}
            target.item_ids = sorted(dict.fromkeys(target.item_ids), key=order.__getitem__)


def _apply_splits(groups: list[Group], overrides: Overrides) -> None:
    """A split the user made stays made: the child's items leave whatever group holds them and
    form the child journey, whose parent is recorded."""
    for parent, child, items in overrides.splits:
        moved = set(items)
        taken: list[str] = []
        for g in groups:
            if g.journey_id == child:
                continue
            keep = [i for i in g.item_ids if i not in moved]
            taken += [i for i in g.item_ids if i in moved]
            g.item_ids = keep
        existing = next((g for g in groups if g.journey_id == child), None)
        if existing is None:
            existing = Group([], child, parent)
            groups.append(existing)
        order = {i: n for n, i in enumerate(items)}
        existing.item_ids = sorted(set(existing.item_ids) | set(taken), key=lambda i: order.get(i, len(order)))
        existing.parent_id = parent
