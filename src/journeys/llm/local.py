"""The `local` backend: llama.cpp in-process through xllamacpp, on the packaged GGUF.

One llama.cpp server object per backend, one slot, so the KV cache of the previous request is
kept and a shared few-shot prefix is not recomputed (llama.cpp's prompt cache). Threads are
explicit; sampling is greedy (temperature 0) with a fixed seed, so outputs are reproducible.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from pathlib import Path

from journeys.errors import JourneysError, require
from journeys.llm import LLMS, Message


class LLMError(JourneysError):
    code = "llm_error"


def server_params(
    model_path: str | Path,
    threads: int = 2,
    n_ctx: int = 4096,
    seed: int = 0,
    port: int = 0,
    host: str = "127.0.0.1",
    parallel: int = 1,
):
    """xllamacpp CommonParams for the packaged model (shared by the in-process backend and
    the `journeys.llm.serve` HTTP server)."""
    xl = require("xllamacpp", "llm")
    p = xl.CommonParams()
    p.model.path = str(model_path)
    p.n_ctx = n_ctx * parallel  # llama.cpp splits the context between the slots
    p.n_parallel = parallel
    p.n_batch = 512
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.sampling.temp = 0.0
    p.sampling.seed = seed
    p.sampling.top_k = 1
    p.cache_prompt = True
    p.warmup = False
    p.hostnames = [host]
    p.port = port
    return p


def top_logprobs(choice: dict) -> dict[str, float]:
    """{token text (stripped): logprob} of the first generated token, from an OpenAI-shaped choice."""
    try:
        entries = choice["logprobs"]["content"][0]["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        raise LLMError("the LLM server returned no logprobs") from None
    out: dict[str, float] = {}
    for e in entries:
        tok = str(e.get("token", "")).strip()
        if tok not in out:
            out[tok] = float(e["logprob"])
    return out


class PackagedModel:
    """What the in-process llama.cpp backends share: a packaged model by id or any GGUF path,
    explicit threads, a fixed seed, and llama.cpp's own timings summed over calls."""

    def _packaged(self, engine: str, model_path, threads: int, n_ctx: int, seed: int, model: str | None) -> None:
        from journeys.llm.gguf import spec

        self.spec = spec(model)  # an unknown id fails here, before any work
        self.model = model
        self.model_path = model_path
        self.threads = int(threads)
        self.n_ctx = n_ctx
        self.seed = seed
        self.last_timings: dict = {}  # llama.cpp timings of the last call (cache_n: prefix tokens reused)
        # summed over calls; *_ms: llama.cpp's own timings of prompt evaluation and generation
        self.totals = {"calls": 0, "prompt_n": 0, "cache_n": 0, "predicted_n": 0, "prompt_ms": 0.0, "predicted_ms": 0.0}
        self.name = f"{engine}:{Path(model_path).stem if model_path else self.spec.file_stem}"

    def _count(self, timings: dict) -> None:
        """One call's llama.cpp timings: kept as the last call's and added to the totals."""
        self.last_timings = dict(timings)
        self.totals["calls"] += 1
        for k in ("prompt_n", "cache_n", "predicted_n"):
            self.totals[k] += int(timings.get(k) or 0)
        for k in ("prompt_ms", "predicted_ms"):
            self.totals[k] += float(timings.get(k) or 0.0)


@LLMS.register("local")
class LocalLLM(PackagedModel):
    """llama.cpp in this process. `model` picks a packaged model by id (`journeys.llm.gguf.MODELS`,
    default the Qwen2.5-Coder-0.5B); `model_path` any other GGUF file."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        threads: int = 2,
        n_ctx: int = 4096,
        seed: int = 0,
        model: str | None = None,
        parallel: int = 1,
    ):
        self._packaged("local", model_path, threads, n_ctx, seed, model)
        self.parallel = max(1, int(parallel))
        self._server = None
        self._load_lock = threading.Lock()
        # one slot: one request at a time; several slots: llama.cpp batches concurrent requests
        self._lock = threading.Lock() if self.parallel == 1 else contextlib.nullcontext()
        self._totals_lock = threading.Lock()

    def _load(self):
        with self._load_lock:
            return self._load_unlocked()

    def _load_unlocked(self):
        if self._server is None:
            xl = require("xllamacpp", "llm")
            from journeys.llm.gguf import model_path as packaged_model

            path = self.model_path or packaged_model(model=self.model)
            params = server_params(path, self.threads, self.n_ctx, self.seed, parallel=self.parallel)
            self._server = xl.Server(params)
        return self._server

    def _body(self, max_tokens: int, temperature: float, stop: Sequence[str] | None, seed: int | None = None) -> dict:
        body = {
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": self.seed if seed is None else seed,
            "cache_prompt": True,
        }
        if temperature == 0:
            body["top_k"] = 1
        else:  # the server's default is greedy (top_k 1): sampling needs its own
            body["top_k"] = 40
            body["top_p"] = 0.95
        if stop:
            body["stop"] = list(stop)
        return body

    def _check(self, resp: dict) -> dict:
        if not isinstance(resp, dict) or "error" in resp or not resp.get("choices"):
            raise LLMError(f"local LLM failed: {resp!r}"[:300])
        with self._totals_lock:  # several slots may answer at once
            self._count(resp.get("timings") or {})
        return resp["choices"][0]

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 32,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> str:
        body = {"messages": [dict(m) for m in messages], **self._body(max_tokens, temperature, stop, seed)}
        with self._lock:
            resp = self._load().handle_chat_completions(body)
        return (self._check(resp).get("message") or {}).get("content") or ""

    def complete(
        self, prompt: str, *, max_tokens: int = 32, temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> str:
        body = {"prompt": prompt, **self._body(max_tokens, temperature, stop)}
        with self._lock:
            resp = self._load().handle_completions(body)
        return self._check(resp).get("text") or ""

    def first_token_logprobs(self, messages: Sequence[Message], *, top: int = 10) -> dict[str, float]:
        body = {"messages": [dict(m) for m in messages], **self._body(1, 0.0, None),
                "logprobs": True, "top_logprobs": top}
        with self._lock:
            resp = self._load().handle_chat_completions(body)
        return top_logprobs(self._check(resp))

    def chat_many(self, batch, *, max_tokens=32, temperature=0.0, stop=None) -> list[str]:
        """One slot: in order, so the shared prefix stays in the KV cache between calls. Several
        slots: concurrently (llama.cpp decodes the slots' tokens in one batch)."""
        def one(m):
            return self.chat(m, max_tokens=max_tokens, temperature=temperature, stop=stop)

        if self.parallel == 1 or len(batch) < 2:
            return [one(m) for m in batch]
        self._load()
        with ThreadPoolExecutor(self.parallel) as pool:
            return list(pool.map(one, batch))

    def map(self, fn, jobs: list) -> list:
        """`fn(job)` for every job, on as many threads as there are slots (a job may make several
        calls that should share one slot's cached prompt)."""
        if self.parallel == 1 or len(jobs) < 2:
            return [fn(j) for j in jobs]
        self._load()
        with ThreadPoolExecutor(self.parallel) as pool:
            return list(pool.map(fn, jobs))

    def close(self) -> None:
        self._server = None  # the server object frees the model when collected
