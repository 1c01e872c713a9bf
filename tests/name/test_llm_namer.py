"""The llm namer: validation, retry, fallback and caching (scripted LLM), and the real model."""

import pytest

from journeys.llm.cache import MemoryCache, ResponseCache
from journeys.name import NAMERS, JourneyDraft, NamingContext
from journeys.name.llm import build_messages, clean_name, user_prompt
from tests.llm_shared import ScriptedLLM, local_llm


def draft(titles, keywords=("kw",), user="u"):
    return JourneyDraft(user, tuple(f"i{k}" for k in range(len(titles))), tuple(titles), tuple(keywords))


ASTRO = draft(["Stellarium planetarium", "KStars desktop planetarium", "Celestia space simulator"], ("planetarium",))
BREAD = draft(["Feeding a sourdough starter", "Overnight country loaf", "Scoring bread dough"], ("sourdough", "bread"))


def namer(answers, **kw):
    """A namer with one candidate per journey and per retry (no samples) unless `samples` is given."""
    llm = ScriptedLLM(answers)
    # the per-journey mode (per_call=0): one journey per call with its own nearest examples
    return NAMERS.create("llm", llm=llm, response_cache=MemoryCache(), **{"samples": 0, "per_call": 0, "retry_samples": 0, **kw}), llm


def test_prompt_asks_for_the_shared_topic():
    msgs = build_messages(["A", "B"], fewshot=True, max_examples=4)
    assert msgs[-1]["content"].startswith('Items: "A"; "B".\n')
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * 4 + ["user"]
    assert len(build_messages(["A"], fewshot=False)) == 2
    assert "2 to 5 words" in user_prompt(["x"])


def test_fewshot_examples_come_from_the_training_split():
    from journeys.name.fewshot import is_fewshot_key, load_fewshot

    data = load_fewshot()
    blends = [e for e in data["examples"] if e["source"] == "debian-blends"]
    assert blends and all(is_fewshot_key(e["key"]) for e in blends)
    assert any(e["source"] == "everyday" for e in data["examples"])


def test_clean_name():
    assert clean_name(' "Stargazing software."\nmore') == "Stargazing software"
    assert clean_name("So, I may be interested in: astronomy apps") == "Astronomy apps"
    assert clean_name("1. Topic: desktop astronomy") == "Desktop astronomy"


def test_clean_name_turns_a_short_list_into_a_phrase_and_drops_echoed_questions():
    assert clean_name("Mailbox, envelope.") == "Mailbox and envelope"
    assert clean_name("Rock, paper, scissors") == "Rock, paper and scissors"
    assert clean_name("Hiking/camping") == "Hiking and camping"
    assert clean_name("Clock, alarm clock, mantelpiece clock, timer clock") == "Clock and alarm clock"
    assert clean_name("Fruits, vegetables and nuts") == "Fruits, vegetables and nuts"  # already a phrase
    assert clean_name("In 2 to 5 words, they share the hobby of baking bread") == "Baking bread"
    assert clean_name("These items share: garden tools") == "Garden tools"


def test_valid_names_are_used():
    nm, _ = namer(["Stargazing software", "Sourdough baking"])
    out = nm.name_user(NamingContext("u", (ASTRO, BREAD)))
    assert [(n.name, n.source) for n in out] == [("Stargazing software", "llm"), ("Sourdough baking", "llm")]


@pytest.mark.parametrize("bad", ["Movies", "Stuff I like", "Astronomy", "Stellarium planetarium",
                                 "A very long name that goes on and on", ""])
def test_invalid_name_is_retried_once_with_a_fresh_question(bad):
    nm, llm = namer([bad, "Desktop astronomy apps"])
    out = nm.name_user(NamingContext("u", (ASTRO,)))
    assert (out[0].name, out[0].source) == ("Desktop astronomy apps", "llm-retry")
    # asked afresh, without examples and without the rejected answer (the 0.5B model repeats it)
    assert [m["role"] for m in llm.requests[1]] == ["system", "user"]
    assert llm.requests[1][-1]["content"].endswith("not a single word.")
    assert "Words they share: planetarium." in llm.requests[1][-1]["content"]


def test_second_failure_falls_back_to_keywords():
    nm, _ = namer(["Movies", "Movies"])
    out = nm.name_user(NamingContext("u", (ASTRO,)))
    assert (out[0].name, out[0].source) == ("Planetarium", "keywords-fallback")


def test_names_are_unique_within_the_user():
    nm, _ = namer(["Space apps", "Space apps", "Baking bread"])
    out = nm.name_user(NamingContext("u", (ASTRO, BREAD)))
    assert [n.name for n in out] == ["Space apps", "Baking bread"]
    assert out[1].source == "llm-retry"


def test_unsafe_name_falls_back_to_keywords():
    nm, _ = namer(["Free porn sites", "Free porn sites"])  # the first answer, then the retry
    out = nm.name_user(NamingContext("u", (ASTRO,)))
    assert (out[0].name, out[0].source) == ("Planetarium", "keywords-unsafe")


def test_cache_makes_a_rerun_free(tmp_path):
    cache = ResponseCache(tmp_path / "names.sqlite")
    llm = ScriptedLLM(["Stargazing software", "Sourdough baking"])
    nm = NAMERS.create("llm", llm=llm, response_cache=cache, samples=0)
    first = nm.name_user(NamingContext("u", (ASTRO, BREAD)))
    again = NAMERS.create("llm", llm=ScriptedLLM([]), response_cache=ResponseCache(tmp_path / "names.sqlite"), samples=0)
    assert again.name_user(NamingContext("u", (ASTRO, BREAD))) == first
    assert again.calls == 0
    # another prompt version (zero-shot) is another cache entry
    other = NAMERS.create("llm", llm=ScriptedLLM(["Space software", "Bread baking"]), response_cache=cache, fewshot=False,
                          samples=0)
    other.name_user(NamingContext("u", (ASTRO, BREAD)))
    assert other.calls >= 2


def test_representative_titles_are_capped():
    d = JourneyDraft("u", tuple("abcdefghij"), tuple(f"title {k}" for k in range(10)), ("kw",),
                     tuple(f"rep {k}" for k in range(10)))
    nm, llm = namer(["Numbered things list"])
    nm.max_titles = 3
    nm.name_user(NamingContext("u", (d,)))
    assert llm.requests[0][-1]["content"].count('"') == 6 and "rep 0" in llm.requests[0][-1]["content"]
    assert llm.requests[0][-1]["content"].count('"') == 6 and "rep 0" in llm.requests[0][-1]["content"]


@pytest.mark.slow
def test_real_model_names_are_valid_and_deterministic(tmp_path):
    ctx = NamingContext("u", (ASTRO, BREAD))
    a = NAMERS.create("llm", llm=local_llm(), response_cache=MemoryCache()).name_user(ctx)
    b = NAMERS.create("llm", llm=local_llm(), response_cache=MemoryCache()).name_user(ctx)
    assert a == b
    assert len({n.name.lower() for n in a}) == 2
    for n in a:
        assert 1 <= len(n.name.split()) <= 6
        assert n.source in {"llm", "llm-sample", "llm-retry", "keywords-fallback"}


def test_copy_of_one_title_is_detected():
    from journeys.name.llm import is_copy

    assert is_copy("Toy Story", "Toy Story (1995)")
    assert is_copy("stellarium  planetarium!", "Stellarium planetarium")
    assert not is_copy("Sourdough bread", "Sourdough bread baking for beginners, a guide")
    assert not is_copy("Pixar animated films", "Toy Story (1995)")


# -- best-of-n with the embedder as the judge -----------------------------------------------------
def _minilm_free_embed():
    from journeys.embed import EMBEDDERS

    return EMBEDDERS.create("hashing").embed


def test_verifier_prefers_the_candidate_that_describes_its_own_journey():
    from journeys.name.verify import Verifier

    embed = _minilm_free_embed()
    ev = [["planetarium software", "desktop planetarium", "planetarium star maps"],
          ["sourdough bread", "bread starter", "country bread loaf"]]
    v = Verifier(embed, ev)
    ranked = v.score(0, [("Bread recipes", "llm"), ("Planetarium software", "llm-sample"), ("Random words", "llm")])
    assert ranked[0].name == "Planetarium software" and ranked[0].own > ranked[0].other
    # the same name scores worse when it fits the user's other journey as well (distinctness)
    both = Verifier(embed, [ev[0], ev[0]]).score(0, [("Planetarium software", "llm")])[0]
    assert both.score < ranked[0].score


def test_namer_chooses_the_best_sample_and_keeps_names_unique():
    embed = _minilm_free_embed()
    stars = draft(["Stellarium planetarium software for the desktop", "KStars desktop planetarium with star maps",
                   "Celestia planetarium: space and star maps"], ("planetarium",))
    bread = draft(["Sourdough bread starter feeding guide", "Overnight country sourdough bread loaf",
                   "Scoring country bread dough"], ("bread",))
    # per journey: greedy, then two samples; the greedy answers are valid but a sample fits better;
    # the second journey's best sample is the first journey's name, so it may not win twice
    nm, _ = namer(["Desktop maps", "Planetarium star maps", "Star maps",
                   "Country guide", "Sourdough bread loaves", "Planetarium star maps"], samples=2, keyword_candidates=0)
    out = nm.name_user(NamingContext("u", (stars, bread), embed))
    assert [(n.name, n.source) for n in out] == [("Planetarium star maps", "llm-sample"),
                                                 ("Sourdough bread loaves", "llm-sample")]


def test_keyword_fallback_only_when_no_candidate_is_valid():
    nm, _ = namer(["Movies", "Stuff", "Astronomy", "Movies", "Stuff", "Things"], samples=2)  # 3 candidates, 3 retried
    out = nm.name_user(NamingContext("u", (ASTRO,)))
    assert out[0].source == "keywords-fallback"
    nm, _ = namer(["Movies", "Stuff", "Desktop astronomy apps"], samples=2)
    assert nm.name_user(NamingContext("u", (ASTRO,)))[0].source == "llm-sample"


def test_fewshot_selection_is_nearest_and_never_shows_the_excluded_domain():
    from journeys.name.fewshot import ExampleSelector, domain_sources, load_pool

    embed = _minilm_free_embed()
    pool = load_pool()
    assert {e["source"] for e in pool["examples"]} >= {"debian-blends", "wordnet-topics", "emoji-subgroups", "everyday"}
    target = next(e for e in pool["examples"] if e["key"] == "emoji-animal-marine")
    chosen = ExampleSelector(embed).select(target["titles"], 3)
    assert chosen[-1]["key"] == "emoji-animal-marine"  # the nearest comes last, next to the question
    left_out = domain_sources({"emoji-animal-marine", "emoji-sport"})
    assert left_out == {"emoji-subgroups"}
    chosen = ExampleSelector(embed, exclude=left_out).select(target["titles"], 4)
    assert len(chosen) == 4 and all(e["source"] != "emoji-subgroups" for e in chosen)
    chosen = ExampleSelector(embed, exclude_keys={"emoji-animal-marine"}).select(target["titles"], 4)
    assert all(e["key"] != "emoji-animal-marine" for e in chosen)


def test_one_word_names_only_when_the_titles_carry_the_word():
    from journeys.name.rules import prepare, validate

    embed = _minilm_free_embed()
    d = draft(["Applied Econometrics with R", "Econometrics toolbox", "Time series econometrics"])
    p = prepare(d, 8, embed)
    assert validate("Econometrics", p, d, set()) is None
    assert validate("Drama", p, d, set()) is not None
    assert validate("Econometrics", prepare(d, 8, None), d, set()) is not None  # no embedder: 2 words


def test_zero_shot_prompt_shows_the_shared_words_and_few_shot_does_not():
    nm, llm = namer(["Stargazing software"], fewshot=False)
    nm.name_user(NamingContext("u", (ASTRO,)))
    assert "Words they share: planetarium." in llm.requests[0][-1]["content"] and len(llm.requests[0]) == 2
    nm, llm = namer(["Stargazing software"], fewshot=True)
    nm.name_user(NamingContext("u", (ASTRO,)))
    assert "Words they share" not in llm.requests[0][-1]["content"]


def test_an_echo_of_a_few_shot_example_is_not_a_name():
    from journeys.name.fewshot import load_pool

    echo = next(e["prompt_name"] for e in load_pool()["examples"] if e["key"] == "games-chess")
    chess = draft(["Shogi board game engine", "Chess game database viewer", "Chess and shogi game clock app"])
    nm, llm = namer([echo, "Chess and shogi engines"], max_examples=8)
    out = nm.name_user(NamingContext("u", (chess,)))
    assert any(m["content"] == echo for m in llm.requests[0] if m["role"] == "assistant")  # it was shown
    assert (out[0].name, out[0].source) == ("Chess and shogi engines", "llm-retry")


# -- keyword phrases compete with the LLM's candidates (issue 11) ----------------------------------
def test_keyword_phrases_are_the_best_phrases_then_pairs_without_shared_words():
    from journeys.name.verify import keyword_phrases

    assert keyword_phrases(["sourdough", "rye bread", "bread", "starter"], 3) == [
        "Sourdough", "Rye Bread", "Bread", "Sourdough and Rye Bread", "Sourdough and Bread"]
    assert keyword_phrases(["a", "A", "b"], 2) == ["A", "B", "A and B"]
    assert keyword_phrases([], 3) == []


def test_keyword_penalty_lowers_only_keyword_phrases():
    from journeys.name.verify import Verifier

    embed = _minilm_free_embed()
    ev = [["planetarium software", "desktop planetarium"], ["sourdough bread", "bread starter"]]
    cands = [("Planetarium software", "keywords-verified"), ("Planetarium software apps", "llm")]
    plain = {s.source: s.score for s in Verifier(embed, ev).score(0, cands)}
    fined = {s.source: s.score for s in Verifier(embed, ev, keyword_penalty=0.25).score(0, cands)}
    assert fined["llm"] == plain["llm"]
    assert fined["keywords-verified"] == pytest.approx(plain["keywords-verified"] - 0.25, abs=1e-3)


def test_a_keyword_phrase_wins_when_the_verifier_prefers_it():
    embed = _minilm_free_embed()
    stars = draft(["Planetarium star maps for the desktop", "KStars planetarium star maps",
                   "Celestia planetarium star maps"], ("planetarium star maps", "desktop"))
    # the LLM's only valid candidate is weaker than the journey's own keyword phrase
    nm, _ = namer(["Desktop things", "Movies", "Stuff"], samples=2, keyword_penalty=0.0)
    out = nm.name_user(NamingContext("u", (stars,), embed))
    assert (out[0].name, out[0].source) == ("Planetarium Star Maps", "keywords-verified")
    assert nm.trace_[0]["reasons"][0] is None and nm.trace_[0]["reasons"][1] is not None
    assert nm.trace_[0]["retry"] is None  # an LLM candidate passed: no retry
    # a penalty large enough keeps the LLM's name; no keyword candidates: only the LLM competes
    nm, _ = namer(["Desktop things", "Movies", "Stuff"], samples=2, keyword_penalty=1.0)
    assert nm.name_user(NamingContext("u", (stars,), embed))[0].source == "llm"
    nm, _ = namer(["Desktop things", "Movies", "Stuff"], samples=2, keyword_candidates=0)
    assert nm.name_user(NamingContext("u", (stars,), embed))[0].source == "llm"


def test_fallback_takes_the_best_valid_keyword_phrase_after_a_failed_retry():
    embed = _minilm_free_embed()
    stars = draft(["Planetarium star maps for the desktop", "KStars planetarium star maps",
                   "Celestia planetarium star maps"], ("planetarium star maps", "desktop"))
    nm, llm = namer(["Movies", "Stuff", "Movies", "Things", "Art", "Art"], samples=2)  # 3 candidates, 3 retried
    out = nm.name_user(NamingContext("u", (stars,), embed))
    assert (out[0].name, out[0].source) == ("Planetarium Star Maps", "keywords-fallback")
    assert len(llm.requests) == 6 and nm.trace_[0]["retry"] is not None and nm.trace_[0]["retry"] != "ok"
    nm, _ = namer(["Movies", "Stuff", "Movies", "Art", "Planetarium star map apps", "Art"], samples=2,
                  keyword_penalty=1.0)
    out = nm.name_user(NamingContext("u", (stars,), embed))
    assert (out[0].name, out[0].source, nm.trace_[0]["retry"]) == ("Planetarium star map apps", "llm-retry", "ok")


def test_the_fallback_prefers_a_phrase_beyond_the_catalogue_categories():
    """'Sci Fi' or 'Crime and Thriller' (keywords much of the catalogue carries) do not stand in
    for a journey while a phrase with the journey's own word ('Gilliam Sci Fi') is there."""
    from journeys.name.llm import beyond_categories
    from journeys.name.rules import only_categories

    broad = ("sci fi", "crime", "thriller")
    assert only_categories("Sci Fi", broad) and only_categories("Crime and Thriller", broad)
    assert not only_categories("Gilliam Sci Fi", broad) and not only_categories("Sci Fi", ())
    cands = [("Sci Fi", "k"), ("Crime and Thriller", "k"), ("Gilliam Sci Fi", "k"), ("Gilliam", "k")]
    assert beyond_categories(cands, broad) == [("Gilliam Sci Fi", "k"), ("Gilliam", "k")]
    assert beyond_categories(cands[:2], broad) == cands[:2]  # nothing else: keep what there is
    assert beyond_categories(cands, ()) == cands
