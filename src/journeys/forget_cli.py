"""`journeys forget --user U` / `--item I`: a thin shell over journeys.services.forget."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def forget(
        user: Optional[str] = typer.Option(None, "--user", help="forget this user: events, journeys, edits, state"),
        item: Optional[str] = typer.Option(None, "--item", help="forget this item: catalogue, events, journeys, caches"),
        db: Optional[Path] = typer.Option(None, "--db", help="database: a path or sqlite:///PATH [default: ./journeys.db]"),
    ) -> None:
        """Remove a user or an item for good; the database files are compacted so no trace is left."""
        from journeys.config import load_settings
        from journeys.errors import ConfigError
        from journeys.services import forget as svc
        from journeys.store import open_store

        if (user is None) == (item is None):
            raise ConfigError("give exactly one of --user ID or --item ID")
        settings = load_settings()
        with open_store(db or settings.db, busy_timeout=settings.busy_timeout) as store:
            counts = svc.forget_user(store, user) if user is not None else svc.forget_item(store, item, settings)
        what = "user" if user is not None else "item"
        rows = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing else"
        err.print(f"forgot the {what}: {rows}; the database files were checkpointed and vacuumed", highlight=False)
