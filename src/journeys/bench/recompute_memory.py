"""`journeys bench recompute-memory`: the driver's resident memory per stored event while
`refresh` recomputes every user of a discovered store, beyond the item vectors it holds.

A cold `discover` (a child process) fills the store: items embedded, the global fit and the
keyword model kept. This process (run it fresh: `journeys bench recompute-memory`, so that no
earlier run's freed heap hides what this one allocates) loads the embedder and imports what the
per-user stage uses; then the measured `refresh` of everybody runs with the memory sampler (journeys/bench/memory.py), read at the start of the
per-user stage (`services.core._per_user`). Figures, per stored event, beyond the resident set
before the run and the bytes of the item vectors:

- `driver_bytes_per_event`: the peak until the per-user stage, while the driver reads the
  events, embeds (from the cache), fits (from the store) and digests every user's inputs;
- `held_bytes_per_event`: what is still resident when the per-user stage starts (the events as
  the driver keeps them through that stage);
- `whole_run_bytes_per_event`: the peak of the whole run, the per-user stage included (its
  journeys, staging, ranking and expansion caches grow with journeys and names, not events).

Per-user work that runs in pool processes (`batch.workers` > 1) is not in them; this process's
share of it is."""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path

import typer


def run(dataset: str = "movielens-small", workdir: str | None = None, db: str | None = None) -> dict:
    from journeys.bench.memory import Sampler, _rss
    from journeys.bench.speed import _timed_child
    from journeys.config import load_settings
    from journeys.pipeline import Pipeline
    from journeys.services import core
    from journeys.services.batch import WORKER_MODULES
    from journeys.store.sqlite import SQLiteStore

    given = db
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
        pipe = Pipeline(settings, store)
        pipe.embedder.embed(["a title to load the embedder"])
        for module in (*WORKER_MODULES, "journeys.services.online", "journeys.peers"):
            importlib.import_module(module)
        sampler = Sampler()
        at_per_user: list[int] = []
        per_user = core._per_user

        def timed_per_user(*args, **kwargs):
            at_per_user.extend([max(sampler.peak, _rss()), _rss()])
            return per_user(*args, **kwargs)

        core._per_user = timed_per_user
        try:
            base = sampler.reset()
            summary = core.refresh(store, settings, pipeline=pipe)
            peak = sampler.stop()
        finally:
            core._per_user = per_user
        vectors = sum(v.nbytes for v in pipe.vectors_.values())
    before_per_user, held = at_per_user

    def per_event(resident: int) -> float:
        return round((resident - base - vectors) / n_events, 1)

    return {
        "dataset": dataset if given is None else f"store {given}",
        "events": n_events,
        "users": summary.users,
        "items_with_vectors": len(pipe.vectors_),
        "workers": settings.batch.workers,
        "rss_before_mib": round(base / 2**20, 1),
        "peak_mib": round(peak / 2**20, 1),
        "item_vectors_mib": round(vectors / 2**20, 1),
        "driver_bytes_per_event": per_event(before_per_user),
        "held_bytes_per_event": per_event(held),
        "whole_run_bytes_per_event": per_event(peak),
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
