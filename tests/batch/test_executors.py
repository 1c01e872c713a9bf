from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.batch import EXECUTORS, Executor, bucket, default_partitions, partition_users
from journeys.errors import ConfigError

USERS = [str(i) for i in range(1, 41)] + ["alice", "bob", "carol"]


def _work(shared: dict, partition: list[str]) -> list[tuple[str, int]]:
    """One partition's result; on its first attempt the partition holding 'alice' kills its worker."""
    kill_dir = shared.get("kill_dir")
    if kill_dir and "alice" in partition:
        marker = Path(kill_dir) / "killed-once"
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
    return [(u, len(u) * shared["factor"] + sum(map(ord, u))) for u in partition]


def test_buckets_are_stable_known_answers():
    assert [bucket(u, 4) for u in ("1", "2", "alice", "bob")] == [bucket(u, 4) for u in ("1", "2", "alice", "bob")]
    assert [bucket(u, 7) for u in ("1", "2", "alice", "bob")] == KNOWN_BUCKETS


KNOWN_BUCKETS = [2, 1, 2, 0]  # blake2b-64 mod 7; a change would reshuffle stored partitions


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=6), max_size=60), st.integers(1, 9))
def test_partitions_cover_every_user_once_in_user_order(users, n):
    parts = partition_users(users, n)
    assert len(parts) == n
    flat = [u for p in parts for u in p]
    assert sorted(flat) == sorted(set(users))
    assert all(bucket(u, n) == i for i, p in enumerate(parts) for u in p)
    assert partition_users(list(reversed(users)), n) == parts


def test_partition_count_and_bad_count():
    assert default_partitions(10, 2) == 1 and default_partitions(10_000, 2) == 16 and default_partitions(0, 4) == 1
    assert default_partitions(33, 2) == 2 and default_partitions(671, 2) == 16 and default_partitions(671, 1) == 8
    with pytest.raises(ValueError):
        partition_users(USERS, 0)


def test_unknown_executor_is_a_config_error():
    with pytest.raises(ConfigError, match="choose one of: local, ray"):
        EXECUTORS.create("spark")


def test_local_executor_keeps_partition_order_and_pool_agrees():
    parts = partition_users(USERS, 5)
    shared = {"factor": 3}
    with EXECUTORS.create("local") as one:
        assert isinstance(one, Executor)
        expected = one.map(_work, shared, parts)
    assert [[u for u, _ in r] for r in expected] == parts
    assert dict(x for r in expected for x in r)["alice"] == 5 * 3 + sum(map(ord, "alice"))
    with EXECUTORS.create("local", workers=2) as pool:
        assert pool.map(_work, shared, parts) == expected
        # this process took some partitions from the back; the spawned worker took the first ones
        assert 0 < pool.in_process_ < len(parts)


def _mark(folder: str) -> None:
    (Path(folder) / str(os.getpid())).write_text("")


def _meet(folder: str, partition: list[int]) -> list[int]:
    """Partition [0] (the pool's first) waits until partition [1] (this process's last) has run;
    the others take a moment, time enough for a pool to queue work ahead of its process."""
    mark = Path(folder) / "one-ran"
    if partition[0] > 1:
        time.sleep(0.05)
    if partition == [1]:
        mark.write_text("")
    elif partition == [0]:
        deadline = time.monotonic() + 10
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return partition + [os.getpid()]


def test_the_pool_holds_one_partition_per_process_and_this_process_takes_the_rest():
    """While the pool's process works on partition 0, it is handed nothing more: this process
    runs every other partition, from the back (partition 1 last), instead of waiting for
    partitions queued ahead for the pool."""
    parts = [[k] for k in range(10)]
    with tempfile.TemporaryDirectory() as folder, EXECUTORS.create("local", workers=2) as pool:
        got = pool.map(_meet, folder, parts)
        assert pool.in_process_ == 9
    assert [g[0] for g in got] == list(range(10))
    assert got[0][1] != os.getpid() and {g[1] for g in got[1:]} == {os.getpid()}


_SEEN_HERE: list = []  # what ran in this process, in order (a pool process has its own list)


def _note(shared, partition):
    _SEEN_HERE.append(partition)
    return partition


def test_meanwhile_runs_once_before_this_process_takes_partitions():
    for workers in (1, 2):
        _SEEN_HERE.clear()
        with EXECUTORS.create("local", workers=workers) as ex:
            got = ex.map(_note, None, [[k] for k in range(6)], meanwhile=lambda: _SEEN_HERE.append("meanwhile"))
        assert got == [[k] for k in range(6)]
        assert _SEEN_HERE[0] == "meanwhile" and _SEEN_HERE.count("meanwhile") == 1
        assert len(_SEEN_HERE) - 1 == ex.in_process_ == (6 if workers == 1 else ex.in_process_) > 0


def test_done_reports_every_partition_once():
    parts = partition_users(USERS, 6)
    for workers in (1, 2):
        told: list[int] = []
        with EXECUTORS.create("local", workers=workers) as ex:
            got = ex.map(_work, {"factor": 2}, parts, done=told.append)
        assert got == EXECUTORS.create("local").map(_work, {"factor": 2}, parts)
        assert sum(told) == len(parts) and all(k >= 0 for k in told)
        assert len([k for k in told if k]) >= (len(parts) if workers == 1 else 2)  # progress, not one lump


def test_a_local_pool_serves_several_maps_with_their_own_shared_objects_and_cleans_up():
    parts = partition_users(USERS, 5)
    with EXECUTORS.create("local", workers=2) as pool, tempfile.TemporaryDirectory() as marks:
        pool.warm(["journeys.batch"], [(_mark, marks)])
        three = pool.map(_work, {"factor": 3}, parts)
        warmed = [int(p.name) for p in Path(marks).iterdir()]
        assert len(warmed) == 1 and warmed[0] != os.getpid()  # the call ran once, in the pool's process
        four = pool.map(_work, {"factor": 4}, parts)
        folder = pool._dir
        assert os.path.isdir(folder) and not os.listdir(folder)  # each map's shared pickle is gone
    one = EXECUTORS.create("local")
    assert three == one.map(_work, {"factor": 3}, parts) and four == one.map(_work, {"factor": 4}, parts)
    assert three != four and not os.path.exists(folder)


def _our_processes(marker: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


@pytest.mark.slow  # starts a real Ray (~20 s here); CI runs slow tests too
def test_ray_executor_retries_a_killed_worker_and_leaves_nothing_behind():
    pytest.importorskip("ray")
    parts = partition_users(USERS, 4)
    expected = EXECUTORS.create("local").map(_work, {"factor": 3}, parts)
    temp = tempfile.mkdtemp(prefix="jray")  # short: Ray's socket paths live under it
    kill_dir = tempfile.mkdtemp(prefix="jkill")
    try:
        ex = EXECUTORS.create("ray", workers=2, max_retries=2, object_store_mb=80, temp_dir=temp)
        try:
            assert ex.workers == 2 and _our_processes(temp)  # the check below can fail
            puts = []
            real_put = ex.ray.put
            ex.ray.put = lambda obj: puts.append(obj) or real_put(obj)
            try:
                got = ex.map(_work, {"factor": 3, "kill_dir": kill_dir}, parts)
            finally:
                ex.ray.put = real_put
            assert (Path(kill_dir) / "killed-once").exists()  # a worker died mid-task ...
            assert got == expected  # ... and the retried run is identical
            assert len(puts) == 1  # the shared object went to the store once
        finally:
            ex.close()
        deadline = time.time() + 15
        while _our_processes(temp) and time.time() < deadline:
            time.sleep(0.2)
        assert _our_processes(temp) == []
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(kill_dir, ignore_errors=True)
