from __future__ import annotations

import numpy as np
import pytest

from journeys.config import Settings
from journeys.ingest import load_events
from journeys.pipeline import Pipeline
from journeys.progress import QuietProgress
from journeys.services import discover
from journeys.store.sqlite import SQLiteStore


@pytest.fixture
def data(data_dir):
    return load_events(data_dir / "events.csv", data_dir / "items.csv")


@pytest.mark.slow
def test_two_planted_collections_give_two_journeys_with_real_minilm(data, minilm):
    pipe = Pipeline(Settings(), embedder=minilm).prepare(data.items, data.events)
    res = pipe.run_user("alice", data.events)
    groups = sorted(sorted(j.item_ids) for j in res.journeys)
    assert groups == [["h1", "h2", "h3", "h4", "h5"], ["u1", "u2", "u3", "u4", "u5"]]
    assert res.unassigned == ("x1",)  # the one-off pizza item is kept, not lost
    names = {j.name.lower() for j in res.journeys}
    assert "ukulele" in names and any(n.startswith("hydroponic") for n in names)
    uke = next(j for j in res.journeys if "u1" in j.item_ids)
    assert uke.item_ids == ("u1", "u2", "u3", "u4", "u5")  # time order
    assert uke.n_events == 5 and uke.first_seen.isoformat() == "2024-01-03T10:00:00+00:00"
    assert len(uke.centroid) == 384


def test_every_item_lands_in_one_journey_or_unassigned(data):
    pipe = Pipeline(Settings(embed={"model": "hashing"})).prepare(data.items, data.events)
    for user in ("alice", "bob"):
        res = pipe.run_user(user, data.events)
        placed = [i for j in res.journeys for i in j.item_ids] + list(res.unassigned)
        assert sorted(placed) == sorted({e.item_id for e in data.events if e.user_id == user})
        assert len(placed) == len(set(placed))


def test_ratings_below_threshold_are_not_interest(data):
    from dataclasses import replace

    low = [replace(e, kind="rate", weight=2.0) if e.item_id.startswith("h") else e for e in data.events]
    pipe = Pipeline(Settings(embed={"model": "hashing"})).prepare(data.items, low)
    hist = pipe.history("alice", low)
    assert not any(i.startswith("h") for i in hist.item_ids)


def test_discover_is_idempotent_and_incremental(data, tmp_path):
    settings = Settings(embed={"model": "hashing"})
    with SQLiteStore(tmp_path / "j.db") as store:
        first = discover(data, settings, store)
        before = store.journeys()
        second = discover(data, settings, store)
        assert store.journeys() == before  # same input: same journeys, same ids
        assert first.items_embedded == 11 and second.items_embedded == 0
        assert first.users_changed == 2 and second.users_changed == 0
        assert len(store.runs()) == 2


def test_a_clusterers_global_fit_is_reused_on_the_same_input(data, tmp_path):
    from journeys.extract import CLUSTERERS

    class Counting(type(CLUSTERERS.create("icpc"))):
        fits = 0

        def fit(self, corpus):
            Counting.fits += 1
            return super().fit(corpus)

    settings = Settings(embed={"model": "hashing"})
    with SQLiteStore(tmp_path / "j.db") as store:
        first = Pipeline(settings, store, clusterer=Counting()).prepare(data.items, data.events)
        second = Pipeline(settings, store, clusterer=Counting()).prepare(data.items, data.events)
        assert Counting.fits == 1
        assert second.run_user("alice", data.events) == first.run_user("alice", data.events)
        fewer = [e for e in data.events if e.item_id != "u5"]  # new input: learnt again
        Pipeline(settings, store, clusterer=Counting()).prepare(data.items, fewer)
        assert Counting.fits == 2


def test_the_embedder_is_loaded_before_the_fits_start_beside_it(data):
    """A fit in the side thread must not meet a half-imported model runtime (torch): the model
    loads first, then the fits start, then the texts are embedded."""
    from journeys.embed import EMBEDDERS
    from journeys.extract import CLUSTERERS

    order = []
    base = type(EMBEDDERS.create("hashing"))

    class Loading(base):
        def load(self):
            order.append("load")

        def embed(self, texts):
            order.append("embed")
            return super().embed(texts)

    class Fitting(type(CLUSTERERS.create("icpc"))):
        def fit(self, corpus):
            order.append("fit")
            return super().fit(corpus)

    Pipeline(Settings(embed={"model": "hashing"}), embedder=Loading(), clusterer=Fitting()).prepare(data.items, data.events)
    assert order[0] == "load" and "fit" in order and "embed" in order


class _Counting(QuietProgress):
    """A progress that counts how far its bars advanced."""

    advanced = 0

    def task(self, label, total):
        outer = self

        class Tick:
            def advance(self, n=1):
                outer.advanced += n

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return None

        return Tick()


def test_a_pool_embeds_shards_to_the_same_vectors(monkeypatch):
    """An embedder that `shards` is run on the executor's workers chunk by chunk: the same
    vectors as in this process, the progress bar reaches every text, and the pool did some."""
    from journeys.batch import EXECUTORS
    from journeys.embed.hashing import HashingEmbedder

    monkeypatch.setattr(HashingEmbedder, "shards", True, raising=False)
    texts = {f"i{k}": f"item {k} about {'baking bread' if k % 2 else 'trail running'} {k * 7}" for k in range(1300)}

    settings = Settings(embed={"model": "hashing"})
    alone = Pipeline(settings).embed_texts(texts)
    progress = _Counting()
    with EXECUTORS.create("local", workers=2) as ex:
        pooled = Pipeline(settings, progress=progress).embed_texts(texts, ex)
        assert 0 < ex.in_process_ < 3  # 1,300 texts are 3 chunks: the pool took at least one
        few = dict(list(texts.items())[:100])  # one chunk: embedded here, the bar still moves
        progress_few = _Counting()
        Pipeline(settings, progress=progress_few).embed_texts(few, ex)
    assert sorted(pooled) == sorted(alone)
    assert all(np.array_equal(pooled[k], alone[k]) for k in alone)
    assert progress.advanced == len(texts) and progress_few.advanced == 100


def test_which_embedders_shard_and_what_a_worker_builds():
    from journeys.pipeline import shard_spec, shards

    assert shards(Settings(embed={"model": "minilm-onnx"}))
    assert not shards(Settings(embed={"model": "minilm"})) and not shards(Settings(embed={"model": "hashing"}))
    cores = __import__("os").cpu_count() or 1
    assert shard_spec(Settings(embed={"model": "minilm-onnx", "batch_size": 32}), cores) == (
        "minilm-onnx", {"threads": 1, "batch_size": 32})


def test_shard_units_known_answers():
    from journeys.embed.hashing import HashingEmbedder
    from journeys.pipeline import shard_units

    chunks = [["t"] * 512, ["t"] * 300]
    assert shard_units(chunks, HashingEmbedder(), 64) == [(0, 0, None, 512), (1, 0, None, 300)]

    class Parts(HashingEmbedder):
        def embed_batches(self, texts, first=0, stop=None):
            raise AssertionError("not called here")

    assert shard_units(chunks, Parts(), 64) == [(0, 0, 2, 128), (0, 2, 4, 128), (0, 4, 6, 128), (0, 6, 8, 128),
                                                (1, 0, 2, 128), (1, 2, 4, 128), (1, 4, 5, 44)]
    assert shard_units([["t"] * 10], Parts(), 256) == [(0, 0, 1, 10)]


def test_parts_of_chunks_come_back_into_their_rows(monkeypatch):
    """An embedder that can embed part of a call's batches (`embed_batches`, as the ONNX one) goes
    out in parts of about 128 texts; each part's rows come back to their places, and the bar
    counts every text once."""
    from journeys.embed.hashing import HashingEmbedder

    def embed_batches(self, texts, first=0, stop=None):  # its own order: last text first
        rows = np.arange(len(texts))[::-1][first * 64 : (len(texts) if stop is None else stop * 64)]
        return rows, self.embed([texts[r] for r in rows])

    class Inline:  # an executor of two workers that runs every partition here (so the patch holds)
        workers = 2

        def __init__(self):
            self.units = []

        def map(self, fn, shared, partitions, done=None):
            self.units = [(first, stop, len(texts)) for texts, first, stop in partitions]
            out = [fn(shared, p) for p in partitions]
            done(len(partitions))
            return out

    monkeypatch.setattr(HashingEmbedder, "shards", True, raising=False)
    monkeypatch.setattr(HashingEmbedder, "embed_batches", embed_batches, raising=False)
    texts = {f"i{k}": f"item {k} about {'pottery' if k % 2 else 'birding'} {k * 3}" for k in range(700)}
    settings = Settings(embed={"model": "hashing", "batch_size": 64})
    alone = Pipeline(settings).embed_texts(texts)
    ex, progress = Inline(), _Counting()
    pooled = Pipeline(settings, progress=progress).embed_texts(texts, ex)
    assert ex.units == [(0, 2, 512), (2, 4, 512), (4, 6, 512), (6, 8, 512), (0, 2, 188), (2, 3, 188)]
    assert sorted(pooled) == sorted(alone) and all(np.array_equal(pooled[k], alone[k]) for k in alone)
    assert progress.advanced == 700


@pytest.mark.slow  # starts a real Ray (~20 s here); CI runs slow tests too
def test_ray_embeds_shards_to_the_same_vectors(monkeypatch, tmp_path):
    """The same sharded embedding on Ray tasks: every chunk's vectors equal this process's, and
    the progress reaches every text as the tasks finish."""
    pytest.importorskip("ray")
    import shutil
    import tempfile

    from journeys.batch import EXECUTORS
    from journeys.embed.hashing import HashingEmbedder

    monkeypatch.setattr(HashingEmbedder, "shards", True, raising=False)
    texts = {f"i{k}": f"item {k} about {'knitting' if k % 3 else 'chess openings'} {k}" for k in range(1100)}
    settings = Settings(embed={"model": "hashing"})
    alone = Pipeline(settings).embed_texts(texts)
    temp = tempfile.mkdtemp(prefix="jray")
    try:
        with EXECUTORS.create("ray", workers=2, object_store_mb=80, temp_dir=temp) as ex:
            told: list[int] = []
            real = ex.map
            monkeypatch.setattr(ex, "map", lambda fn, sh, parts, done=None: real(fn, sh, parts, done=lambda k: (told.append(k), done(k))))
            pooled = Pipeline(settings).embed_texts(texts, ex)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert sum(told) == 3  # 1,100 texts: 3 chunks, each reported once
    assert all(np.array_equal(pooled[k], alone[k]) for k in alone) and sorted(pooled) == sorted(alone)
