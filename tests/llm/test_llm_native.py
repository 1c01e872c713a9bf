"""The `native` backend (llama-cpp-python built for this CPU) on the packaged model: the same answers
as the prebuilt `local` backend, kept prefixes that are restored and give the same answers as a
fresh sequence, and clear errors."""

import pytest

from journeys.errors import ConfigError
from journeys.llm.native import common_prefix

COLOURS = [{"role": "user", "content": "Name three colours, comma separated."}]
JUDGE = [{"role": "system", "content": "You judge whether a name fits a list of items. Answer with one digit 1-5."},
         {"role": "user", "content": "Items: Toy Story; Finding Nemo; Up. Name: Pixar animated films. Score:"}]
PREFIX = [{"role": "system", "content": "You answer with one word, the colour asked for. " * 12}]


def ask(q):
    return PREFIX + [{"role": "user", "content": q}]


def test_common_prefix_known_answers():
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([5, 6], [5, 6, 7]) == 2
    assert common_prefix([1], [2]) == 0


def test_parallel_slots_are_refused_and_unknown_models_named():
    from journeys.llm.native import NativeLLM

    with pytest.raises(ConfigError, match="local backend"):
        NativeLLM(parallel=2)
    with pytest.raises(ConfigError, match="unknown local model"):
        NativeLLM(model="no-such-model")


@pytest.mark.slow
def test_native_answers_like_the_prebuilt_backend():
    pytest.importorskip("llama_cpp")
    from journeys.llm.native import NativeLLM
    from tests.llm_shared import local_llm

    native = NativeLLM(threads=2)
    try:
        assert native.chat(COLOURS, max_tokens=12) == "Red, Blue, Green"
        assert native.chat(COLOURS, max_tokens=12, stop=[","]) == "Red"  # a caller's stop ends the answer
        assert native.chat(COLOURS, max_tokens=12) == local_llm().chat(COLOURS, max_tokens=12)
        # sampled answers follow the seed
        sampled = [native.chat(JUDGE, max_tokens=4, temperature=0.8, seed=s) for s in (1, 2, 1)]
        assert sampled[0] == sampled[2]
        mine = native.first_token_logprobs(JUDGE, top=5)
        theirs = local_llm().first_token_logprobs(JUDGE, top=5)
        assert set(mine) == {"1", "2", "3", "4", "5"} == set(theirs)
        assert list(mine.values()) == sorted(mine.values(), reverse=True) and max(mine.values()) < 0
        assert all(abs(mine[k] - theirs[k]) < 0.1 for k in mine)  # other kernels, same distribution
        assert native.totals["calls"] == 7  # 3 greedy, 3 sampled, 1 for the logprobs
    finally:
        native.close()


@pytest.mark.slow
def test_a_kept_prefix_is_restored_after_other_prompts_and_answers_as_fresh():
    pytest.importorskip("llama_cpp")
    from journeys.llm.native import NativeLLM

    llm = NativeLLM(threads=2)
    fresh = NativeLLM(threads=2)
    try:
        llm.chat(ask("What colour is the sky?"), max_tokens=4)
        llm.chat(ask("What colour is grass?"), max_tokens=4)  # shares the long prefix: kept aside
        assert len(llm._kept) == 1
        kept = len(llm._kept[0][0])
        llm.chat(COLOURS, max_tokens=12)  # another prompt takes the sequence over
        llm.chat(COLOURS, max_tokens=12, stop=[","])
        assert llm.restores == 0
        snow = llm.chat(ask("What colour is snow?"), max_tokens=4)
        assert llm.restores == 1
        assert llm.last_timings["cache_n"] >= kept  # the prefix was not evaluated again
        assert llm.last_timings["prompt_n"] < 40
        assert snow == fresh.chat(ask("What colour is snow?"), max_tokens=4)
        assert snow.strip()
    finally:
        llm.close()
        fresh.close()


def test_auto_picks_the_native_engine_for_one_slot_and_the_prebuilt_one_for_several():
    pytest.importorskip("llama_cpp")
    from journeys.llm import LLMS
    from journeys.llm.local import LocalLLM
    from journeys.llm.native import NativeLLM

    one = LLMS.create("auto", threads=1)
    several = LLMS.create("auto", threads=1, parallel=2)
    assert isinstance(one, NativeLLM) and one.threads == 1
    assert isinstance(several, LocalLLM) and several.parallel == 2
    assert one.name.startswith("native:") and several.name.startswith("local:")
