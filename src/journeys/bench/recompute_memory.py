"""`journeys bench recompute-memory`: the driver's resident memory per stored event while
`refresh` recomputes every user of a discovered store, beyond the item vectors it holds.

A cold `discover` (a child process) fills the store: items embedded, the global fit and the
keyword model kept. In this process a first `refresh` of one user loads the embedder and imports
what the per-user stage uses; the pipeline then drops its item vectors and the measured `refresh`
of everybody runs with the memory sampler (journeys/bench/memory.py). The figure is
(peak - resident set before - bytes of the item vectors) / stored events: what the events and
everything that grows with them cost the driver. Per-user work that runs in pool processes
(`batch.workers` > 1) is not in it; this process's share of it is."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer


def run(dataset: str = "movielens-small", workdir: str | None = None, db: str | None = None) -> dict:
    from journeys.bench.memory import Sampler
    from journeys.bench.speed import _timed_child
    from journeys.config import load_settings
    from journeys.pipeline import Pipeline
    from journeys.services.core import refresh
    from journeys.store.sqlite import SQLiteStore

    if db is None:
        tmp = Path(workdir or tempfile.mkdtemp(prefix="journeys-bench-"))
        tmp.mkdir(parents=True, exist_ok=True)
        path = tmp / "memory.db"
        for leftover in tmp.glob("memory.*"):
            leftover.unlink()
        _timed_child(["discover", "--dataset", dataset, "--db", str(path), "-q"])
        db = str(path)
    settings = load_settings()
    load_before = os.getloadavg()[0]
    with SQLiteStore(Path(db)) as store:
        n_events = store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        users = store.user_ids()
        pipe = Pipeline(settings, store)
        refresh(store, settings, users=users[:1], pipeline=pipe)  # loads and imports what the run uses
        pipe.embedder.embed(["a title to load the embedder"])
        pipe.items_, pipe.texts_, pipe.vectors_ = {}, {}, {}
        sampler = Sampler()
        base = sampler.reset()
        summary = refresh(store, settings, pipeline=pipe)
        peak = sampler.stop()
        vectors = sum(v.nbytes for v in pipe.vectors_.values())
    beyond = peak - base - vectors
    return {
        "dataset": dataset,
        "events": n_events,
        "users": summary.users,
        "items_with_vectors": len(pipe.vectors_),
        "workers": settings.batch.workers,
        "rss_before_mib": round(base / 2**20, 1),
        "peak_mib": round(peak / 2**20, 1),
        "item_vectors_mib": round(vectors / 2**20, 1),
        "driver_bytes_per_event": round(beyond / n_events, 1),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def memory_cmd(
    dataset: str = typer.Option("movielens-small", "--dataset", help="bundled dataset to discover"),
    db: Path = typer.Option(None, "--db", help="a discovered SQLite store to refresh instead (it is rewritten)"),
    workdir: Path = typer.Option(None, "--workdir", help="where the throwaway database goes"),
) -> None:
    """Driver bytes per event during recompute, beyond item vectors (target: <= 200)."""
    import json

    out = run(dataset, str(workdir) if workdir else None, str(db) if db else None)
    for key, value in out.items():
        typer.echo(f"{key}: {value}")
    typer.echo(json.dumps(out))


def register(bench_app: typer.Typer) -> None:
    bench_app.command("recompute-memory")(memory_cmd)
