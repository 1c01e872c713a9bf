"""Builds the stages from Settings and runs them for one user at a time.

prepare(items, events): item text -> embeddings (cached by content hash), keyword background,
global learning for clusterers that need it; everybody's events as columns (`EventColumns`) or
objects. run_user(user, events): interest filter -> history in time order -> clusterer ->
keywords -> namer -> Journeys (ranked), plus the unassigned items.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from journeys import safety
from journeys.batch.columns import EventColumns
from journeys.config import Settings
from journeys.embed import EMBEDDERS, Embedder, item_text
from journeys.embed.text import content_hash
from journeys.extract import CLUSTERERS, NOISE, Clusterer, Corpus, UserHistory
from journeys.identity import Group, journey_id
from journeys.keywords import KeywordModel
from journeys.name import NAMERS, JourneyDraft, Namer, NamingContext
from journeys.progress import Progress, QuietProgress
from journeys.rank import order
from journeys.threads import blas_threads
from journeys.types import Event, Item, Journey

EMBED_CHUNK = 512  # texts per store write (and per batch plan: the ONNX embedder's batches form within one)
EMBED_UNIT = 128  # texts per executor task, where the embedder can run part of a chunk's batches
N_EVIDENCE = 5

_SHARD_EMBEDDERS: dict = {}  # a worker's embedder per (model, options): loaded once per process


def shard_spec(settings: Settings, workers: int) -> tuple[str, dict]:
    """What a worker needs to build the embedder for `embed_shard`: (model, options); one thread
    per worker process when every core has one."""
    return settings.embed.model, {"threads": max(1, (os.cpu_count() or 1) // max(1, workers)),
                                  "batch_size": settings.embed.batch_size}


def shards(settings: Settings) -> bool:
    """Whether the configured embedder gives the same vectors on one thread as on several, so
    that its chunks may go to an executor's workers."""
    return settings.embed.model in EMBEDDERS and bool(getattr(EMBEDDERS.factory(settings.embed.model), "shards", False))


def _shard_embedder(spec: tuple[str, dict]):
    name, options = spec
    key = (name, tuple(sorted(options.items())))
    if key not in _SHARD_EMBEDDERS:
        _SHARD_EMBEDDERS[key] = EMBEDDERS.create(name, dict(options))  # options go to those that take them
    return _SHARD_EMBEDDERS[key]


def load_shard_embedder(spec: tuple[str, dict]) -> None:
    """Build and load a worker's embedder ahead of its first chunk (`LocalExecutor.warm`)."""
    embedder = _shard_embedder(spec)
    if callable(getattr(embedder, "load", None)):
        embedder.load()


def embed_shard(spec: tuple[str, dict], unit: tuple[list[str], int, int | None]) -> tuple[np.ndarray, np.ndarray]:
    """On an executor's worker (`Pipeline.embed_texts`): a chunk's texts and the run of its batches
    to embed, (texts, first, stop), or (texts, 0, None) for all; gives (rows of the texts, their
    vectors). `spec` = (model, options)."""
    texts, first, stop = unit
    embedder = _shard_embedder(spec)
    if first == 0 and stop is None:
        return np.arange(len(texts)), embedder.embed(texts)
    return embedder.embed_batches(texts, first, stop)


def shard_units(chunks: Sequence[list[str]], embedder, batch_size: int) -> list[tuple[int, int, int | None, int]]:
    """How `embed_texts` spreads chunks over an executor: (chunk, first batch, stop batch, texts)
    runs of about EMBED_UNIT texts where the embedder can embed part of a chunk's batches
    (`embed_batches`: the same vectors as the whole chunk's), else one unit per chunk. Small
    units let the processes finish together."""
    if not callable(getattr(embedder, "embed_batches", None)):
        return [(c, 0, None, len(texts)) for c, texts in enumerate(chunks)]
    step = max(1, EMBED_UNIT // batch_size)
    units = []
    for c, texts in enumerate(chunks):
        n_batches = -(-len(texts) // batch_size)
        for first in range(0, n_batches, step):
            stop = min(first + step, n_batches)
            units.append((c, first, stop, min(stop * batch_size, len(texts)) - first * batch_size))
    return units


@dataclass(frozen=True)
class UserResult:
    user_id: str
    journeys: tuple[Journey, ...]
    unassigned: tuple[str, ...]


@dataclass(frozen=True)
class Partition:
    user_id: str
    groups: tuple[tuple[str, ...], ...]  # item ids per journey, each in time order
    unassigned: tuple[str, ...]


def dump_arrays(arrays: Mapping[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def current_artifact(store, pointer: str) -> tuple[str, bytes] | None:
    """The artifact key and bytes of the version `pointer` names (`keywords:current`,
    `model:current`), or None when the store keeps none."""
    if not hasattr(store, "get_artifact"):
        return None
    key = store.get_artifact(pointer)
    blob = store.get_artifact(key.decode()) if key else None
    return None if blob is None else (key.decode(), blob)


def load_arrays(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v


class _Fit:
    """One learned state kept as arrays under a digest of its inputs (`key`): loaded when the
    store has it, else fitted (`run`, which may go to another thread: it touches no store) and
    saved (`finish`, in the caller's thread); `pointer` names the version in use. Without a store
    that keeps artifacts (or a model that exposes its state), it is simply fitted. `early`: the
    fit needs no item vectors, so it may run while they are embedded."""

    def __init__(self, pipe: "Pipeline", name: str, key: str, pointer: str, fit, load, state, early: bool):
        store = pipe.store
        self.store, self.name, self.key, self.pointer, self.fit, self.state = store, name, key, pointer, fit, state
        self.saving = hasattr(store, "get_artifact") and state is not None
        blob = store.get_artifact(key) if self.saving else None
        if blob is not None:
            load(load_arrays(blob))
        self.fitted = blob is None
        self.early = early and self.fitted
        self.seconds: dict[str, float] = {name: 0.0}

    def run(self) -> None:
        if self.fitted:
            t = time.perf_counter()
            # one BLAS thread: the dense parts of the fits are small (the sparse products are
            # single-threaded anyway), so more threads mostly spin beside the embedding (1.4 of
            # 4.4 CPU seconds of the co-occurrence fit on latest-small), and one thread gives the
            # same numbers on machines with any number of cores
            with blas_threads(1):
                self.fit()
            self.seconds[self.name] = time.perf_counter() - t

    def finish(self) -> None:
        if self.saving:
            if self.fitted:
                self.store.put_artifact(self.key, dump_arrays(self.state()))
            self.store.put_artifact(self.pointer, self.key.encode())


class _Beside:
    """Runs jobs in one other thread for the span of a `with` block; an exception in a job is
    raised again at the block's end."""

    def __init__(self, jobs):
        self.jobs, self.error, self.thread = list(jobs), None, None

    def _work(self) -> None:
        try:
            for job in self.jobs:
                job()
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            self.error = exc

    def __enter__(self) -> "_Beside":
        if self.jobs:
            import threading

            self.thread = threading.Thread(target=self._work, name="journeys-fit", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.thread is not None:
            self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error


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
        shared = {"seed": s.seed}  # Settings.seed reaches every plug-in that takes one
        self.embedder = embedder or EMBEDDERS.create(
            s.embed.model, {**shared, "threads": s.embed.threads, "batch_size": s.embed.batch_size})
        self.clusterer = clusterer or CLUSTERERS.create(s.extract.method, shared, **s.extract.options())
        self.namer = namer or NAMERS.create(s.name.namer, shared, **s.name.options())
        self.progress = progress or QuietProgress()
        self.keywords = KeywordModel(top_n=s.name.keywords_top_n)
        self.items_: dict[str, Item] = {}
        self.texts_: dict[str, str] = {}
        self.vectors_: dict[str, np.ndarray] = {}
        self.embedded_ = 0  # how many texts the last prepare() actually had to embed
        self.instructive_: dict[str, bool] = {}  # item id -> its title or description reads as an instruction
        self._history_memo: tuple | None = None  # (user, events, their count, history): `_own_history`
        # True: new vectors wait in memory for `store_held_embeddings` (a batch run stores them
        # while its workers start on the users) instead of going to the store chunk by chunk
        self.hold_embeddings = False
        self._held: list[tuple[str, dict]] = []
        self.model_version_ = ""  # digest of the global fit in use
        self.seconds_: dict[str, float] = {}  # wall seconds of prepare()'s parts

    # -- global preparation -----------------------------------------------------------------
    def is_interest(self, event: Event) -> bool:
        return not (event.kind == "rate" and event.weight < self.settings.ingest.min_rating)

    def interest_mask(self, events: EventColumns) -> np.ndarray:
        """`is_interest` of every event of the columns, as a boolean array."""
        return events.interest(self.settings.ingest.min_rating)

    def prepare(self, items: Mapping[str, Item] | Iterable[Item],
                events: Sequence[Event] | EventColumns, executor=None) -> "Pipeline":
        """`events`: everybody's, as columns (what recompute reads) or as `Event` objects. The
        keyword model and a clusterer whose fit needs no item vectors (`fit_uses_vectors` False,
        as ICPC's co-occurrence model) learn in a second thread while the items are embedded: the
        fits are single-threaded, so on their own they leave the other cores idle. An `executor`
        of several workers embeds the texts in their processes (`embed_texts`)."""
        items = dict(items) if isinstance(items, Mapping) else {i.item_id: i for i in items}
        events = events if isinstance(events, EventColumns) else EventColumns.of(events)
        self._history_memo = None
        used = {events.items[c] for c in np.unique(events.item_code[self.interest_mask(events)]).tolist()}
        self.items_ = {k: v for k, v in items.items() if k in used}
        template = self.settings.embed.template
        self.texts_ = {k: item_text(v, template) for k, v in self.items_.items()}
        by_user = events.by_user()
        users = sorted(by_user)
        # the digest needs ids and texts only; vectors are stacked only if the fit must run
        corpus = Corpus([self.history(u, by_user[u], vectors=False) for u in users])
        fits = [self._plan_keywords(), self._plan_clusterer(corpus, lambda: Corpus([self.history(u, by_user[u])
                                                                                      for u in users]))]
        early = [f for f in fits if f.early]
        self.seconds_ = {}
        in_process = not self._shards(executor) or len(self.texts_) <= EMBED_CHUNK
        if early and in_process and callable(getattr(self.embedder, "load", None)):
            # the model's imports (torch) finish before the fits start beside them: a fit's array
            # checks would otherwise meet a half-imported torch module in sys.modules
            self.embedder.load()
        with _Beside([f.run for f in early]):
            t = time.perf_counter()
            self.vectors_ = self.embed_texts(self.texts_, executor)
            self.seconds_["embed"] = time.perf_counter() - t
        for f in fits:
            if not f.early:
                f.run()
            self.seconds_.update(f.seconds)
            f.finish()
        return self

    def _plan_keywords(self) -> "_Fit":
        """The keyword model on the texts in use; kept as arrays (`keywords:current`) so that
        `ingest` can score keywords without refitting it."""
        h = hashlib.sha256(repr((self.keywords.top_n, self.keywords.ngram_range)).encode())
        for k in sorted(self.texts_):
            h.update(repr((k, self.texts_[k])).encode())
        return _Fit(self, "fit_keywords", "keywords:" + h.hexdigest(), "keywords:current",
                    lambda: self.keywords.fit(self.texts_), self.keywords.load_state, self.keywords.state, True)

    def _plan_clusterer(self, corpus: Corpus, full=None) -> "_Fit":
        """The clusterer on everybody's histories. The learned state is a versioned artifact:
        kept in the store as arrays (npz, never pickle) under a digest of the clusterer's settings
        and of the corpus, so a run on unchanged data does not learn it again, and `ingest` applies
        the current version (`model:current`) without relearning it on every new event. `full`,
        when given, builds the corpus to learn from (`corpus`, for the digest, lacks vectors)."""
        h = hashlib.sha256(repr((self.clusterer.name, self.embedder.name, sorted(
            (k, repr(v)) for k, v in vars(self.clusterer).items() if not k.endswith("_")))).encode())
        for hist in corpus.histories:
            h.update(repr((hist.user_id, hist.item_ids, hist.texts)).encode())
        self.model_version_ = h.hexdigest()[:16]
        with_vectors = getattr(self.clusterer, "fit_uses_vectors", True)
        return _Fit(self, "fit_clusterer", "fit:" + h.hexdigest(), "model:current",
                    lambda: self.clusterer.fit(full() if full and with_vectors else corpus),
                    self.clusterer.load_state if hasattr(self.clusterer, "state") else None,
                    getattr(self.clusterer, "state", None), not with_vectors)

    def _current(self, pointer: str) -> tuple[str, bytes] | None:
        return current_artifact(self.store, pointer)

    def load_current(self) -> bool:
        """Load the global fit and keyword model of the last full run (what `ingest` applies,
        without relearning them); False when the store has none."""
        current = self._current("keywords:current")
        if current is None:
            return False
        self.keywords.load_state(load_arrays(current[1]))
        return self.load_current_model() or not hasattr(self.clusterer, "load_state")

    def ensure_items(self, item_ids: Iterable[str]) -> None:
        """Make the given catalogue items usable (text and vector), embedding only new texts."""
        missing = sorted(set(item_ids) - set(self.items_))
        if not missing:
            return
        self._history_memo = None  # histories change with the items at hand
        fresh = self.store.items(missing)
        template = self.settings.embed.template
        texts = {k: item_text(v, template) for k, v in fresh.items()}
        self.items_.update(fresh)
        self.texts_.update(texts)
        self.vectors_.update(self.embed_texts(texts))

    def load_current_model(self) -> bool:
        """Load the clusterer state of the last full fit (what `ingest` applies); False if none."""
        current = self._current("model:current") if hasattr(self.clusterer, "load_state") else None
        if current is None:
            return False
        self.clusterer.load_state(load_arrays(current[1]))
        self.model_version_ = current[0][len("fit:"):][:16]
        return True

    def _shards(self, executor) -> bool:
        """Whether the embedder runs on the executor's workers rather than in this process."""
        workers = getattr(executor, "workers", 1) if executor is not None else 1
        return workers > 1 and bool(getattr(self.embedder, "shards", False))

    def embed_texts(self, texts: Mapping[str, str], executor=None) -> dict[str, np.ndarray]:
        """Vectors per key; texts already embedded by this model (in the store) are not redone.
        With an `executor` of several workers and an embedder that `shards` (gives the same
        vectors on one thread as on several), the chunks are embedded by the executor's workers,
        one thread each: the same batches, so the same vectors, faster than one process's threads
        (no synchronisation between them). A chunk goes out in parts of about EMBED_UNIT texts
        where the embedder can embed part of its batches (`shard_units`)."""
        model = self.embedder.name
        hashes = {k: content_hash(t) for k, t in texts.items()}
        cached = self.store.get_embeddings(model, sorted(set(hashes.values()))) if self.store is not None else {}
        # longest first across all chunks (ties by hash), so that every batch pads to similar lengths
        todo = sorted({h: t for k, t in texts.items() if (h := hashes[k]) not in cached}.items(),
                      key=lambda ht: (-len(ht[1]), ht[0]))
        self.embedded_ = len(todo)
        if todo:
            chunks = [todo[start : start + EMBED_CHUNK] for start in range(0, len(todo), EMBED_CHUNK)]
            workers = getattr(executor, "workers", 1) if executor is not None else 1
            sharded = len(chunks) > 1 and self._shards(executor)
            with self.progress.task(f"embedding {len(todo)} items ({model})", len(todo)) as tick:
                if sharded:
                    spec = shard_spec(self.settings, workers)
                    plain = [[t for _, t in c] for c in chunks]
                    units = shard_units(plain, self.embedder, spec[1]["batch_size"])
                    sizes = iter([u[3] for u in units])  # `done` counts units; the bar counts texts
                    got = executor.map(embed_shard, spec, [(plain[c], first, stop) for c, first, stop, _ in units],
                                       done=lambda k: tick.advance(sum(next(sizes, 0) for _ in range(k))))
                    results = [np.empty((len(c), self.embedder.dim), dtype=np.float32) for c in chunks]
                    for (c, *_), (rows, vecs) in zip(units, got):
                        results[c][rows] = vecs
                else:
                    results = (self.embedder.embed([t for _, t in c]) for c in chunks)
                for chunk, vecs in zip(chunks, results):
                    fresh = {h: v for (h, _), v in zip(chunk, vecs)}
                    if self.store is not None and self.hold_embeddings:
                        self._held.append((model, fresh))
                    elif self.store is not None:
                        self.store.put_embeddings(model, fresh)
                    cached.update(fresh)
                    if not sharded:  # sharded: `done` advanced the bar as the workers finished
                        tick.advance(len(chunk))
        return {k: np.asarray(cached[h], dtype=np.float32) for k, h in hashes.items()}

    def store_held_embeddings(self) -> None:
        """Store the vectors that `hold_embeddings` kept back (nothing when none are)."""
        while self._held:
            model, fresh = self._held.pop(0)
            self.store.put_embeddings(model, fresh)

    def instructive(self, item_id: str) -> bool:
        if item_id not in self.instructive_:
            item = self.items_[item_id]
            self.instructive_[item_id] = safety.is_injection(item.title) or (
                bool(item.description) and safety.is_injection(item.description))
        return self.instructive_[item_id]

    # -- one user ---------------------------------------------------------------------------
    def history(self, user_id: str, events: Sequence[Event] | EventColumns, vectors: bool = True) -> UserHistory:
        """The user's distinct interest items in order of first interaction (ties by item id);
        without `vectors`, an empty (0, dim) array stands in for them. `events` are the user's
        (as columns or objects)."""
        if isinstance(events, EventColumns):
            known = np.fromiter((i in self.texts_ for i in events.items), dtype=bool, count=len(events.items))
            ids = events.first_seen(self.interest_mask(events) & known[events.item_code])
        else:
            order: dict[str, None] = {}
            for e in sorted((e for e in events if self.is_interest(e) and e.item_id in self.texts_),
                            key=lambda e: (e.timestamp, e.item_id)):
                order.setdefault(e.item_id, None)
            ids = tuple(order)
        dim = getattr(self.embedder, "dim", 0)
        vecs = np.stack([self.vectors_[i] for i in ids]) if ids and vectors else np.zeros((0, dim), dtype=np.float32)
        return UserHistory(user_id, ids, vecs, tuple(self.texts_[i] for i in ids))

    def _own_history(self, user_id: str, events: Sequence[Event]) -> UserHistory:
        """`history` of the user's own events among `events`; the last one is kept, so that
        `partition` and `materialise` of the same events list build it once."""
        memo = self._history_memo
        if memo is not None and memo[0] == user_id and memo[1] is events and memo[2] == len(events):
            return memo[3]
        hist = self.history(user_id, [e for e in events if e.user_id == user_id])
        self._history_memo = (user_id, events, len(events), hist)  # holds `events`: its id stays its own
        return hist

    def partition(self, user_id: str, events: Sequence[Event]) -> Partition:
        """The clusterer's grouping of the user's interest items: groups in order of their first
        item, each in time order, plus the unassigned items."""
        hist = self._own_history(user_id, events)
        labels = self.clusterer.assign(hist) if len(hist) else np.zeros(0, dtype=np.int64)
        if len(labels) != len(hist):
            raise RuntimeError(f"clusterer {self.clusterer.name} returned {len(labels)} labels for {len(hist)} items")
        groups = [tuple(hist.item_ids[i] for i in np.flatnonzero(labels == k))
                  for k in sorted(set(labels.tolist()) - {NOISE})]
        groups.sort(key=lambda g: hist.item_ids.index(g[0]))
        unassigned = tuple(hist.item_ids[i] for i in np.flatnonzero(labels == NOISE))
        return Partition(user_id, tuple(groups), unassigned)

    def materialise(self, user_id: str, events: Sequence[Event], groups: Sequence[Group],
                    unassigned: Sequence[str] = ()) -> UserResult:
        """Journeys from groups whose identity is settled: centroid, evidence, span, keywords and a
        name (the user's own name where they gave one)."""
        hist = self._own_history(user_id, events)
        events = [e for e in events if e.user_id == user_id]
        pos = {item: n for n, item in enumerate(hist.item_ids)}
        groups = [g for g in groups if any(i in pos for i in g.item_ids)]
        member_ids = [sorted((i for i in dict.fromkeys(g.item_ids) if i in pos), key=pos.__getitem__) for g in groups]
        in_groups = {i for ids in member_ids for i in ids}
        unassigned = tuple(i for i in unassigned if i in pos and i not in in_groups)
        # an item whose text reads as an instruction stays in its journey but gives no keywords
        kws = self.keywords.keywords([[i for i in ids if not self.instructive(i)] for ids in member_ids],
                                     [i for i in unassigned if not self.instructive(i)])
        stats: dict[str, list] = {}
        for e in events:
            if self.is_interest(e):
                stats.setdefault(e.item_id, []).append(e.timestamp)
        drafts, partial = [], []
        for ids, kw in zip(member_ids, kws):
            rows = np.array([pos[i] for i in ids])
            centroid = _unit(hist.vectors[rows].sum(axis=0))
            near = rows[np.argsort(-(hist.vectors[rows] @ centroid), kind="stable")]
            titles = tuple(self.items_[i].title for i in ids)
            drafts.append(JourneyDraft(user_id, tuple(ids), titles, tuple(kw),
                                       tuple(self.items_[hist.item_ids[i]].title for i in near),
                                       self.keywords.broad(kw, self.settings.name.broad_share)))
            stamps = [t for i in ids for t in stats.get(i, [])]
            evidence = tuple(hist.item_ids[i] for i in near[:N_EVIDENCE])
            partial.append((centroid, evidence, len(stamps), min(stamps), max(stamps)))
        names = self.namer.name_user(NamingContext(user_id, tuple(drafts), self.embedder.embed)) if drafts else []
        journeys = [
            Journey(g.journey_id or journey_id(user_id, d.item_ids[0]), user_id,
                    g.name if g.name else n.name, g.name_source if g.name else n.source, d.keywords, d.item_ids,
                    n_ev, first, last, tuple(c.tolist()), evidence, score=float(n_ev),
                    score_source="size", parent_id=g.parent_id, hidden=g.hidden, pinned=g.pinned)
            for g, d, n, (c, evidence, n_ev, first, last) in zip(groups, drafts, names, partial)
        ]
        return UserResult(user_id, tuple(order(journeys)), unassigned)

    def run_user(self, user_id: str, events: Sequence[Event]) -> UserResult:
        """Partition and materialise with fresh ids (no stored identity): what a first run gives."""
        part = self.partition(user_id, events)
        return self.materialise(user_id, events, [Group(list(g)) for g in part.groups], part.unassigned)
