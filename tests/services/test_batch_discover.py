"""Executors run the per-user stage; every executor and store gives the same journeys."""

from __future__ import annotations

import pytest

from journeys.config import Settings
from journeys.services import batch, core
from journeys.store import open_store
from journeys.store.sqlite import SQLiteStore
from tests.services.test_living import TINY, _data, _partition  # noqa: F401

from journeys.bench.synth import load_collections, make_users


@pytest.fixture(scope="module")
def synth():
    return make_users(load_collections(TINY), n_users=8, seed=5, k=(2, 3), items=(5, 8), noise=0.2)


def _discover(store, synth, **batch):
    settings = Settings(embed={"model": "hashing"}, batch=batch)
    summary = core.discover(_data(synth.events, synth.items), settings, store)
    return summary, _partition(store)


def _everything(store) -> tuple:
    """Every journey record in rank order (stage, score, related journeys included), the online
    state of every user, and the expansion entries kept."""
    records = [core.journey_record(j) for j in store.journeys()]
    states = {u: store.online_state(u) for u in store.user_ids()}
    expansions = store.conn.execute("SELECT key, value FROM expansions ORDER BY key").fetchall()
    return records, states, expansions


def test_a_pool_of_local_workers_gives_the_in_process_journeys(tmp_path, synth, monkeypatch):
    shipped: list[int] = []
    real = batch.run_parts
    monkeypatch.setattr(batch, "run_parts", lambda ex, fn, sh, s, work, *more: shipped.append(len(work)) or real(ex, fn, sh, s, work, *more))
    with SQLiteStore(tmp_path / "one.db") as one, SQLiteStore(tmp_path / "pool.db") as pool:
        s1, expected = _discover(one, synth, workers=1)
        s2, got = _discover(pool, synth, executor="local", workers=2, partitions=3)
        assert _everything(pool) == _everything(one)
        records, states, expansions = _everything(one)
    assert got == expected and s1.journeys == s2.journeys > 0
    assert any(r["related"] for r in records) and expansions and all(states.values())  # the check can fail
    assert shipped == [8, 8]  # only the pool's run shipped work, every user of it, to compute and expand


def test_a_pool_run_stores_every_new_vector_and_lineage_as_in_process(tmp_path, synth):
    """A pool run holds new vectors back and stores them while the workers start, and stores
    identity and online state while they expand: the store ends up as an in-process run's."""
    with SQLiteStore(tmp_path / "one.db") as one, SQLiteStore(tmp_path / "pool.db") as pool:
        _discover(one, synth, workers=1)
        _discover(pool, synth, executor="local", workers=2, partitions=3)
        tables = ("embeddings", "journey_registry", "online_state", "user_inputs")
        for table in tables:
            query = f"SELECT * FROM {table} ORDER BY 1, 2"
            assert pool.conn.execute(query).fetchall() == one.conn.execute(query).fetchall(), table
        assert pool.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] > 0
        lineage = "SELECT journey_id, user_id, event, other_id, detail FROM lineage ORDER BY 1, 3"
        assert pool.conn.execute(lineage).fetchall() == one.conn.execute(lineage).fetchall()
        again = core.discover(_data(synth.events, synth.items), Settings(embed={"model": "hashing"},
                              batch={"executor": "local", "workers": 2}), pool)
        assert again.items_embedded == 0 and again.users == 0


def test_a_pool_computes_stored_identity_and_edits_as_in_process(tmp_path, synth):
    """Workers get each user's stored journeys, registry and edits from the driver (UserPrior):
    a second run after a rename and new events gives what the in-process run gives, ids and
    names included."""
    from journeys.services import edits

    users = sorted({e.user_id for e in synth.events})
    stamps = sorted(e.timestamp for e in synth.events)
    cut = stamps[len(stamps) * 2 // 3]
    got = {}
    for name, batch in (("one", {"workers": 1}), ("pool", {"executor": "local", "workers": 2, "partitions": 3})):
        settings = Settings(embed={"model": "hashing"}, batch=batch)
        with SQLiteStore(tmp_path / f"{name}.db") as store:
            core.discover(_data([e for e in synth.events if e.timestamp < cut], synth.items), settings, store)
            first = store.journeys(users[0])[0]
            edits.rename(store, first.journey_id, "my own name", settings)
            core.discover(_data(synth.events, synth.items), settings, store)
            got[name] = _everything(store)
            renamed = [j for j in store.journeys(users[0]) if j.journey_id == first.journey_id]
            assert renamed and renamed[0].name == "my own name"
    assert got["pool"] == got["one"] and got["one"][0]


def test_changing_the_executor_recomputes_nobody(tmp_path, synth):
    """Where the work runs is not an input: a rerun with 2 workers after an in-process run finds
    every user's inputs unchanged."""
    with SQLiteStore(tmp_path / "one.db") as store:
        first, expected = _discover(store, synth, workers=1)
        again, got = _discover(store, synth, executor="local", workers=2, partitions=3)
    assert first.users > 0 and again.users == 0 and got == expected


@pytest.mark.slow
def test_postgres_with_ray_gives_the_journeys_of_sqlite_with_local(tmp_path, synth, postgres_url):
    pytest.importorskip("ray")
    with SQLiteStore(tmp_path / "one.db") as one:
        _, expected = _discover(one, synth)
    with open_store(postgres_url) as pg:
        _, got = _discover(pg, synth, executor="ray", workers=2)
    assert got == expected


def test_online_ingest_of_new_users_on_a_worker_pool_equals_in_process(tmp_path, synth, monkeypatch):
    """`journeys ingest --executor local --workers 2`: users without online state are computed
    whole on the executor and get the journeys the in-process ingest gives them."""
    from journeys.services import online

    users = sorted({e.user_id for e in synth.events})
    first = [e for e in synth.events if e.user_id in users[:4]]
    later = [e for e in synth.events if e.user_id not in users[:4]]
    shipped: list[list[str]] = []
    real = batch.partition_in_batch
    monkeypatch.setattr(batch, "partition_in_batch",
                        lambda pipe, s, us: shipped.append([u for u, _ in us]) or real(pipe, s, us))
    got = {}
    for name, b in (("one", {"workers": 1}), ("pool", {"executor": "local", "workers": 2, "partitions": 2})):
        settings = Settings(embed={"model": "hashing"}, batch=b)
        with SQLiteStore(tmp_path / f"{name}.db") as store:
            core.discover(_data(first, synth.items), Settings(embed={"model": "hashing"}, batch={"workers": 1}), store)
            online.add_events(store, later, settings, synth.items.values())
            got[name] = _partition(store)
    assert got["pool"] == got["one"] and set(got["one"]) == set(users)
    assert shipped[-1] == users[4:]  # the new users went to the pool


def test_a_loader_is_read_while_the_pool_starts(tmp_path, synth):
    """`discover` given a function that reads the input starts a local pool first (its workers
    start up while the input is read) and gives the journeys of the input passed as data."""
    import multiprocessing

    seen: list[int] = []

    def read():
        seen.append(len(multiprocessing.active_children()))
        return _data(synth.events, synth.items)

    settings = Settings(embed={"model": "hashing"}, batch={"executor": "local", "workers": 2, "partitions": 3})
    with SQLiteStore(tmp_path / "early.db") as early, SQLiteStore(tmp_path / "one.db") as one:
        s1 = core.discover(read, settings, early)
        _discover(one, synth, workers=1)
        assert _everything(early) == _everything(one)
    assert seen and seen[0] >= 1 and s1.journeys > 0 and s1.seconds["load"] >= 0
