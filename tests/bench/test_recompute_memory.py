"""`bench recompute-memory` on a tiny discovered store: the figure and what it is made of."""

from __future__ import annotations

import math

from journeys.bench import recompute_memory
from journeys.config import Settings
from journeys.services import core
from journeys.store.sqlite import SQLiteStore
from tests.services.test_living import TINY, _data

from journeys.bench.synth import load_collections, make_users


def test_driver_bytes_per_event_of_a_refresh(tmp_path, monkeypatch):
    monkeypatch.setenv("JOURNEYS_EMBED__MODEL", "hashing")
    synth = make_users(load_collections(TINY), n_users=5, seed=2, k=(2, 3), items=(5, 8), noise=0.2)
    db = tmp_path / "j.db"
    with SQLiteStore(db) as store:
        core.discover(_data(synth.events, synth.items), Settings(embed={"model": "hashing"}), store)
    out = recompute_memory.run(db=str(db))
    assert out["events"] == len(synth.events) and out["users"] == 5
    assert out["items_with_vectors"] > 10 and out["item_vectors_mib"] >= 0 and 0 < out["events_halved"] < out["events"]
    assert out["peak_mib"] >= out["rss_before_mib"] > 0
    assert all(math.isfinite(out[k]) for k in ("driver_bytes_per_event", "held_bytes_per_event", "whole_run_bytes_per_event",
                                             "driver_marginal_bytes_per_event", "whole_run_marginal_bytes_per_event"))
