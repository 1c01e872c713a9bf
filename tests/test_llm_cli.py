"""`journeys name` / `journeys judge` / `journeys bench naming|judge` (llm_cli), end to end."""

import json
from datetime import datetime, timezone

import pytest
import typer
from typer.testing import CliRunner

from journeys import llm_cli
from journeys.types import Item, Journey

NOW = datetime(2024, 5, 1, tzinfo=timezone.utc)


def _app():
    app, bench = typer.Typer(), typer.Typer()
    llm_cli.register(app)
    llm_cli.register_bench(bench)
    app.add_typer(bench, name="bench")
    return app


@pytest.fixture
def db(tmp_path):
    from journeys.store import open_store

    path = tmp_path / "j.db"
    items = [Item("a", "Feeding a sourdough starter"), Item("b", "Overnight country loaf"),
             Item("c", "Scoring bread dough"), Item("d", "Stellarium planetarium"),
             Item("e", "KStars desktop planetarium"), Item("f", "Celestia space simulator")]
    with open_store(path) as store:
        store.upsert_items(items)
        store.replace_journeys("u1", [
            Journey("j1", "u1", "Bread", "keywords", ("sourdough", "bread"), ("a", "b", "c"), 3, NOW, NOW,
                    evidence=("b", "a")),
            Journey("j2", "u1", "Planetarium", "keywords", ("planetarium",), ("d", "e", "f"), 3, NOW, NOW),
        ], [])
    return path


def test_name_command_with_keywords(db):
    res = CliRunner().invoke(_app(), ["name", "--db", str(db), "--namer", "keywords", "-q"])
    assert res.exit_code == 0, res.output
    from journeys.store import open_store

    with open_store(db) as store:
        assert [j.name_source for j in store.journeys("u1")] == ["keywords", "keywords"]


@pytest.mark.slow
def test_name_and_judge_commands_with_the_local_model(db):
    res = CliRunner().invoke(_app(), ["name", "--db", str(db), "--users", "u1", "--threads", "2", "-q"])
    assert res.exit_code == 0, res.output
    from journeys.store import open_store

    with open_store(db) as store:
        named = store.journeys("u1")
    assert all(j.name_source in {"llm", "llm-sample", "llm-retry", "keywords-fallback"} for j in named)
    assert len({j.name.lower() for j in named}) == 2
    res = CliRunner().invoke(_app(), ["judge", "--db", str(db), "--json", "--limit", "1"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout.strip().splitlines()[-1])
    assert 1 <= row["rating"] <= 5 and row["reason"]


def test_bench_naming_command_json_last_line(data_dir):
    res = CliRunner().invoke(_app(), ["bench", "naming", "--collections", str(data_dir / "collections_tiny.json"),
                                      "--users", "4", "--namer", "keywords", "--embedder", "hashing", "--json"])
    assert res.exit_code == 0, res.output
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(last["namers"]) == {"keywords"} and "n_excluded_fewshot" in last["namers"]["keywords"]
