"""An LLM judge for journey names, after Pinterest: rates (journey titles, name) on 5 levels.

Small local models cannot be trusted to write a calibrated 1-5 score directly (they answer "4"
to everything), so the judge asks a few-shot yes/no question, "does the name match the topic of
the items?", reads P(yes) from the first token's log-probabilities, and maps it onto five
levels. A one-line reason is generated on request. Works through any backend in `LLMS` that
returns logprobs (llama.cpp in-process or an OpenAI-compatible server). Validate it with
`journeys bench judge` before trusting it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from journeys.safety import sanitize_title

JUDGE_VERSION = "yesno-v1"
LEVELS = (0.45, 0.55, 0.65, 0.75)  # P(yes) cut points between levels 1|2|3|4|5 (see bench judge)
SYSTEM = "You check whether a name matches the topic of a list of items. Answer Yes or No."
SHOTS = (
    (("Feeding a sourdough starter", "Overnight country loaf recipe", "Scoring patterns for bread"),
     "Sourdough bread baking", "Yes"),
    (("Blade Runner (1982)", "Aliens (1986)", "RoboCop (1987)"), "Gardening tips", "No"),
    (("Japan Rail Pass: is it worth it?", "Two weeks in Tokyo and Kyoto", "Cheap ryokans in Hakone"),
     "Travel in Japan", "Yes"),
    (("16-week marathon plan", "How to pace your long runs", "Tapering before race day"),
     "Bird watching", "No"),
    (("Toy Story (1995)", "Finding Nemo (2003)", "Up (2009)"), "Pixar animated films", "Yes"),
    (("Rootless voicings explained", "ii-V-I progressions", "Blues scale exercises"),
     "Cooking Italian food", "No"),
)


@dataclass(frozen=True)
class Judgement:
    rating: int  # 1 (wrong) .. 5 (accurate and specific)
    p_yes: float  # the judge's probability that the name fits; finer than the rating
    reason: str = ""


def _question(titles: Sequence[str], name: str) -> str:
    items = "; ".join(f'"{sanitize_title(t, 60)}"' for t in titles)
    return f'Items: {items}\nName: "{sanitize_title(name, 80)}"\nDoes the name match the topic of the items?'


def messages(titles: Sequence[str], name: str) -> list[dict]:
    out = [{"role": "system", "content": SYSTEM}]
    for shot_titles, shot_name, answer in SHOTS:
        out.append({"role": "user", "content": _question(shot_titles, shot_name)})
        out.append({"role": "assistant", "content": answer})
    out.append({"role": "user", "content": _question(titles, name)})
    return out


def p_yes(logprobs: dict[str, float]) -> float:
    yes = sum(math.exp(v) for k, v in logprobs.items() if k.lower() == "yes")
    no = sum(math.exp(v) for k, v in logprobs.items() if k.lower() == "no")
    return yes / (yes + no) if yes + no > 0 else 0.5


def level(p: float, cuts=LEVELS) -> int:
    return 1 + sum(p >= cut for cut in cuts)


def calibrate(p_values, shares=(0.2, 0.4, 0.6, 0.8)) -> tuple[float, ...]:
    """Cut points that split a calibration sample's P(yes) into five equal-sized levels; fit them
    on collections other than the ones the judge is then evaluated on."""
    import numpy as np

    return tuple(round(float(q), 4) for q in np.quantile(np.asarray(list(p_values), dtype=float), shares))


class Judge:
    def __init__(self, llm, max_titles: int = 8, reasons: bool = True):
        self.llm = llm
        self.max_titles = max_titles
        self.reasons = reasons

    def score(self, titles: Sequence[str], name: str) -> float:
        return p_yes(self.llm.first_token_logprobs(messages(list(titles)[: self.max_titles], name)))

    def judge(self, titles: Sequence[str], name: str) -> Judgement:
        msgs = messages(list(titles)[: self.max_titles], name)
        p = p_yes(self.llm.first_token_logprobs(msgs))
        reason = ""
        if self.reasons:
            follow = msgs + [
                {"role": "assistant", "content": "Yes" if p >= 0.5 else "No"},
                {"role": "user", "content": "Why? Answer in one short sentence."},
            ]
            text = self.llm.chat(follow, max_tokens=40, stop=["\n"])
            line = next((ln for ln in text.splitlines() if ln.strip()), "")
            reason = " ".join(line.split())[:200]
        return Judgement(level(p), round(p, 4), reason)


def judge_journeys(journeys, titles_of, llm, reasons: bool = True, progress=None) -> list[dict]:
    """Rate stored journeys: `titles_of(journey)` gives its titles (representative first).
    Returns one dict per journey: journey_id, user_id, name, name_source, rating, p_yes, reason."""
    judge = Judge(llm, reasons=reasons)
    out = []
    for j in journeys:
        verdict = judge.judge(titles_of(j), j.name)
        out.append({"journey_id": j.journey_id, "user_id": j.user_id, "name": j.name,
                    "name_source": j.name_source, "rating": verdict.rating,
                    "p_yes": verdict.p_yes, "reason": verdict.reason})
        if progress is not None:
            progress(1)
    return out
