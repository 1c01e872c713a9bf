"""The SQLite store's faults are one-line StoreErrors naming the database (issue 13 item 3)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from journeys.errors import JourneysError, StoreError
from journeys.store.sqlite import (
    MIGRATIONS,
    BadDatabasePath,
    DatabaseLocked,
    NotAJourneysDatabase,
    ReadOnlyDatabase,
    SchemaTooNew,
    SQLiteStore,
    _statements,
)
from journeys.types import Event

T = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _one_line(exc: JourneysError, *needles: str) -> None:
    text = str(exc)
    assert "\n" not in text and isinstance(exc, StoreError)
    for n in needles:
        assert n in text, text


def test_fault_errors_are_store_errors():
    for cls in (BadDatabasePath, DatabaseLocked, NotAJourneysDatabase, ReadOnlyDatabase, SchemaTooNew):
        assert issubclass(cls, StoreError) and issubclass(cls, JourneysError)
        assert cls.code != StoreError.code


def test_second_writer_waits_then_fails_in_one_line(tmp_path):
    path = tmp_path / "j.db"
    SQLiteStore(path).close()
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with SQLiteStore(path, busy_timeout=0.3) as s:
            assert s.events() == []  # readers are never blocked (WAL)
            t0 = time.perf_counter()
            with pytest.raises(DatabaseLocked) as info:
                s.add_events([Event("alice", "i1", T, "view")])
            assert time.perf_counter() - t0 >= 0.25  # it waited for the busy timeout
        _one_line(info.value, "locked by another writer", str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_second_writer_waits_for_a_short_lock(tmp_path):
    path = tmp_path / "j.db"
    SQLiteStore(path).close()
    code = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(0.5); c.execute('COMMIT')")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with SQLiteStore(path, busy_timeout=10) as s:
            assert s.add_events([Event("alice", "i1", T, "view")]) == 1
    finally:
        holder.wait(10)


def test_path_faults(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadDatabasePath) as info:
        SQLiteStore(tmp_path / "file" / "j.db")
    _one_line(info.value, "is a file, not a directory")
    with pytest.raises(BadDatabasePath) as info:
        SQLiteStore(tmp_path)
    _one_line(info.value, "directory", str(tmp_path))


def test_not_sqlite_and_foreign_sqlite_are_refused_untouched(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"these are my notes, not a database\n" * 200)
    before = junk.read_bytes()
    with pytest.raises(NotAJourneysDatabase) as info:
        SQLiteStore(junk)
    _one_line(info.value, str(junk))
    assert junk.read_bytes() == before

    other = tmp_path / "other.db"
    c = sqlite3.connect(str(other))
    c.execute("CREATE TABLE contacts (name TEXT)")
    c.commit()
    c.close()
    with pytest.raises(NotAJourneysDatabase) as info:
        SQLiteStore(other)
    _one_line(info.value, "not a journeys database", str(other))
    c = sqlite3.connect(str(other))
    assert [r[0] for r in c.execute("SELECT name FROM sqlite_master")] == ["contacts"]  # nothing added
    assert c.execute("PRAGMA user_version").fetchone()[0] == 0
    c.close()


def test_empty_file_is_a_fresh_database(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with SQLiteStore(path) as s:
        assert s.schema_version == len(MIGRATIONS)


def test_newer_schema_is_refused_naming_both_versions(tmp_path):
    path = tmp_path / "j.db"
    SQLiteStore(path).close()
    c = sqlite3.connect(str(path))
    c.execute(f"PRAGMA user_version={len(MIGRATIONS) + 5}")
    c.close()
    with pytest.raises(SchemaTooNew) as info:
        SQLiteStore(path)
    _one_line(info.value, str(len(MIGRATIONS) + 5), f"version {len(MIGRATIONS)}", str(path))


def test_old_database_is_migrated_and_marked(tmp_path):
    """A database made before the application id existed (only user_version) still opens."""
    path = tmp_path / "j.db"
    c = sqlite3.connect(str(path))
    c.executescript("BEGIN;" + MIGRATIONS[0] + "; PRAGMA user_version=1; COMMIT;")
    c.execute("INSERT INTO runs (started, params) VALUES ('2024', '{}')")  # a run killed long ago
    c.commit()
    c.close()
    with SQLiteStore(path) as s:
        assert s.schema_version == len(MIGRATIONS)
        assert [r["status"] for r in s.runs()] == ["interrupted"]


def test_migration_statements_split_whole():
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n"
    assert _statements(script) == ["CREATE TABLE a (x TEXT DEFAULT ';');",
                                   "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;"]
    for m in MIGRATIONS:
        assert all(sqlite3.complete_statement(s) for s in _statements(m))


def test_killed_run_is_marked_interrupted_on_the_next_start(tmp_path):
    path = tmp_path / "j.db"
    code = ("import sys, os; from journeys.store.sqlite import SQLiteStore; "
            "s = SQLiteStore(sys.argv[1]); s.start_run({'x': 1}); os._exit(0)")  # never finishes
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env)
    with SQLiteStore(path) as s:
        assert [r["status"] for r in s.runs()] == ["interrupted"]  # its process is gone
        rid = s.start_run({"x": 2})
        assert [r["status"] for r in s.runs()] == ["interrupted", "running"]
        row = s.conn.execute("SELECT status FROM runs WHERE run_id = 1").fetchone()
        assert row[0] == "interrupted"  # recorded, not just reported
        s.finish_run(rid, {"ok": True})
        assert [r["status"] for r in s.runs()] == ["interrupted", "finished"]


def test_processes_opening_one_fresh_database_at_once_migrate_it_once(tmp_path):
    """Issue 13: a fresh database written by two processes at once failed ('table items already
    exists', 'database is locked') about 3 times in 12. Here 4 processes start together, 3 times."""
    code = ("import sys, time; from datetime import datetime, timezone; "
            "from journeys.store.sqlite import SQLiteStore; from journeys.types import Event; "
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); s = SQLiteStore(sys.argv[1]); "
            "s.add_events([Event(sys.argv[3], 'i', datetime(2024, 1, 1, tzinfo=timezone.utc), 'view')]); "
            "s.finish_run(s.start_run({}), {}); s.close()")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p)}
    for attempt in range(3):
        path = tmp_path / f"fresh{attempt}.db"
        start = time.time() + 1.5  # after every interpreter has started
        procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(start), f"user{k}"],
                                  stderr=subprocess.PIPE, text=True, env=env) for k in range(4)]
        for p in procs:
            assert p.wait(120) == 0, p.stderr.read()
        with SQLiteStore(path) as s:
            assert s.schema_version == len(MIGRATIONS)
            assert sorted(u["user_id"] for u in s.users()) == [f"user{k}" for k in range(4)]
            assert [r["status"] for r in s.runs()] == ["finished"] * 4
            assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
