"""Film credits for MovieLens items (issue 11), against a tiny movies.db built in the test."""

from __future__ import annotations

import sqlite3

import pytest

from journeys.errors import DataError
from journeys.ingest.credits import CreditIndex, enrich, normalise, read_films, title_variants

FILMS = [  # Title, Year, Director, Writer, Cast, Language, Country
    ("The Matrix", 1999, "Lana Wachowski, Lilly Wachowski", "Lana Wachowski, Lilly Wachowski",
     "Ada Nicodemou, Hugo Weaving, Keanu Reeves, Laurence Fishburne", "English", "Australia, United States"),
    ("Matrix Revisited", 2001, "Josh Oreck", "", "Keanu Reeves, Laurence Fishburne, Hugo Weaving",
     "English", "United States"),
    ("The City of Lost Children", 1995, "Jean-Pierre Jeunet, Marc Caro", "Gilles Adrien, Marc Caro",
     "Dominique Pinon, Ron Perlman", "French", "France, Germany"),
    ("Delicatessen", 1991, "Jean-Pierre Jeunet, Marc Caro", "Gilles Adrien", "Dominique Pinon",
     "French", "France"),
    ("Amélie", 2001, "Jean-Pierre Jeunet", "Guillaume Laurant", "Audrey Tautou, Dominique Pinon",
     "French", "France"),
    ("Cinema Paradiso", 1988, "Giuseppe Tornatore", "", "Philippe Noiret", "Italian", "Italy"),
    ("Hamlet", 1990, "Franco Zeffirelli", "", "Mel Gibson", "English", "United States"),
    ("Hamlet", 1990, "Someone Else", "", "", "English", "United Kingdom"),  # two films: ambiguous
    ("Psycho", 1960, "Alfred Hitchcock", "Joseph Stefano", "Anthony Perkins", "English", "United States"),
    ("Casablanca", 1942, "Michael Curtiz", "", "", "English", "United States"),
]


def make_db(path, films=FILMS):
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE omdb (ID INTEGER, Title TEXT, Year INTEGER, Director TEXT, Writer TEXT, '
                '"Cast" TEXT, Language TEXT, Country TEXT)')
    con.executemany("INSERT INTO omdb VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(n, *f) for n, f in enumerate(films)])
    con.commit()
    con.close()
    return path


@pytest.fixture
def index(tmp_path):
    path = make_db(tmp_path / "movies.db")
    return CreditIndex(read_films(path), source=str(path))


def test_normalise_drops_articles_accents_case_and_punctuation():
    assert normalise("Matrix, The") == normalise("The Matrix") == "matrix"
    assert normalise("Amélie") == "amelie"
    assert normalise("Bram Stoker's Dracula") == "bram stokers dracula"
    assert normalise("Fast & Furious") == "fast and furious"
    assert normalise("Star Wars: Episode IV - A New Hope") == "star wars episode iv a new hope"


def test_title_variants_read_alternate_titles():
    assert title_variants("City of Lost Children, The (Cité des enfants perdus, La)") == [
        "city of lost children", "cite des enfants perdus"]
    assert title_variants("Seven (a.k.a. Se7en)") == ["seven", "se7en"]
    assert title_variants("Dracula (Bram Stoker's Dracula)") == ["dracula", "bram stokers dracula"]
    assert title_variants("Dumbo") == ["dumbo"]


def test_match_by_title_and_year(index):
    film, how = index.match("Matrix, The", 1999)
    assert (film.title, how) == ("The Matrix", "exact")
    film, how = index.match("Cité des enfants perdus, La (City of Lost Children, The)", 1995)
    assert film.title == "The City of Lost Children"  # the alternate title matches
    assert index.match("Amelie (Fabuleux destin d'Amélie Poulain, Le)", 2001)[0].title == "Amélie"
    assert index.match("Cinema Paradiso (Nuovo cinema Paradiso)", 1989) == (index.films[5], "near")
    assert index.match("Matrix, The", 1997) == (None, "none")  # two years off: another film
    assert index.match("Matrix, The", None) == (None, "none")
    assert index.match("Hamlet", 1990) == (None, "ambiguous")
    assert index.match("Toy Story", 1995) == (None, "none")


def test_describe_weighs_what_tells_films_apart(index):
    assert index.common_language == "English" and index.common_country == "United States"
    matrix = index.match("Matrix, The", 1999)[0]
    # people by surname, once; writers who direct are not repeated; the cast by films in the table,
    # and only those in two or more (Ada Nicodemou has one); English and a United States
    # co-production are what most films share: left out
    assert index.describe(matrix) == "By Wachowski. With Weaving, Reeves, Fishburne"
    city = index.match("City of Lost Children, The", 1995)[0]
    assert index.describe(city) == "By Jeunet, Caro, Adrien. With Pinon. In French. From France, Germany"
    assert index.describe(index.match("Casablanca", 1942)[0]) == "By Curtiz"


def test_surnames():
    from journeys.ingest.credits import surname

    assert surname("Robert Downey Jr.") == "Downey" and surname("Sammy Davis, Jr.") == "Davis"
    assert surname("Robert De Niro") == "De Niro" and surname("Guillermo del Toro") == "del Toro"
    assert surname("Samuel L. Jackson") == "Jackson" and surname("Madonna") == "Madonna"
    assert surname("De Niro") == "Niro"  # a particle is never the whole name


def test_enrich_counts_movies_and_ratings(index):
    movies = {"1": ("Matrix, The", 1999), "2": ("Toy Story", 1995), "3": ("Hamlet", 1990),
              "4": ("Psycho", 1960), "5": ("Psycho", 1998), "6": ("Cinema Paradiso", 1989)}
    ratings = {"1": 10, "2": 5, "3": 1, "4": 3, "5": 1, "6": 2}
    texts, counts = enrich(movies, ratings, index)
    assert sorted(texts) == ["1", "4", "6"]
    assert (counts.movies, counts.matched, counts.near, counts.ambiguous) == (6, 3, 1, 1)
    assert (counts.ratings, counts.matched_ratings) == (22, 15)
    assert counts.as_dict()["movie_share"] == 0.5
    assert "3 of 6 movies matched (50.0%), 68.2% of 22 ratings" in counts.line()


def test_an_unreadable_db_is_a_data_error(tmp_path):
    bad = tmp_path / "movies.db"
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(DataError, match="movies.db"):
        read_films(bad)


def test_given_names_are_words_that_begin_many_names():
    from journeys.ingest.credits import Credit

    people = ("John Carpenter", "John Hughes", "John Ford", "Harrison Ford", "Elton John", "Tom Hanks")
    idx = CreditIndex([Credit("X", 2000, cast=people)])
    assert idx.given_names(min_count=1) == {"harrison", "elton", "tom"}  # 'john' ends a name too: 3 < 5 x 1
    assert idx.given_names(min_count=2) == set()
    idx = CreditIndex([Credit("X", 2000, cast=tuple(f"John {s}" for s in "ABCDEF") + ("Elton John",))])
    assert idx.given_names(min_count=5) == {"john"}  # 6 >= 5 x 1


def test_a_suffix_stays_with_its_name(tmp_path):
    path = make_db(tmp_path / "jr.db", [("Chaplin", 1992, "Richard Attenborough", "", "Robert Downey, Jr., Dan Aykroyd",
                                         "English", "United Kingdom")])
    (film,) = read_films(path)
    assert film.cast == ("Robert Downey Jr.", "Dan Aykroyd")


def test_cached_enrich_answers_as_enrich_and_reads_its_cache_the_second_time(tmp_path, monkeypatch):
    from journeys.ingest import credits

    db = make_db(tmp_path / "movies.db")
    monkeypatch.setenv("JOURNEYS_CACHE_DIR", str(tmp_path / "cache"))
    movies = {"1": ("Matrix, The", 1999), "2": ("Toy Story", 1995), "4": ("Psycho", 1960)}
    ratings = {"1": 10, "2": 5, "4": 3}
    want = enrich(movies, ratings, CreditIndex(read_films(db), source=str(db)))
    first = credits.cached_enrich(movies, ratings, str(db))
    assert first == want and len(list((tmp_path / "cache" / "credits").glob("*.json"))) == 1

    def no_matching(*_a, **_k):
        raise AssertionError("matched again instead of reading the cache")

    monkeypatch.setattr(credits, "enrich", no_matching)
    assert credits.cached_enrich(movies, ratings, str(db)) == want
    with pytest.raises(AssertionError):  # other ratings: another key, so computed afresh
        credits.cached_enrich(movies, {**ratings, "4": 4}, str(db))
