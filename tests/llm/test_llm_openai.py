"""The openai backend against a real OpenAI-compatible server (llama.cpp's, via xllamacpp) on
127.0.0.1 serving the packaged GGUF; the test starts and stops it."""

import os
import socket
import subprocess
import sys
import time

import pytest

from journeys.errors import ConfigError
from journeys.llm.local import LLMError
from journeys.llm.openai import OpenAILLM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "journeys.llm.serve", "--port", str(port), "--threads", "1", "--ctx", "4096"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.time() + 120
        line = ""
        while time.time() < deadline and "listening" not in line:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}")
        assert "listening" in line
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_chat_against_real_server(server):
    llm = OpenAILLM(base_url=server, model="qwen", concurrency=2, timeout=120)
    msgs = [{"role": "user", "content": "Name one planet. One word."}]
    a = llm.chat(msgs, max_tokens=4)
    assert a.strip()
    many = llm.chat_many([msgs, [{"role": "user", "content": "Name one colour. One word."}], msgs], max_tokens=4)
    assert len(many) == 3 and many[0] == many[2] == a  # deterministic, order kept
    lp = llm.first_token_logprobs([{"role": "user", "content": "Is fire hot? Answer Yes or No."}])
    assert lp and max(lp, key=lp.get) in {"Yes", "No"}
    llm.close()


@pytest.mark.slow
def test_llm_namer_through_openai_backend(server, tmp_path):
    from journeys.name import NAMERS, JourneyDraft, NamingContext

    namer = NAMERS.create("llm", backend="openai", base_url=server, cache=str(tmp_path / "c.sqlite"), fewshot=False)
    titles = ("Feeding a sourdough starter", "Overnight country loaf", "Scoring bread dough", "Rye bread recipe")
    out = namer.name_user(NamingContext("u", (JourneyDraft("u", ("a", "b", "c", "d"), titles, ("bread", "sourdough")),)))
    assert len(out) == 1 and out[0].name and out[0].source in {"llm", "llm-retry", "keywords-fallback"}


def test_env_configuration(monkeypatch):
    monkeypatch.setenv("JOURNEYS_LLM_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("JOURNEYS_LLM_MODEL", "m")
    monkeypatch.delenv("JOURNEYS_LLM_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    llm = OpenAILLM()
    assert llm.base_url == "http://127.0.0.1:9/v1" and llm.model == "m" and llm.api_key == "sk-test"
    monkeypatch.delenv("JOURNEYS_LLM_BASE_URL")
    with pytest.raises(ConfigError, match="JOURNEYS_LLM_BASE_URL"):
        OpenAILLM()


def test_unreachable_server_retries_with_backoff_then_fails():
    llm = OpenAILLM(base_url=f"http://127.0.0.1:{_free_port()}", max_retries=2, backoff=0.05, timeout=2)
    start = time.time()
    with pytest.raises(LLMError, match="after 3 tries"):
        llm.chat([{"role": "user", "content": "hi"}])
    assert time.time() - start >= 0.05 + 0.1  # two backoff sleeps happened
