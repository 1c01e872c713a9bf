"""typer commands for LLM naming and judging: `journeys name`, `journeys judge`,
`journeys bench naming`, `journeys bench judge`. cli.py mounts them with `register(app)` and
`register_bench(bench_app)`; each command is a thin shell over a plain function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def _llm_options(backend: str, threads: int, base_url: Optional[str], model: Optional[str],
                 parallel: int = 1) -> dict:
    opts: dict = {"backend": backend}
    from journeys.llm import IN_PROCESS

    if backend in IN_PROCESS:
        opts["threads"] = threads
        if parallel > 1:
            opts["parallel"] = parallel
        if model:  # a packaged model id (journeys.llm.gguf.MODELS)
            opts["model"] = model
    else:
        if base_url:
            opts["base_url"] = base_url
        if model:
            opts["model"] = model
    return opts


BACKEND = typer.Option("auto", "--backend", help="LLM backend: auto (native if installed, else local), local "
                       "(llama.cpp in-process, prebuilt), native (llama.cpp built for this CPU, extra llm-native) or openai")
THREADS = typer.Option(2, "--threads", help="threads for the local backend")
BASE_URL = typer.Option(None, "--base-url", help="OpenAI-compatible base URL [env JOURNEYS_LLM_BASE_URL]")
MODEL = typer.Option(None, "--model", help="openai backend: model name [env JOURNEYS_LLM_MODEL]; local backend: "
                     "packaged model id, qwen2.5-coder-0.5b (default) or qwen2.5-coder-1.5b (extra llm-large)")
PARALLEL = typer.Option(1, "--parallel", help="local backend: llama.cpp slots decoding journeys concurrently")
DB = typer.Option(None, "--db", help="SQLite database file [default: ./journeys.db or JOURNEYS_DB]")


def _users(users: Optional[str]) -> Optional[list[str]]:
    return [u.strip() for u in users.split(",") if u.strip()] if users else None


def name_cmd(
    users: Optional[str] = typer.Option(None, "--users", help="comma-separated user ids (default: all)"),
    db: Optional[Path] = DB,
    namer: str = typer.Option("llm", "--namer", help="llm or keywords"),
    backend: str = BACKEND,
    threads: int = THREADS,
    base_url: Optional[str] = BASE_URL,
    model: Optional[str] = MODEL,
    zeroshot: bool = typer.Option(False, "--zeroshot", help="no few-shot examples (for comparison)"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Name (or re-name) stored journeys; names are cached, so a re-run costs nothing."""
    from journeys.config import load_settings
    from journeys.name import NAMERS
    from journeys.name.rename import rename_users
    from journeys.progress import auto_progress
    from journeys.store import open_store

    settings = load_settings()
    options = {**settings.name.options(namer)}
    if namer == "llm":
        options.update(_llm_options(backend, threads, base_url, model), fewshot=not zeroshot)
    nm = NAMERS.create(namer, **options)
    with open_store(db or settings.db) as store:
        targets = _users(users) or sorted({j.user_id for j in store.journeys()})
        with auto_progress(quiet).task(f"naming journeys of {len(targets)} users ({namer})", len(targets)) as t:
            counts = rename_users(store, nm, targets, settings, tick=t.advance)
    typer.echo("names by source: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())), err=True)


def judge_cmd(
    users: Optional[str] = typer.Option(None, "--users", help="comma-separated user ids (default: all)"),
    db: Optional[Path] = DB,
    backend: str = BACKEND,
    threads: int = THREADS,
    base_url: Optional[str] = BASE_URL,
    model: Optional[str] = MODEL,
    limit: int = typer.Option(0, "--limit", help="judge at most this many journeys (0 = all)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Rate stored (journey, name) pairs on 5 levels with a one-line reason."""
    from journeys.config import load_settings
    from journeys.judge import judge_journeys
    from journeys.llm import LLMS
    from journeys.store import open_store

    settings = load_settings()
    opts = _llm_options(backend, threads, base_url, model)
    llm = LLMS.create(opts.pop("backend"), **opts)
    with open_store(db or settings.db) as store:
        wanted = _users(users)
        journeys = [j for j in store.journeys() if wanted is None or j.user_id in wanted]
        if limit:
            journeys = journeys[:limit]
        items = store.items(sorted({i for j in journeys for i in j.item_ids}))
        rows = judge_journeys(journeys, lambda j: [items[i].title for i in j.item_ids if i in items], llm)
    for r in rows:
        if as_json:
            typer.echo(json.dumps(r, ensure_ascii=False))
        else:
            typer.echo(f"{r['user_id']}\t{r['rating']}/5\t{r['name']}\t{r['reason']}")


def bench_naming_cmd(
    collections: Path = typer.Option(..., "--collections", help="collections file (JSON, optionally gzipped)"),
    users: int = typer.Option(200, "--users", min=1),
    seed: int = typer.Option(0, "--seed"),
    namer: str = typer.Option("all", "--namer", help="keywords|llm|all (llm runs zero-shot and few-shot)"),
    zeroshot: bool = typer.Option(True, "--zeroshot/--no-zeroshot", help="also run the zero-shot llm namer"),
    embedder: str = typer.Option("minilm", "--embedder", help="extraction and metric embedder"),
    backend: str = BACKEND,
    threads: int = THREADS,
    base_url: Optional[str] = BASE_URL,
    model: Optional[str] = MODEL,
    parallel: int = PARALLEL,
    samples: Optional[int] = typer.Option(None, "--samples",
                                          help="sampled name candidates per journey besides the greedy one "
                                               "[default: the llm namer's]"),
    per_call: Optional[int] = typer.Option(None, "--per-call",
                                           help="journeys per LLM call (0: one, with its own examples) "
                                                "[default: the llm namer's]"),
    retry_samples: Optional[int] = typer.Option(None, "--retry-samples",
                                                help="sampled answers of a retry besides its greedy one "
                                                     "[default: the llm namer's]"),
    prompt_keywords: Optional[int] = typer.Option(None, "--prompt-keywords",
                                                  help="with --per-call >= 1: the journey's best keywords shown "
                                                       "with its titles [default: the llm namer's]"),
    speed_threads: Optional[str] = typer.Option(
        None, "--speed-threads", help="also measure local-model names/s at these thread counts, e.g. 1,2"),
    speed_n: int = typer.Option(16, "--speed-n", help="journeys in the speed measurement"),
    speed_embedder: Optional[str] = typer.Option(
        None, "--speed-embedder", help="the verifier's embedder in the speed measurement [the configured one]"),
    skip_quality: bool = typer.Option(False, "--speed-only", help="only the speed measurement"),
    llm_cache: Optional[Path] = typer.Option(
        None, "--llm-cache", help="reuse LLM answers from this SQLite file (names/s then counts only new calls)"),
    as_json: bool = typer.Option(False, "--json", help="last line: one JSON object"),
) -> None:
    """Naming benchmark (BENCHMARKS.md section 2)."""
    from journeys.bench import naming

    opts = _llm_options(backend, threads, base_url, model, parallel)
    opts.update({k: v for k, v in (("samples", samples), ("per_call", per_call), ("batch_keywords", prompt_keywords),
                                   ("retry_samples", retry_samples)) if v is not None})
    if llm_cache:
        opts["cache_file"] = str(llm_cache)
    result: dict = {}
    if not skip_quality:
        result = naming.run(collections, users=users, seed=seed, namer=namer, zeroshot=zeroshot, embedder=embedder,
                            llm_options=opts, log=lambda m: typer.echo(m, err=True))
        typer.echo(naming.table(result))
    if speed_threads:
        counts = [int(t) for t in speed_threads.split(",") if t.strip()]
        result["throughput"] = naming.throughput(collections, n=speed_n, seed=seed, threads=counts,
                                                 parallel=parallel, llm_options=opts, embedder=speed_embedder)
        for t, m in result["throughput"]["threads"].items():
            typer.echo(f"local model, {t} thread(s), {parallel} slot(s): {m['warm_names_per_s']} names/s warm, "
                       f"first user {m['cold_first_user_s']}s cold")
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))


def bench_judge_cmd(
    collections: Path = typer.Option(..., "--collections", help="collections file (JSON, optionally gzipped)"),
    n: int = typer.Option(40, "--n", min=1, help="collections to judge"),
    calibrate: int = typer.Option(0, "--calibrate", min=0,
                                  help="further collections (disjoint from the judged ones) that fit the level cut points"),
    seed: int = typer.Option(0, "--seed"),
    embedder: str = typer.Option("minilm", "--embedder"),
    backend: str = BACKEND,
    threads: int = THREADS,
    base_url: Optional[str] = BASE_URL,
    model: Optional[str] = MODEL,
    as_json: bool = typer.Option(False, "--json", help="last line: one JSON object"),
) -> None:
    """Validate the LLM judge: pairwise accuracy and agreement with the name metrics."""
    from journeys.bench import judge as bench_judge

    opts = _llm_options(backend, threads, base_url, model)
    result = bench_judge.run(collections, n=n, seed=seed, embedder=embedder, backend=opts.pop("backend"),
                             log=lambda m: typer.echo(m, err=True), calibrate=calibrate, **opts)
    typer.echo(bench_judge.table(result))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("name")(name_cmd)
    app.command("judge")(judge_cmd)


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("naming")(bench_naming_cmd)
    bench_app.command("judge")(bench_judge_cmd)
