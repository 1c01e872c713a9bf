"""`journeys bench ...`: each benchmark is a thin typer command over a plain `run(...)` function."""

from __future__ import annotations

from typing import Optional

import typer

bench_app = typer.Typer(no_args_is_help=True)


@bench_app.command("speed")
def speed(
    dataset: str = typer.Option("movielens-small", "--dataset", help="bundled dataset to time"),
    json_out: bool = typer.Option(False, "--json", help="end with one JSON line"),
    workdir: Optional[str] = typer.Option(None, "--workdir", help="where the throwaway database goes"),
) -> None:
    """Cold and warm discover end to end, per-stage throughput and peak memory."""
    from journeys.bench.speed import print_report, run

    print_report(run(dataset=dataset, workdir=workdir), json_out=json_out)
