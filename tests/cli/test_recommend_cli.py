"""`journeys recommend` end to end on the tiny fixture (hashing embedder)."""

from __future__ import annotations

import json
import pytest
from typer.testing import CliRunner

from journeys.cli import app
from journeys.config import Settings
from journeys.services.edits import set_hidden
from journeys.services.recommend import recommend
from journeys.store import open_store

runner = CliRunner()
KEYS = ["user_id", "item_id", "rank", "score", "journey_id", "reason"]


@pytest.fixture
def db(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JOURNEYS_EMBED__MODEL", "hashing")
    path = tmp_path / "j.db"
    res = runner.invoke(app, ["discover", "--events", str(data_dir / "events.csv"),
                              "--items", str(data_dir / "items.csv"), "--db", str(path), "-q"])
    assert res.exit_code == 0, res.output
    return path


def test_jsonl_lines_carry_the_six_fields_and_a_journey_of_the_user(db):
    res = runner.invoke(app, ["recommend", "bob", "--k", "4", "--format", "jsonl", "--db", str(db)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    with open_store(db) as store:
        mine = {j.journey_id for j in store.journeys("bob")}
    assert len(rows) == 4 and all(list(r) == KEYS for r in rows)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert all(r["journey_id"] in mine and r["item_id"] not in {"h1", "h2", "h3"} for r in rows)


def test_all_users_writes_jsonl_for_every_user(db, tmp_path):
    out = tmp_path / "recs.jsonl"
    res = runner.invoke(app, ["recommend", "--all-users", "--k", "3", "--format", "jsonl", "--out", str(out),
                              "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["user_id"] for r in rows} == {"bob"}  # alice has seen every item
    assert len(rows) == 3


def test_bad_usage_is_one_line(db):
    res = runner.invoke(app, ["recommend", "bob", "--journey", "j_nope", "--db", str(db)])
    assert res.exit_code != 0
    res = runner.invoke(app, ["recommend", "nobody", "--db", str(db)])
    assert res.exit_code != 0


def test_service_reflects_edits_a_hidden_journey_gets_no_slots(db):
    settings = Settings(embed={"model": "hashing"})
    with open_store(db) as store:
        js = store.journeys("bob")
        assert recommend(store, "bob", settings, k=3)
        for j in js:
            set_hidden(store, j.journey_id, True, settings)
        assert recommend(store, "bob", settings, k=3) == []
