"""`journeys bench speed`: cold and warm discover end to end (separate processes, so peak memory
is the whole job's), per-stage throughput, one-event incremental latency, and the per-user
clustering rate of ICPC against the hierarchical reference, measured in the same run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _timed_child(args: list[str]) -> tuple[float, float]:
    """Run the CLI in a child process; return (wall seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "journeys.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"journeys {' '.join(args)} failed: {stderr.strip()}")
    return wall, usage.ru_maxrss / 1024.0  # Linux reports KiB


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
    cold_s, cold_mib = _timed_child(args)
    warm_s, warm_mib = _timed_child(args)
    with SQLiteStore(db) as store:
        runs = store.runs()
        cold, warm = runs[0]["stats"], runs[1]["stats"]
        data = DATASETS[dataset]()
        settings = load_settings()
        by_user: dict[str, list] = {}
        for e in data.events:
            by_user.setdefault(e.user_id, []).append(e)
        rates, pipes = {}, {}
        for method in ("icpc", "hierarchical"):
            settings.extract.method = method
            pipes[method] = pipe = Pipeline(settings, store).prepare(data.items, data.events)
            t = time.perf_counter()
            for user, evs in by_user.items():
                pipe.run_user(user, evs)
            rates[method] = len(by_user) / (time.perf_counter() - t)
        # one new event for a busy user: re-run that user and store the result (daily incremental)
        pipe = pipes["icpc"]
        user = max(by_user, key=lambda u: len(by_user[u]))
        last = max(by_user[user], key=lambda e: e.timestamp)
        lat = []
        for k in range(reps):
            new = replace(last, timestamp=last.timestamp + timedelta(minutes=k + 1), weight=5.0)
            t = time.perf_counter()
            store.add_events([new])
            res = pipe.run_user(user, by_user[user] + [new])
            store.replace_journeys(user, res.journeys, res.unassigned)
            lat.append(time.perf_counter() - t)
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
        "peak_mib_cold": round(cold_mib, 1),
        "peak_mib_warm": round(warm_mib, 1),
        "events_per_s_ingested": round(ing["rows"] / (sec["load"] + sec["store_input"]), 1),
        "items_per_s_embedded": round(cold["items_embedded"] / sec["embed_and_prepare"], 1),
        "users_per_s_clustered": round(cold["users"] / sec["extract_and_name"], 1),
        "warm_users_per_s_clustered": round(warm["users"] / warm["seconds"]["extract_and_name"], 1),
        "icpc_users_per_s": round(rates["icpc"], 1),
        "hierarchical_users_per_s": round(rates["hierarchical"], 1),
        "icpc_vs_hierarchical_speed": round(rates["icpc"] / rates["hierarchical"], 2),
        "incremental_one_event_ms_median": round(1000 * statistics.median(lat), 1),
        "journeys": cold["journeys"],
    }


def print_report(result: dict, json_out: bool = False) -> None:
    console = Console()
    table = Table(title=f"journeys bench speed: {result['dataset']} on {result['cores']} cores")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key not in ("dataset", "cores"):
            table.add_row(key, str(value))
    console.print(table)
    if json_out:
        print(json.dumps(result))
