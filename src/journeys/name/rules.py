"""The rules every generated name must pass, whoever proposed it (an LLM sample, a retry, a
keyword phrase): 2-6 words, not a copy of one title, not generic, no echoed instructions, no word
that only an injected title supplied, and (with an embedder) words that several titles support.
`validate` returns the reason a name fails, which is also what a retry tells the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from journeys import safety
from journeys.injection import NameSupport
from journeys.name import JourneyDraft

MIN_WORDS, MAX_WORDS = 2, 6
GENERIC_WORDS = {
    "stuff", "things", "thing", "i", "like", "likes", "my", "me", "various", "misc", "miscellaneous",
    "interest", "interests", "item", "items", "collection", "collections", "other", "others",
    "random", "general", "assorted", "some", "and", "the", "a", "an", "of", "for", "to", "in",
    "with", "on", "all", "kinds", "types", "favorite", "favourite", "favorites", "cool", "good",
    "great", "best", "fun", "popular", "list", "lists", "content", "media", "entertainment",
    "movies", "movie", "films", "film", "videos", "video", "music", "songs", "books", "shows",
    "tv", "software", "packages", "package", "programs", "apps", "applications", "tools",
    "products", "topics", "topic", "hobbies", "hobby", "learning", "more", "new", "watching",
    "no", "none", "answer", "answers", "description", "unknown", "untitled",  # a model's non-answers
}

def _content(text: str) -> list[str]:
    return [w for w in " ".join(safety.words(text)).split() if not w.isdigit()] if text else []


def is_copy(name: str, title: str) -> bool:
    """The name repeats one title: the same words (years aside), or a run of the title's words
    that covers most of it ("Toy Story" for "Toy Story (1995)")."""
    n, t = _content(name.lower()), _content(title.lower())
    if not n or not t:
        return False
    if n == t:
        return True
    joined, whole = " " + " ".join(n) + " ", " " + " ".join(t) + " "
    return joined in whole and len(n) >= 0.6 * len(t)


# words that describe any interest ("... tips", "... for beginners"): they need no title's support
DESCRIPTORS = {
    "tips", "techniques", "technique", "guide", "guides", "basics", "ideas", "projects", "skills", "methods",
    "essentials", "adventures", "classics", "culture", "history", "art", "arts", "care", "lovers", "fans",
    "beginners", "beginner", "advanced", "diy", "recipes", "how", "howto", "at", "home", "from", "by", "into",
    "your", "its", "their", "about", "is", "are", "world", "life", "style", "styles", "series", "making",
}


def content_words(name: str) -> list[str]:
    """The words of a name that must be supported by the journey's titles."""
    return [w for w in _content(name.lower()) if w not in GENERIC_WORDS and w not in DESCRIPTORS and len(w) > 1]


def only_categories(name: str, broad) -> bool:
    """True when every content word of the name comes from the catalogue's categories (keywords
    that much of the catalogue carries: "Sci Fi", "Crime and Thriller"): a genre is not a journey."""
    words = content_words(name)
    cats = {w for k in broad for w in _content(k.lower())}
    return bool(words) and bool(cats) and all(w in cats for w in words)


@dataclass(frozen=True)
class DraftPrompt:
    titles: tuple[str, ...]  # sanitised titles shown to the model
    injected: tuple[str, ...]  # titles withheld as injection attempts
    trusted: tuple[str, ...]  # every clean title and keyword (what a name may draw on)
    support: NameSupport | None = None  # the shown titles, to check that several support a name


SUPPORT_TITLES = 40


def prepare(draft: JourneyDraft, max_titles: int, embed=None) -> DraftPrompt:
    source = draft.representative_titles or draft.titles
    clean, injected = [], []
    for t in source:
        (injected if safety.is_injection(t) else clean).append(t)
    shown: list[str] = []
    for t in clean:
        s = safety.sanitize_title(t, 60)
        if s and s not in shown:
            shown.append(s)
        if len(shown) == max_titles:
            break
    clean_titles = tuple(clean) + tuple(t for t in draft.titles if not safety.is_injection(t))
    kws = tuple(k for k in draft.keywords if not safety.unsupported_words(k, clean_titles, injected))
    trusted = clean_titles + kws
    # support is counted over every clean title of the journey (up to SUPPORT_TITLES), not only the
    # few shown: a word that many of its items carry is the journey's own even when the shown
    # titles happen to hold it once, while an injected payload still sits in one title only.
    # Without an embedder a word's support cannot be judged beyond spelling: the check is skipped
    support = [s for s in dict.fromkeys(safety.sanitize_title(t, 60) for t in clean_titles) if s][:SUPPORT_TITLES]
    return DraftPrompt(tuple(shown), tuple(injected), trusted, NameSupport(support, embed) if embed else None)


def _own_word(name: str, prompt: DraftPrompt) -> bool:
    """A one-word name passes when it is the journey's own word, not a generic one: at least
    two of its titles carry it ("Econometrics", "Csound"), and it is no bare category the titles
    do not say ("Drama", "Science")."""
    words = content_words(name)
    return (len(words) == 1 and prompt.support is not None and words[0] not in ONE_WORD_GENERIC
            and prompt.support.lexical(words[0]) >= 2)


def _shared(name: str, prompt: DraftPrompt) -> bool:
    """Is the name what several titles share, word for word ("Keycap" for "keycap: 3", "keycap: 8")?
    Then it copies no single title."""
    words = content_words(name)
    return bool(words) and prompt.support is not None and all(prompt.support.lexical(w) >= 2 for w in words)


ONE_WORD_GENERIC = {"data", "science", "technology", "development", "education", "programming", "library",
                    "libraries", "utilities", "utility", "system", "systems", "files", "file", "support",
                    "debian", "linux", "python", "gnu", "module", "modules", "plugin", "plugins", "server"}


def validate(name: str, prompt: DraftPrompt, draft: JourneyDraft, used: set[str]) -> str | None:
    """The reason a name is rejected, or None when it is acceptable."""
    n_words = len(name.split())
    if not (MIN_WORDS <= n_words <= MAX_WORDS or (n_words == 1 and _own_word(name, prompt))):
        return f"use {MIN_WORDS} to {MAX_WORDS} words"
    key = " ".join(safety.words(name))
    if any(is_copy(name, t) for t in draft.titles) and not _shared(name, prompt):
        return "do not copy one title; describe the interest"
    if not (safety.words(name) - GENERIC_WORDS):
        return "too generic; be specific"
    if key in used:
        return "that name is already used for another interest; give a different one"
    if safety.echoes_instructions(name):
        return "describe the items only"
    if prompt.injected and safety.unsupported_words(name, prompt.trusted, prompt.injected):
        return "describe the items only"
    if prompt.support is not None:
        return prompt.support.check(content_words(name))
    return None
