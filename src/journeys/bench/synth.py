"""Synthetic users from human-curated collections (BENCHMARKS.md section 1, after ALLY's playlists).

A collections file is JSON (optionally gzipped)::

    [{"key": str?, "name": str, "items": [{"id": str, "title": str, "description": str?}]}]

`make_users` turns collections into seeded synthetic activity in journeys' own vocabulary:
each user pursues k collections (k uniform in `k`), with `items` (uniform range) distinct items
drawn from each. Every journey gets a start date and a duration inside one year, and its items'
timestamps fall inside that window, so journeys overlap in time. A `noise` fraction of extra
one-off items, each from a collection the user does not pursue, belong to no journey.

    collections = load_collections("debian_blends_collections.json.gz")
    data = make_users(collections, n_users=200, seed=0)
    data.items       # {item_id: Item}
    data.events      # [Event] sorted by (user, time)
    data.truth       # {user_id: {item_id: collection key, or None for noise}}
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from journeys.errors import ConfigError, DataError
from journeys.types import Event, Item

EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
YEAR_DAYS = 365.0
MIN_DURATION_DAYS = 7.0
MAX_DURATION_DAYS = 180.0


@dataclass(frozen=True)
class Collection:
    """A human-curated, human-named list of items: the ground truth of one journey."""

    key: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class SynthJourney:
    """One planted journey of one user."""

    collection: str
    start: datetime
    end: datetime
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class SynthData:
    """Synthetic users: items, events in time order per user, and the ground truth."""

    items: dict[str, Item]
    events: list[Event]
    truth: dict[str, dict[str, str | None]]  # user -> item -> collection key (None = noise)
    journeys: dict[str, tuple[SynthJourney, ...]]  # user -> planted journeys
    collections: dict[str, Collection]

    @property
    def users(self) -> list[str]:
        return list(self.truth)

    def events_by_user(self) -> dict[str, list[Event]]:
        out: dict[str, list[Event]] = {u: [] for u in self.truth}
        for ev in self.events:
            out[ev.user_id].append(ev)
        return out


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(path, None, f"corrupt gzip data ({exc})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _text(value: object, path: Path, where: str, field: str, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise DataError(path, None, f"{where}: '{field}' must be a non-empty string, got {value!r:.60}")
    return value


def load_collections(path: str | Path) -> list[Collection]:
    """Read a collections file (JSON, gzipped or not). Raises DataError naming what is wrong.

    Collections without a key get one from their position ("c0", "c1", ...). An item id seen in
    several collections is the same item (first title/description wins).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file")
    text = _open_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, list) or not data:
        raise DataError(path, None, "expected a non-empty JSON list of collections")
    seen_items: dict[str, Item] = {}
    keys: set[str] = set()
    out: list[Collection] = []
    for ci, coll in enumerate(data):
        where = f"collection {ci}"
        if not isinstance(coll, dict):
            raise DataError(path, None, f"{where}: expected an object, got {type(coll).__name__}")
        key = coll.get("key", f"c{ci}")
        key = _text(key, path, where, "key", required=True)
        if key in keys:
            raise DataError(path, None, f"{where}: duplicate key '{key}'")
        keys.add(key)
        name = _text(coll.get("name"), path, where, "name", required=True)
        items_raw = coll.get("items")
        if not isinstance(items_raw, list) or not items_raw:
            raise DataError(path, None, f"{where} ('{key}'): 'items' must be a non-empty list")
        items: list[Item] = []
        ids: set[str] = set()
        for ii, it in enumerate(items_raw):
            iw = f"{where} ('{key}') item {ii}"
            if not isinstance(it, dict):
                raise DataError(path, None, f"{iw}: expected an object, got {type(it).__name__}")
            item_id = _text(it.get("id"), path, iw, "id", required=True)
            title = _text(it.get("title"), path, iw, "title", required=True)
            desc = _text(it.get("description"), path, iw, "description", required=False)
            if item_id in ids:
                continue  # a list naming the same item twice holds it once
            ids.add(item_id)
            item = seen_items.setdefault(item_id, Item(item_id=item_id, title=title, description=desc))
            items.append(item)
        out.append(Collection(key=key, name=name, items=tuple(items)))
    return out


def _uniform_int(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    return int(rng.integers(lo, hi + 1))


def make_users(
    collections: list[Collection],
    n_users: int = 200,
    seed: int = 0,
    k: tuple[int, int] = (2, 5),
    items: tuple[int, int] = (8, 20),
    noise: float = 0.1,
    popularity: float = 0.0,
) -> SynthData:
    """Seeded synthetic users per BENCHMARKS.md section 1 (see the module docstring).

    - k collections per user, uniform in `k` (capped at the number of collections);
    - from each, `items` distinct items (uniform; capped at what the collection has left);
    - each journey: duration uniform in [7, 180] days, start uniform so it ends within the year;
      one `view` event per item, timestamps uniform inside the journey;
    - round(noise * journey items) one-off noise items, each from a different collection the user
      does not pursue where possible, at uniform times within the year;
    - `popularity` > 0 skews choice towards popular collections and items (Zipf: the weight of
      the r-th most popular, r = 1, 2, ..., is r ** -popularity; ranks are a seeded shuffle, the
      same for every user), so popular items co-occur densely across users, as on real logs.
      Noise items stay uniform (one-offs). 0 keeps the uniform choice (and the same draws).
    """
    if not collections:
        raise ConfigError("make_users needs at least one collection")
    if k[0] < 1 or k[0] > k[1] or items[0] < 1 or items[0] > items[1] or not 0 <= noise:
        raise ConfigError(f"bad ranges: k={k}, items={items}, noise={noise}")
    rng = np.random.default_rng(seed)
    if popularity > 0:
        prng = np.random.default_rng([seed, 1])
        coll_w = _zipf(prng.permutation(len(collections)), popularity)
        item_w = {it.item_id: w for c in collections
                  for it, w in zip(c.items, _zipf(prng.permutation(len(c.items)), popularity))}
    by_key = {c.key: c for c in collections}
    all_items = {it.item_id: it for c in collections for it in c.items}
    width = len(str(max(n_users - 1, 0)))
    events: list[Event] = []
    truth: dict[str, dict[str, str | None]] = {}
    planted: dict[str, tuple[SynthJourney, ...]] = {}
    for u in range(n_users):
        user = f"u{u:0{width}d}"
        used: set[str] = set()
        labels: dict[str, str | None] = {}
        stamps: list[tuple[datetime, str]] = []
        n_coll = min(_uniform_int(rng, k), len(collections))
        p_coll = coll_w / coll_w.sum() if popularity > 0 else None
        chosen = rng.choice(len(collections), size=n_coll, replace=False, p=p_coll)
        journeys = []
        for ci in chosen:
            coll = collections[int(ci)]
            pool = [it.item_id for it in coll.items if it.item_id not in used]
            n = min(_uniform_int(rng, items), len(pool))
            p_item = None
            if popularity > 0:
                p_item = np.array([item_w[i] for i in pool])
                p_item /= p_item.sum()
            picked = [pool[int(j)] for j in rng.choice(len(pool), size=n, replace=False, p=p_item)]
            dur = rng.uniform(MIN_DURATION_DAYS, MAX_DURATION_DAYS)
            start = rng.uniform(0.0, YEAR_DAYS - dur)
            offs = np.sort(rng.uniform(start, start + dur, size=n))
            for item_id, off in zip(picked, offs):
                used.add(item_id)
                labels[item_id] = coll.key
                stamps.append((_at(off), item_id))
            journeys.append(
                SynthJourney(coll.key, _at(start), _at(start + dur), tuple(picked))
            )
        n_noise = int(round(noise * len(labels)))
        others = [i for i in range(len(collections)) if i not in set(int(c) for c in chosen)]
        order = list(rng.permutation(others)) if others else []
        for j in range(n_noise):
            if not order:
                break
            coll = collections[int(order[j % len(order)])]
            pool = [it.item_id for it in coll.items if it.item_id not in used]
            if not pool:
                continue
            item_id = pool[int(rng.integers(len(pool)))]
            used.add(item_id)
            labels[item_id] = None
            stamps.append((_at(rng.uniform(0.0, YEAR_DAYS)), item_id))
        stamps.sort()
        events.extend(Event(user_id=user, item_id=i, timestamp=t, kind="view") for t, i in stamps)
        truth[user] = labels
        planted[user] = tuple(journeys)
    return SynthData(items=all_items, events=events, truth=truth, journeys=planted, collections=by_key)


def _zipf(ranks: np.ndarray, exponent: float) -> np.ndarray:
    """Zipf weights of 0-based popularity ranks."""
    return (np.asarray(ranks, dtype=float) + 1.0) ** -exponent


# Named user profiles for `journeys bench extraction --profile`: k, items, popularity.
PROFILES: dict[str, dict] = {
    "light": {"k": (2, 5), "items": (8, 20), "popularity": 0.0},
    # heavy users, as on real logs: many interests, long lists, popular items co-occur densely
    "heavy": {"k": (5, 15), "items": (20, 150), "popularity": 1.0},
}


def _at(days: float) -> datetime:
    return EPOCH + timedelta(seconds=round(days * 86400.0))
