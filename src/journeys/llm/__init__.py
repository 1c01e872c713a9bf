"""LLM backends behind one small protocol, chosen by name from `LLMS`.

`local`: llama.cpp in-process (xllamacpp's prebuilt wheel) on the GGUF assembled by `journeys.llm.gguf`.
`native`: the same in-process, through llama-cpp-python compiled for this CPU (faster; one slot).
`auto` (the default): `native` where it is installed and one slot is asked for, else `local`.
`openai`: any OpenAI-compatible server (llama.cpp server, Ollama, vLLM, OpenAI) over HTTP.

Both are deterministic by default (temperature 0, fixed seed). A backend's `name` identifies the
model and is part of every cache key built on its output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from journeys.registry import Registry

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@runtime_checkable
class LLM(Protocol):
    name: str  # model identity, part of cache keys

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 32,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> str: ...

    def chat_many(
        self,
        batch: Sequence[Sequence[Message]],
        *,
        max_tokens: int = 32,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> list[str]: ...

    def first_token_logprobs(self, messages: Sequence[Message], *, top: int = 10) -> dict[str, float]:
        """Log-probabilities of the most likely first tokens of the reply (for judges)."""
        ...

    def close(self) -> None: ...


LLMS: Registry[LLM] = Registry("llm backend")
IN_PROCESS = ("auto", "local", "native")  # the backends that run a packaged model in this process

from journeys.llm import local, native, openai  # noqa: E402,F401  (registers the plug-ins)

__all__ = ["IN_PROCESS", "LLM", "LLMS", "Message"]
