"""The `native` backend: llama.cpp in-process through llama-cpp-python, compiled on this machine.

The `local` backend runs xllamacpp's prebuilt wheel, whose llama.cpp kernels stop at AVX2. This
one runs llama-cpp-python built from source at install time with `GGML_NATIVE=ON` (extra
`llm-native`, `make install` builds it), so llama.cpp uses what this CPU has (AVX-512, VNNI, BF16
where present): on this project's 2-core AVX-512 host, short naming calls after a cached prefix
run about 1.3x faster with the same answers (docs/naming.md).

Same packaged GGUF, same chat template, prompts and sampling settings as `local`: greedy with a
fixed seed by default. One sequence (no slots): its KV cache keeps the longest common prefix with
the previous call, and a prompt prefix that two calls in a row shared (a fixed few-shot prefix) is
kept aside as a snapshot of its KV cells, restored when a later call starts with it again after
other prompts (retries) have taken the sequence over; so the prefix is evaluated once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path

from journeys.errors import ConfigError, require
from journeys.llm import LLMS, Message
from journeys.llm.local import LLMError, PackagedModel

EXTRA = "llm-native"
MIN_SHARED = 128  # tokens two consecutive prompts must share before that prefix is kept aside
KEPT = 4  # prefixes kept aside, least recently used dropped first


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@LLMS.register("native")
class NativeLLM(PackagedModel):
    """llama.cpp built for this CPU. `model` picks a packaged model by id (`journeys.llm.gguf.MODELS`,
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
        self._packaged("native", model_path, threads, n_ctx, seed, model)
        if int(parallel) > 1:
            raise ConfigError("the native LLM backend decodes one request at a time; "
                              "use the local backend for parallel slots")
        self.parallel = 1
        self._llm = None
        self._format = None  # the model's chat template
        self._prev: list[int] = []  # the previous call's prompt tokens
        self._kept: list[tuple[list[int], bytes]] = []  # (prefix tokens, KV cells), most recent last
        self.restores = 0  # calls that started from a kept prefix
        self._lock = threading.Lock()  # one sequence: one request at a time, in order

    def _load(self):
        if self._llm is None:
            lc = require("llama_cpp", EXTRA)
            from journeys.llm.gguf import model_path as packaged_model

            path = self.model_path or packaged_model(model=self.model)
            self._llm = lc.Llama(
                model_path=str(path), n_ctx=self.n_ctx, n_batch=512, n_threads=self.threads,
                n_threads_batch=self.threads, seed=self.seed, verbose=False,
            )
            self._format = self._formatter(self._llm)
        return self._llm

    @staticmethod
    def _formatter(llm):
        """The GGUF's own chat template, as llama-cpp-python applies it in create_chat_completion."""
        from llama_cpp import llama_chat_format

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError("the GGUF carries no chat template")
        model = llm._model
        eos, bos = llm.token_eos(), llm.token_bos()
        return llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "", stop_token_ids=[eos])

    def _tokens(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        result = self._format(messages=[dict(m) for m in messages])
        tokens = self._llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        stops = result.stop if isinstance(result.stop, list) else ([result.stop] if result.stop else [])
        return tokens, stops

    def _restore_prefix(self, tokens: list[int]) -> None:
        """Start from the longest kept prefix of this prompt when it covers more of the prompt than
        the sequence does."""
        import ctypes

        import llama_cpp

        fits = [k for k in self._kept if len(k[0]) < len(tokens) and tokens[:len(k[0])] == k[0]]
        if not fits:
            return
        best = max(fits, key=lambda k: len(k[0]))
        self._touch(best)
        prefix, data = best
        llm = self._llm
        if common_prefix(llm._input_ids.tolist(), tokens) >= len(prefix):
            return
        ctx = llm._ctx
        ctx.kv_cache_seq_rm(0, 0, -1)
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(ctx.ctx, buf, len(data), 0) != len(data):
            llm.reset()
            return
        ctx.kv_cache_seq_rm(0, len(prefix), -1)
        llm.input_ids[:len(prefix)] = prefix
        llm.n_tokens = len(prefix)
        self.restores += 1

    def _touch(self, kept) -> None:
        """Most recently used last."""
        self._kept.remove(kept)
        self._kept.append(kept)

    def _keep_prefix(self, tokens: list[int]) -> None:
        """After a call: keep aside the prefix this prompt shares with the previous one, when it is
        long and no kept prefix already covers its start."""
        import ctypes

        import llama_cpp

        shared = common_prefix(self._prev, tokens)
        self._prev = tokens
        if shared < MIN_SHARED:
            return
        for kept in self._kept:
            if len(kept[0]) <= shared and tokens[:len(kept[0])] == kept[0]:
                self._touch(kept)
                return
        ctx = self._llm._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        if n:
            self._kept = [*self._kept, (list(tokens[:shared]), bytes(buf[:n]))][-KEPT:]

    def _perf(self) -> tuple[float, float, int, int]:
        import llama_cpp

        p = llama_cpp.llama_perf_context(self._llm._ctx.ctx)
        return p.t_p_eval_ms, p.t_eval_ms, p.n_p_eval, p.n_eval

    def _call(self, messages: Sequence[Message], max_tokens: int, temperature: float,
              stop: Sequence[str] | None, seed: int | None, logits_processor=None) -> dict:
        sampling = ({"temperature": 0.0, "top_k": 1} if temperature == 0
                    else {"temperature": temperature, "top_k": 40, "top_p": 0.95, "min_p": 0.05})
        with self._lock:
            llm = self._load()
            tokens, template_stops = self._tokens(messages)
            self._restore_prefix(tokens)
            before = self._perf()
            try:
                resp = llm.create_completion(
                    tokens, max_tokens=max_tokens, stop=[*(stop or ()), *template_stops] or None,
                    seed=self.seed if seed is None else seed, repeat_penalty=1.0,
                    logits_processor=logits_processor, **sampling,
                )
            except (ValueError, RuntimeError) as exc:
                raise LLMError(f"native LLM failed: {exc}"[:300]) from exc
            after = self._perf()
            self._keep_prefix(tokens)
        if not isinstance(resp, dict) or not resp.get("choices"):
            raise LLMError(f"native LLM failed: {resp!r}"[:300])
        prompt_ms, predicted_ms = after[0] - before[0], after[1] - before[1]
        prompt_n, predicted_n = after[2] - before[2], after[3] - before[3]
        n_prompt = int((resp.get("usage") or {}).get("prompt_tokens") or 0)
        # the sampled first token comes from the prompt's last logits, later ones each cost a decode
        n_out = int((resp.get("usage") or {}).get("completion_tokens") or 0)
        self._count({"prompt_n": prompt_n, "cache_n": max(0, n_prompt - prompt_n),
                     "predicted_n": max(predicted_n, n_out), "prompt_ms": prompt_ms, "predicted_ms": predicted_ms})
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
        return self._call(messages, max_tokens, temperature, stop, seed).get("text") or ""

    def first_token_logprobs(self, messages: Sequence[Message], *, top: int = 10) -> dict[str, float]:
        """{token text (stripped): logprob} of the `top` most likely first tokens, from the logits
        the first token is sampled from (a text met twice keeps its larger logprob)."""
        import numpy as np

        seen: list = []

        def capture(input_ids, scores):
            seen.append(np.array(scores, dtype=np.float64, copy=True))
            return scores

        self._call(messages, 1, 0.0, None, None, logits_processor=[capture])
        if not seen:
            raise LLMError("the native LLM returned no logits")
        logits = seen[0]
        finite = np.isfinite(logits)
        m = logits[finite].max()
        logz = m + math.log(float(np.exp(logits[finite] - m).sum()))
        order = np.argsort(-np.where(finite, logits, -np.inf), kind="stable")[:top]
        out: dict[str, float] = {}
        for tok in order:
            text = self._llm.detokenize([int(tok)]).decode("utf-8", errors="ignore").strip()
            if text not in out:
                out[text] = float(logits[tok] - logz)
        return out

    def chat_many(self, batch, *, max_tokens=32, temperature=0.0, stop=None) -> list[str]:
        """In order, so a shared prefix stays in the KV cache between calls."""
        return [self.chat(m, max_tokens=max_tokens, temperature=temperature, stop=stop) for m in batch]

    def map(self, fn, jobs: list) -> list:
        return [fn(j) for j in jobs]

    def close(self) -> None:
        if self._llm is not None:
            with self._lock:
                self._llm.close()
                self._llm, self._kept, self._prev = None, [], []


@LLMS.register("auto")
def auto(**options):
    """The fastest local engine installed: `native` when llama-cpp-python is there and one slot is
    asked for, else the prebuilt `local` one (which also serves several slots)."""
    import importlib.util

    from journeys.llm.local import LocalLLM

    if int(options.get("parallel", 1) or 1) <= 1 and importlib.util.find_spec("llama_cpp") is not None:
        return NativeLLM(**options)
    return LocalLLM(**options)
