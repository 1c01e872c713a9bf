"""The keywords namer, Pinterest's first production namer: the best keyword phrase is the name."""

from __future__ import annotations

from journeys.name import NAMERS, NamedJourney, NamingContext


def _pretty(phrase: str) -> str:
    return " ".join(w if w.isupper() else w.capitalize() for w in phrase.split())


def keyword_names(context: NamingContext, fallback: str = "Journey") -> list[str]:
    """One name per draft from its keywords, unique within the user (case-insensitively): the best
    keyword phrase; on a collision the next keyword, then a pair of keywords, then the first title,
    then a numbered fallback."""
    used: set[str] = set()
    names: list[str] = []
    for draft in context.drafts:
        kws = list(draft.keywords)
        candidates = [_pretty(k) for k in kws]
        candidates += [_pretty(f"{a} {b}") for a, b in zip(kws, kws[1:]) if a not in b and b not in a]
        if draft.titles:
            candidates.append(draft.titles[0])
        name = next((c for c in candidates if c.lower() not in used), None)
        if name is None:
            n = 1
            while f"{fallback} {n}".lower() in used:
                n += 1
            name = f"{fallback} {n}"
        used.add(name.lower())
        names.append(name)
    return names


@NAMERS.register("keywords")
class KeywordsNamer:
    name = "keywords"

    def __init__(self):
        pass

    def name_user(self, context: NamingContext) -> list[NamedJourney]:
        return [NamedJourney(n, "keywords") for n in keyword_names(context)]
