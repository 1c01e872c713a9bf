"""The `journeys` command line (typer). Every command calls the service functions."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from journeys.config import load_settings
from journeys.errors import ConfigError, JourneysError

app = typer.Typer(help="Find, name and serve people's interest journeys.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console()
err = Console(stderr=True)

DB = typer.Option(None, "--db", help="SQLite database file [default: ./journeys.db or JOURNEYS_DB]")


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
) -> None:
    """Ingest activity logs, find every user's journeys and store them."""
    from journeys.ingest import DATASETS, ColumnMap, load_events
    from journeys.progress import auto_progress
    from journeys.services import discover as run_discover

    settings = load_settings()
    if method:
        settings.extract.method = method
    if namer:
        settings.name.namer = namer
    if min_rating is not None:
        settings.ingest.min_rating = min_rating
    if now is not None:
        settings.after.now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    if (events is None) == (dataset is None):
        raise ConfigError("give exactly one of --events PATH or --dataset NAME")
    import time

    t0 = time.perf_counter()
    if dataset is not None:
        if dataset not in DATASETS:
            raise ConfigError(f"unknown dataset '{dataset}'; choose one of: {', '.join(DATASETS)}")
        data = DATASETS[dataset]()
    else:
        data = load_events(events, items, ColumnMap.parse(map_), strict=strict or settings.ingest.strict)
    db_path = db or settings.db
    qpath = quarantine or db_path.with_suffix(".quarantine.jsonl")
    progress = auto_progress(quiet)
    with _store(db_path) as store:
        summary = run_discover(data, settings, store, progress, qpath, load_seconds=time.perf_counter() - t0)
    s = summary
    err.print(
        f"[bold]discover[/bold] run {s.run_id}: {s.ingest['events']} events "
        f"({s.ingest['duplicates']} duplicates removed, {s.ingest['quarantined'] + s.ingest['item_rows_quarantined']} rows quarantined"
        f"{' to ' + s.quarantine_file if s.quarantine_file else ''}, {s.not_interest} not interest), "
        f"{s.ingest['items']} items ({s.items_embedded} embedded), {s.users} users -> {s.journeys} journeys "
        f"({s.users_changed} users changed, {s.unassigned_items} unassigned items) in {s.seconds['total']:.1f}s -> {db_path}",
        highlight=False,
    )


@app.command()
def show(user: str = typer.Argument(..., help="user id"), db: Optional[Path] = DB,
         evidence: int = typer.Option(3, "--evidence", help="evidence titles per journey")) -> None:
    """A user's journeys by rank: name, stage, keywords, time span, size, evidence and related journeys."""
    from journeys.services import user_journeys
    from journeys.services.after import score_note

    with _store(db) as store:
        journeys = user_journeys(store, user)
        titles = {k: v.title for k, v in store.items([i for j in journeys for i in j.evidence[:evidence]]).items()}
        n_unassigned = len(store.unassigned(user))
    table = Table(title=f"user {user}: {len(journeys)} journeys, {n_unassigned} unassigned items",
                  caption=score_note(journeys), show_lines=True)
    for col in ("#", "journey", "stage", "keywords", "span", "size", "evidence", "related"):
        table.add_column(col, overflow="fold")
    badge = {"ongoing": "[green]ongoing[/green]", "ended": "[dim]ended[/dim]",
             "evergreen": "[cyan]evergreen[/cyan]", "situational": "[yellow]situational[/yellow]"}
    for rank, j in enumerate(journeys, 1):
        span = f"{j.first_seen:%Y-%m-%d} → {j.last_seen:%Y-%m-%d}"
        marks = " ".join(m for m, on in (("📌 pinned", j.pinned), ("hidden", j.hidden)) if on)
        table.add_row(f"{rank}\n[dim]{j.score:.3g}[/dim]", f"{j.name}\n[dim]{j.name_source}[/dim]" + (f"\n{marks}" if marks else ""),
                      "\n".join(badge.get(x, x) for x in (j.stage_activity, j.stage_kind) if x),
                      ", ".join(j.keywords[:5]), span, f"{len(j.item_ids)} items\n{j.n_events} events",
                      "\n".join(titles.get(i, i) for i in j.evidence[:evidence]), "\n".join(j.related))
    out.print(table)


@app.command()
def users(db: Optional[Path] = DB, limit: int = typer.Option(0, "--limit", help="at most this many rows (0 = all)")) -> None:
    """Users in the store with their event and journey counts."""
    from journeys.services import list_users

    with _store(db) as store:
        rows = list_users(store)
    table = Table(title=f"{len(rows)} users")
    for col in ("user", "events", "journeys"):
        table.add_column(col, justify="right")
    for r in rows[: limit or None]:
        table.add_row(r["user_id"], str(r["n_events"]), str(r["n_journeys"]))
    out.print(table)


@app.command()
def export(db: Optional[Path] = DB, format: str = typer.Option("jsonl", "--format", help="jsonl, csv or parquet"),
           out_path: Optional[Path] = typer.Option(None, "--out", help="output file [jsonl: stdout]")) -> None:
    """Every journey, one record each."""
    from journeys.services import journey_record

    if format not in ("jsonl", "csv", "parquet"):
        raise ConfigError(f"unknown export format '{format}': use jsonl, csv or parquet")
    with _store(db) as store:
        records, seen = [], {}
        for j in store.journeys():  # by user, then rank
            seen[j.user_id] = seen.get(j.user_id, 0) + 1
            records.append({**journey_record(j), "rank": seen[j.user_id]})
    if format == "jsonl":
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if out_path is None:
            sys.stdout.write(lines)
        else:
            out_path.write_text(lines, encoding="utf-8")
        return
    import pandas as pd

    if out_path is None:
        raise ConfigError(f"--format {format} needs --out PATH")
    df = pd.DataFrame.from_records(records)
    if format == "csv":
        for col in ("keywords", "item_ids", "evidence", "related"):
            if col in df:
                df[col] = df[col].map(json.dumps)
        df.to_csv(out_path, index=False)
    else:
        df.to_parquet(out_path, index=False)
    err.print(f"exported {len(records)} journeys to {out_path}")


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


if __name__ == "__main__":
    main()
