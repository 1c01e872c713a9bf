"""Builds the stages from Settings and runs them for one user at a time.

prepare(items, events): item text -> embeddings (cached by content hash), keyword background,
global learning for clusterers that need it. run_user(user, events): interest filter -> history in
time order -> clusterer -> keywords -> namer -> Journeys (ranked), plus the unassigned items.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from journeys import safety
from journeys.config import Settings
from journeys.embed import EMBEDDERS, Embedder, item_text
from journeys.embed.text import content_hash
from journeys.extract import CLUSTERERS, NOISE, Clusterer, Corpus, UserHistory
from journeys.keywords import KeywordModel
from journeys.name import NAMERS, JourneyDraft, Namer, NamingContext
from journeys.progress import Progress, QuietProgress
from journeys.types import Event, Item, Journey

EMBED_CHUNK = 512
N_EVIDENCE = 5


@dataclass(frozen=True)
class UserResult:
    user_id: str
    journeys: tuple[Journey, ...]
    unassigned: tuple[str, ...]


def journey_id(user_id: str, seed_item: str) -> str:
    """Stable across runs: a journey is identified by its user and the item that started it."""
    return "j_" + hashlib.sha1(f"{user_id}\x1f{seed_item}".encode()).hexdigest()[:16]


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v


class Pipeline:
    def __init__(
        self,
        settings: Settings | None = None,
        store=None,
        *,
        embedder: Embedder | None = None,
        clusterer: Clusterer | None = None,
        namer: Namer | None = None,
        progress: Progress | None = None,
    ):
        self.settings = settings or Settings()
        s = self.settings
        self.store = store
        self.embedder = embedder or EMBEDDERS.create(s.embed.model, threads=s.embed.threads, batch_size=s.embed.batch_size)
        self.clusterer = clusterer or CLUSTERERS.create(s.extract.method, **s.extract.options())
        self.namer = namer or NAMERS.create(s.name.namer, **s.name.options())
        self.progress = progress or QuietProgress()
        self.keywords = KeywordModel(top_n=s.name.keywords_top_n)
        self.items_: dict[str, Item] = {}
        self.texts_: dict[str, str] = {}
        self.vectors_: dict[str, np.ndarray] = {}
        self.embedded_ = 0  # how many texts the last prepare() actually had to embed
        self.instructive_: dict[str, bool] = {}  # item id -> its title or description reads as an instruction

    # -- global preparation -----------------------------------------------------------------
    def is_interest(self, event: Event) -> bool:
        return not (event.kind == "rate" and event.weight < self.settings.ingest.min_rating)

    def prepare(self, items: Mapping[str, Item] | Iterable[Item], events: Sequence[Event]) -> "Pipeline":
        items = dict(items) if isinstance(items, Mapping) else {i.item_id: i for i in items}
        used = {e.item_id for e in events if self.is_interest(e)}
        self.items_ = {k: v for k, v in items.items() if k in used}
        template = self.settings.embed.template
        self.texts_ = {k: item_text(v, template) for k, v in self.items_.items()}
        self.vectors_ = self.embed_texts(self.texts_)
        self.keywords.fit(self.texts_)
        by_user: dict[str, list[Event]] = {}
        for e in events:
            by_user.setdefault(e.user_id, []).append(e)
        self.fit_clusterer(Corpus([self.history(u, evs) for u, evs in sorted(by_user.items())]))
        return self

    def fit_clusterer(self, corpus: Corpus) -> None:
        """Fit the clusterer on everybody's histories. Its learned state (attributes ending in
        `_`) is kept in the store under a digest of its settings and of the corpus, so a warm
        re-run on the same input does not learn it again. (An embeddings-only cache, such as the
        benchmarks' on-disk one, keeps no such state.)"""
        key = None
        if hasattr(self.store, "get_artifact"):
            h = hashlib.sha256(repr((self.clusterer.name, self.embedder.name, sorted(
                (k, repr(v)) for k, v in vars(self.clusterer).items() if not k.endswith("_")))).encode())
            for hist in corpus.histories:
                h.update(repr((hist.user_id, hist.item_ids, hist.texts)).encode())
            key = "fit:" + h.hexdigest()
            blob = self.store.get_artifact(key)
            if blob is not None:
                vars(self.clusterer).update(pickle.loads(blob))
                return
        self.clusterer.fit(corpus)
        if key is not None:
            learned = {k: v for k, v in vars(self.clusterer).items() if k.endswith("_")}
            self.store.put_artifact(key, pickle.dumps(learned, protocol=pickle.HIGHEST_PROTOCOL))

    def embed_texts(self, texts: Mapping[str, str]) -> dict[str, np.ndarray]:
        """Vectors per key; texts already embedded by this model (in the store) are not redone."""
        model = self.embedder.name
        hashes = {k: content_hash(t) for k, t in texts.items()}
        cached = self.store.get_embeddings(model, sorted(set(hashes.values()))) if self.store is not None else {}
        todo = sorted({h: t for k, t in texts.items() if (h := hashes[k]) not in cached}.items())
        self.embedded_ = len(todo)
        if todo:
            with self.progress.task(f"embedding {len(todo)} items ({model})", len(todo)) as tick:
                for start in range(0, len(todo), EMBED_CHUNK):
                    chunk = todo[start : start + EMBED_CHUNK]
                    vecs = self.embedder.embed([t for _, t in chunk])
                    fresh = {h: v for (h, _), v in zip(chunk, vecs)}
                    if self.store is not None:
                        self.store.put_embeddings(model, fresh)
                    cached.update(fresh)
                    tick.advance(len(chunk))
        return {k: np.asarray(cached[h], dtype=np.float32) for k, h in hashes.items()}

    def instructive(self, item_id: str) -> bool:
        if item_id not in self.instructive_:
            item = self.items_[item_id]
            self.instructive_[item_id] = safety.is_injection(item.title) or (
                bool(item.description) and safety.is_injection(item.description))
        return self.instructive_[item_id]

    # -- one user ---------------------------------------------------------------------------
    def history(self, user_id: str, events: Sequence[Event]) -> UserHistory:
        """The user's distinct interest items in order of first interaction (ties by item id)."""
        order: dict[str, None] = {}
        for e in sorted((e for e in events if self.is_interest(e) and e.item_id in self.vectors_),
                        key=lambda e: (e.timestamp, e.item_id)):
            order.setdefault(e.item_id, None)
        ids = tuple(order)
        dim = getattr(self.embedder, "dim", 0)
        vecs = np.stack([self.vectors_[i] for i in ids]) if ids else np.zeros((0, dim), dtype=np.float32)
        return UserHistory(user_id, ids, vecs, tuple(self.texts_[i] for i in ids))

    def run_user(self, user_id: str, events: Sequence[Event]) -> UserResult:
        events = [e for e in events if e.user_id == user_id]
        hist = self.history(user_id, events)
        labels = self.clusterer.assign(hist) if len(hist) else np.zeros(0, dtype=np.int64)
        if len(labels) != len(hist):
            raise RuntimeError(f"clusterer {self.clusterer.name} returned {len(labels)} labels for {len(hist)} items")
        groups = [np.flatnonzero(labels == k) for k in sorted(set(labels.tolist()) - {NOISE})]
        unassigned = tuple(hist.item_ids[i] for i in np.flatnonzero(labels == NOISE))
        member_ids = [[hist.item_ids[i] for i in g] for g in groups]
        # an item whose text reads as an instruction stays in its journey but gives no keywords
        kws = self.keywords.keywords([[i for i in ids if not self.instructive(i)] for ids in member_ids],
                                     [i for i in unassigned if not self.instructive(i)])
        stats: dict[str, list] = {}
        for e in events:
            if self.is_interest(e):
                stats.setdefault(e.item_id, []).append(e.timestamp)
        drafts, partial = [], []
        for g, ids, kw in zip(groups, member_ids, kws):
            centroid = _unit(hist.vectors[g].sum(axis=0))
            near = g[np.argsort(-(hist.vectors[g] @ centroid), kind="stable")]
            titles = tuple(self.items_[i].title for i in ids)
            drafts.append(JourneyDraft(user_id, tuple(ids), titles, tuple(kw),
                                       tuple(self.items_[hist.item_ids[i]].title for i in near)))
            stamps = [t for i in ids for t in stats.get(i, [])]
            evidence = tuple(hist.item_ids[i] for i in near[:N_EVIDENCE])
            partial.append((centroid, evidence, len(stamps), min(stamps), max(stamps)))
        names = self.namer.name_user(NamingContext(user_id, tuple(drafts), self.embedder.embed)) if drafts else []
        journeys = [
            Journey(journey_id(user_id, d.item_ids[0]), user_id, n.name, n.source, d.keywords, d.item_ids,
                    n_ev, first, last, tuple(float(x) for x in c), evidence, score=float(n_ev))
            for d, n, (c, evidence, n_ev, first, last) in zip(drafts, names, partial)
        ]
        journeys.sort(key=lambda j: (-j.score, j.first_seen, j.journey_id))
        return UserResult(user_id, tuple(journeys), unassigned)
