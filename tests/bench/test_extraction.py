"""The extraction benchmark end to end, on a tiny collections file and the hashing embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeys.bench import extraction, sweep
from journeys.bench.cache import EmbeddingCache
from journeys.bench.commands import bench_app, parse_range

TINY = Path(__file__).parents[1] / "data" / "collections_tiny.json"
KEYS = {"method", "recall", "purity", "ari", "nmi", "count_error", "noise_absorbed",
        "journeys_per_user", "mean_length", "share_1_3", "unassigned", "seconds"}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JOURNEYS_CACHE_DIR", str(tmp_path / "cache"))


def test_run_reports_every_metric_for_every_method():
    out = extraction.run(TINY, ["icpc", "hierarchical", "cooccurrence", "global-semantic"],
                         users=12, seed=1, embedder="hashing")
    assert out["setup"]["users"] == 12 and out["setup"]["n_collections"] == 4
    assert [r["method"] for r in out["results"]] == ["icpc", "hierarchical", "cooccurrence", "global-semantic"]
    for row in out["results"]:
        assert KEYS <= set(row)
        for key in ("recall", "purity", "ari", "nmi"):
            assert -1.0 <= row[key] <= 1.0
    again = extraction.run(TINY, ["icpc"], users=12, seed=1, embedder="hashing")
    assert {k: v for k, v in again["results"][0].items() if k != "seconds"} == {
        k: v for k, v in out["results"][0].items() if k != "seconds"}


def test_icpc_separates_the_tiny_collections():
    out = extraction.run(TINY, ["icpc"], users=20, embedder="hashing", noise=0.0)
    row = out["results"][0]
    assert row["recall"] > 0.8 and row["purity"] > 0.9


def test_embeddings_are_cached_on_disk(tmp_path):
    bench = extraction.prepare(TINY, users=5, embedder="hashing", cache=EmbeddingCache(tmp_path / "c"))
    first = extraction.pipeline_for(bench, extraction.make_clusterer(bench, "icpc"))
    first.prepare(bench.data.items, bench.data.events)
    assert first.embedded_ > 0
    bench2 = extraction.prepare(TINY, users=5, embedder="hashing", cache=EmbeddingCache(tmp_path / "c"))
    second = extraction.pipeline_for(bench2, extraction.make_clusterer(bench2, "icpc"))
    second.prepare(bench2.data.items, bench2.data.events)
    assert second.embedded_ == 0


def test_cli_table_json_and_plot(tmp_path):
    png = tmp_path / "methods.png"
    result = CliRunner().invoke(bench_app, [
        "extraction", "--collections", str(TINY), "--users", "8", "--k", "2..3", "--items", "4..6",
        "--method", "icpc,cooccurrence", "--embedder", "hashing", "--json", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "recall" in result.output and "purity" in result.output
    payload = json.loads(result.output.strip().splitlines()[-1])
    assert [r["method"] for r in payload["results"]] == ["icpc", "cooccurrence"]
    assert KEYS <= set(payload["results"][0])
    assert png.stat().st_size > 1000


def test_cli_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    result = CliRunner().invoke(bench_app, ["extraction", "--collections", str(bad), "--embedder", "hashing"])
    assert result.exit_code == 1
    assert "invalid JSON" in result.output
    result = CliRunner().invoke(bench_app, ["extraction", "--collections", str(TINY), "--method", "nope"])
    assert result.exit_code != 0


def test_parse_range():
    assert parse_range("2..5", "--k") == (2, 5)
    assert parse_range("3", "--k") == (3, 3)
    with pytest.raises(Exception):
        parse_range("5..2", "--k")


def test_sweep_picks_the_best_point(tmp_path):
    grid = sweep.Grid(thresholds=[0.2, 0.4], min_sizes=[3], merges=[None], refines=[False],
                      collaboratives=[0.0, 0.5])
    out = sweep.run(TINY, grid, users=10, embedder="hashing")
    assert len(out["results"]) == 4
    assert out["best"]["f"] == max(r["f"] for r in out["results"])
    result = CliRunner().invoke(bench_app, [
        "sweep", "--collections", str(TINY), "--users", "6", "--thresholds", "0.3,0.4",
        "--min-sizes", "3", "--merges", "none", "--refine", "false", "--collaborative", "0,0.5",
        "--embedder", "hashing", "--json", "--plot", str(tmp_path / "s.png")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["best"]["params"]["min_size"] == 3
    assert (tmp_path / "s.png").is_file()
