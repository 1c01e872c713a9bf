"""Commands of living journeys: ingest (online), refresh, and people's edits. Each body parses its
options and calls one service function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)


def _db_option():
    return typer.Option(None, "--db", help="database: a path or sqlite:///PATH [default: ./journeys.db or JOURNEYS_DB]")


def register(app: typer.Typer) -> None:
    from journeys.cli import _store
    from journeys.config import load_settings

    @app.command()
    def ingest(
        events: Path = typer.Option(..., "--events", help="events file (.csv, .tsv, .jsonl, .parquet)"),
        items: Optional[Path] = typer.Option(None, "--items", help="items file; else items are inline (a title column)"),
        db: Optional[Path] = _db_option(),
        map_: Optional[list[str]] = typer.Option(None, "--map", help="FIELD=COLUMN (repeatable)"),
        strict: bool = typer.Option(False, "--strict", help="stop at the first bad row (file:line: reason)"),
        quarantine: Optional[Path] = typer.Option(None, "--quarantine", help="bad rows go here [DB.quarantine.jsonl]"),
        executor: Optional[str] = typer.Option(None, "--executor", help="where users computed whole run: local (default) or ray"),
        workers: Optional[int] = typer.Option(None, "--workers", min=1, help="worker processes (local) or CPUs (ray) [every core]"),
        ray_address: Optional[str] = typer.Option(None, "--ray-address", help="join this Ray cluster instead of starting one"),
    ) -> None:
        """Add new events and update the affected journeys online (ICPC, event by event); users
        with no online state yet are computed whole, on the executor."""
        from journeys.cli import apply_batch_options
        from journeys.ingest import ColumnMap, load_events
        from journeys.services.online import ingest as run_ingest

        settings = load_settings()
        apply_batch_options(settings, executor, workers, ray_address)
        data = load_events(events, items, ColumnMap.parse(map_), strict=strict or settings.ingest.strict)
        db_path = db or settings.db
        with _store(db_path) as store:
            res = run_ingest(data, settings, store, quarantine_path=quarantine or Path(str(db_path)).with_suffix(".quarantine.jsonl"))
        q = data.stats.quarantined + data.stats.item_rows_quarantined
        err.print(f"ingest: {res.added} new events ({res.duplicates + data.stats.duplicates} duplicates, {q} rows quarantined), "
                  f"{len(res.users)} users, {len(res.affected)} journeys updated in {res.seconds:.2f}s -> {db_path}",
                  markup=False, highlight=False)

    @app.command()
    def refresh(
        users: Optional[str] = typer.Option(None, "--users", help="comma-separated user ids [all]"),
        db: Optional[Path] = _db_option(),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
        executor: Optional[str] = typer.Option(None, "--executor", help="where per-user work runs: local (default) or ray"),
        workers: Optional[int] = typer.Option(None, "--workers", min=1, help="worker processes (local) or CPUs (ray) [every core]"),
        ray_address: Optional[str] = typer.Option(None, "--ray-address", help="join this Ray cluster instead of starting one"),
    ) -> None:
        """Relearn the global model and recompute journeys in full (merge, refine), as discover does."""
        from journeys.cli import apply_batch_options
        from journeys.progress import auto_progress
        from journeys.services.core import refresh as run_refresh

        settings = load_settings()
        apply_batch_options(settings, executor, workers, ray_address)
        wanted = [u.strip() for u in users.split(",") if u.strip()] if users else None
        with _store(db or settings.db) as store:
            s = run_refresh(store, settings, auto_progress(quiet), users=wanted)
        err.print(f"refresh run {s.run_id}: {s.users} users -> {s.journeys} journeys ({s.users_changed} users changed) "
                  f"in {s.seconds['total']:.1f}s", markup=False, highlight=False)

    def _show(j) -> None:
        out.print(f"{j.journey_id}\t{j.name}\t({j.name_source}; {len(j.item_ids)} items"
                  f"{'; hidden' if j.hidden else ''}{'; pinned' if j.pinned else ''})", markup=False, highlight=False)

    @app.command()
    def rename(journey_id: str = typer.Argument(...), name: str = typer.Argument(...), db: Optional[Path] = _db_option()) -> None:
        """Give a journey your own name; it keeps it as it grows."""
        from journeys.services.edits import rename as run

        with _store(db) as store:
            _show(run(store, journey_id, name, load_settings()))

    @app.command()
    def hide(journey_id: str = typer.Argument(...), undo: bool = typer.Option(False, "--undo", help="show it again"),
             db: Optional[Path] = _db_option()) -> None:
        """Hide a journey: it is kept, but never shown first or recommended for."""
        from journeys.services.edits import set_hidden

        with _store(db) as store:
            _show(set_hidden(store, journey_id, not undo, load_settings()))

    @app.command()
    def pin(journey_id: str = typer.Argument(...), undo: bool = typer.Option(False, "--undo", help="unpin it"),
            db: Optional[Path] = _db_option()) -> None:
        """Pin a journey: it ranks first."""
        from journeys.services.edits import set_pinned

        with _store(db) as store:
            _show(set_pinned(store, journey_id, not undo, load_settings()))

    @app.command()
    def merge(keep: str = typer.Argument(..., help="the journey that survives"),
              other: str = typer.Argument(..., help="the journey merged into it"), db: Optional[Path] = _db_option()) -> None:
        """Merge two journeys of one user; they stay merged in later runs."""
        from journeys.services.edits import merge as run

        with _store(db) as store:
            _show(run(store, keep, other, load_settings()))

    @app.command()
    def split(journey_id: str = typer.Argument(...),
              items: str = typer.Option(..., "--items", help="comma-separated item ids that form the new journey"),
              db: Optional[Path] = _db_option()) -> None:
        """Split items off a journey into a new one (its parent is recorded)."""
        from journeys.services.edits import split as run

        with _store(db) as store:
            _show(run(store, journey_id, items.split(","), load_settings()))

    @app.command()
    def history(journey_id: str = typer.Argument(...), db: Optional[Path] = _db_option(),
                as_json: bool = typer.Option(False, "--json", help="one JSON object")) -> None:
        """A journey's lineage: created, merged, split, renamed, hidden, pinned."""
        from journeys.services.edits import history as run

        with _store(db) as store:
            h = run(store, journey_id)
        if as_json:
            out.print_json(json.dumps(h))
            return
        out.print(f"{h['journey_id']} (user {h['user_id']}): {h['status']}"
                  + (f", merged into {h['merged_into']}" if h.get("merged_into") else "")
                  + (f", parent {h['parent_id']}" if h.get("parent_id") else ""), markup=False, highlight=False)
        for e in h["events"]:
            other = f" {e['other_id']}" if e["other_id"] else ""
            subject = "" if e["journey_id"] == journey_id else f"{e['journey_id']} "
            out.print(f"  {e['at'][:19]}  {subject}{e['event']}{other}  {e['detail']}", markup=False, highlight=False)

