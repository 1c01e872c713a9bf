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
