"""`journeys bench ...`: a typer sub-app (mounted by cli.py). One command per benchmark."""

from __future__ import annotations

from pathlib import Path

import typer

from journeys.errors import JourneysError

bench_app = typer.Typer(help="Benchmarks: extraction (and its ICPC sweep).", no_args_is_help=True)

_ALL = "all"


def parse_range(text: str, option: str) -> tuple[int, int]:
    """'2..5' -> (2, 5); '3' -> (3, 3)."""
    try:
        lo, _, hi = text.partition("..")
        pair = (int(lo), int(hi or lo))
    except ValueError:
        raise typer.BadParameter(f"expected N or N..M, got {text!r}", param_hint=option) from None
    if pair[0] < 1 or pair[0] > pair[1]:
        raise typer.BadParameter(f"expected 1 <= N <= M, got {text!r}", param_hint=option)
    return pair


def parse_methods(text: str) -> list[str]:
    from journeys.bench.extraction import METHODS
    from journeys.extract import CLUSTERERS

    if text == _ALL:
        import importlib.util

        if importlib.util.find_spec("bertopic") is None:
            typer.echo("note: bertopic skipped (pip install 'journeys[bench]')", err=True)
            return [m for m in METHODS if m != "bertopic"]
        return list(METHODS)
    names = [m.strip() for m in text.split(",") if m.strip()]
    for m in names:
        if m not in CLUSTERERS:
            raise typer.BadParameter(
                f"unknown method {m!r}; choose from {', '.join(CLUSTERERS.names())} or all",
                param_hint="--method",
            )
    return names


def _fail(exc: JourneysError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)


CollectionsOpt = typer.Option(..., "--collections", help="collections file (JSON, optionally gzipped)")


@bench_app.command("extraction")
def extraction_cmd(
    collections: Path = CollectionsOpt,
    users: int = typer.Option(200, "--users", min=1),
    seed: int = typer.Option(0, "--seed"),
    profile: str = typer.Option("light", "--profile", help="light (2..5 x 8..20, uniform) or heavy (5..15 x 20..150, popularity 1)"),
    k: str = typer.Option(None, "--k", help="journeys per user, N..M (default: the profile's)"),
    items: str = typer.Option(None, "--items", help="items per journey, N..M (default: the profile's)"),
    popularity: float = typer.Option(None, "--popularity", min=0.0, help="Zipf exponent of item choice (default: the profile's)"),
    noise: float = typer.Option(0.1, "--noise", min=0.0),
    method: str = typer.Option(_ALL, "--method", help="icpc|hierarchical|cooccurrence|global-semantic|bertopic|all (or a comma list)"),
    embedder: str = typer.Option(None, "--embedder", help="override the configured embedder (e.g. hashing)"),
    as_json: bool = typer.Option(False, "--json", help="end with one JSON line of results"),
    plot: Path = typer.Option(None, "--plot", help="write a PNG comparing the methods"),
) -> None:
    """Mixed-collections extraction benchmark (BENCHMARKS.md section 1)."""
    from journeys.bench import extraction, report

    from journeys.bench.synth import PROFILES

    if profile not in PROFILES:
        raise typer.BadParameter(f"choose from {', '.join(PROFILES)}", param_hint="--profile")
    prof = PROFILES[profile]
    k_range = parse_range(k, "--k") if k else prof["k"]
    items_range = parse_range(items, "--items") if items else prof["items"]
    pop = prof["popularity"] if popularity is None else popularity
    methods = parse_methods(method)
    try:
        out = extraction.run(collections, methods, users, seed, k_range, items_range, noise,
                             embedder, popularity=pop)
    except JourneysError as exc:
        _fail(exc)
    s = out["setup"]
    title = (f"{Path(s['collections']).name}: {s['users']} users, seed {s['seed']}, "
             f"k {k_range[0]}..{k_range[1]}, items {items_range[0]}..{items_range[1]}, "
             f"popularity {pop}, noise {noise}, {s['embedder']}")
    report.console().print(report.table(out["results"], title))
    if plot:
        try:
            report.plot_methods(out["results"], plot, title)
        except JourneysError as exc:
            _fail(exc)
        typer.echo(f"plot: {plot}")
    if as_json:
        typer.echo(report.json_line(out))


@bench_app.command("sweep")
def sweep_cmd(
    collections: Path = CollectionsOpt,
    users: int = typer.Option(200, "--users", min=1),
    seed: int = typer.Option(0, "--seed"),
    thresholds: str = typer.Option("0.35,0.40,0.45,0.50,0.55,0.60", "--thresholds"),
    min_sizes: str = typer.Option("2,3,4", "--min-sizes"),
    merges: str = typer.Option("none,0.7,0.8", "--merges", help="merge thresholds; none = no merge"),
    refine: str = typer.Option("false,true", "--refine"),
    collaborative: str = typer.Option("0,0.3,0.5,0.7", "--collaborative", help="co-occurrence weights"),
    text_thresholds: str = typer.Option("none", "--text-thresholds", help="thresholds for text-only items; none = threshold"),
    embedder: str = typer.Option(None, "--embedder"),
    as_json: bool = typer.Option(False, "--json"),
    plot: Path = typer.Option(None, "--plot", help="PNG of recall and purity against threshold"),
) -> None:
    """Sweep ICPC's threshold, min_size, merge, refine and collaborative settings; report the best."""
    from journeys.bench import report, sweep

    def floats(text):
        return [None if t.strip().lower() == "none" else float(t) for t in text.split(",") if t.strip()]

    grid = sweep.Grid(
        thresholds=[float(t) for t in floats(thresholds)],
        min_sizes=[int(t) for t in floats(min_sizes)],
        merges=floats(merges),
        refines=[t.strip().lower() in ("1", "true", "yes") for t in refine.split(",") if t.strip()],
        collaboratives=[float(t) for t in floats(collaborative)],
        text_thresholds=floats(text_thresholds),
    )
    try:
        out = sweep.run(collections, grid, users=users, seed=seed, embedder=embedder)
    except JourneysError as exc:
        _fail(exc)
    report.console().print(report.table(sweep.top(out["results"], 15), "ICPC sweep (best first)",
                                 columns=sweep.COLUMNS, first="setting"))
    typer.echo(f"best: {out['best']['params']}")
    if plot:
        report.plot_sweep(out["results"], plot, f"ICPC sweep: {collections.name}", out["best"]["params"])
        typer.echo(f"plot: {plot}")
    if as_json:
        typer.echo(report.json_line(out))


@bench_app.command("speed")
def speed_cmd(
    dataset: str = typer.Option("movielens-small", "--dataset", help="bundled dataset to time"),
    json_out: bool = typer.Option(False, "--json", help="end with one JSON line"),
    workdir: Path = typer.Option(None, "--workdir", help="where the throwaway database goes"),
) -> None:
    """Cold and warm discover end to end, per-stage throughput, incremental latency, peak memory."""
    from journeys.bench.speed import print_report, run

    print_report(run(dataset=dataset, workdir=str(workdir) if workdir else None), json_out=json_out)


@bench_app.command("movielens")
def movielens_cmd(
    method: str = typer.Option(_ALL, "--method", help="clusterers to run (comma list) or all"),
    max_users: int = typer.Option(None, "--max-users", help="only the first N users"),
    embedder: str = typer.Option(None, "--embedder"),
    as_json: bool = typer.Option(False, "--json"),
    dataset: str = typer.Option("movielens-small", "--dataset", help="movielens-small | movielens-100k"),
    enrich: bool = typer.Option(None, "--enrich/--no-enrich", help="film credits in item text [ingest.enrich: on]"),
) -> None:
    """Granularity and names of each method on MovieLens (needs the `data` extra)."""
    from journeys.bench import movielens, report

    if dataset not in movielens.DATASETS:
        raise typer.BadParameter(f"choose from {', '.join(movielens.DATASETS)}", param_hint="--dataset")
    try:
        out = movielens.run(parse_methods(method), max_users, embedder, dataset=dataset, enrich=enrich)
    except JourneysError as exc:
        _fail(exc)
    movielens.print_setup(out["setup"])
    s = out["setup"]
    title = (f"{s['dataset']}: {s['users']} users, ratings >= {s['min_rating']}, {s['embedder']}, "
             f"credits {'on' if s['enrich'] else 'off'}")
    report.console().print(report.table(out["results"], title, columns=movielens.COLUMNS))
    from journeys.bench import granularity

    report.console().print(report.table(out["results"], "granularity", columns=granularity.COLUMNS))
    report.console().print(granularity.decile_table(out["results"], "journeys per user by activity decile"))
    movielens.print_names(out["results"])
    if as_json:
        typer.echo(report.json_line(out))


from journeys.bench import stages as _stages  # noqa: E402

_stages.command(bench_app)  # journeys bench journeys
from journeys.bench import recs_cli  # noqa: E402  (journeys bench recs)

recs_cli.register(bench_app)

from journeys.bench import injection as _injection  # noqa: E402  (journeys bench injection)

_injection.register(bench_app)

from journeys.bench import scale as _scale  # noqa: E402  (issue 14: `bench scale`)

_scale.register(bench_app)

@bench_app.command("serve")
def serve_cmd(
    db: Path = typer.Option(None, "--db", help="database to serve (copied; default: MovieLens, built once)"),
    embedder: str = typer.Option("hashing", "--embedder", help="embedder for the built database and the server"),
    clients: int = typer.Option(16, "--clients", min=1), requests: int = typer.Option(5000, "--requests", min=1),
    seconds: float = typer.Option(15.0, "--seconds", help="each route stops after this long"),
    batch: int = typer.Option(100, "--batch", min=1, help="events per POST"),
    batch_users: int = typer.Option(1, "--batch-users", min=1, help="users whose events share one POST"),
    client: str = typer.Option("raw", "--client", help="load client: raw (asyncio streams, light) or httpx"),
    as_json: bool = typer.Option(False, "--json", help="end with one JSON line"),
) -> None:
    """The HTTP API under a bounded load on 127.0.0.1: p50/p99/rps per route, events/s, errors."""
    from journeys.bench import report, serve

    out = serve.run(db, embedder, clients, requests, seconds, batch, batch_users, client, log=lambda m: typer.echo(m, err=True))
    serve.print_report(out, log=typer.echo)
    if as_json:
        typer.echo(report.json_line(out))

from journeys.bench import subjourneys as _subjourneys  # noqa: E402  (issue 12: `bench subjourneys`)

_subjourneys.register(bench_app)

from journeys.bench import recompute_memory as _recompute_memory  # noqa: E402  (journeys bench recompute-memory)

_recompute_memory.register(bench_app)
