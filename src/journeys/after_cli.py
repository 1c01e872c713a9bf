"""`journeys rank train`: fit the learned ranker on the store (mounted by cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

rank_app = typer.Typer(help="The journey ranker: train it from the store.", no_args_is_help=True)


@rank_app.command("train")
def train(db: Optional[Path] = typer.Option(None, "--db", help="SQLite database file"),
          cut: float = typer.Option(0.8, "--cut", min=0.1, max=0.95,
                                    help="share of each user's interest events before the cut")) -> None:
    """Train the ranker on engagement after a temporal cut; store it as the next version."""
    from journeys.cli import _store, err
    from journeys.config import load_settings
    from journeys.services.after import train_ranker

    with _store(db) as store:
        report = train_ranker(store, load_settings(), cut)
    err.print(f"ranker v{report['version']}: trained on {report['journeys']} journeys of {report['users']} users "
              f"({report['positive']} engaged after the cut); run discover again to re-rank", highlight=False)
    typer.echo(json.dumps(report))


def register(app: typer.Typer) -> None:
    app.add_typer(rank_app, name="rank")
