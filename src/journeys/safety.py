"""Safety checks on generated journey names, and defences against untrusted item titles.

`check_name(name)` looks a name up in the maintained term list (`safety_terms.txt`: unsafe
categories and terms, plus allowed phrases) and returns the first unsafe category or None.

Item titles are untrusted input. `sanitize_title` makes a title inert text (one line, no control
or chat-template characters, clipped); `is_injection` spots titles that try to instruct the
model; `echoes_instructions` rejects names that repeat instruction words; `unsupported_words`
finds name words that only an injected title could have supplied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

TERMS_FILE = "safety_terms.txt"

_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|instructions|prompt|rules|above|previous|prior)\b"
    r"|\b(name|call|title|label)\s+(this|the|my)\s+(journey|interest|collection|list)\b"
    r"|\b(you are now|act as|pretend to be|new instructions?|system prompt|jailbreak)\b"
    r"|\b(respond|reply|answer|output|say)\s+(only\s+)?(with\s+)?[\"'“]"
    r"|<\|?\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|?>"
    r"|^\s*(system|assistant|user)\s*:",
    re.IGNORECASE,
)
_ECHO_WORDS = {
    "ignore", "instruction", "instructions", "prompt", "previous", "disregard", "journey",
    "assistant", "system", "jailbreak", "override", "pwned", "hacked",
}
_SPECIAL = re.compile(r"<\|[^|>]*\|>|[<>{}\[\]`|\\]")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


@lru_cache(maxsize=1)
def load_terms() -> tuple[dict[str, str], tuple[str, ...]]:
    """({term: category}, allowed phrases) from the package's maintained list."""
    text = resources.files("journeys").joinpath(TERMS_FILE).read_text("utf-8")
    terms: dict[str, str] = {}
    allow: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        category, term = (p.strip().lower() for p in line.split(":", 1))
        if category == "allow":
            allow.append(term)
        elif term:
            terms[term] = category
    return terms, tuple(allow)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_WORD.findall(text.replace("-", " ")))


@lru_cache(maxsize=1)
def _patterns() -> tuple[list[tuple[re.Pattern, str]], tuple[str, ...]]:
    terms, allow = load_terms()
    pats = [
        (re.compile(r"(?<!\w)" + re.escape(_norm(t)) + r"(?:s|es)?(?!\w)"), cat)
        for t, cat in sorted(terms.items(), key=lambda kv: -len(kv[0]))
    ]
    return pats, tuple(_norm(a) for a in allow)


def check_name(name: str) -> str | None:
    """The unsafe category the name falls in, or None when it is safe to show."""
    text = _norm(name)
    pats, allow = _patterns()
    for a in allow:
        text = text.replace(a, " ")
    for pat, category in pats:
        if pat.search(text):
            return category
    return None


def is_safe(name: str) -> bool:
    return check_name(name) is None


def sanitize_title(title: str, max_chars: int = 80) -> str:
    """A title as inert data: NFKC, no control characters, chat-template markers or brackets,
    one line, quotes normalised, clipped at a word boundary."""
    t = unicodedata.normalize("NFKC", str(title))
    t = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in t)
    t = _SPECIAL.sub(" ", t)
    t = t.replace('"', "'").replace("“", "'").replace("”", "'")
    t = " ".join(t.split())
    if len(t) > max_chars:
        cut = t[:max_chars]
        t = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return t.strip(" ,;:-")


def is_injection(title: str) -> bool:
    """Does the title try to instruct the model? Structural reading (journeys.injection) of the
    homoglyph-normalised text, plus a few well-known phrasings."""
    from journeys.injection import is_instruction, normalize

    return is_instruction(title) or bool(_INJECTION.search(normalize(title)))


def echoes_instructions(name: str) -> bool:
    words = set(_norm(name).split())
    return bool(words & _ECHO_WORDS) or is_injection(name)


def words(text: str) -> set[str]:
    return set(_norm(text).split())


def unsupported_words(name: str, trusted: Iterable[str], untrusted: Iterable[str]) -> set[str]:
    """Name words that occur in untrusted (injected) titles but in none of the trusted text:
    content the name could only have taken from an injection."""
    trusted_words = set().union(*(words(t) for t in trusted)) if trusted else set()
    bad_words = set().union(*(words(t) for t in untrusted)) if untrusted else set()
    return {w for w in words(name) if w in bad_words and w not in trusted_words}
