"""`journeys bench recs` (mounted on bench_app by bench/commands.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def recs_cmd(
    dataset: str = typer.Option("movielens-small", "--dataset", help="movielens-small or movielens-100k"),
    embedder: Optional[str] = typer.Option(None, "--embedder", help="override the configured embedder"),
    max_users: Optional[int] = typer.Option(None, "--max-users", help="only the first N users"),
    seed: int = typer.Option(0, "--seed"),
    query_collections: Optional[Path] = typer.Option(None, "--query-collections",
                                                     help="also the --query figure on synthetic users of this collections file"),
    query_users: int = typer.Option(100, "--query-users", min=1),
    as_json: bool = typer.Option(False, "--json", help="end with one JSON line of results"),
) -> None:
    """Journeys against popularity, item-kNN, EASE and implicit ALS (BENCHMARKS.md section 5)."""
    from journeys.bench import report
    from journeys.bench.recs_run import DATASETS, query_run, run
    from journeys.errors import ConfigError

    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset '{dataset}'; choose one of: {', '.join(DATASETS)}")
    out = run(dataset, embedder, max_users, seed)
    s = out["setup"]
    cols = tuple((f"{m}@{k}", f"{m}@{k}", "{:.3f}") for k in (10, 20)
                 for m in ("recall", "ndcg", "coverage", "diversity", "interest"))
    report.console().print(report.table(out["results"], f"{dataset}: {s['users']} users, {s['embedder']}", columns=cols))
    typer.echo(f"steering --journey: {out['steering']}")
    if query_collections is not None:
        out["query"] = query_run(query_collections, query_users, seed, embedder=embedder)
        typer.echo(f"steering --query: {out['query']}")
    if as_json:
        typer.echo(report.json_line(out))


def register(bench_app: typer.Typer) -> None:
    bench_app.command("recs")(recs_cmd)
