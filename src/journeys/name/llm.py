"""The `llm` namer, after ALLY: few-shot examples of curated collections and their names, then
"I interacted with items with titles: ... So, I may be interested in:" for the journey's most
representative titles (nearest the centroid first, capped).

Every name is validated (2-6 words, not a copy of one title, not generic, unique within the
user, no echoed instructions or injected content) and safety-checked. A rejected name is retried
once with the reason; a second failure, or an unsafe name, falls back to the keyword name.
`NamedJourney.source` records the path: "llm", "llm-retry", "keywords-fallback",
"keywords-unsafe" (the LLM name was unsafe) or "neutral" (the keyword name was unsafe too).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from journeys import safety
from journeys.injection import NameSupport
from journeys.llm.cache import MemoryCache, ResponseCache, request_key
from journeys.name import NAMERS, JourneyDraft, NamedJourney, NamingContext
from journeys.name.fewshot import FEWSHOT_FILE, load_fewshot
from journeys.name.keywords import keyword_names

PROMPT_VERSION = "ally-v2"
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
}
_PREFIX = re.compile(r"^(so,?\s*)?(i\s+)?(may|might|am|would)?\s*(be\s+)?(interested|into)\s+(in\s*)?:?\s*", re.I)


def user_prompt(titles: Sequence[str]) -> str:
    quoted = "; ".join(f'"{t}"' for t in titles)
    return f"I interacted with items with titles: {quoted}. So, I may be interested in:"


def build_messages(titles: Sequence[str], fewshot: bool = True, max_examples: int = 10) -> list[dict]:
    data = load_fewshot(FEWSHOT_FILE)
    messages = [{"role": "system", "content": data["system"]}]
    if fewshot:
        every = [e for e in data["examples"] if e["source"] == "everyday"]
        other = [e for e in data["examples"] if e["source"] != "everyday"]
        n_other = max_examples // 2
        chosen_every = every[: max_examples - n_other]
        chosen_other = other[:n_other]
        # alternate, ending on an everyday example (closest to the question)
        mixed: list[dict] = []
        for k in range(max(len(chosen_every), len(chosen_other))):
            if k < len(chosen_other):
                mixed.append(chosen_other[k])
            if k < len(chosen_every):
                mixed.append(chosen_every[k])
        for ex in mixed:
            messages.append({"role": "user", "content": user_prompt(ex["titles"])})
            messages.append({"role": "assistant", "content": ex.get("prompt_name") or ex["name"]})
    messages.append({"role": "user", "content": user_prompt(titles)})
    return messages


def clean_name(raw: str) -> str:
    """First line of the answer, without echoes of the prompt, quotes or trailing punctuation."""
    line = next((ln for ln in raw.strip().splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line.strip())
    line = line.strip().strip("\"'“”*`").strip()
    line = re.sub(r"[.!;:,]+$", "", line).strip().strip("\"'“”").strip()
    line = " ".join(line.split())
    return line[:1].upper() + line[1:] if line else line


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


@dataclass(frozen=True)
class DraftPrompt:
    titles: tuple[str, ...]  # sanitised titles shown to the model
    injected: tuple[str, ...]  # titles withheld as injection attempts
    trusted: tuple[str, ...]  # every clean title and keyword (what a name may draw on)
    support: NameSupport | None = None  # the shown titles, to check that several support a name


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
    # without an embedder a word's support cannot be judged beyond spelling: the check is skipped
    return DraftPrompt(tuple(shown), tuple(injected), trusted, NameSupport(shown, embed) if embed else None)


def validate(name: str, prompt: DraftPrompt, draft: JourneyDraft, used: set[str]) -> str | None:
    """The reason a name is rejected, or None when it is acceptable."""
    n_words = len(name.split())
    if not MIN_WORDS <= n_words <= MAX_WORDS:
        return f"use {MIN_WORDS} to {MAX_WORDS} words"
    key = " ".join(safety.words(name))
    if any(is_copy(name, t) for t in draft.titles):
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


def _without_injections(context: NamingContext, prompts: Sequence[DraftPrompt]) -> NamingContext:
    """The context for the keyword fallback, minus titles that tried to instruct the model and
    keywords that only such titles supplied (an injection must not win through the fallback)."""
    drafts = []
    for d, p in zip(context.drafts, prompts):
        if not p.injected:
            drafts.append(d)
            continue
        clean = tuple(t for t in d.titles if t not in p.injected)
        kws = tuple(k for k in d.keywords if not safety.unsupported_words(k, clean, p.injected))
        drafts.append(dataclasses.replace(d, titles=clean, keywords=kws,
                                          representative_titles=tuple(t for t in d.representative_titles
                                                                      if t not in p.injected)))
    return NamingContext(context.user_id, tuple(drafts), context.embed)


@NAMERS.register("llm")
class LLMNamer:
    """Options: backend ("local" | "openai") and its options (threads, base_url, model, ...),
    fewshot (bool), max_titles, max_examples, cache (a path, True for the default file, or
    False), or an `llm` / `response_cache` object."""

    name = "llm"

    def __init__(
        self,
        backend: str = "local",
        fewshot: bool = True,
        max_titles: int = 8,
        max_examples: int = 10,
        max_tokens: int = 16,
        cache: bool | str = True,
        llm=None,
        response_cache: ResponseCache | None = None,
        **backend_options: object,
    ):
        self.backend = backend
        self.fewshot = fewshot
        self.max_titles = max_titles
        self.max_examples = max_examples
        self.max_tokens = max_tokens
        self.backend_options = backend_options
        self._llm = llm
        if response_cache is not None:
            self.cache = response_cache
        elif cache is False:
            self.cache = MemoryCache()
        else:
            self.cache = ResponseCache(None if cache is True else cache)
        self.calls = 0  # LLM calls actually made (cache misses)

    @property
    def llm(self):
        if self._llm is None:
            from journeys.llm import LLMS

            self._llm = LLMS.create(self.backend, **self.backend_options)
        return self._llm

    @property
    def version(self) -> str:
        return f"{PROMPT_VERSION}:{'few' if self.fewshot else 'zero'}:{self.max_examples}"

    def _ask(self, batch: list[list[dict]]) -> list[str]:
        model = self.llm.name
        keys = [request_key(model, self.version, [m, self.max_tokens]) for m in batch]
        answers = [self.cache.get(k) for k in keys]
        todo = [i for i, a in enumerate(answers) if a is None]
        if todo:
            fresh = self.llm.chat_many([batch[i] for i in todo], max_tokens=self.max_tokens, stop=["\n"])
            self.calls += len(todo)
            for i, text in zip(todo, fresh):
                answers[i] = text
                self.cache.put(keys[i], model, text)
        return [a or "" for a in answers]

    def name_user(self, context: NamingContext) -> list[NamedJourney]:
        drafts = list(context.drafts)
        if not drafts:
            return []
        prompts = [prepare(d, self.max_titles, context.embed) for d in drafts]
        fallback = keyword_names(_without_injections(context, prompts))
        messages = [build_messages(p.titles, self.fewshot, self.max_examples) for p in prompts]
        first = self._ask([m for m, p in zip(messages, prompts) if p.titles])
        answers = iter(first)
        used: set[str] = set()
        out: list[NamedJourney] = []
        for i, (draft, prompt, msgs) in enumerate(zip(drafts, prompts, messages)):
            result = None
            if prompt.titles:
                name = clean_name(next(answers))
                reason = validate(name, prompt, draft, used)
                source = "llm"
                if reason is not None:
                    retry = msgs + [
                        {"role": "assistant", "content": name or "(no answer)"},
                        {"role": "user", "content": f"Not valid: {reason}. Answer with a better name only."},
                    ]
                    name = clean_name(self._ask([retry])[0])
                    reason = validate(name, prompt, draft, used)
                    source = "llm-retry"
                if reason is None:
                    result = (name, source) if safety.is_safe(name) else None
                    if result is None:
                        source = "keywords-unsafe"
                if result is None:
                    result = self._fallback(fallback[i], used, i, "keywords-fallback" if reason else source)
            else:
                result = self._fallback(fallback[i], used, i, "keywords-fallback")
            used.add(" ".join(safety.words(result[0])))
            out.append(NamedJourney(*result))
        return out

    @staticmethod
    def _fallback(name: str, used: set[str], index: int, source: str) -> tuple[str, str]:
        if safety.is_safe(name) and " ".join(safety.words(name)) not in used:
            return name, source
        n = index + 1
        while f"journey {n}" in used:
            n += 1
        return f"Journey {n}", "neutral"

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
