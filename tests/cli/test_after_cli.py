"""After naming, seen by users: discover stages, ranks and expands; show, export, rank train."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from journeys.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JOURNEYS_EMBED__MODEL", "hashing")
    path = tmp_path / "j.db"
    res = runner.invoke(app, ["discover", "--events", str(data_dir / "events.csv"), "--items",
                              str(data_dir / "items.csv"), "--db", str(path), "-q", "--now", "2024-02-06"])
    assert res.exit_code == 0, res.output
    return path


def records(db):
    return [json.loads(line) for line in runner.invoke(app, ["export", "--db", str(db)]).output.splitlines()]


def test_export_carries_rank_score_stage_and_related(db):
    recs = {(r["user_id"], r["name"]): r for r in records(db)}
    alice_h, alice_u, bob_h = recs["alice", "Hydroponic"], recs["alice", "Ukulele"], recs["bob", "Hydroponic"]
    # alice stopped on Jan 13; with now = Feb 6 both her two-week journeys ended; bob's is current
    assert (alice_h["stage_activity"], alice_h["stage_kind"], alice_h["stage"]) == ("ended", "situational", "ended, situational")
    assert bob_h["stage_activity"] == "ongoing"
    assert sorted([alice_h["rank"], alice_u["rank"]]) == [1, 2] and bob_h["rank"] == 1
    assert all(r["score_source"] == "heuristic" and r["score"] > 0 for r in recs.values())
    assert bob_h["related"] == ["Ukulele"]  # alice also grows hydroponics, and she plays the ukulele
    assert alice_h["related"] == alice_u["related"] == []  # bob has nothing else


def test_show_gives_rank_stage_related_and_says_the_scores_are_heuristic(db):
    res = runner.invoke(app, ["show", "bob", "--db", str(db)], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "ongoing" in text and "situational" in text and "Ukulele" in text
    assert "heuristic" in text and "journeys rank train" in text


def test_rank_train_then_discover_uses_the_learned_ranker(db, data_dir, tmp_path):
    from journeys.store.sqlite import SQLiteStore
    from journeys.types import Event

    t = datetime(2024, 3, 1, tzinfo=timezone.utc)
    with SQLiteStore(db) as store:  # alice comes back to the ukulele only: labels of both kinds
        store.add_events([Event("alice", f"u{k}", t + timedelta(hours=k), "view") for k in range(1, 6)] * 1
                         + [Event("alice", "u1", t + timedelta(days=1, hours=k), "like") for k in range(4)])
    res = runner.invoke(app, ["rank", "train", "--db", str(db), "--cut", "0.5"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output.strip().splitlines()[-1])
    assert report["version"] == 1 and report["journeys"] >= 2 and 0 < report["positive"] < report["journeys"]
    res = runner.invoke(app, ["discover", "--events", str(data_dir / "events.csv"), "--items",
                              str(data_dir / "items.csv"), "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    assert {r["score_source"] for r in records(db)} == {"ranker:v1"}
