"""`discover_input`: the service behind `journeys discover` (fingerprint, stored input, loader)."""

from __future__ import annotations

from journeys.config import Settings
from journeys.services.inputs import EARLY_POOL_BYTES, InputSpec, discover_input, store_exists
from journeys.store.sqlite import SQLiteStore


def test_discover_input_twice_reads_once(tmp_path, data_dir):
    settings = Settings(embed={"model": "hashing"})
    spec = InputSpec(events=data_dir / "events.csv", items=data_dir / "items.csv")
    db = tmp_path / "in.db"
    assert not store_exists(db) and store_exists("postgresql://nowhere/db")
    first = discover_input(spec, settings, db)
    second = discover_input(spec, settings, db)
    assert "unchanged_input" not in first.ingest and second.ingest["unchanged_input"] is True
    assert {k: v for k, v in second.ingest.items() if k != "unchanged_input"} == first.ingest
    assert first.users > 0 and second.users == 0 and second.journeys == 0
    with SQLiteStore(db) as store:
        assert [k for k in store.conn.execute("SELECT key FROM artifacts WHERE key LIKE 'source:%'")] == [
            (spec.fingerprint(settings),)]


def test_which_inputs_start_the_pool_first(tmp_path, data_dir):
    assert InputSpec(dataset="movielens-small").large()
    assert not InputSpec(events=data_dir / "events.csv").large()
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * EARLY_POOL_BYTES)
    assert InputSpec(events=big).large()
