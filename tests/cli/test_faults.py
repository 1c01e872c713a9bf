"""Fault injection for the CLI (issue 13, the non-store faults): every fault is one line on
stderr, exit code 1, and nothing is written before options and paths are checked. User-supplied
text is printed literally and clipped for display."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest

from journeys.cli import main

HEAD = "user_id,item_id,timestamp,title\n"


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("JOURNEYS_EMBED__MODEL", "hashing")
    for k in ("JOURNEYS_DB", "JOURNEYS_INGEST__MIN_RATING"):
        monkeypatch.delenv(k, raising=False)
    import journeys.cli

    monkeypatch.setattr(journeys.cli.out, "width", 400)  # whole cells on one line, to search them


def cli(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["journeys", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_line_error(code: int, err: str, message: str) -> None:
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err


def _events(tmp_path, rows, name="e.csv"):
    p = tmp_path / name
    p.write_text(HEAD + "".join(rows), encoding="utf-8")
    return p


def _runs(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT finished FROM runs").fetchall()


BAKING = ["Sourdough starter basics", "Shaping a sourdough boule", "Sourdough hydration explained",
          "Scoring sourdough bread", "Baking sourdough in a dutch oven"]


@pytest.fixture
def marked_db(tmp_path, capsys, monkeypatch):
    """A store whose user ids, titles and thus names carry rich markup."""
    titles = [f"[/] {t}" if k == 0 else (f"[bold]{t}[/bold]" if k == 1 else t) for k, t in enumerate(BAKING)]
    rows = [f'"[red]bob",b{k},{1700000000 + k},"{t}"\n' for k, t in enumerate(titles)]
    rows += [f"[/],c{k},{1700000000 + k},\"{t}\"\n" for k, t in enumerate(BAKING)]
    db = tmp_path / "m.db"
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", _events(tmp_path, rows), "--db", db, "-q")
    assert code == 0, err
    return db


def test_markup_in_user_ids_and_titles_is_printed_as_text(marked_db, capsys, monkeypatch):
    code, out, err = cli(capsys, monkeypatch, "users", "--db", marked_db)
    assert code == 0, err
    assert "[red]bob" in out and "[/]" in out
    code, out, err = cli(capsys, monkeypatch, "show", "[red]bob", "--db", marked_db, "--evidence", "5")
    assert code == 0, err
    assert "user [red]bob" in out and "[/] Sourdough" in out and "[bold]Shaping" in out
    code, out, err = cli(capsys, monkeypatch, "show", "[/]", "--db", marked_db)
    assert code == 0, err


def test_a_huge_title_is_clipped_for_display_but_kept_whole(tmp_path, capsys, monkeypatch):
    huge = "Sourdough bread " * 20_000  # 320,000 characters
    rows = [f"a,i{k},{1700000000 + k},{t}\n" for k, t in enumerate([huge] + BAKING)]
    db = tmp_path / "h.db"
    assert cli(capsys, monkeypatch, "discover", "--events", _events(tmp_path, rows), "--db", db, "-q")[0] == 0
    code, out, err = cli(capsys, monkeypatch, "show", "a", "--db", db, "--evidence", "6")
    assert code == 0, err
    assert len(out) < 20_000 and "chars)" in out
    from journeys.store import open_store

    with open_store(db) as store:
        assert store.items(["i0"])["i0"].title == huge.strip()


@pytest.mark.parametrize("args,message", [
    (["users", "--limit", "-1"], "--limit must be 0 or more, got -1"),
    (["show", "a", "--evidence", "-2"], "--evidence must be 0 or more, got -2"),
])
def test_negative_counts_are_rejected(tmp_path, capsys, monkeypatch, args, message):
    code, _, err = cli(capsys, monkeypatch, *args, "--db", tmp_path / "x.db")
    one_line_error(code, err, message)


def test_users_limit_says_how_many_rows_are_shown(marked_db, capsys, monkeypatch):
    code, out, _ = cli(capsys, monkeypatch, "users", "--db", marked_db, "--limit", "1")
    assert code == 0 and "2 users (first 1)" in out


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_min_rating_is_rejected_before_anything_is_written(tmp_path, capsys, monkeypatch, value):
    db = tmp_path / "x.db"
    ev = _events(tmp_path, [f"a,i{k},{1700000000 + k},{t}\n" for k, t in enumerate(BAKING)])
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", ev, "--db", db, f"--min-rating={value}")
    one_line_error(code, err, "--min-rating must be a finite number")
    assert not db.exists()


@pytest.mark.parametrize("value,message", [("abc", "ingest.min_rating (JOURNEYS_INGEST__MIN_RATING"),
                                           ("nan", "must be a finite number")])
def test_invalid_environment_value_is_one_line(tmp_path, capsys, monkeypatch, value, message):
    monkeypatch.setenv("JOURNEYS_INGEST__MIN_RATING", value)
    monkeypatch.setenv("JOURNEYS_DB", str(tmp_path / "x.db"))
    code, _, err = cli(capsys, monkeypatch, "users")
    one_line_error(code, err, message)


@pytest.mark.parametrize("option", [["--method", "nosuch"], ["--namer", "nosuch"]])
def test_unknown_plugins_are_reported_before_anything_is_written(tmp_path, capsys, monkeypatch, option):
    db = tmp_path / "x.db"
    ev = _events(tmp_path, [f"a,i{k},{1700000000 + k},{t}\n" for k, t in enumerate(BAKING)])
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", ev, "--db", db, *option)
    one_line_error(code, err, "'nosuch'; choose one of")
    assert not db.exists()


@pytest.mark.parametrize("where", ["under_file", "directory"])
def test_unwritable_quarantine_is_checked_before_anything_is_written(tmp_path, capsys, monkeypatch, where):
    db = tmp_path / "x.db"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    qpath = plain / "q.jsonl" if where == "under_file" else tmp_path
    ev = _events(tmp_path, [",bad,1700000000,No user\n"] +
                 [f"a,i{k},{1700000000 + k},{t}\n" for k, t in enumerate(BAKING)])
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", ev, "--db", db, "--quarantine", qpath)
    one_line_error(code, err, "--quarantine")
    assert not db.exists()  # no events committed, no unfinished run


def test_service_checks_the_quarantine_before_starting_a_run(tmp_path):
    from journeys.config import load_settings
    from journeys.errors import ConfigError
    from journeys.ingest import load_events
    from journeys.services import discover
    from journeys.store import open_store

    ev = _events(tmp_path, [",bad,1700000000,No user\n", "a,i1,1700000001,T\n"])
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    db = tmp_path / "s.db"
    with open_store(db) as store:
        with pytest.raises(ConfigError):
            discover(load_events(ev), load_settings(), store, quarantine_path=plain / "q.jsonl")
        assert store.runs() == [] and store.events() == []


@pytest.mark.parametrize("where,message", [("missing_dir", "does not exist"), ("directory", "is a directory"),
                                           ("under_file", "is not a directory")])
def test_export_out_paths(tmp_path, capsys, monkeypatch, marked_db, where, message):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    out = {"missing_dir": tmp_path / "nope" / "j.jsonl", "directory": tmp_path,
           "under_file": plain / "j.jsonl"}[where]
    for fmt in ("jsonl", "csv"):
        code, _, err = cli(capsys, monkeypatch, "export", "--db", marked_db, "--format", fmt, "--out", out)
        one_line_error(code, err, message)


def test_encoding_option_reads_latin1(tmp_path, capsys, monkeypatch):
    p = tmp_path / "l.csv"
    p.write_bytes((HEAD + "".join(f"a,i{k},{1700000000 + k},Crème {t}\n" for k, t in enumerate(BAKING))).encode("latin-1"))
    db = tmp_path / "l.db"
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", p, "--db", db, "-q")
    one_line_error(code, err, "l.csv:2: byte 0xe8 is not valid utf-8")
    assert not db.exists()
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", p, "--db", db, "-q", "--encoding", "latin-1")
    assert code == 0, err
    code, out, _ = cli(capsys, monkeypatch, "export", "--db", db)
    assert json.loads(out.splitlines()[0])["user_id"] == "a" and _runs(db)[0][0] is not None


def test_conflicting_titles_are_counted_in_the_summary(tmp_path, capsys, monkeypatch):
    rows = [f"a,i{k},{1700000000 + k},{t}\n" for k, t in enumerate(BAKING)] + ["b,i0,1700000100,Other title\n"]
    code, _, err = cli(capsys, monkeypatch, "discover", "--events", _events(tmp_path, rows), "--db", tmp_path / "c.db")
    assert code == 0 and "1 conflicting titles (first kept)" in " ".join(err.split())
