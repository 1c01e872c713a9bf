"""Everybody's journeys, as collaborative expansion sees them (expand.py).

`PeerIndex` holds the journeys of every user (names, users, unit centroids) and answers three
questions: who holds a journey of a given (normalised) name; which items the journeys of a name
hold, most widely held first; and who a user's collaborative neighbours are (users whose journeys
hold the same items: cosine of the item sets, the `k` nearest).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from journeys.types import Journey


def normalise(name: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", name.lower()))


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1.0, n)


@dataclass
class PeerIndex:
    """Everybody's journeys (names, users, unit centroids) for collaborative candidates."""

    journeys: list[Journey]
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    _rows: dict = field(default_factory=dict, repr=False)  # normalised name -> journey rows
    _items: dict = field(default_factory=dict, repr=False)  # user -> items of their journeys
    _holders: dict = field(default_factory=dict, repr=False)  # item -> users whose journeys hold it
    _memo: dict = field(default_factory=dict, repr=False)  # answers that depend on the index only

    @classmethod
    def of(cls, journeys: Sequence[Journey]) -> "PeerIndex":
        js = sorted((j for j in journeys if j.centroid and not j.hidden), key=lambda j: (j.user_id, j.journey_id))
        m = unit(np.asarray([j.centroid for j in js], dtype=np.float32)) if js else np.zeros((0, 0))
        index = cls(js, m)
        for r, j in enumerate(js):
            index._rows.setdefault(normalise(j.name), []).append(r)
            index._items.setdefault(j.user_id, set()).update(j.item_ids)
            for i in j.item_ids:
                index._holders.setdefault(i, set()).add(j.user_id)
        return index

    def _cached(self, key: tuple, make):
        """The index does not change once built, so per-name answers are computed once."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @property
    def digest(self) -> str:
        return self._cached(("digest",), lambda: hashlib.sha1(
            "\x1f".join(f"{j.journey_id}:{j.name}" for j in self.journeys).encode()).hexdigest()[:12])

    @property
    def users(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return list(self._cached(("names",), lambda: tuple(sorted(self._rows))))

    def rows(self, key: str) -> list[int]:
        return self._rows.get(key, [])

    def display_name(self, key: str) -> str:
        rows = self.rows(key)
        return self.journeys[rows[0]].name if rows else key

    def holders(self, key: str) -> set[str]:
        return set(self.holder_set(key))

    def holder_set(self, key: str) -> frozenset[str]:
        """`holders`, shared (do not modify)."""
        return self._cached(("holders", key), lambda: frozenset(self.journeys[r].user_id for r in self.rows(key)))

    def user_names(self) -> dict[str, frozenset[str]]:
        """user -> the normalised names of their journeys in the index."""
        def make() -> dict[str, frozenset[str]]:
            out: dict[str, set[str]] = {}
            for key, rows in self._rows.items():
                for r in rows:
                    out.setdefault(self.journeys[r].user_id, set()).add(key)
            return {u: frozenset(ks) for u, ks in out.items()}
        return self._cached(("user_names",), make)

    def name_vector(self, key: str) -> np.ndarray | None:
        rows = self.rows(key)
        return self._cached(("vector", key), lambda: unit(self.matrix[rows].mean(axis=0))) if rows else None

    def name_vector_tuple(self, key: str) -> tuple[float, ...]:
        """`name_vector` as a tuple of floats (how a candidate carries it)."""
        return self._cached(("vector_tuple", key), lambda: tuple(self.name_vector(key).tolist()))

    def _codes(self) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
        """(users in order, each journey row's user code, user -> codes of their names in `names()`)."""
        def make():
            users = sorted({j.user_id for j in self.journeys})
            code = {u: n for n, u in enumerate(users)}
            rows = np.fromiter((code[j.user_id] for j in self.journeys), dtype=np.int64, count=len(self.journeys))
            col = {k: n for n, k in enumerate(self.names())}
            held = {u: np.fromiter(sorted(col[k] for k in ks), dtype=np.int64, count=len(ks))
                    for u, ks in self.user_names().items()}
            return users, rows, held
        return self._cached(("codes",), make)

    def row_users(self, rows: np.ndarray) -> set[str]:
        """The users whose journeys are these rows."""
        users, codes, _ = self._codes()
        return {users[c] for c in np.unique(codes[rows]).tolist()}

    def holder_counts(self) -> np.ndarray:
        """How many users hold a journey of each name of `names()` (len of `holder_set`)."""
        return self._cached(("holder_counts",), lambda: np.fromiter(
            (len(self.holder_set(k)) for k in self.names()), dtype=np.int64, count=len(self._rows)))

    def co_holder_counts(self, users: Iterable[str]) -> np.ndarray:
        """For each name of `names()`, how many of `users` hold a journey of that name."""
        _, _, held = self._codes()
        parts = [held[u] for u in users if u in held]
        n = len(self._rows)
        return np.bincount(np.concatenate(parts), minlength=n) if parts else np.zeros(n, dtype=np.int64)

    def name_items(self, key: str, k: int) -> list[str]:
        """The items of the journeys named `key`, held by most of them first (ties: id)."""
        def make() -> tuple[str, ...]:
            counts = Counter(i for r in self.rows(key) for i in self.journeys[r].item_ids)
            return tuple(i for i, _ in sorted(counts.items(), key=lambda t: (-t[1], t[0])))
        return list(self._cached(("items", key), make)[:k])

    def neighbours(self, user: str, items: Iterable[str] = (), k: int = 50) -> dict[str, float]:
        """The `k` users whose journeys' items are nearest (cosine of item sets) to `user`'s
        (their journeys in the index, plus `items`)."""
        mine = set(self._items.get(user, ())) | set(items)
        overlap: Counter = Counter()
        for i in mine:
            overlap.update(self._holders.get(i, ()))
        overlap.pop(user, None)
        sims = {v: n / math.sqrt(len(mine) * len(self._items[v])) for v, n in overlap.items()}
        return dict(sorted(sims.items(), key=lambda t: (-t[1], t[0]))[:k])

    def votes(self, key: str, weights: dict[str, float]) -> Counter:
        """item -> summed weight of the users whose journeys named `key` (all their journeys
        when `key` names none) hold it."""
        out: Counter = Counter()
        rows = self.rows(key)
        if rows:
            by_user = self._cached(("user_rows", key), lambda: _group_rows(self.journeys, rows))
            # only the weighted users' rows, in index order (so the sums add up in the same order)
            for r in sorted(r for v in weights if v in by_user for r in by_user[v]):
                w = weights[self.journeys[r].user_id]
                if w:
                    for i in self.journeys[r].item_ids:
                        out[i] += w
        else:
            for v, w in weights.items():
                for i in self._items.get(v, ()):
                    out[i] += w
        return out


def _group_rows(journeys: Sequence[Journey], rows: Sequence[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in rows:
        out.setdefault(journeys[r].user_id, []).append(r)
    return out
