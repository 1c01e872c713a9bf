"""The keywords namer, Pinterest's first production namer: the best keyword phrase is the name."""

from __future__ import annotations

from journeys.name import NAMERS, NamedJourney, NamingContext


def _pretty(phrase: str) -> str:
    return " ".join(w if w.isupper() else w.capitalize() for w in phrase.split())


QUALIFIER_DEPTH = 6  # how far down the keywords a qualifier for a broad term may come from


def phrases(draft) -> list[str]:
    """A draft's name phrases, best first: the best keyword, qualified by the best keyword that is
    the journey's own when the best one is a category much of the catalogue shares ('Lucas Sci Fi',
    not 'Sci Fi'); then each keyword; then pairs of neighbouring keywords; then the first title."""
    kws = list(draft.keywords)
    broad = set(draft.broad)
    out: list[str] = []
    if kws and kws[0] in broad:
        top = kws[0]
        near = [k for k in kws[1:QUALIFIER_DEPTH] if top not in k and k not in top]
        qualifier = next((k for k in near if k not in broad), near[0] if near else None)
        if qualifier is not None:
            out.append(_pretty(f"{qualifier} {top}"))
    out += [_pretty(k) for k in kws]
    out += [_pretty(f"{a} {b}") for a, b in zip(kws, kws[1:]) if a not in b and b not in a]
    if draft.titles:
        out.append(draft.titles[0])
    return list(dict.fromkeys(out))


def keyword_names(context: NamingContext, fallback: str = "Journey") -> list[str]:
    """One name per draft from its keyword phrases (`phrases`), unique within the user
    (case-insensitively); a numbered fallback when every phrase is taken."""
    used: set[str] = set()
    names: list[str] = []
    for draft in context.drafts:
        name = next((c for c in phrases(draft) if c.lower() not in used), None)
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
