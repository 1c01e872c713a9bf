from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from journeys.cli import app

runner = CliRunner()


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("JOURNEYS_EMBED__MODEL", "hashing")  # fast; the real model has its own tests


@pytest.fixture
def db(tmp_path, data_dir, env):
    path = tmp_path / "j.db"
    res = runner.invoke(app, ["discover", "--events", str(data_dir / "events.csv"),
                              "--items", str(data_dir / "items.csv"), "--db", str(path), "-q"])
    assert res.exit_code == 0, res.output
    return path


def test_discover_reports_counts_and_quarantine(db):
    q = db.with_suffix(".quarantine.jsonl")
    rows = [json.loads(line) for line in q.read_text().splitlines()]
    assert [r["line"] for r in rows] == [17, 18, 19, 20]
    assert all(r["file"].endswith("events.csv") and r["reason"] for r in rows)


def test_users_show_export(db, tmp_path):
    res = runner.invoke(app, ["users", "--db", str(db)])
    assert res.exit_code == 0 and "alice" in res.output and "bob" in res.output
    res = runner.invoke(app, ["show", "alice", "--db", str(db)])
    assert res.exit_code == 0 and "user alice" in res.output
    res = runner.invoke(app, ["export", "--db", str(db)])
    records = [json.loads(line) for line in res.output.splitlines()]
    assert records and {"journey_id", "user_id", "name", "keywords", "item_ids", "first_seen", "last_seen"} <= set(records[0])
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"j.{fmt}"
        res = runner.invoke(app, ["export", "--db", str(db), "--format", fmt, "--out", str(out)])
        assert res.exit_code == 0, res.output
        df = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
        assert len(df) == len(records) and list(df["journey_id"]) == [r["journey_id"] for r in records]


def test_rerun_changes_nothing(db, data_dir):
    before = runner.invoke(app, ["export", "--db", str(db)]).output
    res = runner.invoke(app, ["discover", "--events", str(data_dir / "events.csv"),
                              "--items", str(data_dir / "items.csv"), "--db", str(db)])
    assert "0 users changed" in res.output.replace("\n", " ")
    assert runner.invoke(app, ["export", "--db", str(db)]).output == before


def _cli(*args, cwd=None):
    env = {**os.environ, "JOURNEYS_EMBED__MODEL": "hashing"}
    return subprocess.run([sys.executable, "-m", "journeys.cli", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_errors_are_one_line_and_non_zero(tmp_path, data_dir):
    bad = tmp_path / "e.csv"
    bad.write_text("who,item_id,timestamp\na,b,1\n")
    cases = [
        (["discover", "--events", str(bad), "--db", str(tmp_path / "x.db")], "missing required column 'user_id'"),
        (["discover", "--events", str(data_dir / "events.csv"), "--items", str(data_dir / "items.csv"),
          "--strict", "--db", str(tmp_path / "x.db")], "events.csv:17: empty user_id"),
        (["discover", "--dataset", "nope", "--db", str(tmp_path / "x.db")], "unknown dataset 'nope'"),
        (["discover", "--db", str(tmp_path / "x.db")], "exactly one of --events"),
        (["show", "nobody", "--db", str(tmp_path / "x.db")], "no user 'nobody'"),
        (["export", "--format", "xml", "--db", str(tmp_path / "x.db")], "unknown export format"),
    ]
    for args, message in cases:
        proc = _cli(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


def test_default_db_is_in_the_working_directory(tmp_path, data_dir):
    proc = _cli("discover", "--events", str(data_dir / "events.csv"), "--items", str(data_dir / "items.csv"), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "journeys.db").exists()


def test_input_already_stored_is_not_read_again(tmp_path, data_dir, env, monkeypatch):
    """The second discover of the same files finds their fingerprint in the store: it reads
    nothing (the loader is not called), reports the first load's counts and changes nothing.
    A forgotten user makes the next discover read the input again."""
    import journeys.ingest.validate as validate

    db = tmp_path / "s.db"
    args = ["discover", "--events", str(data_dir / "events.csv"), "--items", str(data_dir / "items.csv"),
            "--db", str(db)]
    calls = []
    real = validate.load_events
    monkeypatch.setattr(validate, "load_events", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = " ".join(runner.invoke(app, args).output.split())
    assert len(calls) == 1 and "not read again" not in first
    before = runner.invoke(app, ["export", "--db", str(db)]).output
    res = runner.invoke(app, args)
    out = " ".join(res.output.split())
    assert res.exit_code == 0 and len(calls) == 1
    assert "(input already stored, not read again)" in out and "0 users changed" in out
    counts = first.split("discover run 1: ", 1)[1].split(" events", 1)[0]
    assert out.split("discover run 2: ", 1)[1].startswith(f"{counts} events (input already stored")
    assert "1 duplicates removed, 4 rows quarantined" in out  # the first load's counts
    assert runner.invoke(app, ["export", "--db", str(db)]).output == before
    res = runner.invoke(app, ["forget", "--user", "alice", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "alice" not in runner.invoke(app, ["users", "--db", str(db)]).output
    runner.invoke(app, args)
    assert len(calls) == 2  # forgetting dropped the fingerprint: the input is read, alice is back
    assert "alice" in runner.invoke(app, ["users", "--db", str(db)]).output


def test_a_large_bad_input_leaves_no_store(tmp_path, data_dir, env, monkeypatch):
    """An input of EARLY_POOL_BYTES or more is read once the store (and the pool) are open; a bad
    row in strict mode still leaves no store behind."""
    import journeys.services.inputs as inputs

    monkeypatch.setattr(inputs, "EARLY_POOL_BYTES", 1)  # every file counts as large
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,timestamp,title\nalice,i1,1700000000,Bread\nbob,i2,not-a-time,Cake\n")
    db = tmp_path / "big.db"
    res = runner.invoke(app, ["discover", "--events", str(bad), "--db", str(db), "--strict", "-q"])
    assert res.exit_code != 0 and "bad.csv:3: unparseable timestamp" in str(res.exception)
    assert not db.exists() and not list(tmp_path.glob("big.db*"))
