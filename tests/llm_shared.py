"""One real local LLM per test session (loading it and its few-shot prefix costs seconds)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def local_llm():
    from journeys.llm.local import LocalLLM

    return LocalLLM(threads=2)


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
