"""Synthetic users: the protocol of BENCHMARKS.md section 1, and clear errors on bad files."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest

from journeys.bench.synth import YEAR_DAYS, load_collections, make_users
from journeys.errors import DataError

TINY = Path(__file__).parents[1] / "data" / "collections_tiny.json"


def test_load_plain_and_gzipped_alike(tmp_path):
    gz = tmp_path / "c.json.gz"
    gz.write_bytes(gzip.compress(TINY.read_bytes()))
    plain, zipped = load_collections(TINY), load_collections(gz)
    assert plain == zipped
    assert [c.key for c in plain] == ["astro", "bake", "chess", "garden"]
    assert plain[1].name == "Bread baking" and len(plain[1].items) == 12


def test_missing_key_gets_a_position_key(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps([{"name": "X", "items": [{"id": "a", "title": "A"}]}]))
    (c,) = load_collections(p)
    assert c.key == "c0" and c.items[0].description == ""


@pytest.mark.parametrize(
    "content, reason",
    [
        ("[{", "invalid JSON"),
        ('{"name": "x"}', "non-empty JSON list"),
        ("[]", "non-empty JSON list"),
        ('[{"items": [{"id": "a", "title": "A"}]}]', "'name'"),
        ('[{"name": "n", "items": []}]', "'items'"),
        ('[{"name": "n", "items": [{"title": "A"}]}]', "'id'"),
        ('[{"name": "n", "items": [{"id": "a", "title": ""}]}]', "'title'"),
        ('[{"name": "n", "items": ["a"]}]', "expected an object"),
        ('[{"key": "k", "name": "n", "items": [{"id": "a", "title": "A"}]},'
         ' {"key": "k", "name": "m", "items": [{"id": "b", "title": "B"}]}]', "duplicate key"),
    ],
)
def test_bad_content_is_a_data_error(tmp_path, content, reason):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(DataError) as err:
        load_collections(p)
    assert reason in str(err.value) and str(p) in str(err.value)


def test_bad_gzip_and_missing_file(tmp_path):
    p = tmp_path / "bad.json.gz"
    p.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(DataError, match="gzip"):
        load_collections(p)
    with pytest.raises(DataError, match="no such file"):
        load_collections(tmp_path / "nope.json")


def test_make_users_follows_the_protocol():
    colls = load_collections(TINY)
    data = make_users(colls, n_users=30, seed=3, k=(2, 3), items=(4, 6), noise=0.25)
    assert len(data.users) == 30
    by_user = data.events_by_user()
    for user in data.users:
        truth = data.truth[user]
        events = by_user[user]
        assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
        assert sorted(e.item_id for e in events) == sorted(truth)  # one view per item
        assert all(e.kind == "view" and e.timestamp.tzinfo is not None for e in events)
        planted = data.journeys[user]
        assert 2 <= len(planted) <= 3
        when = {e.item_id: e.timestamp for e in events}
        for j in planted:
            assert 4 <= len(j.item_ids) <= 6
            assert j.end - j.start <= timedelta(days=180) and j.end - j.start >= timedelta(days=7)
            assert all(j.start <= when[i] <= j.end for i in j.item_ids)
            assert all(truth[i] == j.collection for i in j.item_ids)
        noise = [i for i, c in truth.items() if c is None]
        assert len(noise) == round(0.25 * (len(truth) - len(noise)))
        pursued = {j.collection for j in planted}
        for i in noise:  # noise comes from collections the user does not pursue
            owner = next(c.key for c in colls if any(it.item_id == i for it in c.items))
            assert owner not in pursued
        span = max(when.values()) - min(when.values())
        assert span <= timedelta(days=YEAR_DAYS)


def test_make_users_is_seeded():
    colls = load_collections(TINY)
    a = make_users(colls, n_users=10, seed=1)
    b = make_users(colls, n_users=10, seed=1)
    c = make_users(colls, n_users=10, seed=2)
    assert a.events == b.events and a.truth == b.truth
    assert a.events != c.events


def test_item_counts_are_capped_by_the_collection():
    colls = load_collections(TINY)  # 12 items each
    data = make_users(colls, n_users=5, seed=0, k=(4, 4), items=(30, 30), noise=0.0)
    for user in data.users:
        assert len(data.truth[user]) == 48 and None not in data.truth[user].values()
