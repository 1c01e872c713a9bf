"""The `openai` backend: any OpenAI-compatible `/v1/chat/completions` endpoint over httpx.

Configuration from arguments, else the environment: `JOURNEYS_LLM_BASE_URL`,
`JOURNEYS_LLM_MODEL`, `JOURNEYS_LLM_API_KEY` (or `OPENAI_API_KEY`). Requests have a timeout,
are retried with exponential backoff on connection errors, 429 and 5xx, and `chat_many` runs
at most `concurrency` requests at once.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from journeys.errors import ConfigError, require
from journeys.llm import LLMS, Message
from journeys.llm.local import LLMError, top_logprobs

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


@LLMS.register("openai")
class OpenAILLM:
    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 4,
        seed: int = 0,
    ):
        env = os.environ
        self.base_url = (base_url or env.get("JOURNEYS_LLM_BASE_URL") or "").rstrip("/")
        if not self.base_url:
            raise ConfigError(
                "the openai LLM backend needs a base URL: set JOURNEYS_LLM_BASE_URL "
                "(e.g. http://127.0.0.1:8080/v1)"
            )
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.model = model or env.get("JOURNEYS_LLM_MODEL") or "default"
        self.api_key = api_key or env.get("JOURNEYS_LLM_API_KEY") or env.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.concurrency = max(1, concurrency)
        self.seed = seed
        self.name = f"openai:{self.model}@{self.base_url}"
        self._client = None

    def _http(self):
        if self._client is None:
            httpx = require("httpx", "llm")
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            limits = httpx.Limits(max_connections=self.concurrency)
            self._client = httpx.Client(
                base_url=self.base_url, headers=headers, timeout=self.timeout, limits=limits
            )
        return self._client

    def _post(self, path: str, body: dict) -> dict:
        httpx = require("httpx", "llm")
        rng = random.Random(self.seed)
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                resp = self._http().post(path, json=body)
                if resp.status_code < 400:
                    return resp.json()
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code not in RETRY_STATUS:
                    break
            except (httpx.TransportError, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.max_retries:
                time.sleep(self.backoff * (2**attempt) * (1 + 0.1 * rng.random()))
        raise LLMError(f"{self.base_url}{path} failed after {self.max_retries + 1} tries: {last}")

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 32,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> str:
        body = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": self.seed if seed is None else seed,
        }
        if stop:
            body["stop"] = list(stop)
        data = self._post("/chat/completions", body)
        try:
            return data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise LLMError(f"unexpected response from {self.base_url}: {str(data)[:200]}") from None

    def first_token_logprobs(self, messages: Sequence[Message], *, top: int = 10) -> dict[str, float]:
        body = {"model": self.model, "messages": [dict(m) for m in messages], "max_tokens": 1,
                "temperature": 0.0, "seed": self.seed, "logprobs": True, "top_logprobs": top}
        data = self._post("/chat/completions", body)
        try:
            return top_logprobs(data["choices"][0])
        except (KeyError, IndexError, TypeError):
            raise LLMError(f"unexpected response from {self.base_url}: {str(data)[:200]}") from None

    def chat_many(self, batch, *, max_tokens=32, temperature=0.0, stop=None) -> list[str]:
        def one(messages):
            return self.chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)

        if self.concurrency == 1 or len(batch) <= 1:
            return [one(m) for m in batch]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, batch))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
