"""Living journeys: one user's journeys computed from the store, with stable identity and the user's
edits applied, and the online ICPC state that `add_events` updates event by event (as ALLY's
ICPC walks a history): a new item joins the nearest journey or candidate above its threshold, or
starts a candidate; a candidate that reaches the minimum size becomes a journey. Merging, refining
and relearning the global model wait for `refresh`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from journeys.batch.columns import EventColumns
from journeys.identity import Group, Identity, Overrides, journey_id, resolve
from journeys.pipeline import Partition, Pipeline, UserResult, dump_arrays, load_arrays
from journeys.types import Event


def _first_seen(pipe: Pipeline, events: Sequence[Event]) -> dict[str, float]:
    first: dict[str, float] = {}
    for e in events:
        if pipe.is_interest(e):
            t = e.timestamp.timestamp()
            if t < first.get(e.item_id, float("inf")):
                first[e.item_id] = t
    return first


def compute_user(pipe: Pipeline, store, user: str, events: Sequence[Event],
                 part: Partition | None = None) -> tuple[UserResult, Identity]:
    """The full computation for one user: partition (unless an executor already made it),
    identity against the stored journeys, the user's edits, then names and evidence."""
    part = part if part is not None else pipe.partition(user, events)
    first = _first_seen(pipe, events)
    stored = {j.journey_id: j.item_ids for j in store.journeys(user)}
    overrides = Overrides.from_rows(store.overrides(user))
    ident = resolve(user, part.groups, stored, store.registry(user), overrides,
                    lambda items: min((first[i] for i in items if i in first), default=0.0))
    return pipe.materialise(user, events, ident.groups, part.unassigned), ident


@dataclass(frozen=True)
class UserPrior:
    """What `compute_user` reads of the store for one user (their stored journeys, identity
    registry and edits), fetched by the driver so that a worker can compute the user without a
    store: the narrow store protocol of `compute_user`."""

    user_id: str
    stored: tuple  # the user's stored journeys
    registry_rows: dict
    override_rows: tuple

    @classmethod
    def of(cls, store, user: str) -> "UserPrior":
        return cls(user, tuple(store.journeys(user)), dict(store.registry(user)), tuple(store.overrides(user)))

    def _check(self, user: str) -> None:
        if user != self.user_id:
            raise KeyError(f"prior of user '{self.user_id}' asked for user '{user}'")

    def journeys(self, user: str) -> list:
        self._check(user)
        return list(self.stored)

    def registry(self, user: str) -> dict:
        self._check(user)
        return dict(self.registry_rows)

    def overrides(self, user: str) -> list:
        self._check(user)
        return list(self.override_rows)


def save_user(pipe: Pipeline, store, res: UserResult, ident: Identity | None,
              events: Sequence[Event] | EventColumns, state: bytes | None = b"") -> int:
    """Store a user's journeys, identity changes and online state; 1 if the journeys changed.
    `state`: the online state's bytes when a worker built them (None: the clusterer keeps none);
    by default it is built here, from the user's `events` (objects or columns)."""
    changed = store.replace_journeys(res.user_id, res.journeys, res.unassigned)
    save_beside(pipe, store, res, ident, events, state)
    return int(changed)


def save_beside(pipe: Pipeline, store, res: UserResult, ident: Identity | None,
                events: Sequence[Event] | EventColumns, state: bytes | None = b"") -> None:
    """What `save_user` stores besides the journeys: identity changes and the online state. None
    of it depends on related journeys, so a batch run stores it while its workers expand."""
    if ident is not None and (ident.registry or ident.lineage):
        store.save_identity(res.user_id, ident.registry, ident.lineage)
    if state == b"":
        built = OnlineState.build(pipe, res, events)
        state = built.to_bytes() if built is not None else None
    if state is not None:
        store.put_online_state(res.user_id, pipe.model_version_, state)


def finish_quickly(pipe: Pipeline, store, res: UserResult, events: Sequence[Event],
                   stored: dict | None = None) -> UserResult:
    """Stage, rank and diversify one user's journeys after an online update or an edit; related
    journeys (expansion, which looks at every user) are kept as they were until the next full run."""
    import dataclasses

    from journeys.activity import UserActivity
    from journeys.after import AfterContext, AfterStages, finish_user, resolve_now

    s = pipe.settings.after
    if not s.enabled or not res.journeys:
        return res
    stored = stored if stored is not None else {j.journey_id: j for j in store.journeys(res.user_id)}
    journeys = [dataclasses.replace(j, related=stored[j.journey_id].related) if j.journey_id in stored else j
                for j in res.journeys]
    act = UserActivity.of(res.user_id, [e for e in events if pipe.is_interest(e)], resolve_now(s, store, events))
    if getattr(pipe, "after_store_", None) is not store:  # built once per process and store
        pipe.after_stages_, pipe.after_store_ = AfterStages.build(s, store), store
    done = finish_user(journeys, AfterContext(act, pipe.after_stages_))
    return dataclasses.replace(res, journeys=tuple(done))


@dataclass
class OnlineState:
    """What online ICPC needs of one user: per cluster (journeys, and candidates that are not
    journeys yet) the sum of its walk vectors and its items."""

    cluster_ids: list[str]  # journey ids; "" for a candidate
    sums: np.ndarray  # (k, d) float64 sums of walk vectors
    items: dict[str, int] = field(default_factory=dict)  # item -> cluster index

    @classmethod
    def build(cls, pipe: Pipeline, res: UserResult, events: Sequence[Event] | EventColumns) -> "OnlineState | None":
        walk = getattr(pipe.clusterer, "walk", None)
        if walk is None:
            return None
        hist = pipe.history(res.user_id, events)
        x, _ = walk(hist) if len(hist) else (np.zeros((0, 0)), None)
        pos = {item: n for n, item in enumerate(hist.item_ids)}
        ids: list[str] = []
        rows: list[list[int]] = []
        for j in res.journeys:
            ids.append(j.journey_id)
            rows.append([pos[i] for i in j.item_ids if i in pos])
        for item in res.unassigned:  # one-offs so far: each a candidate that may grow
            if item in pos:
                ids.append("")
                rows.append([pos[item]])
        dim = x.shape[1] if len(x) else 0
        sums = np.stack([x[r].sum(axis=0) for r in rows]).astype(np.float64) if rows else np.zeros((0, dim))
        items = {hist.item_ids[r]: k for k, rs in enumerate(rows) for r in rs}
        return cls(ids, sums, items)

    def to_bytes(self) -> bytes:
        names = list(self.items)
        return dump_arrays({"cluster_ids": np.asarray(self.cluster_ids, dtype=str), "sums": self.sums,
                            "item_ids": np.asarray(names, dtype=str),
                            "item_cluster": np.asarray([self.items[i] for i in names], dtype=np.int64)})

    @classmethod
    def from_bytes(cls, blob: bytes) -> "OnlineState":
        a = load_arrays(blob)
        return cls(a["cluster_ids"].tolist(), a["sums"].astype(np.float64),
                   dict(zip(a["item_ids"].tolist(), a["item_cluster"].tolist())))

    def add(self, item: str, x: np.ndarray, threshold: float) -> int:
        """ICPC's step: join the most similar cluster at or above the threshold, else start one."""
        if len(self.sums):
            norms = np.linalg.norm(self.sums, axis=1)
            sims = (self.sums @ x) / np.where(norms == 0, 1.0, norms)
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                self.sums[best] += x
                self.items[item] = best
                return best
        self.sums = np.vstack([self.sums.reshape(-1, len(x)), x[None, :].astype(np.float64)])
        self.cluster_ids.append("")
        self.items[item] = len(self.cluster_ids) - 1
        return self.items[item]

    def members(self) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in self.cluster_ids]
        for item, k in self.items.items():
            out[k].append(item)
        return out


def needs_full(pipe: Pipeline, store, user: str) -> bool:
    """True when the user has no online state usable with the model in use (computed whole)."""
    got = store.online_state(user)
    return got is None or got[0] != pipe.model_version_ or not hasattr(pipe.clusterer, "walk")


def apply_online(pipe: Pipeline, store, user: str, new: Sequence[Event], part: Partition | None = None) -> set[str]:
    """Apply one user's new events online; returns the ids of the journeys they touched. A user
    without usable online state is computed whole (from `part` when an executor made it)."""
    events = store.events(user)
    pipe.ensure_items({e.item_id for e in events})
    got = store.online_state(user)
    if got is None or got[0] != pipe.model_version_ or not hasattr(pipe.clusterer, "walk"):
        res, ident = compute_user(pipe, store, user, events, part)  # no usable state: compute it whole
        before = {j.journey_id: (j.item_ids, j.n_events) for j in store.journeys(user)}
        save_user(pipe, store, res, ident, events)
        return {j.journey_id for j in res.journeys if before.get(j.journey_id) != (j.item_ids, j.n_events)}
    state = OnlineState.from_bytes(got[1])
    min_size = int(getattr(pipe.clusterer, "min_size", 1))
    touched: set[int] = set()
    fresh = sorted((e for e in new if pipe.is_interest(e) and e.item_id in pipe.vectors_),
                   key=lambda e: (e.timestamp, e.item_id))
    for e in fresh:
        if e.item_id in state.items:  # a known item: its journey's counts and span change
            touched.add(state.items[e.item_id])
            continue
        hist = pipe.history(user, [e])
        x, th = pipe.clusterer.walk(hist)
        touched.add(state.add(e.item_id, x[0], float(th[0])))
    stored = {j.journey_id: j for j in store.journeys(user)}
    overrides = Overrides.from_rows(store.overrides(user))
    registry = store.registry(user)
    first = _first_seen(pipe, events)
    groups, unassigned, ident = [], [], Identity([])
    taken = set(registry)
    for k, (cid, members) in enumerate(zip(state.cluster_ids, state.members())):
        if not cid and len(members) >= min_size:  # a candidate grew into a journey
            order = sorted(members, key=lambda i: (first.get(i, 0.0), i))
            salt = 0
            while (cid := journey_id(user, order[0], salt)) in taken:
                salt += 1
            taken.add(cid)
            state.cluster_ids[k] = cid
            ident.registry[cid] = {"created": first.get(order[0], 0.0), "status": "active"}
            ident.lineage.append((cid, "created", None, f"{len(members)} items (online)"))
        if not cid:
            unassigned += members
            continue
        old = stored.get(cid)
        keep_name = old is not None and old.name_source != "keywords"
        groups.append(Group(members, cid, old.parent_id if old else None,
                            overrides.names.get(cid) or (old.name if keep_name else None),
                            "user" if cid in overrides.names else (old.name_source if keep_name else "user"),
                            overrides.hidden.get(cid, False), overrides.pinned.get(cid, False)))
    res = finish_quickly(pipe, store, pipe.materialise(user, events, groups, unassigned), events, stored)
    store.replace_journeys(user, res.journeys, res.unassigned)
    if ident.registry:
        store.save_identity(user, ident.registry, ident.lineage)
    store.put_online_state(user, pipe.model_version_, state.to_bytes())
    return {state.cluster_ids[k] for k in touched if state.cluster_ids[k]}
