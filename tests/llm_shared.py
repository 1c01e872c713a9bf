"""One real local LLM per test session (loading it and its few-shot prefix costs seconds)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def local_llm():
    from journeys.llm.local import LocalLLM

    return LocalLLM(threads=2)
