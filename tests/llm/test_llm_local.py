import pytest

from tests.llm_shared import local_llm

pytestmark = pytest.mark.slow


def test_registry_has_every_backend():
    from journeys.llm import LLMS

    assert LLMS.names() == ["auto", "local", "native", "openai"]


def test_local_chat_is_deterministic_and_reuses_the_prefix():
    llm = local_llm()
    prefix = [{"role": "system", "content": "You answer with one word. " * 20}]
    a = llm.chat(prefix + [{"role": "user", "content": "What colour is the sky?"}], max_tokens=4)
    b = llm.chat(prefix + [{"role": "user", "content": "What colour is grass?"}], max_tokens=4)
    assert llm.last_timings.get("cache_n", 0) > 100  # the shared system prompt was not recomputed
    c = llm.chat(prefix + [{"role": "user", "content": "What colour is the sky?"}], max_tokens=4)
    assert a == c and a.strip()
    assert "green" in b.lower()  # a different question gets its own answer, not the cached one


def test_first_token_logprobs():
    lp = local_llm().first_token_logprobs([{"role": "user", "content": "Is water wet? Answer Yes or No."}])
    assert lp and all(v <= 0 for v in lp.values())
    assert "Yes" in lp or "No" in lp


def test_threads_are_explicit():
    from journeys.llm.local import LocalLLM, server_params
    from journeys.llm.gguf import model_path

    assert LocalLLM(threads=1).threads == 1
    p = server_params(model_path(), threads=1)
    assert p.cpuparams.n_threads == 1 and p.cpuparams_batch.n_threads == 1
    assert p.sampling.temp == 0.0


def test_parallel_slots_answer_each_request():
    from journeys.llm.local import LocalLLM

    qs = [[{"role": "user", "content": f"What is {a} plus {a}? Answer with the number only."}] for a in (2, 3, 4)]
    two = LocalLLM(threads=2, parallel=2)
    try:
        answers = two.chat_many(qs, max_tokens=4)  # concurrently, decoded in one batch
    finally:
        two.close()
    assert [a.strip().rstrip(".") for a in answers] == ["4", "6", "8"]  # each question got its own answer
