from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from journeys.store.sqlite import MIGRATIONS, SQLiteStore
from journeys.types import Event, Item, Journey
from tests.store.conformance import StoreConformance

T = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _journey(name="Ukulele", items=("u1", "u2")):
    return Journey("j_1", "alice", name, "keywords", ("ukulele",), items, 3, T, T, (0.6, 0.8))


def test_schema_is_migrated_once_and_wal(tmp_path):
    path = tmp_path / "j.db"
    with SQLiteStore(path) as s:
        assert s.schema_version == len(MIGRATIONS)
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with SQLiteStore(path) as s:  # reopening does not re-run migrations
        assert s.schema_version == len(MIGRATIONS)


def test_items_events_roundtrip_and_idempotence(tmp_path):
    with SQLiteStore(tmp_path / "j.db") as s:
        items = [Item("u1", "Ukulele chords", "d", ("music",)), Item("u2", "Tuning")]
        assert s.upsert_items(items) == 2
        assert s.upsert_items(items) == 0  # unchanged items are not rewritten
        assert s.upsert_items([Item("u2", "Tuning a ukulele")]) == 1
        ev = [Event("alice", "u1", T, "view"), Event("alice", "u2", T, "search", 1.0, "tuning")]
        assert s.add_events(ev) == 2 and s.add_events(ev) == 0
        assert s.events("alice") == sorted(ev, key=lambda e: e.item_id)
        assert s.items(["u2"])["u2"].title == "Tuning a ukulele"


def test_embedding_cache(tmp_path):
    with SQLiteStore(tmp_path / "j.db") as s:
        v = np.arange(4, dtype=np.float32)
        s.put_embeddings("m", {"h1": v})
        got = s.get_embeddings("m", ["h1", "h2"])
        assert list(got) == ["h1"] and np.array_equal(got["h1"], v)
        assert s.get_embeddings("other-model", ["h1"]) == {}


def test_replace_journeys_writes_only_changes(tmp_path):
    with SQLiteStore(tmp_path / "j.db") as s:
        s.add_events([Event("alice", "u1", T)])
        assert s.replace_journeys("alice", [_journey()], ["x1"]) is True
        assert s.replace_journeys("alice", [_journey()], ["x1"]) is False
        [j] = s.journeys("alice")
        assert j.item_ids == ("u1", "u2") and j.name == "Ukulele" and j.first_seen == T
        assert np.allclose(j.centroid, (0.6, 0.8))
        assert s.unassigned("alice") == ["x1"]
        assert s.replace_journeys("alice", [_journey("Ukulele chords", ("u1",))], []) is True
        assert s.journeys("alice")[0].item_ids == ("u1",) and s.unassigned("alice") == []
        assert s.users() == [{"user_id": "alice", "n_events": 1, "n_journeys": 1}]


def test_runs_are_recorded(tmp_path):
    with SQLiteStore(tmp_path / "j.db") as s:
        rid = s.start_run({"a": 1})
        s.finish_run(rid, {"journeys": 2})
        assert s.runs()[0]["stats"] == {"journeys": 2}


class TestSQLiteConformance(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path):
        s = SQLiteStore(tmp_path / "conformance.db")
        yield s
        s.close()

    def reopen(self, store):
        return SQLiteStore(store.path)
