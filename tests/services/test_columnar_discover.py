"""Recompute holds the store's events as columns: the same digests, histories and journeys as
from `Event` objects, and no object per event of the whole store."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from journeys.batch.columns import EventColumns
from journeys.config import Settings
from journeys.pipeline import Pipeline
from journeys.services import core
from journeys.store.sqlite import SQLiteStore
from journeys.types import Event
from tests.services.test_living import TINY, _data
from tests.batch.test_columns import events as event_lists

from journeys.bench.synth import load_collections, make_users

T = datetime(2024, 1, 1, 12, 0, 0, 123457, tzinfo=timezone.utc)
KNOWN = [Event("7", "m2", T, "rate", 4.5), Event("7", "m1", T, "rate", 0.5), Event("7", "m1", T, "search", 1.0, "q a"),
         Event("7", "m1", T, "search", 1.0), Event("7", "m0", T - timedelta(days=9000, microseconds=1), "view", 1.0),
         Event("7", "m3", T + timedelta(seconds=0.1), "rate", 3.0)]


def _digest_of_objects(config: str, events) -> str:
    """The input digest as it was computed from `Event` objects (digests stored by earlier runs)."""
    h = hashlib.sha256(config.encode())
    for e in sorted(events, key=lambda e: (e.timestamp, e.item_id, e.kind, e.weight, e.query or "")):
        h.update(repr((e.item_id, e.timestamp.timestamp(), e.kind, e.weight, e.query)).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def synth():
    return make_users(load_collections(TINY), n_users=6, seed=3, k=(2, 3), items=(5, 8), noise=0.2)


def test_input_digest_known_answer_in_any_order():
    # computed from Event objects by the code before columns; stored digests must stay valid
    want = "f3f8f5f964f6996bcb3e771b7778a0f40de8de1219eaaafff2a195cc305fb2d1"
    assert core._input_digest("cfg", EventColumns.of(KNOWN)) == want
    assert core._input_digest("cfg", EventColumns.of(KNOWN[::-1])) == want
    assert core._input_digest("cfg", EventColumns.of([])) == \
        "e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb60d82f14894c0"


@given(event_lists)
@hsettings(max_examples=60, deadline=None)
def test_input_digest_equals_the_digest_of_the_objects(evs):
    assert core._input_digest("c", EventColumns.of(evs)) == _digest_of_objects("c", evs)


def test_stored_digests_histories_and_a_warm_run_from_columns(tmp_path, synth):
    settings = Settings(embed={"model": "hashing"})
    with SQLiteStore(tmp_path / "j.db") as store:
        first = core.discover(_data(synth.events, synth.items), settings, store)
        pipe = Pipeline(settings, store).prepare(store.items(), store.events())
        config = core._config_digest(settings, pipe.model_version_)
        by_user = store.event_columns().by_user()
        assert first.users == len(by_user) == 6
        for user, digest in store.input_digests().items():
            assert digest == _digest_of_objects(config, store.events(user))
            cols, objs = pipe.history(user, by_user[user]), pipe.history(user, store.events(user))
            assert cols.item_ids == objs.item_ids and len(cols) > 3 and (cols.vectors == objs.vectors).all()
        assert core.discover(_data([], {}), settings, store).users == 0  # nobody's inputs changed


@pytest.mark.parametrize("workers", [1, 2])
def test_recompute_never_reads_every_event_as_objects(tmp_path, synth, monkeypatch, workers):
    def refuse(self, user_id=None):
        assert user_id is not None, "recompute read every event as objects"
        return real(self, user_id)

    real = SQLiteStore.events
    monkeypatch.setattr(SQLiteStore, "events", refuse)
    settings = Settings(embed={"model": "hashing"}, batch={"workers": workers})
    with SQLiteStore(tmp_path / "j.db") as store:
        summary = core.discover(_data(synth.events, synth.items), settings, store)
        assert summary.users == 6 and summary.journeys >= 6
