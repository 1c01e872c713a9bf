"""kill -9 during ingest or refresh, then run again: the result equals a clean run's and the
database passes its integrity check (issue 7 item 8)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.test_store_faults import _cli, _discover_args, _env, _integrity, clean_export, log  # noqa: F401


def _runs(db) -> int:
    import sqlite3

    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return c.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return -1


def _journeys(db) -> list:
    out = _cli("export", "--db", db).stdout
    return sorted((r["user_id"], tuple(sorted(r["item_ids"])), r["name"]) for r in map(json.loads, out.splitlines()))


def _kill_after(args, db, delay: float) -> None:
    before = _runs(db)
    proc = subprocess.Popen([sys.executable, "-m", "journeys.cli", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    deadline = time.monotonic() + 120
    while proc.poll() is None and _runs(db) <= before and time.monotonic() < deadline:
        time.sleep(0.01)  # killed once its run has started writing
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    assert _integrity(db) == "ok"


def _halves(log, tmp_path):
    lines = log[0].read_text().splitlines()
    head, rows = lines[0], sorted(lines[1:], key=lambda r: int(r.split(",")[2]))
    early, late = tmp_path / "early.csv", tmp_path / "late.csv"
    early.write_text("\n".join([head, *rows[: len(rows) // 2]]) + "\n")
    late.write_text("\n".join([head, *rows[len(rows) // 2:]]) + "\n")
    return early, late


@pytest.mark.parametrize("delay", [0.2, pytest.param(1.0, marks=pytest.mark.slow)])
def test_kill_9_during_ingest_then_rerun_and_refresh_equals_a_clean_run(tmp_path, log, clean_export, delay):
    db = tmp_path / "j.db"
    early, late = _halves(log, tmp_path)
    assert _cli("discover", "--events", early, "--items", log[1], "--db", db, "-q").returncode == 0
    _kill_after(["ingest", "--events", late, "--items", log[1], "--db", db], db, delay)
    rerun = _cli("ingest", "--events", late, "--items", log[1], "--db", db)
    assert rerun.returncode == 0, rerun.stderr
    assert _cli("refresh", "--db", db, "-q").returncode == 0
    assert _integrity(db) == "ok"
    clean = sorted((r["user_id"], tuple(sorted(r["item_ids"])), r["name"])
                   for r in map(json.loads, clean_export.splitlines()))
    assert _journeys(db) == clean


def test_kill_9_during_refresh_then_rerun_equals_a_clean_run(tmp_path, log, clean_export):
    db = tmp_path / "j.db"
    assert _cli(*_discover_args(log, db)).returncode == 0
    _kill_after(["refresh", "--db", db, "-q"], db, 0.3)
    rerun = _cli("refresh", "--db", db, "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert _integrity(db) == "ok"
    assert _cli("export", "--db", db).stdout == clean_export
