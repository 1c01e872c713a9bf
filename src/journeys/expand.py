"""Expand: related journeys the user has not started yet.

Candidate sources are plug-ins (`EXPANSION_SOURCES`): `llm` asks, few-shot, "people who pursue X
also pursue ..."; `collaborative` finds the users with a journey near X (centroid cosine) and
proposes their other journeys. Candidates depend on the journey's normalised name only, so they
are kept in a key-value table keyed by it (store.get_expansion / put_expansion) and a popular
journey is expanded once. Every candidate is grounded by retrieving catalogue items by embedding
(no items: dropped) and safety-checked before it is cached; per user, candidates that repeat one
of the user's journeys (same name, or mostly its items) are dropped and the rest are ranked by
their score times the weight of the journey they came from (1 / its rank).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from journeys import safety
from journeys.peers import PeerIndex, normalise, unit
from journeys.registry import Registry
from journeys.types import Journey

PROMPT_VERSION = "also-pursue-v1"


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    vector: tuple[float, ...] = ()  # where to look in the catalogue (else the name is embedded)
    items: tuple[str, ...] = ()  # the candidate's own items, most relevant first (else retrieved)


@dataclass(frozen=True)
class Expansion:
    """A grounded candidate for one user: from which journey, and the catalogue items found."""

    name: str
    source: str
    score: float
    item_ids: tuple[str, ...]
    journey_id: str = ""


@dataclass
class Catalogue:
    """Item vectors to ground candidates in (unit rows)."""

    ids: tuple[str, ...]
    matrix: np.ndarray

    @classmethod
    def of(cls, vectors: Mapping[str, np.ndarray]) -> "Catalogue":
        ids = tuple(sorted(vectors))
        dim = len(next(iter(vectors.values()))) if vectors else 0
        m = unit(np.stack([vectors[i] for i in ids])) if ids else np.zeros((0, dim), dtype=np.float32)
        return cls(ids, m)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.id_set

    @property
    def id_set(self) -> frozenset[str]:
        if not hasattr(self, "_set"):
            self._set = frozenset(self.ids)
        return self._set

    @property
    def digest(self) -> str:
        if not hasattr(self, "_digest"):
            self._digest = hashlib.sha1("\x1f".join(self.ids).encode()).hexdigest()[:12]
        return self._digest

    def nearest(self, vector: np.ndarray, k: int, min_sim: float) -> tuple[str, ...]:
        if not len(self.ids) or not len(vector) or len(vector) != self.matrix.shape[1]:
            return ()
        sims = self.matrix @ unit(vector)
        top = np.argsort(-sims, kind="stable")[:k]
        return tuple(self.ids[i] for i in top if sims[i] >= min_sim)


@dataclass
class ExpandContext:
    """What expansion may use for one user: their (ranked) journeys and the shared resources."""

    journeys: Sequence[Journey]
    catalogue: Catalogue
    peers: PeerIndex | None = None
    embed: Callable[[list[str]], np.ndarray] | None = None
    kv: object | None = None  # get_expansion(key) / put_expansion(key, value)
    memo: dict = field(default_factory=dict)  # per-run cache when there is no kv
    seen: frozenset = frozenset()  # items the user has already met (beyond their journeys' items)


@runtime_checkable
class CandidateSource(Protocol):
    name: str

    def version(self, ctx: ExpandContext) -> str: ...

    def candidates(self, journey_name: str, ctx: ExpandContext) -> list[Candidate]: ...


EXPANSION_SOURCES: Registry[CandidateSource] = Registry("expansion source")

EXAMPLES = (("Sourdough baking", ("Homemade pasta", "Fermenting vegetables", "Cast iron cooking")),
            ("Learning ukulele", ("Fingerstyle guitar", "Music theory basics", "Home recording")),
            ("Hydroponic gardening", ("Indoor herb garden", "Composting at home", "Growing microgreens")))


def also_messages(name: str, n: int) -> list[dict]:
    msgs = [{"role": "system", "content": f"Suggest {n} other interests, each 2-5 words, one per line, "
                                          "that people who pursue the given interest also pursue."}]
    for q, answers in EXAMPLES:
        msgs += [{"role": "user", "content": f"People who pursue {q} also pursue:"},
                 {"role": "assistant", "content": "\n".join(answers[:n])}]
    return msgs + [{"role": "user", "content": f"People who pursue {safety.sanitize_title(name, 80)} also pursue:"}]


@EXPANSION_SOURCES.register("llm")
class LLMSource:
    name = "llm"

    def __init__(self, n: int = 3, llm=None, backend: str = "auto", max_tokens: int = 40, **backend_options):
        self.n, self.max_tokens = n, max_tokens
        self.backend, self.backend_options, self._llm = backend, backend_options, llm

    @property
    def llm(self):
        if self._llm is None:
            from journeys.llm import LLMS

            self._llm = LLMS.create(self.backend, **self.backend_options)
        return self._llm

    def version(self, ctx: ExpandContext) -> str:
        return f"llm:{self.llm.name}:{PROMPT_VERSION}:{self.n}"

    def candidates(self, journey_name: str, ctx: ExpandContext) -> list[Candidate]:
        raw = self.llm.chat(also_messages(journey_name, self.n), max_tokens=self.max_tokens)
        names: list[str] = []
        for line in re.split(r"[\n;]", raw):
            line = re.sub(r"^\s*(\d+[.)]|[-*•])\s*", "", line).strip().strip("\"'.").strip()
            if line and 1 <= len(line.split()) <= 6 and normalise(line) not in {normalise(n) for n in names}:
                names.append(line)
        return [Candidate(n, 1.0 / (1 + k)) for k, n in enumerate(names[: self.n])]


@EXPANSION_SOURCES.register("collaborative")
class CollaborativeSource:
    """Journey-to-journey co-occurrence across users: the users who hold a journey named X
    (joined by those with a journey within `near` of X's centroid while fewer than `support`) also
    hold journeys named K. K scores P(K | X) / P(K) ** `alpha`: 0 is the plain conditional share,
    1 the lift; 0.5 was chosen on held-out users (docs/after-naming.md). K needs `support`
    co-holders (all the other holders of X when X has fewer). Its items are those of the journeys
    named K, most widely held first (`pool` of them); the `n` best K are kept per name."""

    name = "collaborative"

    def __init__(self, n: int = 20, near: float = 0.75, alpha: float = 0.5, support: int = 3, pool: int = 200,
                 **_: object):
        self.n, self.near, self.alpha, self.support, self.pool = n, near, alpha, support, pool

    def version(self, ctx: ExpandContext) -> str:
        return (f"cooccur:{self.near}:{self.alpha}:{self.support}:{self.pool}:{self.n}:"
                f"{ctx.peers.digest if ctx.peers else '-'}")

    def candidates(self, journey_name: str, ctx: ExpandContext) -> list[Candidate]:
        peers = ctx.peers
        key = normalise(journey_name)
        x = peers.name_vector(key) if peers is not None and len(peers.journeys) else None
        if x is None:
            return []
        holders = peers.holders(key)
        if len(holders) < self.support:
            holders |= peers.row_users(np.flatnonzero(peers.matrix @ x >= self.near))
        need = max(1, min(self.support, len(holders) - 1))
        names, held = peers.names(), peers.holder_counts()
        counts = peers.co_holder_counts(holders)
        scored = []
        for n in np.flatnonzero(counts >= need).tolist():
            k = names[n]
            if k == key:
                continue
            prior = int(held[n]) / peers.users
            scored.append((int(counts[n]) / len(holders) / prior ** self.alpha, k))
        best = sorted(scored, key=lambda t: (-t[0], t[1]))[: self.n]
        return [Candidate(peers.display_name(k), round(s, 6), peers.name_vector_tuple(k),
                          tuple(peers.name_items(k, self.pool))) for s, k in best]


def _met(ctx: ExpandContext) -> frozenset[str]:
    """The items the user has met (seen, or in their journeys); kept on the context."""
    got = getattr(ctx, "_met", None)
    if got is None or got[0] is not ctx.journeys or got[1] is not ctx.seen:
        got = (ctx.journeys, ctx.seen, frozenset(ctx.seen.union(*(j.item_ids for j in ctx.journeys))))
        ctx._met = got
    return got[2]


def _repeats(items: Sequence[str], owner: Mapping[str, list[int]], n_journeys: int, same: float,
             largest: int | None = None) -> bool:
    """Whether one of the user's journeys holds `same` of the candidate's items: for some journey,
    (distinct items it shares with the candidate) >= same * len(items). `largest` (the most distinct
    items a journey of the user holds), when given, answers no at once for a candidate too long to
    be mostly inside any journey."""
    if not n_journeys or (largest is not None and largest < same * len(items)):
        return False
    hits = [0] * n_journeys
    for i in dict.fromkeys(items):
        for n in owner.get(i, ()):
            hits[n] += 1
    return max(hits) >= same * len(items)


class Expander:
    """Runs the sources for each journey (cached by normalised name), grounds, checks, dedups
    and ranks per user. `per_journey` names go to Journey.related."""

    def __init__(self, sources: Sequence[str] = ("collaborative",), per_journey: int = 3, items: int = 10,
                 ground_threshold: float = 0.3, same: float = 0.5, params: Mapping[str, dict] | None = None,
                 pool: int = 200, neighbours: int = 50):
        params = params or {}
        self.sources = [EXPANSION_SOURCES.create(s, **params.get(s, {})) for s in sources]
        self.per_journey, self.items, self.pool, self.neighbours = per_journey, items, pool, neighbours
        self.ground_threshold, self.same = ground_threshold, same
        self._shown: dict[str, bool] = {}  # candidate name -> safe to show (a pure check, memoised)

    def showable(self, name: str) -> bool:
        if name not in self._shown:
            self._shown[name] = safety.is_safe(name) and not safety.echoes_instructions(name)
        return self._shown[name]

    def grounded(self, journey_name: str, ctx: ExpandContext) -> list[dict]:
        """Grounded, safe candidates for a journey name from every source (cached by name)."""
        key = normalise(journey_name)
        versions = [(src, f"{src.version(ctx)}:{ctx.catalogue.digest}:{self.pool}:{self.ground_threshold}")
                    for src in self.sources]
        # the run's memo first: a name met again in this run is not read (and decoded) again
        cached = ctx.memo.get(key)
        if cached is None:
            cached = (ctx.kv.get_expansion(key) if ctx.kv is not None else None) or {}
        fresh = {v: cached[v] for _, v in versions if v in cached}
        for src, version in versions:
            if version not in fresh:
                fresh[version] = self._ground(src, journey_name, ctx)
        if fresh != cached and ctx.kv is not None:
            ctx.kv.put_expansion(key, fresh)
        ctx.memo[key] = fresh
        return [c for _, v in versions for c in fresh[v]]

    def _ground(self, src: CandidateSource, journey_name: str, ctx: ExpandContext) -> list[dict]:
        cands = [c for c in src.candidates(journey_name, ctx) if self.showable(c.name)]
        need = [c.name for c in cands if not c.vector]
        vecs = dict(zip(need, ctx.embed(need))) if need and ctx.embed is not None else {}
        found = []
        known = ctx.catalogue.id_set
        for c in cands:
            held = c.items if known.issuperset(c.items) else tuple(i for i in c.items if i in known)
            items = tuple(held[: self.pool])
            if not items:  # none of its own items in the catalogue: retrieve them by its vector
                v = np.asarray(c.vector) if c.vector else vecs.get(c.name)
                items = ctx.catalogue.nearest(v, self.pool, self.ground_threshold) if v is not None else ()
            if items:  # grounded; a candidate with no catalogue items is dropped
                found.append({"name": c.name, "source": src.name, "score": c.score, "items": list(items)})
        return found

    def for_user(self, name: str, items: Sequence[str], ctx: ExpandContext, weights: dict[str, float],
                 by_name: bool = True) -> tuple[str, ...]:
        """The candidate's `items` best for this user: new to them, ranked by the votes of their
        collaborative neighbours (`weights`) among the journeys of that name (all their journeys
        when no peer journey has the name, or not `by_name`), then by the candidate's own order."""
        mine = _met(ctx)
        key = normalise(name) if by_name else ""
        votes = ctx.peers.votes(key, weights) if ctx.peers is not None and weights else {}
        fresh = [i for i in items if i not in mine]
        # the order of sorting every item by (-votes, position), sorting only the voted ones: those
        # with votes above 0 first, then the unvoted in position order, then any below 0
        voted = sorted((-v, p) for p, i in enumerate(fresh) if (v := votes.get(i, 0.0)))
        above = [p for nv, p in voted if nv < 0]
        order = above[: self.items]
        if len(order) < self.items:
            order += [p for p, i in enumerate(fresh) if not votes.get(i, 0.0)][: self.items - len(order)]
            order += [p for nv, p in voted if nv > 0][: self.items - len(order)]
        return tuple(fresh[p] for p in order)

    def weights(self, ctx: ExpandContext) -> dict[str, float]:
        user = next((j.user_id for j in ctx.journeys), None)
        if ctx.peers is None or user is None:
            return {}
        return ctx.peers.neighbours(user, _met(ctx), self.neighbours)

    def expand_user(self, ctx: ExpandContext) -> list[Expansion]:
        """The user's candidates, best first, one per normalised name, scored by the sum over the
        user's journeys of the candidate's score times 1 / (1 + the journey's rank). A candidate
        repeats one of the user's journeys when it has its name, or when `same` of its grounded
        items are in it. Each keeps the `items` best for the user (`for_user`)."""
        mine = [j for j in ctx.journeys if not j.hidden]
        own_names = {normalise(j.name) for j in ctx.journeys}
        owner: dict[str, list[int]] = {}  # item -> the user's journeys (indices) that hold it
        for n, j in enumerate(ctx.journeys):
            for i in dict.fromkeys(j.item_ids):
                owner.setdefault(i, []).append(n)
        largest = max((len(set(j.item_ids)) for j in ctx.journeys), default=0)
        total: dict[str, float] = {}
        best: dict[str, tuple[float, dict, str]] = {}
        for rank, j in enumerate(mine):
            for c in self.grounded(j.name, ctx):
                k = normalise(c["name"])
                items = c["items"]
                if k in own_names or _repeats(items, owner, len(ctx.journeys), self.same, largest):
                    continue
                score = c["score"] / (1.0 + rank)
                total[k] = total.get(k, 0.0) + score
                if k not in best or score > best[k][0]:
                    best[k] = (score, c, j.journey_id)
        weights = self.weights(ctx) if best else {}
        out = [Expansion(c["name"], c["source"], round(total[k], 6), self.for_user(c["name"], c["items"], ctx, weights),
                         jid) for k, (_, c, jid) in best.items()]
        return sorted((e for e in out if e.item_ids), key=lambda e: (-e.score, normalise(e.name)))

    def expand(self, ctx: ExpandContext) -> list[Journey]:
        related: dict[str, list[str]] = {}
        for e in self.expand_user(ctx):
            names = related.setdefault(e.journey_id, [])
            if len(names) < self.per_journey:
                names.append(e.name)
        return [dataclasses.replace(j, related=tuple(related.get(j.journey_id, ()))) for j in ctx.journeys]
