"""Forget (issue 7 item 5): afterwards the database files hold no byte of the forgotten id."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeys.cli import app
from journeys.errors import NotFound
from journeys.services.forget import forget_item, forget_user, unshared_hashes
from journeys.store.sqlite import SQLiteStore

runner = CliRunner()
GONE_USER = "zx-forget-me-7f3a9c"  # distinctive: these bytes occur nowhere else
GONE_ITEM = "itm-9d2e5b-forgotten"
TOPICS = {"uke": ["ukulele chords", "ukulele strumming", "tune a ukulele", "ukulele songs", "ukulele fingerpicking"],
          "hydro": ["hydroponic lettuce", "hydroponic nutrients", "grow lights", "hydroponic tower", "deep water culture"]}


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("JOURNEYS_EMBED__MODEL", "hashing")


@pytest.fixture
def db(tmp_path, env) -> Path:
    items = ["item_id,title"] + [f"{t}{k},{title}" for t, titles in TOPICS.items() for k, title in enumerate(titles)]
    items.append(f"{GONE_ITEM},ukulele tabs for beginners")
    events = ["user_id,item_id,timestamp,kind,weight"]
    for u, user in enumerate([GONE_USER, "keeper", "third"]):
        for t, topic in enumerate(TOPICS):
            for k in range(5):
                events.append(f"{user},{topic}{k},{1_700_000_000 + u * 10_000 + t * 1_000 + k * 10},view,1")
    events.append(f"{GONE_USER},{GONE_ITEM},1700000045,view,1")
    events.append(f"keeper,{GONE_ITEM},1700010045,save,1")
    (tmp_path / "items.csv").write_text("\n".join(items) + "\n")
    (tmp_path / "events.csv").write_text("\n".join(events) + "\n")
    path = tmp_path / "j.db"
    res = runner.invoke(app, ["discover", "--events", str(tmp_path / "events.csv"), "--items",
                              str(tmp_path / "items.csv"), "--db", str(path), "-q"])
    assert res.exit_code == 0, res.output
    return path


def _raw(path: Path) -> bytes:
    """Every byte of the database files (db, -wal, -shm)."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def _export(db: Path) -> list[dict]:
    res = runner.invoke(app, ["export", "--db", str(db)])
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.output.splitlines()]


def test_forget_user_leaves_no_byte_of_the_id(db):
    with SQLiteStore(db) as s:
        jid = s.journeys(GONE_USER)[0].journey_id
    res = runner.invoke(app, ["rename", jid, "My strings", "--db", str(db)])  # an override and lineage
    assert res.exit_code == 0, res.output
    assert GONE_USER.encode() in _raw(db)
    others = [r for r in _export(db) if r["user_id"] != GONE_USER]

    res = runner.invoke(app, ["forget", "--user", GONE_USER, "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert GONE_USER.encode() not in _raw(db)
    assert jid.encode() not in _raw(db)
    assert _export(db) == others  # everybody else untouched
    with SQLiteStore(db) as s:
        assert s.events(GONE_USER) == [] and s.overrides(GONE_USER) == []
        assert s.conn.execute("SELECT count(*) FROM artifacts WHERE key LIKE 'fit:%' OR key LIKE 'model:%'"
                              ).fetchone()[0] == 0  # learned with the user: refit without
        last = s.runs()[-1]
        assert last["params"] == {"command": "forget", "what": "user"} and last["status"] == "finished"
        rows = last["stats"]["rows"]
        assert rows["events"] == 11 and rows["journeys"] == 2 and rows["overrides"] >= 1
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert Path(f"{db}-wal").stat().st_size == 0 if Path(f"{db}-wal").exists() else True

    res = runner.invoke(app, ["refresh", "--db", str(db)])  # the model is refit without the user
    assert res.exit_code == 0, res.output
    assert GONE_USER not in {r["user_id"] for r in _export(db)}


def test_forget_item_everywhere(db):
    with SQLiteStore(db) as s:
        assert any(GONE_ITEM in j.item_ids for j in s.journeys()) or GONE_ITEM in s.unassigned("keeper")
        hashes = unshared_hashes(s, GONE_ITEM)
        assert hashes and s.conn.execute(
            f"SELECT count(*) FROM embeddings WHERE content_hash IN ({','.join('?' * len(hashes))})", hashes
        ).fetchone()[0] == 1
        n_emb = s.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    title = b"ukulele tabs for beginners"
    assert GONE_ITEM.encode() in _raw(db) and title in _raw(db)
    res = runner.invoke(app, ["forget", "--item", GONE_ITEM, "--db", str(db)])
    assert res.exit_code == 0, res.output
    raw = _raw(db)
    assert GONE_ITEM.encode() not in raw and title not in raw
    with SQLiteStore(db) as s:
        assert GONE_ITEM not in s.items() and all(e.item_id != GONE_ITEM for e in s.events())
        assert all(GONE_ITEM not in j.item_ids and GONE_ITEM not in j.evidence for j in s.journeys())
        assert GONE_ITEM not in s.unassigned("keeper") + s.unassigned(GONE_USER)
        assert s.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == n_emb - 1
        stats = s.runs()[-1]["stats"]
        assert stats["rows"]["events"] == 2 and stats["rows"]["items"] == 1 and stats["rows"]["users_affected"] == 2
    res = runner.invoke(app, ["refresh", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert all(GONE_ITEM not in r["item_ids"] for r in _export(db))


def test_shared_text_keeps_its_embedding(db):
    with SQLiteStore(db) as s:
        s.upsert_items([type(s.items(["uke0"])["uke0"])("twin", "ukulele chords")])
        assert unshared_hashes(s, "uke0") == []  # "twin" has the same text
        assert unshared_hashes(s, "uke1") != []


def test_unknown_ids_are_not_found(db):
    with SQLiteStore(db) as s:
        with pytest.raises(NotFound, match="no user 'nobody'"):
            forget_user(s, "nobody")
        with pytest.raises(NotFound, match="no item 'nothing'"):
            forget_item(s, "nothing")
        assert [r["params"].get("command") for r in s.runs()].count("forget") == 0
    res = runner.invoke(app, ["forget", "--db", str(db)])
    assert res.exit_code != 0


def test_forget_covers_tables_added_later(tmp_path):
    """A table another feature adds (keyed by user_id or journey_id) is covered automatically."""
    with SQLiteStore(tmp_path / "j.db") as s:
        s.conn.executescript("CREATE TABLE later_per_user (user_id TEXT, note TEXT);"
                             "CREATE TABLE later_per_journey (parent_journey_id TEXT, note TEXT);")
        s.conn.execute("INSERT INTO later_per_user VALUES (?, 'x'), ('other', 'y')", (GONE_USER,))
        s.conn.execute("INSERT INTO journeys (journey_id, user_id, name, name_source, keywords, n_events, first_seen,"
                       " last_seen, centroid, rank) VALUES ('j_gone', ?, 'n', 'k', '[]', 1, 0, 0, x'', 0)", (GONE_USER,))
        s.conn.execute("INSERT INTO later_per_journey VALUES ('j_gone', 'x'), ('j_other', 'y')")
        s.conn.commit()
        counts = s.forget_user(GONE_USER)
        s.compact()
        assert counts["later_per_user"] == 1 and counts["later_per_journey"] == 1 and counts["journeys"] == 1
        assert s.conn.execute("SELECT user_id FROM later_per_user").fetchall() == [("other",)]
        assert s.conn.execute("SELECT parent_journey_id FROM later_per_journey").fetchall() == [("j_other",)]
    assert GONE_USER.encode() not in _raw(tmp_path / "j.db")
    c = sqlite3.connect(str(tmp_path / "j.db"))
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c.close()
