"""The `journeys` command line (typer). Every command calls the service functions."""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from journeys.config import load_settings
from journeys.display import clip, lines, text
from journeys.errors import ConfigError, JourneysError

app = typer.Typer(help="Find, name and serve people's interest journeys.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console()
err = Console(stderr=True)

DB = typer.Option(None, "--db", help="SQLite database file [default: ./journeys.db or JOURNEYS_DB]")


def _at_least(value: int, low: int, option: str) -> int:
    if value < low:
        raise ConfigError(f"{option} must be {low} or more, got {value}")
    return value


def apply_batch_options(settings, executor: Optional[str], workers: Optional[int], ray_address: Optional[str]) -> None:
    """--executor, --workers and --ray-address, shared by discover, ingest and refresh."""
    from journeys.batch import EXECUTORS

    if executor is not None:
        if executor not in EXECUTORS:
            raise ConfigError(f"unknown executor '{executor}'; choose one of: {', '.join(EXECUTORS.names())}")
        settings.batch.executor = executor
    if workers is not None:
        settings.batch.workers = workers
    if ray_address is not None:
        settings.batch.ray_address = ray_address


def _store(db: Optional[Path]):
    from journeys.store import open_store

    return open_store(db or load_settings().db)


@app.command()
def discover(
    events: Optional[Path] = typer.Option(None, "--events", help="events file (.csv, .tsv, .jsonl, .parquet)"),
    items: Optional[Path] = typer.Option(None, "--items", help="items file; else items are inline (a title column)"),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="a bundled dataset: movielens-small"),
    db: Optional[Path] = DB,
    map_: Optional[list[str]] = typer.Option(None, "--map", help="FIELD=COLUMN, e.g. --map user_id=uid (repeatable)"),
    strict: bool = typer.Option(False, "--strict", help="stop at the first bad row (file:line: reason)"),
    method: Optional[str] = typer.Option(None, "--method", help="clusterer: icpc (default), hierarchical, ..."),
    namer: Optional[str] = typer.Option(None, "--namer", help="namer: keywords (default), llm"),
    min_rating: Optional[float] = typer.Option(None, "--min-rating", help="ratings below this are not interest [3.5]"),
    quarantine: Optional[Path] = typer.Option(None, "--quarantine", help="bad rows go here [DB.quarantine.jsonl]"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
    now: Optional[datetime] = typer.Option(None, "--now", help="judge stages at this UTC time [latest event in the store]"),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="text encoding of the input files [utf-8], e.g. latin-1"),
    executor: Optional[str] = typer.Option(None, "--executor", help="where per-user work runs: local (default) or ray"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="worker processes (local) or CPUs (ray) [every core]"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="join this Ray cluster instead of starting one"),
) -> None:
    """Ingest activity logs, find every user's journeys and store them."""
    from journeys.ingest import DATASETS
    from journeys.progress import auto_progress
    from journeys.services.core import check_discover
    from journeys.services.inputs import InputSpec, discover_input

    settings = load_settings()
    if method:
        settings.extract.method = method
    if namer:
        settings.name.namer = namer
    if min_rating is not None:
        if not math.isfinite(min_rating):
            raise ConfigError(f"--min-rating must be a finite number, got {min_rating}")
        settings.ingest.min_rating = min_rating
    if now is not None:
        settings.after.now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    apply_batch_options(settings, executor, workers, ray_address)
    if (events is None) == (dataset is None):
        raise ConfigError("give exactly one of --events PATH or --dataset NAME")
    if dataset is not None and dataset not in DATASETS:
        raise ConfigError(f"unknown dataset '{dataset}'; choose one of: {', '.join(DATASETS)}")
    db_path = db or settings.db
    qpath = quarantine or db_path.with_suffix(".quarantine.jsonl")
    check_discover(settings, quarantine)  # options and paths, before anything is read or written
    import time

    t0 = time.perf_counter()
    spec = InputSpec(dataset, events, items, tuple(map_ or ()), strict, encoding)
    summary = discover_input(spec, settings, db_path, auto_progress(quiet), qpath, started=t0,
                             on_enrichment=None if quiet else lambda line: err.print(text(line), highlight=False))
    s = summary
    conflicts = s.ingest.get("title_conflicts", 0)
    err.print(
        text("discover", style="bold"),
        text(
            f"run {s.run_id}: {s.ingest['events']} events{' (input already stored, not read again)' if s.ingest.get('unchanged_input') else ''} "
            f"({s.ingest['duplicates']} duplicates removed, {s.ingest['quarantined'] + s.ingest['item_rows_quarantined']} rows quarantined"
            f"{' to ' + s.quarantine_file if s.quarantine_file else ''}, {s.not_interest} not interest"
            f"{f', {conflicts} conflicting titles (first kept)' if conflicts else ''}), "
            f"{s.ingest['items']} items ({s.items_embedded} embedded), {s.users} users -> {s.journeys} journeys "
            f"({s.users_changed} users changed, {s.unassigned_items} unassigned items) in {s.seconds['total']:.1f}s -> {db_path}",
            max_chars=10_000),
        highlight=False,
    )


@app.command()
def show(user: str = typer.Argument(..., help="user id"), db: Optional[Path] = DB,
         evidence: int = typer.Option(3, "--evidence", help="evidence titles per journey")) -> None:
    """A user's journeys by rank: name, stage, keywords, time span, size, evidence and related journeys."""
    from journeys.services.after import score_note
    from journeys.services.core import user_view

    _at_least(evidence, 0, "--evidence")
    with _store(db) as store:
        view = user_view(store, user, evidence)
    journeys, titles, n_unassigned = view.journeys, view.titles, view.unassigned
    # every user-supplied value is literal text (never markup) and clipped for display
    table = Table(title=text(f"user {user}: {len(journeys)} journeys, {n_unassigned} unassigned items"),
                  caption=text(score_note(journeys), max_chars=10_000), show_lines=True)
    for col in ("#", "journey", "stage", "keywords", "span", "size", "evidence", "related"):
        table.add_column(col, overflow="fold")
    badge = {"ongoing": "[green]ongoing[/green]", "ended": "[dim]ended[/dim]",
             "evergreen": "[cyan]evergreen[/cyan]", "situational": "[yellow]situational[/yellow]"}
    for rank, j in enumerate(journeys, 1):
        span = f"{j.first_seen:%Y-%m-%d} → {j.last_seen:%Y-%m-%d}"
        marks = " ".join(m for m, on in (("📌 pinned", j.pinned), ("hidden", j.hidden)) if on)
        table.add_row(Text.from_markup(f"{rank}\n[dim]{j.score:.3g}[/dim]"),
                      text(j.name) + "\n" + text(j.name_source, style="dim") + (f"\n{marks}" if marks else ""),
                      Text("\n").join(Text.from_markup(badge[x]) if x in badge else text(x)
                                      for x in (j.stage_activity, j.stage_kind) if x),
                      text(", ".join(clip(k, 60) for k in j.keywords[:5])), span,
                      f"{len(j.item_ids)} items\n{j.n_events} events",
                      lines(titles.get(i, i) for i in j.evidence[:evidence]), lines(j.related))
    out.print(table)


@app.command()
def users(db: Optional[Path] = DB, limit: int = typer.Option(0, "--limit", help="at most this many rows (0 = all)")) -> None:
    """Users in the store with their event and journey counts."""
    from journeys.services import list_users

    _at_least(limit, 0, "--limit")
    with _store(db) as store:
        rows = list_users(store)
    shown = rows[: limit or None]
    title = f"{len(rows)} users" + (f" (first {len(shown)})" if len(shown) < len(rows) else "")
    table = Table(title=text(title))
    for col in ("user", "events", "journeys"):
        table.add_column(col, justify="right")
    for r in shown:
        table.add_row(text(r["user_id"]), str(r["n_events"]), str(r["n_journeys"]))
    out.print(table)


@app.command()
def export(db: Optional[Path] = DB, format: str = typer.Option("jsonl", "--format", help="jsonl, csv or parquet"),
           out_path: Optional[Path] = typer.Option(None, "--out", help="output file [jsonl: stdout]")) -> None:
    """Every journey, one record each."""
    from journeys.paths import check_writable
    from journeys.services.core import export_records

    if format not in ("jsonl", "csv", "parquet"):
        raise ConfigError(f"unknown export format '{format}': use jsonl, csv or parquet")
    if out_path is None and format != "jsonl":
        raise ConfigError(f"--format {format} needs --out PATH")
    if out_path is not None:
        check_writable(out_path, "--out", create_dirs=False)
    with _store(db) as store:
        records = export_records(store)
    if format == "jsonl":
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if out_path is None:
            sys.stdout.write(lines)
        else:
            out_path.write_text(lines, encoding="utf-8")
        return
    import pandas as pd

    df = pd.DataFrame.from_records(records)
    if format == "csv":
        for col in ("keywords", "item_ids", "evidence", "related"):
            if col in df:
                df[col] = df[col].map(json.dumps)
        df.to_csv(out_path, index=False)
    else:
        df.to_parquet(out_path, index=False)
    err.print(text(f"exported {len(records)} journeys to {out_path}"))


def _mount_subcommands() -> None:
    from journeys import after_cli, forget_cli, living_cli, llm_cli, recommend_cli
    from journeys.bench.commands import bench_app

    llm_cli.register(app)  # journeys name, journeys judge
    living_cli.register(app)  # journeys ingest, refresh, rename, hide, pin, merge, split, history
    after_cli.register(app)  # journeys rank train
    forget_cli.register(app)  # journeys forget --user U / --item I
    recommend_cli.register(app)  # journeys recommend
    __import__("journeys.serve_cli").serve_cli.register(app)  # journeys serve, journeys keys (issue 10)
    llm_cli.register_bench(bench_app)  # journeys bench naming, journeys bench judge
    app.add_typer(bench_app, name="bench", help="Benchmarks: extraction, sweep, movielens, naming, judge, speed.")


_mount_subcommands()


def main() -> None:
    """Entry point: usage errors are click's; every JourneysError is one line and exit code 1."""
    try:
        app()
    except JourneysError as exc:
        sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")  # one line, never wrapped
        raise SystemExit(1) from None


def entry() -> None:
    """The `journeys` program: `main` in a process of its own, whose garbage collector runs as for
    batch work and skips its last walk over what is alive at exit (journeys.runtime)."""
    from journeys.runtime import batch_gc, skip_final_walk

    batch_gc()
    try:
        main()
    finally:
        skip_final_walk()


if __name__ == "__main__":
    entry()
