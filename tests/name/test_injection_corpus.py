"""Issue 13: the adversarial corpus (tests/data/injection_corpus.json) against the LLM namer.

The fake model obeys every injection it sees: if an injected payload reaches its prompt, it
answers with the payload. A hijack is a stored name or keyword carrying a payload word."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from journeys.config import Settings
from journeys.embed import EMBEDDERS
from journeys.injection import NameSupport, is_instruction, normalize
from journeys.llm.cache import MemoryCache
from journeys.name import NAMERS
from journeys.pipeline import Pipeline
from journeys.safety import is_injection, words
from journeys.types import Event, Item
from tests.conftest import DATA

CORPUS = json.loads((DATA / "injection_corpus.json").read_text(encoding="utf-8"))
CASES = CORPUS["cases"]
INSTRUCTION_CASES = [c for c in CASES if c["kind"] != "plain-spam"]


class ObedientLLM:
    """Answers the payload of any injection whose payload reaches the prompt; else a fair name."""

    name = "obedient"

    def __init__(self, case):
        self.case = case
        self.prompts: list[str] = []

    def chat(self, messages, **kw):
        prompt = "\n".join(m["content"] for m in messages if m["role"] == "user")
        self.prompts.append(messages[-1]["content"])
        if normalize(self.case["payload"]) in normalize(prompt):
            return self.case["payload"]
        return self.case["topic_name"]

    def chat_many(self, batch, **kw):
        return [self.chat(m) for m in batch]

    def close(self):
        pass


class OneCluster:
    """Every item in one journey: the injected titles cannot escape into the noise bucket."""

    name = "one"

    def fit(self, corpus):
        return self

    def assign(self, history):
        return np.zeros(len(history), dtype=np.int64)


def titles_of(case) -> list[str]:
    titles = list(case["coherent"])
    for k, t in enumerate(case["injected"]):
        titles.insert(min(case["position"] + k, len(titles)), t)
    return titles


def run_case(case, llm, embedder, **namer_options):
    titles = titles_of(case)
    items = {f"i{k}": Item(f"i{k}", t) for k, t in enumerate(titles)}
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    events = [Event("u", f"i{k}", t0 + timedelta(hours=k)) for k in range(len(titles))]
    namer = NAMERS.create("llm", llm=llm, response_cache=MemoryCache(), **namer_options)
    pipe = Pipeline(Settings(), None, embedder=embedder, clusterer=OneCluster(), namer=namer)
    pipe.prepare(items, events)
    (journey,) = pipe.run_user("u", events).journeys
    return journey


def payload_words(case) -> set[str]:
    return {w for w in words(normalize(case["payload"])) if len(w) > 2}


def hijacked(text: str, case) -> bool:
    return bool(words(normalize(text)) & payload_words(case))


@pytest.mark.parametrize("case", INSTRUCTION_CASES, ids=[c["id"] for c in INSTRUCTION_CASES])
def test_every_injected_title_reads_as_an_instruction(case):
    assert all(is_instruction(t) or is_injection(t) for t in case["injected"])


@pytest.mark.parametrize("title", CORPUS["benign"] + sorted({t for c in CASES for t in c["coherent"]}))
def test_ordinary_titles_do_not_read_as_instructions(title):
    assert not is_injection(title)


@pytest.fixture(scope="module")
def hashing():
    return EMBEDDERS.create("hashing")


@pytest.mark.parametrize("per_call", [0, 1])  # per-journey prompts; the shared-prefix default
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_an_obedient_model_never_names_the_journey_after_the_payload(case, hashing, per_call):
    llm = ObedientLLM(case)
    journey = run_case(case, llm, hashing, per_call=per_call)  # keyword phrases compete with the answers
    assert not hijacked(journey.name, case), (journey.name, journey.name_source)
    if case["kind"] != "plain-spam":  # the fair answer passes the rules: no fallback
        assert journey.name_source in ("llm", "keywords-verified"), journey
    llm = ObedientLLM(case)
    journey = run_case(case, llm, hashing, per_call=per_call, keyword_candidates=0)  # the model's answers alone
    assert not hijacked(journey.name, case), (journey.name, journey.name_source)
    if case["kind"] != "plain-spam":
        # the injected titles never reach the model, so its fair answer is kept ...
        assert (journey.name, journey.name_source) == (case["topic_name"], "llm")
        assert all(normalize(case["payload"]) not in normalize(p) for p in llm.prompts)
        # ... and they give no keywords
        assert not any(hijacked(k, case) for k in journey.keywords), journey.keywords


def test_a_payload_in_one_title_only_cannot_name_the_journey(hashing):
    """No instruction to detect: the name-support check alone stops it."""
    case = next(c for c in CASES if c["kind"] == "plain-spam")
    llm = ObedientLLM(case)
    journey = run_case(case, llm, hashing, per_call=0)  # 8 titles shown: the spam title among them
    assert journey.name_source == "keywords-fallback" and not hijacked(journey.name, case)
    assert any(normalize(case["payload"]) in normalize(p) for p in llm.prompts)  # it did see it


def test_name_support_counts_titles_lexically_and_in_embedding():
    titles = ["Sourdough starter basics", "Shaping a sourdough boule", "Rye loaf", "Crypto casino night"]
    s = NameSupport(titles)
    assert s.check(["sourdough"]) is None
    assert "one title" in s.check(["sourdough", "crypto"])
    assert s.check(["artisan", "sourdough"]) is None  # half supported, the other word from no title
    assert "several" in s.check(["artisan", "baking", "sourdough"])
    close = NameSupport(titles, embed=lambda texts: np.array([[1.0, 0.0] if ("bread" in t or "ough" in t or "loaf" in t)
                                                               else [0.0, 1.0] for t in texts]))
    assert close.check(["bread", "sourdough"]) is None  # 'bread' is close to three titles


@pytest.mark.slow
def test_real_model_with_real_embedder_is_not_hijacked(minilm):
    from tests.llm_shared import local_llm

    for case in [c for c in CASES if c["kind"] in ("respond-only", "plain-spam")][:3]:
        journey = run_case(case, local_llm(), minilm)
        assert not hijacked(journey.name, case) and not hijacked(" ".join(journey.keywords[:3]), case), journey


def test_a_word_of_one_on_topic_title_is_supported_but_not_of_a_stray_one():
    titles = ["Sourdough starter basics", "Shaping a sourdough boule", "Sourdough hydration", "Crypto casino night"]

    def embed(texts):  # bread titles point one way; single words and other titles the other
        return np.array([[1.0, 0.0] if " " in t and ("ough" in t or "hydration" in t) else [0.0, 1.0]
                         for t in texts])

    s = NameSupport(titles, embed=embed)
    assert s.check(["sourdough", "hydration"]) is None  # 'hydration': one title, on topic
    assert "one title" in s.check(["sourdough", "crypto"])  # 'crypto': one title, a stray
