"""Living journeys: the store is the truth, incremental runs equal full runs, identity is stable,
people's edits survive every later computation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from journeys.bench.synth import load_collections, make_users
from journeys.config import Settings
from journeys.errors import ConfigError, NotFound
from journeys.ingest import IngestResult, IngestStats, Quarantine
from journeys.services import core, edits, online
from journeys.store.sqlite import SQLiteStore

TINY = Path(__file__).parents[1] / "data" / "collections_tiny.json"
SETTINGS = Settings(embed={"model": "hashing"})


@pytest.fixture(scope="module")
def synth():
    return make_users(load_collections(TINY), n_users=6, seed=3, k=(2, 3), items=(5, 8), noise=0.2)


def _data(events, items) -> IngestResult:
    return IngestResult(list(events), dict(items), IngestStats(events=len(events)), Quarantine())


def _partition(store) -> dict:
    """user -> sorted partition (item sets) and the name of each part."""
    out: dict[str, list] = {}
    for j in store.journeys():
        out.setdefault(j.user_id, []).append((tuple(sorted(j.item_ids)), j.name, j.name_source))
    return {u: sorted(v) for u, v in out.items()}


def _run(tmp_path, name, batches, items, mode="discover"):
    with SQLiteStore(tmp_path / f"{name}.db") as store:
        for n, batch in enumerate(batches):
            if mode == "discover" or n == 0:
                core.discover(_data(batch, items), SETTINGS, store)
            else:
                online.add_events(store, batch, SETTINGS, items.values())
        if mode == "online":
            core.refresh(store, SETTINGS)
        return _partition(store), {j.user_id: j for j in store.journeys()}


def test_second_discover_keeps_what_the_store_knows(tmp_path, synth):
    """The reported bug: a later file with only later events wiped earlier journeys."""
    events = sorted(synth.events, key=lambda e: e.timestamp)
    half = len(events) // 2
    full, _ = _run(tmp_path, "full", [events], synth.items)
    split, _ = _run(tmp_path, "split", [events[:half], events[half:]], synth.items)
    assert split == full
    assert sum(len(v) for v in full.values()) >= 6  # every user keeps journeys


def test_unaffected_users_lines_stay_byte_identical(tmp_path, synth):
    from journeys.services.core import journey_record
    import json

    users = synth.users
    first = [e for e in synth.events if e.user_id != users[0]]
    with SQLiteStore(tmp_path / "j.db") as store:
        core.discover(_data(synth.events, synth.items), SETTINGS, store)
        before = {j.journey_id: json.dumps(journey_record(j)) for j in store.journeys() if j.user_id != users[0]}
        # the same events again, plus one more for users[0]: only users[0] has new input
        extra = dataclasses.replace(next(e for e in synth.events if e.user_id == users[0]),
                                    timestamp=max(e.timestamp for e in synth.events))
        s = core.discover(_data(first + [extra], synth.items), SETTINGS, store)
        after = {j.journey_id: json.dumps(journey_record(j)) for j in store.journeys() if j.user_id != users[0]}
        assert s.users == 1 and before == after
        assert len(store.events()) == len(synth.events) + 1  # nothing removed by a smaller file


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.floats(0.05, 0.95), min_size=1, max_size=3), shuffle=st.booleans())
def test_any_split_into_batches_equals_one_run(tmp_path_factory, synth, cuts, shuffle):
    """Hypothesis: discover over any batching of the log (in time order or not) gives the same
    partition and names as one run over all of it."""
    events = sorted(synth.events, key=lambda e: (e.timestamp, e.user_id, e.item_id))
    if shuffle:  # late events: batches not in time order
        events = events[::-1]
    bounds = sorted({int(c * len(events)) for c in cuts})
    batches = [events[a:b] for a, b in zip([0, *bounds], [*bounds, len(events)]) if b > a]
    tmp = tmp_path_factory.mktemp("batches")
    full, _ = _run(tmp, "full", [synth.events], synth.items)
    split, _ = _run(tmp, "split", batches, synth.items)
    assert split == full


def test_ingest_then_refresh_equals_a_full_run(tmp_path, synth):
    events = sorted(synth.events, key=lambda e: e.timestamp)
    cut = int(len(events) * 0.6)
    full, _ = _run(tmp_path, "full", [events], synth.items)
    online_then_refresh, _ = _run(tmp_path, "online", [events[:cut], events[cut:]], synth.items, mode="online")
    assert online_then_refresh == full


def test_online_icpc_joins_nearest_journey_and_promotes_candidates(tmp_path, data_dir):
    from journeys.ingest import load_events

    data = load_events(data_dir / "events.csv", data_dir / "items.csv")
    early = [e for e in data.events if e.item_id not in ("u5", "h5", "x1")]
    late = [e for e in data.events if e.item_id in ("u5", "h5", "x1")]
    with SQLiteStore(tmp_path / "j.db") as store:
        core.discover(_data(early, data.items), SETTINGS, store)
        uke = next(j for j in store.journeys("alice") if "u1" in j.item_ids)
        res = online.add_events(store, late, SETTINGS)
        assert res.added == len(late) and res.rejected == []
        uke2 = next(j for j in store.journeys("alice") if j.journey_id == uke.journey_id)
        assert "u5" in uke2.item_ids and uke2.n_events == uke.n_events + 1  # joined, same id
        assert uke2.last_seen > uke.last_seen
        assert uke.journey_id in res.affected
        assert "x1" in store.unassigned("alice")  # the one-off pizza item stays a candidate
        again = online.add_events(store, late, SETTINGS)
        assert again.added == 0 and again.duplicates == len(late) and again.affected == []
        bad = online.add_events(store, [dataclasses.replace(late[0], item_id="nope")], SETTINGS)
        assert bad.rejected == [{"index": 0, "reason": "unknown item 'nope'"}]


def test_identity_survives_growth_and_late_events(tmp_path, synth):
    events = sorted(synth.events, key=lambda e: e.timestamp)
    with SQLiteStore(tmp_path / "j.db") as store:
        core.discover(_data(events[len(events) // 3:], synth.items), SETTINGS, store)  # later events first
        ids = {j.journey_id: (j.user_id, set(j.item_ids)) for j in store.journeys()}
        core.discover(_data(events[: len(events) // 3], synth.items), SETTINGS, store)  # late, earlier events
        kept = 0
        for j in store.journeys():
            old = [jid for jid, (u, items) in ids.items()
                   if u == j.user_id and len(items & set(j.item_ids)) * 2 > len(items)]
            if old:  # a journey that continues an old one keeps (the oldest) id
                assert j.journey_id in old
                kept += 1
        assert kept >= len(ids) // 2


def test_edits_survive_discover_ingest_and_refresh(tmp_path, synth):
    user = synth.users[0]
    with SQLiteStore(tmp_path / "j.db") as store:
        core.discover(_data(synth.events, synth.items), SETTINGS, store)
        js = store.journeys(user)
        assert len(js) >= 2
        a, b = js[0], js[1]
        edits.rename(store, a.journey_id, "My own name")
        edits.set_hidden(store, b.journey_id, True)
        edits.set_pinned(store, b.journey_id, True)
        for step in range(3):
            if step == 0:
                core.discover(_data(synth.events, synth.items), Settings(embed={"model": "hashing"}, seed=0), store)
            elif step == 1:
                online.add_events(store, synth.events[:5], SETTINGS)
            else:
                core.refresh(store, SETTINGS)
            now = {j.journey_id: j for j in store.journeys(user)}
            assert now[a.journey_id].name == "My own name" and now[a.journey_id].name_source == "user"
            assert now[b.journey_id].hidden and now[b.journey_id].pinned
            assert store.journeys(user)[0].journey_id == b.journey_id  # pinned first


def test_merge_and_split_stay_made_with_lineage(tmp_path, synth):
    user = synth.users[1]
    with SQLiteStore(tmp_path / "j.db") as store:
        core.discover(_data(synth.events, synth.items), SETTINGS, store)
        a, b = store.journeys(user)[:2]
        merged = edits.merge(store, a.journey_id, b.journey_id, SETTINGS)
        assert set(merged.item_ids) == set(a.item_ids) | set(b.item_ids)
        child = edits.split(store, a.journey_id, list(b.item_ids[:2]), SETTINGS)
        assert child.parent_id == a.journey_id and set(child.item_ids) == set(b.item_ids[:2])
        core.refresh(store, SETTINGS)
        now = {j.journey_id: j for j in store.journeys(user)}
        assert b.journey_id not in now
        assert set(now[a.journey_id].item_ids) == (set(a.item_ids) | set(b.item_ids)) - set(b.item_ids[:2])
        assert set(now[child.journey_id].item_ids) == set(b.item_ids[:2])
        hist = edits.history(store, b.journey_id)
        assert hist["status"] == "merged" and hist["merged_into"] == a.journey_id
        events = [e["event"] for e in edits.history(store, child.journey_id)["events"]]
        assert "split_from" in events
        with pytest.raises(NotFound, match=b.journey_id):
            edits.rename(store, b.journey_id, "x")
        with pytest.raises(NotFound, match="j_nosuch"):
            edits.set_hidden(store, "j_nosuch")
        with pytest.raises(ConfigError, match="not in journey"):
            edits.split(store, a.journey_id, ["zzz"], SETTINGS)


def test_global_model_is_an_npz_artifact_not_relearned_by_ingest(tmp_path, synth):
    import io

    import numpy as np

    with SQLiteStore(tmp_path / "j.db") as store:
        core.discover(_data(synth.events[:-5], synth.items), SETTINGS, store)
        pointer = store.get_artifact("model:current")
        blob = store.get_artifact(pointer.decode())
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:  # arrays, never pickle
            assert {"cooc_item_ids", "cooc_vectors", "cooc_users"} <= set(z.files)
        online.add_events(store, synth.events[-5:], SETTINGS)
        assert store.get_artifact("model:current") == pointer  # ingest applies, does not refit
        core.refresh(store, SETTINGS)
        assert store.get_artifact("model:current") != pointer  # refresh relearns on everything
