"""`journeys bench recompute-memory`: the driver's resident memory per stored event while
`refresh` recomputes every user of a discovered store, beyond the item vectors it holds.

A cold `discover` (a child process) fills the store: items embedded, the global fit and the
keyword model kept. A copy without about half the events (those of odd seconds) is refreshed
once, so that its fit is stored too. Each store is then measured in a fresh process (no earlier
run's freed heap hides what this one allocates): it loads the embedder and imports what the
per-user stage uses, then `refresh` recomputes everybody with the memory sampler on
(journeys/bench/memory.py), read at the start of the per-user stage (`services.core._per_user`).
Figures per stored event, beyond the resident set before the run and the bytes of the item
vectors:

- `driver_bytes_per_event`: the peak until the per-user stage, while the driver reads the
  events, loads the items, embeddings and fits and digests every user's inputs;
- `held_bytes_per_event`: what is still resident when the per-user stage starts;
- `whole_run_bytes_per_event`: the peak of the whole run, the per-user stage included (its
  journeys, staging, ranking and expansion caches grow with journeys and names, not events);
- `*_marginal_bytes_per_event`: the full store's bytes beyond the halved one's, per event it has
  more: what an event costs once fixed and per-item costs are left out.

Per-user work that runs in pool processes (`batch.workers` > 1) is not in them; this process's
share of it is."""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import typer


def measure(db: str) -> dict:
    """Refresh every user of the store in this process (start it fresh) with the sampler on."""
    from journeys.bench.memory import Sampler, _rss
    from journeys.config import load_settings
    from journeys.pipeline import Pipeline
    from journeys.services import core
    from journeys.services.batch import WORKER_MODULES
    from journeys.store.sqlite import SQLiteStore

    settings = load_settings()
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
    return {"events": n_events, "users": summary.users, "items_with_vectors": len(pipe.vectors_),
            "workers": settings.batch.workers, "rss_before_mib": round(base / 2**20, 1),
            "peak_mib": round(peak / 2**20, 1), "item_vectors_mib": round(vectors / 2**20, 1),
            "beyond_vectors": {"driver": before_per_user - base - vectors, "held": held - base - vectors,
                               "whole_run": peak - base - vectors}}


def _measure_child(db: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "journeys.bench.recompute_memory", str(db)], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"measuring {db} failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _halved(db: Path) -> Path:
    """A copy of the store without the events of odd seconds (about half, every user and most
    items kept), refreshed once so that its global fit is stored as the full store's is."""
    from journeys.bench.speed import _timed_child

    half = db.with_name(db.stem + "-half.db")
    for leftover in db.parent.glob(half.name + "*"):
        leftover.unlink()
    with sqlite3.connect(db) as src, sqlite3.connect(half) as dst:
        src.backup(dst)
    with sqlite3.connect(half) as conn:
        conn.execute("DELETE FROM events WHERE CAST(ts AS INTEGER) % 2 = 1")
    _timed_child(["refresh", "--db", str(half), "-q"])
    return half


def run(dataset: str = "movielens-small", workdir: str | None = None, db: str | None = None) -> dict:
    """Both stores measured in fresh processes; per event: each store's figures, and the
    marginal bytes of the events the full store has beyond the halved one (what per-item and
    fixed costs do not reach)."""
    from journeys.bench.speed import _timed_child

    given = db
    if db is None:
        tmp = Path(workdir or tempfile.mkdtemp(prefix="journeys-bench-"))
        tmp.mkdir(parents=True, exist_ok=True)
        path = tmp / "memory.db"
        for leftover in tmp.glob("memory*"):
            leftover.unlink()
        _timed_child(["discover", "--dataset", dataset, "--db", str(path), "-q"])
        db = str(path)
    load_before = os.getloadavg()[0]
    half = _halved(Path(db))
    full_m, half_m = _measure_child(Path(db)), _measure_child(half)
    out: dict = {"dataset": dataset if given is None else f"store {given}", "events": full_m["events"],
                 "events_halved": half_m["events"], "users": full_m["users"], "workers": full_m["workers"]}
    for key in ("rss_before_mib", "peak_mib", "item_vectors_mib", "items_with_vectors"):
        out[key] = full_m[key]
    for name in ("driver", "held", "whole_run"):
        out[f"{name}_bytes_per_event"] = round(full_m["beyond_vectors"][name] / full_m["events"], 1)
    for name in ("driver", "whole_run"):
        extra = full_m["beyond_vectors"][name] - half_m["beyond_vectors"][name]
        out[f"{name}_marginal_bytes_per_event"] = round(extra / max(1, full_m["events"] - half_m["events"]), 1)
    out["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def memory_cmd(
    dataset: str = typer.Option("movielens-small", "--dataset", help="bundled dataset to discover"),
    db: Path = typer.Option(None, "--db", help="a discovered SQLite store to refresh instead (it is rewritten)"),
    workdir: Path = typer.Option(None, "--workdir", help="where the throwaway database goes"),
) -> None:
    """Driver bytes per event during recompute, beyond item vectors (target: <= 200)."""
    out = run(dataset, str(workdir) if workdir else None, str(db) if db else None)
    for key, value in out.items():
        typer.echo(f"{key}: {value}")
    typer.echo(json.dumps(out))


def register(bench_app: typer.Typer) -> None:
    bench_app.command("recompute-memory")(memory_cmd)


if __name__ == "__main__":  # one measurement in a fresh process: `python -m journeys.bench.recompute_memory DB`
    print(json.dumps(measure(sys.argv[1])))
