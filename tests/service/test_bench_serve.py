"""`journeys bench serve` end to end on the tiny fixture database (a smoke test, not a timing)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("fastapi")


def test_bench_serve_runs_every_route_without_errors(served_db, monkeypatch):
    from journeys.bench.serve import print_report, run

    path, _ = served_db
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([os.path.abspath(src), os.environ.get("PYTHONPATH", "")]))
    before = path.read_bytes()
    out = run(db=path, embedder="hashing", clients=2, requests=20, seconds=10, batch=5, log=lambda m: None)
    res = out["results"]
    for route in ("get_journeys", "get_recommendations", "post_events"):
        assert res[route]["errors"] == 0 and res[route]["requests"] > 0, res[route]
        assert res[route]["p50_ms"] <= res[route]["p99_ms"]
    assert res["post_events"]["events"] == 5 * res["post_events"]["requests"]
    assert path.read_bytes() == before  # the bench works on a copy
    lines = []
    print_report(out, log=lines.append)
    assert any("get_journeys" in line for line in lines)
