"""The embedder as the judge of name candidates (best-of-n naming).

A journey's evidence is its shown titles and its keywords; its vector is their normalised mean. A
candidate name scores its cosine with its own journey's evidence, minus `distinct` times its
closest cosine with any other journey of the same user, so a name that would fit a sibling journey
as well as its own loses to one that tells the two apart. Rule checks (`journeys.name.rules`) are
the namer's job; the verifier only orders candidates that passed them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DISTINCT = 0.5  # weight of the closest other journey
KEYWORD_CANDIDATES = 3  # best keyword phrases (and their pairs) that compete with the LLM's names
KEYWORD_PENALTY = 0.0  # subtracted from a keyword phrase's score
EVIDENCE_KEYWORDS = 5  # keywords in a journey's evidence, next to its shown titles


@dataclass(frozen=True)
class Scored:
    name: str
    source: str
    own: float  # cosine with its journey's evidence
    other: float  # highest cosine with another journey of the user (0 when it has none)
    score: float


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


class Verifier:
    """Scores names against the evidence of each of one user's journeys."""

    def __init__(self, embed: Callable[[list[str]], object], evidence: Sequence[Sequence[str]],
                 distinct: float = DISTINCT, keyword_penalty: float = KEYWORD_PENALTY):
        self.embed = embed
        self.distinct = distinct
        self.keyword_penalty = keyword_penalty
        texts = [t for ev in evidence for t in ev]
        vecs = np.asarray(embed(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)
        rows, k = [], 0
        for ev in evidence:
            part = vecs[k:k + len(ev)]
            k += len(ev)
            rows.append(_unit(part.mean(axis=0)) if len(part) else None)
        dim = vecs.shape[1] if len(vecs) else 1
        self.centroids = np.stack([r if r is not None else np.zeros(dim, np.float32) for r in rows])

    def score(self, index: int, candidates: Sequence[tuple[str, str]]) -> list[Scored]:
        """(name, source) candidates of journey `index`, best first (ties: given order)."""
        if not candidates:
            return []
        vecs = np.asarray(self.embed([n for n, _ in candidates]), dtype=np.float32)
        sims = vecs @ self.centroids.T
        out = []
        for k, (name, source) in enumerate(candidates):
            own = float(sims[k, index])
            others = np.delete(sims[k], index)
            other = float(others.max()) if len(others) else 0.0
            score = own - self.distinct * max(other, 0.0)
            if source.startswith("keywords"):
                score -= self.keyword_penalty
            out.append((-score, k, Scored(name, source, round(own, 4), round(other, 4), round(score, 4))))
        return [s for _, _, s in sorted(out, key=lambda t: (t[0], t[1]))]


def evidence(titles: Sequence[str], keywords: Sequence[str], max_keywords: int = 5) -> list[str]:
    """What a name should describe: the shown titles and the best keywords."""
    return list(dict.fromkeys([*titles, *list(keywords)[:max_keywords]]))


def keyword_phrases(keywords: Sequence[str], n: int = KEYWORD_CANDIDATES) -> list[str]:
    """Name candidates from a journey's keywords (best first): its `n` best phrases, then pairs of
    them ("Sourdough and Rye") that share no word."""
    from journeys.name.keywords import _pretty

    best = list(dict.fromkeys(_pretty(k) for k in keywords if k.strip()))[:n]
    pairs = [f"{a} and {b}" for j, a in enumerate(best) for b in best[j + 1:]
             if not set(a.lower().split()) & set(b.lower().split())]
    return best + pairs
