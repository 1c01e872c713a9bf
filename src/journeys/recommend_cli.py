"""`journeys recommend`: journey-aware, steerable recommendations (a thin shell over
journeys.services.recommend). cli.py mounts it with `register(app)`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from journeys.errors import ConfigError


def recommend_cmd(
    user: Optional[str] = typer.Argument(None, help="user id (or --all-users)"),
    k: int = typer.Option(20, "--k", min=1, help="recommendations per user"),
    journey: Optional[str] = typer.Option(None, "--journey", help="delve deeper: every slot from this journey"),
    explore: bool = typer.Option(False, "--explore", help="from the user's expansions (related journeys)"),
    query: Optional[str] = typer.Option(None, "--query", help="natural-language steering text"),
    exclude_journey: Optional[list[str]] = typer.Option(None, "--exclude-journey", help="journey id to leave out (repeatable)"),
    all_users: bool = typer.Option(False, "--all-users", help="every user in the store (jsonl)"),
    format: str = typer.Option("table", "--format", help="table or jsonl"),
    out_path: Optional[Path] = typer.Option(None, "--out", help="write jsonl here [stdout]"),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite database file [default: ./journeys.db or JOURNEYS_DB]"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
) -> None:
    """Recommend items for a user's journeys (or for every user with --all-users)."""
    from journeys.config import load_settings
    from journeys.progress import auto_progress
    from journeys.services.recommend import rec_record, recommend, recommend_all
    from journeys.store import open_store

    if format not in ("table", "jsonl"):
        raise ConfigError(f"unknown format '{format}': use table or jsonl")
    if all_users == (user is not None):
        raise ConfigError("give exactly one of USER or --all-users")
    if all_users and (journey or explore or query or exclude_journey):
        raise ConfigError("--all-users takes no steering (--journey, --explore, --query, --exclude-journey)")
    settings = load_settings()
    progress = auto_progress(quiet)
    t0 = time.perf_counter()
    with open_store(db or settings.db) as store:
        if all_users:
            if format != "jsonl":
                raise ConfigError("--all-users writes jsonl: add --format jsonl")
            stream = out_path.open("w", encoding="utf-8") if out_path else sys.stdout
            n = users = 0
            try:
                for recs in recommend_all(store, settings, k, progress=progress):
                    users += 1
                    for r in recs:
                        stream.write(json.dumps(rec_record(r), ensure_ascii=False) + "\n")
                        n += 1
            finally:
                if out_path:
                    stream.close()
            sys.stderr.write(f"recommend: {n} recommendations for {users} users in "
                             f"{time.perf_counter() - t0:.1f}s{' -> ' + str(out_path) if out_path else ''}\n")
            return
        recs = recommend(store, user, settings, k, journey=journey, explore=explore, query=query,
                         exclude_journey=exclude_journey, progress=progress)
        titles = {i: it.title for i, it in store.items([r.item_id for r in recs]).items()}
        names = {j.journey_id: j.name for j in store.journeys(user)}
    if format == "jsonl":
        lines = "".join(json.dumps(rec_record(r), ensure_ascii=False) + "\n" for r in recs)
        if out_path:
            out_path.write_text(lines, encoding="utf-8")
        else:
            sys.stdout.write(lines)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"user {user}: {len(recs)} recommendations")
    for col in ("#", "item", "journey", "reason", "score"):
        table.add_column(col, overflow="fold")
    for r in recs:
        table.add_row(str(r.rank), titles.get(r.item_id, r.item_id), names.get(r.journey_id, r.journey_id),
                      r.reason, f"{r.score:.3f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend_cmd)
