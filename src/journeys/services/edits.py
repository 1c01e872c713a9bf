"""People stay in control: rename, hide, pin, merge and split journeys. Each edit is stored as an
override that every later computation (discover, ingest, refresh) applies, and is applied to the
stored journeys at once. `history` tells a journey's lineage; `journey_detail` everything about it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from journeys.config import Settings
from journeys.errors import ConfigError, NotFound
from journeys.identity import Group, Identity, Overrides, journey_id
from journeys.store import Store
from journeys.types import Journey

MAX_NAME = 120


def _journey(store: Store, jid: str) -> Journey:
    entry = store.registry_entry(jid)
    if entry is None:  # journeys stored before identity was recorded
        found = next((j for j in store.journeys() if j.journey_id == jid), None)
        if found is None:
            raise NotFound(f"no journey '{jid}' in the store")
        return found
    for j in store.journeys(entry["user_id"]):
        if j.journey_id == jid:
            return j
    where = f" into '{entry['merged_into']}'" if entry.get("merged_into") else ""
    raise NotFound(f"journey '{jid}' is no longer active (it was {entry['status']}{where})")


def _rewrite(store: Store, settings: Settings, user: str, groups: list[Group], ident: Identity) -> list[Journey]:
    """Materialise the user's journeys from edited groups (no re-clustering) and store them."""
    from journeys.services.living import finish_quickly, save_user
    from journeys.services.online import online_pipeline

    pipe = online_pipeline(store, settings)
    events = store.events(user)
    pipe.ensure_items({e.item_id for e in events})
    res = finish_quickly(pipe, store, pipe.materialise(user, events, groups, store.unassigned(user)), events)
    save_user(pipe, store, res, ident, events)
    return list(res.journeys)


def _groups(store: Store, user: str) -> list[Group]:
    ov = Overrides.from_rows(store.overrides(user))
    return [Group(list(j.item_ids), j.journey_id, j.parent_id,
                  ov.names.get(j.journey_id) or (j.name if j.name_source != "keywords" else None),
                  "user" if j.journey_id in ov.names else j.name_source,
                  ov.hidden.get(j.journey_id, False), ov.pinned.get(j.journey_id, False))
            for j in store.journeys(user)]


def rename(store: Store, jid: str, name: str, settings: Settings | None = None) -> Journey:
    name = " ".join(str(name).split())
    if not name:
        raise ConfigError("a journey name cannot be empty")
    if len(name) > MAX_NAME:
        raise ConfigError(f"a journey name has at most {MAX_NAME} characters (got {len(name)})")
    j = _journey(store, jid)
    store.add_override(j.user_id, jid, "rename", name)
    store.save_identity(j.user_id, {}, [(jid, "renamed", None, name)])
    return _set(store, j, settings, name=name, name_source="user")


def set_hidden(store: Store, jid: str, hidden: bool = True, settings: Settings | None = None) -> Journey:
    j = _journey(store, jid)
    store.add_override(j.user_id, jid, "hide", "1" if hidden else "0")
    store.save_identity(j.user_id, {}, [(jid, "hidden" if hidden else "shown", None, "")])
    return _set(store, j, settings, hidden=hidden)


def set_pinned(store: Store, jid: str, pinned: bool = True, settings: Settings | None = None) -> Journey:
    j = _journey(store, jid)
    store.add_override(j.user_id, jid, "pin", "1" if pinned else "0")
    store.save_identity(j.user_id, {}, [(jid, "pinned" if pinned else "unpinned", None, "")])
    return _set(store, j, settings, pinned=pinned)


def _set(store: Store, j: Journey, settings: Settings | None, **changes) -> Journey:
    """A flag or name changes nothing else: rewrite the stored rows, ranked as materialise ranks."""
    import dataclasses

    from journeys.rank import order

    journeys = order([dataclasses.replace(x, **changes) if x.journey_id == j.journey_id else x
                      for x in store.journeys(j.user_id)])
    store.replace_journeys(j.user_id, journeys, store.unassigned(j.user_id))
    return next(x for x in journeys if x.journey_id == j.journey_id)


def merge(store: Store, keep: str, other: str, settings: Settings) -> Journey:
    """Merge `other` into `keep`: `keep` survives with both journeys' items, and stays merged."""
    if keep == other:
        raise ConfigError(f"cannot merge journey '{keep}' with itself")
    a, b = _journey(store, keep), _journey(store, other)
    if a.user_id != b.user_id:
        raise ConfigError(f"journeys '{keep}' and '{other}' belong to different users")
    store.add_override(a.user_id, keep, "merge", json.dumps({"other": other, "items": list(b.item_ids)}))
    groups = [g for g in _groups(store, a.user_id) if g.journey_id != other]
    target = next(g for g in groups if g.journey_id == keep)
    target.item_ids += [i for i in b.item_ids if i not in set(target.item_ids)]
    entry = store.registry_entry(other) or {"created": 0.0}
    ident = Identity(groups, {other: {**entry, "status": "merged", "merged_into": keep}},
                     [(other, "merged_into", keep, "by the user")])
    return next(j for j in _rewrite(store, settings, a.user_id, groups, ident) if j.journey_id == keep)


def split(store: Store, jid: str, item_ids: Sequence[str], settings: Settings) -> Journey:
    """Split the given items off `jid` into a new journey whose parent is `jid`; returns it."""
    j = _journey(store, jid)
    items = list(dict.fromkeys(i.strip() for i in item_ids if i.strip()))
    if not items:
        raise ConfigError("split needs at least one item id (--items I1,I2,...)")
    foreign = [i for i in items if i not in set(j.item_ids)]
    if foreign:
        raise ConfigError(f"item '{foreign[0]}' is not in journey '{jid}'")
    if len(items) == len(j.item_ids):
        raise ConfigError(f"splitting every item off journey '{jid}' leaves nothing: rename it instead")
    registry = store.registry(j.user_id)
    order = [i for i in j.item_ids if i in set(items)]
    salt = 0
    while (child := journey_id(j.user_id, order[0], salt)) in registry:
        salt += 1
    store.add_override(j.user_id, jid, "split", json.dumps({"child": child, "items": order}))
    groups = _groups(store, j.user_id)
    parent = next(g for g in groups if g.journey_id == jid)
    parent.item_ids = [i for i in parent.item_ids if i not in set(order)]
    groups.append(Group(order, child, jid))
    first = min((e.timestamp.timestamp() for e in store.events(j.user_id) if e.item_id in set(order)), default=0.0)
    ident = Identity(groups, {child: {"created": first, "status": "active", "parent_id": jid}},
                     [(child, "split_from", jid, f"{len(order)} items, by the user")])
    return next(x for x in _rewrite(store, settings, j.user_id, groups, ident) if x.journey_id == child)


def history(store: Store, jid: str) -> dict:
    """A journey's lineage: its registry entry and every event (created, merged, split, edits)."""
    entry = store.registry_entry(jid)
    if entry is None:
        raise NotFound(f"no journey '{jid}' in the store")
    return {**entry, "events": store.lineage(jid)}


def journey_detail(store: Store, jid: str) -> dict:
    """Everything about one journey: the record, its items with titles, and its lineage."""
    from journeys.services.core import journey_record

    j = _journey(store, jid)
    items = store.items(list(j.item_ids))
    rec = journey_record(j, {k: v.title for k, v in items.items()})
    rec["items"] = [{"item_id": i, "title": items[i].title if i in items else i} for i in j.item_ids]
    rec["evidence_titles"] = [items[i].title if i in items else i for i in j.evidence]
    rec["lineage"] = history(store, jid)
    return rec
