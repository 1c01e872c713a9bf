"""The columnar data path: chunked Arrow ingest into hash buckets of users, and what streams over them."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from journeys.batch import bucket
from journeys.bench import scale
from journeys.bench.synth import load_collections
from journeys.embed import EMBEDDERS
from journeys.errors import DataError
from journeys.extract import CLUSTERERS, Corpus, UserHistory
from journeys.ingest import load_events
from journeys.ingest.columnar import read_bucket, user_item_matrix, write_buckets
from journeys.pipeline import Pipeline
from journeys.config import Settings


def _users(buckets) -> dict[str, list[str]]:
    return {u: rows.distinct(k).tolist() for f in buckets.files for rows in [read_bucket(f)]
            for k, u in enumerate(rows.users)}


def test_buckets_give_each_user_the_object_paths_history(data_dir, tmp_path):
    data = load_events(data_dir / "events.csv", data_dir / "items.csv")
    catalogue = sorted(data.items)  # codes in id order: ties in time break by item id, as in history()
    b = write_buckets(data_dir / "events.csv", catalogue, tmp_path / "b", 3)
    # the same rows are bad, for the same reasons; an exact duplicate row is kept (it adds no item)
    assert b.rows == data.stats.rows and b.quarantined == data.stats.quarantined == 4
    assert b.events == data.stats.events + data.stats.duplicates
    assert sorted(b.reasons) == sorted(r.reason.split(" '")[0].split(":")[0] for r in data.quarantine.rows)
    pipe = Pipeline(Settings(), embedder=EMBEDDERS.create("hashing"))
    pipe.prepare(data.items, data.events)
    got = _users(b)
    for user in {e.user_id for e in data.events}:
        hist = pipe.history(user, [e for e in data.events if e.user_id == user])
        assert [catalogue[i] for i in got[user]] == list(hist.item_ids)
    for n, f in enumerate(b.files):  # every user sits in the bucket the executors use
        assert all(bucket(u, 3) == n for u in read_bucket(f).users)


def test_bad_rows_are_quarantined_with_reasons_never_dropped(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,timestamp,weight\n"
                   "a,x,1704448800,1\n"   # fine
                   ",x,1704448800,1\n"    # empty user
                   "a,nope,1704448800,1\n"  # unknown item
                   "a,x,yesterday,1\n"    # bad timestamp
                   "b,x,2024-01-03T10:00:00Z,nan\n"  # weight not finite
                   "b,y,2024-01-03T10:00:00Z,\n"  # an empty weight cell is the default weight, 1
                   "b,y,2024-01-03T10:00:00Z,abc\n")  # weight not a number
    b = write_buckets(log, ["x", "y"], tmp_path / "b", 2)
    assert (b.rows, b.events, b.quarantined) == (7, 2, 5)
    q = pq.read_table(tmp_path / "b" / "quarantine.parquet").to_pylist()
    assert [r["line"] for r in q] == [2, 3, 4, 5, 7]
    assert [r["reason"] for r in q] == ["empty user_id", "event for unknown item", "unparseable timestamp",
                                        "weight is not a number", "weight is not a number"]
    assert json.loads(q[1]["row"])["item_id"] == "nope"


def test_missing_column_and_unknown_type_are_data_errors(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("user,item_id,timestamp\na,x,1\n")
    with pytest.raises(DataError, match="missing required column 'user_id'"):
        write_buckets(log, ["x"], tmp_path / "b", 1)
    (tmp_path / "log.xml").write_text("<a/>")
    with pytest.raises(DataError, match="unknown file type"):
        write_buckets(tmp_path / "log.xml", ["x"], tmp_path / "b", 1)


@pytest.fixture
def synthetic(data_dir, tmp_path):
    cols = load_collections(data_dir / "collections_tiny.json")
    items, _ = scale.write_log(cols, 4000, tmp_path / "log.parquet", seed=2, users_per_slice=7)
    return [i.item_id for i in items], tmp_path / "log.parquet"


def test_chunk_size_does_not_change_the_buckets(synthetic, tmp_path):
    ids, log = synthetic
    whole = _users(write_buckets(log, ids, tmp_path / "one", 4))
    small = _users(write_buckets(log, ids, tmp_path / "many", 4, chunk_rows=333))
    assert whole == small and sum(len(set(v)) for v in whole.values()) > 0


def test_streamed_fit_equals_the_object_fit(synthetic, tmp_path):
    ids, log = synthetic
    b = write_buckets(log, ids, tmp_path / "b", 5)
    x, users = user_item_matrix(b.files, len(ids))
    per_user = _users(b)
    hists = [UserHistory(u, tuple(ids[i] for i in per_user[u]), np.zeros((0, 0))) for u in users]
    a = CLUSTERERS.create("icpc", seed=0).fit(Corpus(hists))
    c = CLUSTERERS.create("icpc", seed=0).fit_matrix(x, ids, users)
    assert a.cooc_.item_ids == c.cooc_.item_ids and len(a.cooc_.item_ids) > 10
    assert np.array_equal(a.cooc_.vectors, c.cooc_.vectors) and np.array_equal(a.cooc_.users, c.cooc_.users)
    assert a.incidence_.user_ids == c.incidence_.user_ids == tuple(users)  # the evidence for outsiders too
    assert np.array_equal(a.incidence_.indptr, c.incidence_.indptr)
    assert np.array_equal(a.incidence_.indices, c.incidence_.indices)
