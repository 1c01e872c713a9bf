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
from journeys.registry import Registry
from journeys.types import Journey

PROMPT_VERSION = "also-pursue-v1"


def normalise(name: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", name.lower()))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1.0, n)


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    vector: tuple[float, ...] = ()  # where to look in the catalogue (else the name is embedded)


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
        m = _unit(np.stack([vectors[i] for i in ids])) if ids else np.zeros((0, dim), dtype=np.float32)
        return cls(ids, m)

    @property
    def digest(self) -> str:
        return hashlib.sha1("\x1f".join(self.ids).encode()).hexdigest()[:12]

    def nearest(self, vector: np.ndarray, k: int, min_sim: float) -> tuple[str, ...]:
        if not len(self.ids) or not len(vector) or len(vector) != self.matrix.shape[1]:
            return ()
        sims = self.matrix @ _unit(vector)
        top = np.argsort(-sims, kind="stable")[:k]
        return tuple(self.ids[i] for i in top if sims[i] >= min_sim)


@dataclass
class PeerIndex:
    """Everybody's journeys (names, users, unit centroids) for collaborative candidates."""

    journeys: list[Journey]
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @classmethod
    def of(cls, journeys: Sequence[Journey]) -> "PeerIndex":
        js = sorted((j for j in journeys if j.centroid and not j.hidden), key=lambda j: (j.user_id, j.journey_id))
        m = _unit(np.asarray([j.centroid for j in js], dtype=np.float32)) if js else np.zeros((0, 0))
        return cls(js, m)

    @property
    def digest(self) -> str:
        return hashlib.sha1("\x1f".join(f"{j.journey_id}:{j.name}" for j in self.journeys).encode()).hexdigest()[:12]

    def name_vector(self, key: str) -> np.ndarray | None:
        rows = [i for i, j in enumerate(self.journeys) if normalise(j.name) == key]
        return _unit(self.matrix[rows].mean(axis=0)) if rows else None


@dataclass
class ExpandContext:
    """What expansion may use for one user: their (ranked) journeys and the shared resources."""

    journeys: Sequence[Journey]
    catalogue: Catalogue
    peers: PeerIndex | None = None
    embed: Callable[[list[str]], np.ndarray] | None = None
    kv: object | None = None  # get_expansion(key) / put_expansion(key, value)
    memo: dict = field(default_factory=dict)  # per-run cache when there is no kv


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

    def __init__(self, n: int = 3, llm=None, backend: str = "local", max_tokens: int = 40, **backend_options):
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
    """Users with a journey within `near` of X's (name-level) centroid; their other journeys,
    scored by the summed similarity of their supporters (one vote per user and name)."""

    name = "collaborative"

    def __init__(self, n: int = 5, near: float = 0.75, same: float = 0.9, **_: object):
        self.n, self.near, self.same = n, near, same

    def version(self, ctx: ExpandContext) -> str:
        return f"collaborative:{self.near}:{self.same}:{self.n}:{ctx.peers.digest if ctx.peers else '-'}"

    def candidates(self, journey_name: str, ctx: ExpandContext) -> list[Candidate]:
        peers = ctx.peers
        key = normalise(journey_name)
        x = peers.name_vector(key) if peers is not None and len(peers.journeys) else None
        if x is None:
            return []
        sims = peers.matrix @ x
        support: dict[str, float] = {}
        for i in np.flatnonzero(sims >= self.near):
            u = peers.journeys[i].user_id
            support[u] = max(support.get(u, 0.0), float(sims[i]))
        votes: dict[str, dict[str, float]] = {}
        rows: dict[str, list[int]] = {}
        for i, j in enumerate(peers.journeys):
            k = normalise(j.name)
            if j.user_id in support and sims[i] < self.same and k != key:
                votes.setdefault(k, {})[j.user_id] = support[j.user_id]
                rows.setdefault(k, []).append(i)
        best = sorted(votes, key=lambda k: (-sum(votes[k].values()), k))[: self.n]
        names = {normalise(j.name): j.name for j in reversed(peers.journeys)}
        return [Candidate(names[k], round(sum(votes[k].values()), 6),
                          tuple(float(v) for v in _unit(peers.matrix[rows[k]].mean(axis=0))))
                for k in best]


class Expander:
    """Runs the sources for each journey (cached by normalised name), grounds, checks, dedups
    and ranks per user. `per_journey` names go to Journey.related."""

    def __init__(self, sources: Sequence[str] = ("collaborative",), per_journey: int = 3, items: int = 10,
                 ground_threshold: float = 0.3, same: float = 0.5, params: Mapping[str, dict] | None = None):
        params = params or {}
        self.sources = [EXPANSION_SOURCES.create(s, **params.get(s, {})) for s in sources]
        self.per_journey, self.items = per_journey, items
        self.ground_threshold, self.same = ground_threshold, same

    def grounded(self, journey_name: str, ctx: ExpandContext) -> list[dict]:
        """Grounded, safe candidates for a journey name from every source (cached by name)."""
        key = normalise(journey_name)
        versions = [(src, f"{src.version(ctx)}:{ctx.catalogue.digest}:{self.items}:{self.ground_threshold}")
                    for src in self.sources]
        cached = (ctx.kv.get_expansion(key) if ctx.kv is not None else ctx.memo.get(key)) or {}
        fresh = {v: cached[v] for _, v in versions if v in cached}
        for src, version in versions:
            if version not in fresh:
                fresh[version] = self._ground(src, journey_name, ctx)
        if fresh != cached:
            if ctx.kv is not None:
                ctx.kv.put_expansion(key, fresh)
            else:
                ctx.memo[key] = fresh
        return [c for _, v in versions for c in fresh[v]]

    def _ground(self, src: CandidateSource, journey_name: str, ctx: ExpandContext) -> list[dict]:
        cands = [c for c in src.candidates(journey_name, ctx)
                 if safety.is_safe(c.name) and not safety.echoes_instructions(c.name)]
        need = [c.name for c in cands if not c.vector]
        vecs = dict(zip(need, ctx.embed(need))) if need and ctx.embed is not None else {}
        found = []
        for c in cands:
            v = np.asarray(c.vector) if c.vector else vecs.get(c.name)
            items = ctx.catalogue.nearest(v, self.items, self.ground_threshold) if v is not None else ()
            if items:  # grounded; a candidate with no catalogue items is dropped
                found.append({"name": c.name, "source": src.name, "score": c.score, "items": list(items)})
        return found

    def expand_user(self, ctx: ExpandContext) -> list[Expansion]:
        """The user's candidates, best first, one per normalised name. A candidate repeats one of
        the user's journeys when it has its name, or when `same` of its grounded items are in it."""
        mine = [j for j in ctx.journeys if not j.hidden]
        own_names = {normalise(j.name) for j in ctx.journeys}
        own_items = [set(j.item_ids) for j in ctx.journeys]
        best: dict[str, Expansion] = {}
        for rank, j in enumerate(mine):
            for c in self.grounded(j.name, ctx):
                k = normalise(c["name"])
                items = c["items"]
                if k in own_names or any(len(s.intersection(items)) >= self.same * len(items) for s in own_items):
                    continue
                score = c["score"] / (1.0 + rank)
                if k not in best or score > best[k].score:
                    best[k] = Expansion(c["name"], c["source"], round(score, 6), tuple(items), j.journey_id)
        return sorted(best.values(), key=lambda e: (-e.score, normalise(e.name)))

    def expand(self, ctx: ExpandContext) -> list[Journey]:
        related: dict[str, list[str]] = {}
        for e in self.expand_user(ctx):
            names = related.setdefault(e.journey_id, [])
            if len(names) < self.per_journey:
                names.append(e.name)
        return [dataclasses.replace(j, related=tuple(related.get(j.journey_id, ()))) for j in ctx.journeys]
