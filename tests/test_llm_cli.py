"""`journeys name` / `journeys judge` / `journeys bench naming|judge` (llm_cli), end to end."""

import dataclasses
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
    assert all(j.name_source in {"llm", "llm-sample", "llm-retry", "keywords-verified", "keywords-fallback"} for j in named)
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


def test_name_command_qualifies_broad_keywords_with_the_stored_keyword_model(db, monkeypatch):
    """`journeys name` sees the catalogue through the stored keyword model: 'bread', which most
    of the catalogue carries, is qualified by the journey's own word; 'planetarium' is not."""
    from journeys.keywords import KeywordModel
    from journeys.pipeline import dump_arrays
    from journeys.store import open_store

    monkeypatch.setenv("JOURNEYS_NAME__BROAD_SHARE", "0.5")
    texts = {"a": "sourdough bread", "b": "bread loaf", "c": "bread dough", "d": "planetarium",
             "e": "planetarium stars", **{f"b{i}": f"bread rolls {i}" for i in range(10)},
             **{f"x{i}": f"telescope {i}" for i in range(5)}}  # 13 of 20 items carry 'bread'
    with open_store(db) as store:
        j1, j2 = store.journeys("u1")
        store.replace_journeys("u1", [dataclasses.replace(j1, keywords=("bread", "sourdough")), j2], [])
        store.put_artifact("keywords:test", dump_arrays(KeywordModel().fit(texts).state()))
        store.put_artifact("keywords:current", b"keywords:test")
    res = CliRunner().invoke(_app(), ["name", "--db", str(db), "--namer", "keywords", "-q"])
    assert res.exit_code == 0, res.output
    with open_store(db) as store:
        assert [j.name for j in store.journeys("u1")] == ["Sourdough Bread", "Planetarium"]
