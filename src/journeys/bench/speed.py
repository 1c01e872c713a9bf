"""`journeys bench speed`: cold and warm discover end to end (separate processes, so peak memory
is the whole job's), per-stage throughput, one-event incremental latency, and the per-user
clustering rate of ICPC against the hierarchical reference, measured in the same run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


CPU_S: dict[str, float] = {}  # CPU seconds (user + system) of the last child run per command


def _timed_child(args: list[str]) -> tuple[float, float]:
    """Run the CLI in a child process; return (wall seconds, peak RSS in MiB). Its CPU seconds go
    to CPU_S[args[0]]: on a busy machine they grow far less than wall seconds do."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "journeys.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    CPU_S[args[0]] = usage.ru_utime + usage.ru_stime
    stderr = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"journeys {' '.join(args)} failed: {stderr.strip()}")
    return wall, usage.ru_maxrss / 1024.0  # Linux reports KiB


from journeys.types import Event


def run(dataset: str = "movielens-small", workdir: str | None = None, reps: int = 20) -> dict:
    from journeys.config import load_settings
    from journeys.ingest import DATASETS
    from journeys.pipeline import Pipeline
    from journeys.store.sqlite import SQLiteStore

    tmp = Path(workdir or tempfile.mkdtemp(prefix="journeys-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / "bench.db"
    for leftover in tmp.glob("bench.*"):
        leftover.unlink()
    args = ["discover", "--dataset", dataset, "--db", str(db), "-q"]
    load_before = os.getloadavg()[0]
    cold_s, cold_mib = _timed_child(args)
    cold_cpu = CPU_S["discover"]
    warm_s, warm_mib = _timed_child(args)
    warm_cpu = CPU_S["discover"]
    load_after = os.getloadavg()[0]
    with SQLiteStore(db) as store:
        runs = store.runs()
        cold, warm = runs[0]["stats"], runs[1]["stats"]
        data = DATASETS[dataset]()
        settings = load_settings()
        by_user: dict[str, list] = {}
        for e in data.events:
            by_user.setdefault(e.user_id, []).append(e)
        rates = {}
        for method in ("icpc", "hierarchical"):
            settings.extract.method = method
            pipe = Pipeline(settings, store).prepare(data.items, data.events)
            t = time.perf_counter()
            for user, evs in by_user.items():
                pipe.run_user(user, evs)
            rates[method] = len(by_user) / (time.perf_counter() - t)
        online = online_latency(store, load_settings(), data, reps=reps)
    batch = batch_ingest(db, tmp, dataset)
    sec = cold["seconds"]
    ing = cold["ingest"]
    return {
        "dataset": dataset,
        "cores": os.cpu_count(),
        "events": ing["events"],
        "users": cold["users"],
        "items_embedded": cold["items_embedded"],
        "cold_s": round(cold_s, 2),
        "warm_s": round(warm_s, 2),
        "cold_cpu_s": round(cold_cpu, 2),
        "warm_cpu_s": round(warm_cpu, 2),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "cold_stage_s": {k: v for k, v in sec.items() if not k.endswith("_cpu")},
        "cold_stage_cpu_s": {k[:-4]: v for k, v in sec.items() if k.endswith("_cpu")},
        "peak_mib_cold": round(cold_mib, 1),
        "peak_mib_warm": round(warm_mib, 1),
        "events_per_s_ingested": round(ing["rows"] / (sec["load"] + sec["store_input"]), 1),
        "items_per_s_embedded": round(cold["items_embedded"] / sec["embed_and_prepare"], 1),
        "users_per_s_clustered": round(cold["users"] / sec["extract_and_name"], 1),
        "warm_users_per_s_clustered": round(warm["users"] / warm["seconds"]["extract_and_name"], 1),
        "icpc_users_per_s": round(rates["icpc"], 1),
        "hierarchical_users_per_s": round(rates["hierarchical"], 1),
        "icpc_vs_hierarchical_speed": round(rates["icpc"] / rates["hierarchical"], 2),
        **online,
        **batch,
        "journeys": cold["journeys"],
    }


def _pct(values: list[float], q: float) -> float:
    return round(1000 * float(np.percentile(values, q)), 2)


def online_latency(store, settings, data, reps: int = 50, sizes=(50, 200, 1000)) -> dict:
    """`add_events` with one event at a time, for users with about 50, 200 and 1,000 items: the
    event is for a known catalogue item (its vector is in the store) that is new to the user, so
    ICPC's online step, the journey update and the store write all run; p50 and p99."""
    from journeys.services.online import add_events, online_pipeline

    pipe = online_pipeline(store, settings)
    seen: dict[str, set] = {}
    for e in data.events:
        if pipe.is_interest(e):
            seen.setdefault(e.user_id, set()).add(e.item_id)
    known = sorted(pipe.keywords.item_ids_)  # catalogue items in use: their vectors are in the store
    out = {}
    for target in sizes:
        user = min(seen, key=lambda u: (abs(len(seen[u]) - target), u))
        fresh = [i for i in known if i not in seen[user]][: reps + 1]
        last = max(e.timestamp for e in data.events)
        lat = []
        for k, item in enumerate(fresh):
            ev = Event(user, item, last + timedelta(minutes=k + 1), "rate", 5.0)
            t = time.perf_counter()
            add_events(store, [ev], settings)
            if k:  # the first call loads the user's items into the process
                lat.append(time.perf_counter() - t)
        out[f"online_event_{target}_items"] = {"user": user, "items": len(seen[user]),
                                               "p50_ms": _pct(lat, 50), "p99_ms": _pct(lat, 99)}
    return out


def batch_ingest(db: Path, tmp: Path, dataset: str, share: float = 0.01) -> dict:
    """A batch of the latest 1% of events: a copy of the discovered store without them is
    refreshed (a full recompute, embeddings cached), then `journeys ingest` adds them online.
    Both run as child processes, so each includes its start-up."""
    import sqlite3

    base = tmp / "batch.db"
    for leftover in tmp.glob("batch.*"):
        leftover.unlink()
    with sqlite3.connect(db) as src, sqlite3.connect(base) as dst:
        src.backup(dst)
    with sqlite3.connect(base) as conn:
        n = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        cut = conn.execute("SELECT ts FROM events ORDER BY ts LIMIT 1 OFFSET ?", (int(n * (1 - share)),)).fetchone()[0]
        rows = conn.execute("SELECT user_id, item_id, ts, kind, weight FROM events WHERE ts >= ?", (cut,)).fetchall()
        conn.execute("DELETE FROM events WHERE ts >= ?", (cut,))
    new = tmp / "batch_new.csv"
    with new.open("w") as f:
        f.write("user_id,item_id,timestamp,kind,weight\n")
        for u, i, ts, kind, w in rows:
            f.write(f"{u},{i},{ts},{kind},{w}\n")
    refresh_s, _ = _timed_child(["refresh", "--db", str(base), "-q"])
    ingest_s, ingest_mib = _timed_child(["ingest", "--events", str(new), "--db", str(base)])
    return {"batch_events": len(rows), "batch_full_recompute_s": round(refresh_s, 2),
            "batch_ingest_s": round(ingest_s, 2), "batch_ingest_peak_mib": round(ingest_mib, 1)}


def print_report(result: dict, json_out: bool = False) -> None:
    console = Console()
    table = Table(title=f"journeys bench speed: {result['dataset']} on {result['cores']} cores")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key not in ("dataset", "cores"):
            table.add_row(key, ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value))
    console.print(table)
    if json_out:
        print(json.dumps(result))
