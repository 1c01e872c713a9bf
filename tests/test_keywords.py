from __future__ import annotations

from journeys.keywords import KeywordModel
from journeys.name import JourneyDraft, NamingContext
from journeys.name.keywords import KeywordsNamer

TEXTS = {
    "a1": "Ukulele chords for beginners. ukulele, music",
    "a2": "Tuning a ukulele. ukulele",
    "a3": "Ukulele strumming. ukulele, music",
    "b1": "Hydroponic lettuce. hydroponics, Sci-Fi",
    "b2": "Kratky hydroponics. hydroponics, Sci-Fi",
    "c1": "Pizza dough. cooking",
}


def test_keywords_separate_journeys_and_stay_inside_tags():
    km = KeywordModel(top_n=4).fit(TEXTS)
    ka, kb = km.keywords([["a1", "a2", "a3"], ["b1", "b2"]], others=["c1"])
    assert ka[0] == "ukulele"
    assert kb[0] in ("hydroponics", "sci fi")
    assert "sci fi" in kb and "sci" not in kb  # the phrase wins its tie and hides its words
    assert not any("hydroponics sci" in k for k in kb)  # no phrase across a tag boundary
    assert not set(ka) & set(kb)


def test_keywords_deterministic():
    km = KeywordModel().fit(TEXTS)
    assert km.keywords([["a1", "a2"]]) == KeywordModel().fit(TEXTS).keywords([["a1", "a2"]])


def test_keyword_names_are_unique_within_a_user():
    drafts = [JourneyDraft("u", ("a",), ("A",), ("ukulele", "music")),
              JourneyDraft("u", ("b",), ("B",), ("ukulele", "tuning")),
              JourneyDraft("u", ("c",), ("C",), ())]
    names = [n.name for n in KeywordsNamer().name_user(NamingContext("u", drafts))]
    assert names[0] == "Ukulele"
    assert len({n.lower() for n in names}) == 3
    assert names[2] == "C"  # no keywords: the first title


def _top_by_full_sort(km: KeywordModel, score) -> list[str]:
    import numpy as np

    nz = np.flatnonzero(score > 0)
    order = sorted(nz, key=lambda j: (-round(float(score[j]), 9), -km.terms_[j].count(" "), km.terms_[j]))
    return km._choose(order)


def test_top_keywords_equal_those_of_sorting_every_term():
    """`_top` sorts only the best terms first; property: the same keywords as sorting all of
    them, with many ties, near-ties within rounding, phrases and their words."""
    import numpy as np
    from hypothesis import given, settings, strategies as st

    words = ["sci", "fi", "sci fi", "music", "ukulele", "ukulele music", "hydro", "pizza", "dough",
             "pizza dough", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o"]
    km = KeywordModel(top_n=2)
    km.terms_ = np.asarray(words)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from([0.0, 1.0 - 4e-10, 1.0, 1.0 + 3e-10, 2.0, 2.0 + 1e-9]),
                    min_size=len(words), max_size=len(words)), st.integers(1, 4))
    def check(values, top_n):
        km.top_n = top_n
        score = np.asarray(values)
        assert km._top(score) == _top_by_full_sort(km, score)

    check()
    # a term just below the cut-off that rounds to the same score still takes part in its tie
    score = np.asarray([0.0 if " " in w else 1.0 for w in words])
    score[words.index("a")] = 1.0 - 4e-10
    km.top_n = 1
    assert km._top(score) == _top_by_full_sort(km, score) == ["a"]


def test_catalogue_share_and_broad_terms_known_answers():
    km = KeywordModel().fit(TEXTS)
    assert abs(km.catalogue_share("ukulele") - 3 / 6) < 1e-6  # 3 of the 6 items carry it
    assert abs(km.catalogue_share("kratky") - 1 / 6) < 1e-6
    assert km.catalogue_share("never seen") == 0.0
    # in a catalogue of six items no word is a category, whatever its share
    assert km.broad(["ukulele", "kratky", "pizza"], share=0.4) == ()
    # 12 of 40 items carry 'drama' (30%), 10 carry 'ukulele' (25%), 2 carry 'kratky' (5%)
    texts = {f"d{i}": f"drama film {i}" for i in range(12)}
    texts |= {f"u{i}": f"ukulele song {i}" for i in range(10)}
    texts |= {f"k{i}": "kratky hydroponics" for i in range(2)}
    texts |= {f"x{i}": f"other thing {i}" for i in range(16)}
    km = KeywordModel().fit(texts)
    assert km.broad(["drama", "ukulele", "kratky"], share=0.2) == ("drama", "ukulele")
    assert km.broad(["drama", "ukulele", "kratky"], share=0.28) == ("drama",)
    assert km.broad(["drama", "ukulele", "kratky"], share=0.01) == ("drama", "ukulele")  # kratky: 2 items
    # the same answers from the stored arrays (what ingest and rename load)
    again = KeywordModel().load_state(km.state())
    assert again.broad(["drama", "ukulele", "kratky"], share=0.28) == ("drama",)


def test_a_broad_best_keyword_is_qualified_by_the_journeys_own_word():
    genre = JourneyDraft("u", ("a",), ("Star Wars (1977)",), ("sci fi", "lucas", "adventure"), broad=("sci fi", "adventure"))
    own = JourneyDraft("u", ("b",), ("Vertigo (1958)",), ("hitchcock", "mystery"), broad=("mystery",))
    only_broad = JourneyDraft("u", ("c",), ("Heat (1995)",), ("crime", "action"), broad=("crime", "action"))
    names = [n.name for n in KeywordsNamer().name_user(NamingContext("u", (genre, own, only_broad)))]
    assert names == ["Lucas Sci Fi", "Hitchcock", "Action Crime"]
    # without the catalogue's view every keyword is the journey's own: the best keyword stands alone
    plain = JourneyDraft("u", ("a",), ("Star Wars (1977)",), ("sci fi", "lucas"))
    assert [n.name for n in KeywordsNamer().name_user(NamingContext("u", (plain,)))] == ["Sci Fi"]
