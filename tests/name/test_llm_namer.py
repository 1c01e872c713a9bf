"""The llm namer: validation, retry, fallback and caching (scripted LLM), and the real model."""

import pytest

from journeys.llm.cache import MemoryCache, ResponseCache
from journeys.name import NAMERS, JourneyDraft, NamingContext
from journeys.name.llm import build_messages, clean_name, user_prompt
from tests.llm_shared import local_llm


class ScriptedLLM:
    """Answers from a script, in call order; records every request."""

    name = "scripted"

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def chat(self, messages, **kw):
        self.requests.append(messages)
        return self.answers.pop(0)

    def chat_many(self, batch, **kw):
        return [self.chat(m, **kw) for m in batch]

    def close(self):
        pass


def draft(titles, keywords=("kw",), user="u"):
    return JourneyDraft(user, tuple(f"i{k}" for k in range(len(titles))), tuple(titles), tuple(keywords))


ASTRO = draft(["Stellarium planetarium", "KStars desktop planetarium", "Celestia space simulator"], ("planetarium",))
BREAD = draft(["Feeding a sourdough starter", "Overnight country loaf", "Scoring bread dough"], ("sourdough", "bread"))


def namer(answers, **kw):
    """A namer with one candidate per journey (no samples) unless `samples` is given."""
    llm = ScriptedLLM(answers)
    # the per-journey mode (per_call=0): one journey per call with its own nearest examples
    return NAMERS.create("llm", llm=llm, response_cache=MemoryCache(), **{"samples": 0, "per_call": 0, **kw}), llm


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


def test_valid_names_are_used():
    nm, _ = namer(["Stargazing software", "Sourdough baking"])
    out = nm.name_user(NamingContext("u", (ASTRO, BREAD)))
    assert [(n.name, n.source) for n in out] == [("Stargazing software", "llm"), ("Sourdough baking", "llm")]


@pytest.mark.parametrize("bad", ["Movies", "Stuff I like", "Astronomy", "Stellarium planetarium",
                                 "A very long name that goes on and on", ""])
def test_invalid_name_is_retried_once_with_the_reason(bad):
    nm, llm = namer([bad, "Desktop astronomy apps"])
    out = nm.name_user(NamingContext("u", (ASTRO,)))
    assert (out[0].name, out[0].source) == ("Desktop astronomy apps", "llm-retry")
    assert llm.requests[1][-1]["content"].startswith("Not valid:")


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
                   "Country guide", "Sourdough bread loaves", "Planetarium star maps"], samples=2)
    out = nm.name_user(NamingContext("u", (stars, bread), embed))
    assert [(n.name, n.source) for n in out] == [("Planetarium star maps", "llm-sample"),
                                                 ("Sourdough bread loaves", "llm-sample")]


def test_keyword_fallback_only_when_no_candidate_is_valid():
    nm, _ = namer(["Movies", "Stuff", "Astronomy", "Movies"], samples=2)  # three candidates, then the retry
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
