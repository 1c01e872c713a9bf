"""Fault injection on the store through the real command line (issue 13 item 3, issue 7 item 8):
every fault is one line on stderr and exit code 1; concurrent writers and kill -9 corrupt nothing."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from journeys.store.sqlite import MIGRATIONS, SQLiteStore

TOPICS = {
    "bread": "sourdough starter loaf crumb oven flour proof knead levain bake crust",
    "astro": "telescope galaxy nebula star orbit planet comet eclipse lens mount",
    "chess": "opening gambit endgame rook bishop pawn knight castling tactic mate",
    "garden": "tomato compost seedling soil mulch prune trellis basil harvest bed",
    "bike": "derailleur chain saddle tyre gravel cadence brake spoke frame climb",
    "knit": "yarn needle stitch purl cable sweater wool pattern gauge scarf",
}


def _env(**extra: str) -> dict:
    path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)  # absolute: some runs change cwd
    return {**os.environ, "PYTHONPATH": path, "JOURNEYS_EMBED__MODEL": "hashing", "HF_HUB_OFFLINE": "1", **extra}


def _cli(*args, env=None, prefix=(), cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "journeys.cli", *map(str, args)], capture_output=True,
                          text=True, env=env or _env(), cwd=cwd, timeout=300)


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> tuple[Path, Path]:
    """A planted log big enough that discover takes a while: 30 users, 2-3 topics each."""
    root = tmp_path_factory.mktemp("log")
    rng = random.Random(7)
    items, events = ["item_id,title"], ["user_id,item_id,timestamp,kind,weight"]
    for topic, words in TOPICS.items():
        w = words.split()
        for k in range(20):
            items.append(f"{topic}{k},{' '.join(rng.sample(w, 4))} {topic}")
    for u in range(30):
        for t, topic in enumerate(rng.sample(sorted(TOPICS), 3)):
            for k in rng.sample(range(20), 8):
                events.append(f"user{u},{topic}{k},{1_700_000_000 + u * 1000 + t * 100 + k},view,1")
    (root / "items.csv").write_text("\n".join(items) + "\n")
    (root / "events.csv").write_text("\n".join(events) + "\n")
    return root / "events.csv", root / "items.csv"


def _discover_args(log, db):
    return ["discover", "--events", log[0], "--items", log[1], "--db", db, "-q"]


@pytest.fixture(scope="module")
def clean_export(log, tmp_path_factory) -> str:
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    proc = _cli(*_discover_args(log, db))
    assert proc.returncode == 0, proc.stderr
    return _cli("export", "--db", db).stdout


def _integrity(db: Path) -> str:
    c = sqlite3.connect(str(db))
    try:
        return c.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        c.close()


# -- paths that are no database --------------------------------------------------------------
def test_db_path_faults(tmp_path, log):
    regular = tmp_path / "regular"
    regular.write_text("x")
    _one_line_error(_cli("users", "--db", regular / "j.db"), "is a file, not a directory")
    _one_line_error(_cli("users", "--db", tmp_path), "is a directory")
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"not sqlite at all\n" * 100)
    _one_line_error(_cli("discover", "--events", log[0], "--items", log[1], "--db", notes), "not an SQLite database")
    assert notes.read_bytes() == b"not sqlite at all\n" * 100


def test_foreign_sqlite_is_never_touched(tmp_path, log):
    other = tmp_path / "photos.db"
    c = sqlite3.connect(str(other))
    c.execute("CREATE TABLE photos (path TEXT)")
    c.commit()
    c.close()
    before = other.read_bytes()
    _one_line_error(_cli(*_discover_args(log, other)), "not a journeys database", str(other))
    assert other.read_bytes() == before


def test_newer_schema_names_both_versions(tmp_path):
    db = tmp_path / "j.db"
    SQLiteStore(db).close()
    c = sqlite3.connect(str(db))
    c.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    c.close()
    _one_line_error(_cli("users", "--db", db), f"schema version {len(MIGRATIONS) + 1}", f"version {len(MIGRATIONS)}")


# -- locks -------------------------------------------------------------------------------------
def test_writer_blocked_past_the_busy_timeout_fails_in_one_line(tmp_path, log):
    db = tmp_path / "j.db"
    SQLiteStore(db).close()
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        proc = _cli(*_discover_args(log, db), env=_env(JOURNEYS_BUSY_TIMEOUT="0.5"))
        _one_line_error(proc, "locked by another writer", str(db))
        assert _cli("users", "--db", db, env=_env(JOURNEYS_BUSY_TIMEOUT="0.5")).returncode == 0  # reads go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _integrity(db) == "ok"


@pytest.mark.parametrize("attempt", [0, pytest.param(1, marks=pytest.mark.slow),
                                     pytest.param(2, marks=pytest.mark.slow)])
def test_two_processes_writing_one_fresh_database(tmp_path, log, clean_export, attempt):
    db = tmp_path / "fresh.db"
    procs = [subprocess.Popen([sys.executable, "-m", "journeys.cli", *map(str, _discover_args(log, db))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for _ in range(2)]
    for p in procs:
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
    assert _integrity(db) == "ok"
    assert _cli("export", "--db", db).stdout == clean_export
    with SQLiteStore(db) as s:
        assert [r["status"] for r in s.runs()] == ["finished", "finished"]


# -- kill -9 -----------------------------------------------------------------------------------
def _wait_for_run(db: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            try:
                if c.execute("SELECT count(*) FROM runs").fetchone()[0]:
                    return
            finally:
                c.close()
        except sqlite3.Error:
            pass
        time.sleep(0.01)


@pytest.mark.parametrize("delay", [0.15, pytest.param(0.0, marks=pytest.mark.slow),
                                   pytest.param(0.6, marks=pytest.mark.slow)])
def test_kill_9_during_discover_then_rerun_equals_a_clean_run(tmp_path, log, clean_export, delay):
    db = tmp_path / "j.db"
    proc = subprocess.Popen([sys.executable, "-m", "journeys.cli", *map(str, _discover_args(log, db))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    _wait_for_run(db, proc)
    time.sleep(delay)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    assert _integrity(db) == "ok"
    rerun = _cli(*_discover_args(log, db))
    assert rerun.returncode == 0, rerun.stderr
    assert _integrity(db) == "ok"
    assert _cli("export", "--db", db).stdout == clean_export
    with SQLiteStore(db) as s:
        statuses = [r["status"] for r in s.runs()]
    assert statuses == (["interrupted", "finished"] if killed else ["finished", "finished"])


# -- read-only files and directories -----------------------------------------------------------
def _unprivileged() -> list[str]:
    """Run as nobody when the tests run as root (root ignores file permissions)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot test read-only files")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.parametrize("what", ["file", "directory"])
def test_read_only_database_reads_work_writes_fail_in_one_line(log, what):
    root = Path(tempfile.mkdtemp(prefix="journeys-ro-"))
    try:
        os.chmod(root, 0o755)
        log = [Path(shutil.copy(p, root)) for p in log]  # readable by the unprivileged user
        db = root / "j.db"
        assert _cli(*_discover_args(log, db)).returncode == 0
        os.chmod(db, 0o444)
        os.chmod(root, 0o777 if what == "file" else 0o555)
        prefix = _unprivileged()
        env = _env(HOME=str(root))
        users = _cli("users", "--db", db, env=env, prefix=prefix, cwd=root)
        assert users.returncode == 0 and "user29" in users.stdout, users.stderr
        exported = _cli("export", "--db", db, env=env, prefix=prefix, cwd=root)
        assert exported.returncode == 0 and exported.stdout.count("\n") > 10, exported.stderr
        _one_line_error(_cli(*_discover_args(log, db), env=env, prefix=prefix, cwd=root), "read-only", str(db))
        os.chmod(root, 0o755)
        assert _integrity(db) == "ok"
    finally:
        os.chmod(root, 0o755)
        shutil.rmtree(root)


def test_database_cannot_be_created_in_a_read_only_directory(log):
    root = Path(tempfile.mkdtemp(prefix="journeys-ro-"))
    try:
        log = [Path(shutil.copy(p, root)) for p in log]
        os.chmod(root, 0o555)
        proc = _cli(*_discover_args(log, root / "j.db"), env=_env(HOME=str(root)), prefix=_unprivileged(), cwd=root)
        _one_line_error(proc, "read-only", str(root / "j.db"))
    finally:
        os.chmod(root, 0o755)
        shutil.rmtree(root)
