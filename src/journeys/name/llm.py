"""The `llm` namer: best-of-n naming with the embedder as the judge.

For each journey the model sees a few examples from a multi-domain pool, the ones nearest the
journey (`fewshot.ExampleSelector`; none in zero-shot), then the journey's most representative
titles, and proposes several names: the greedy answer plus `samples` sampled answers of the same
prompt (the prompt stays in the slot's KV cache, so each extra candidate costs only its few
generated tokens). Every candidate passes the rules (`journeys.name.rules`: 2-6 words, not a copy
of one title, not generic, supported by several titles, no echoed instructions or injected words)
and `journeys.safety`, and so do the journey's best keyword phrases; the verifier
(`journeys.name.verify`) ranks all survivors by similarity to the journey's titles and keywords and
distinctness from the user's other journeys, and the best wins. When no LLM candidate survives, the
question is asked afresh (no examples, other words, greedy and sampled); only when that fails too
does a keyword phrase stand in as the fallback. `NamedJourney.source`: "llm" (the greedy answer
won), "llm-sample" (a sampled one), "llm-retry", "keywords-verified" (an LLM candidate passed but a
keyword phrase scored higher), "keywords-fallback" (no LLM candidate passed), "keywords-unsafe" (the
LLM names were unsafe) or "neutral".

With a local backend of several slots (`parallel`), the journeys of a user are prompted
concurrently and llama.cpp decodes them in one batch.

`per_call=1` (issue 11 throughput; not the default: it loses quality on the emoji domain) chooses
no examples per journey: a fixed prefix (system prompt with the question, 8 pool examples) stays in
llama.cpp's KV cache and each call evaluates only the journey's short turn (`journeys.name.batch`);
`per_call=K` puts K journeys in one call as numbered lines. Every mode's candidates go through the
same rules, verifier, retry and fallback.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from journeys import safety
from journeys.llm.cache import MemoryCache, ResponseCache, request_key
from journeys.name import NAMERS, NamedJourney, NamingContext, batch
from journeys.name.fewshot import POOL_FILE, ExampleSelector, load_pool
from journeys.name.keywords import _pretty, keyword_names
from journeys.name.rules import (  # noqa: F401  (re-exported: the rules used to live here)
    DESCRIPTORS, GENERIC_WORDS, MAX_WORDS, MIN_WORDS, DraftPrompt, content_words, is_copy, only_categories, prepare,
    validate,
)
from journeys.name.verify import (EVIDENCE_KEYWORDS, KEYWORD_CANDIDATES, KEYWORD_PENALTY, Verifier, evidence,
                                  keyword_phrases)

PROMPT_VERSION = "topic-v3"
_PREFIX = re.compile(r"^(so,?\s*)?(i\s+)?(may|might|am|would)?\s*(be\s+)?(interested|into)\s+(in\s*)?:?\s*", re.I)
_ECHO = re.compile(r"^(in \d+ (to \d+ )?words,?\s*)?((these|the) items|they)( all)? (share|have in common|are about)"
                   r"( the (topic|hobby|interest|theme) of)?\s*:?\s*", re.I)
_LABEL = re.compile(r"^(\d+[.)]\s*|[-*•]\s*|(name|interest|topic|answer)\s*:\s*)", re.I)


RETRY_QUESTION = "\nGive this group of items a short descriptive title of 2 to 5 words, not a single word."


def user_prompt(titles: Sequence[str], keywords: Sequence[str] = ()) -> str:
    quoted = "; ".join(f'"{t}"' for t in titles)
    hint = f"\nWords they share: {', '.join(keywords)}." if keywords else ""
    return (f"Items: {quoted}.{hint}\nIn 2 to 5 words, what topic or hobby do these items share? "
            "Answer with a descriptive noun phrase.")


def build_messages(titles: Sequence[str], fewshot: bool = True, max_examples: int = 4,
                   examples: Sequence[dict] | None = None, keywords: Sequence[str] = ()) -> list[dict]:
    """System prompt, the examples (given, or the first of the pool), the journey's titles."""
    data = load_pool(POOL_FILE)
    messages = [{"role": "system", "content": data["system"]}]
    if fewshot:
        for ex in (data["examples"][:max_examples] if examples is None else examples):
            messages.append({"role": "user", "content": user_prompt(ex["titles"])})
            messages.append({"role": "assistant", "content": ex.get("prompt_name") or ex["name"]})
    messages.append({"role": "user", "content": user_prompt(titles, keywords)})
    return messages


def _list_as_phrase(line: str) -> str:
    """A short list ("Mailbox, envelope", "Harp, Pick") as one phrase: "Mailbox and envelope"; a long
    one keeps its first two entries."""
    parts = [p.strip() for p in re.split(r"\s*[,/]\s*", line) if p.strip()]
    if len(parts) < 2 or any(len(p.split()) > 3 or " and " in f" {p} " for p in parts):
        return line
    if sum(len(p.split()) for p in parts) + 1 > MAX_WORDS:
        parts = parts[:2]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def clean_name(raw: str) -> str:
    """First line of the answer, without echoes of the prompt, list marks, labels, quotes or
    trailing punctuation."""
    line = next((ln for ln in raw.strip().splitlines() if ln.strip()), "")
    line = _ECHO.sub("", _PREFIX.sub("", line.strip()))
    for _ in range(2):  # "1. Topic: ..."
        line = _LABEL.sub("", line.strip())
    line = line.strip().strip("\"'“”*`").strip()
    line = re.sub(r"[.!;:,]+$", "", line).strip().strip("\"'“”").strip()
    line = _list_as_phrase(" ".join(line.split()))
    return line[:1].upper() + line[1:] if line else line


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


def beyond_categories(candidates: Sequence[tuple[str, str]], broad) -> list[tuple[str, str]]:
    """The fallback's keyword phrases without those made only of the catalogue's categories
    ("Sci Fi" when the keywords namer said "Gilliam Sci Fi"): all of them when none is left."""
    return [c for c in candidates if not only_categories(c[0], broad)] or list(candidates)


RETRY_FIRST = 2  # sampled answers a retry always asks for; more only while none passes the rules


def _key(name: str) -> str:
    return " ".join(safety.words(name))


@NAMERS.register("llm")
class LLMNamer:
    """Options: backend ("auto" | "local" | "native" | "openai") and its options (threads, parallel, model, base_url,
    ...), fewshot (bool), max_examples, fewshot_exclude (pool sources never shown),
    fewshot_exclude_keys, samples (extra sampled candidates), temperature, distinct (verifier
    weight), max_titles, cache (a path, True for the default file, or False), or an `llm` /
    `response_cache` object. per_call: K >= 1 journeys per call after a fixed, cached prefix
    (`journeys.name.batch`; default 1, the fast mode), with batch_examples fixed examples,
    batch_titles titles and batch_keywords keywords per journey; 0: one journey per call with its
    own nearest examples (the per-journey mode, ~4x slower, as good on the benchmarks). samples
    default 2 for per_call 0, 0 otherwise; a retry asks for its greedy answer and 2 samples, then
    more samples one by one while none passes the rules, up to retry_samples (4: chosen on held-out
    users, docs/naming.md)."""

    name = "llm"

    def __init__(
        self,
        backend: str = "auto",
        fewshot: bool = True,
        max_titles: int = 8,
        max_examples: int = 4,
        max_tokens: int = 16,
        samples: int | None = None,
        temperature: float = 0.8,
        distinct: float = 0.5,
        hint_keywords: int = 4,
        keyword_candidates: int = KEYWORD_CANDIDATES,
        keyword_penalty: float = KEYWORD_PENALTY,
        evidence_keywords: int = EVIDENCE_KEYWORDS,
        fewshot_exclude: Sequence[str] = (),
        fewshot_exclude_keys: Sequence[str] = (),
        per_call: int = 1,
        retry_samples: int = 4,
        batch_examples: int = 8,
        batch_titles: int = batch.BATCH_TITLES,
        batch_keywords: int = 3,
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
        self.per_call = max(0, int(per_call))
        self.retry_samples = max(0, int(retry_samples))  # sampled answers of a retry, at most (a retry is rare)
        # extra candidates: cheap for per-journey prompts (2), decoding that costs names/s otherwise (0)
        self.samples = (2 if self.per_call == 0 else 0) if samples is None else samples
        self.temperature = temperature
        self.distinct = distinct
        self.hint_keywords = hint_keywords
        self.keyword_candidates = keyword_candidates
        self.keyword_penalty = keyword_penalty
        self.evidence_keywords = evidence_keywords
        self.trace_: list[dict] = []  # per journey of the last user: rejection reasons, retry, source
        self.fewshot_exclude = tuple(fewshot_exclude)
        self.fewshot_exclude_keys = tuple(fewshot_exclude_keys)
        self.batch_examples = batch_examples
        self.batch_titles = batch_titles
        self.batch_keywords = batch_keywords
        self.backend_options = backend_options
        self._llm = llm
        self._selectors: dict[int, ExampleSelector] = {}
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
        shots = (f"few{self.max_examples}-{','.join(sorted(self.fewshot_exclude))}" if self.fewshot
                 else f"zero-hint{self.hint_keywords}")
        if self.per_call:
            shots += f":batch{self.per_call}-{self.batch_examples}-{self.batch_titles}-{self.batch_keywords}"
        return f"{PROMPT_VERSION}:{shots}"

    def _ask(self, messages: list[dict], temperature: float = 0.0, seed: int | None = None,
             max_tokens: int | None = None, stop: Sequence[str] | None = None) -> str:
        """One call (or its cached answer). A batch call gives `max_tokens` and its own `stop`
        (its answer has several lines); otherwise the answer ends at the first line."""
        model = self.llm.name
        tokens = max_tokens or self.max_tokens
        stop = list(stop) if stop else ["\n"]
        request = [messages, tokens] if temperature == 0 else [messages, tokens, temperature, seed]
        if stop != ["\n"]:
            request.append(stop)
        key = request_key(model, self.version, request)
        answer = self.cache.get(key)
        if answer is None:
            kw = {} if seed is None else {"seed": seed}
            answer = self.llm.chat(messages, max_tokens=tokens, temperature=temperature, stop=stop, **kw)
            self.calls += 1
            self.cache.put(key, model, answer or "")
        return answer or ""

    def _candidates(self, messages: list[dict], samples: int | None = None) -> list[str]:
        """The greedy answer, then `samples` (default: the namer's) sampled answers: one journey's
        calls, in one slot, in order."""
        out = [self._ask(messages)]
        n = self.samples if samples is None else samples
        out += [self._ask(messages, self.temperature, seed=s) for s in range(1, n + 1)]
        return out

    def _selector(self, embed) -> ExampleSelector:
        sel = self._selectors.get(id(embed))
        if sel is None:
            sel = self._selectors[id(embed)] = ExampleSelector(embed, self.fewshot_exclude, self.fewshot_exclude_keys)
        return sel

    def messages_for(self, titles: Sequence[str], embed=None, keywords: Sequence[str] = ()) -> list[dict]:
        if not self.fewshot:  # no examples to imitate: the journey's shared words help the model most
            hint = list(keywords)[: self.hint_keywords]
            return build_messages(titles, fewshot=False, keywords=hint)
        return build_messages(titles, examples=self._selector(embed).select(titles, self.max_examples))

    def _fixed_examples(self) -> list[dict]:
        """`batch_examples` pool examples, sources taken in turn (evaluated domains excluded): the
        same for every call, so the prompt's start stays in the KV cache."""
        if not (self.fewshot and self.batch_examples):
            return []
        pool = self._selector(None).examples
        by_source: dict[str, list[dict]] = {}
        for e in pool:
            by_source.setdefault(e["source"], []).append(e)
        queues = [list(v) for _, v in sorted(by_source.items())]
        examples: list[dict] = []
        while len(examples) < min(self.batch_examples, len(pool)):
            for q in queues:
                if q and len(examples) < self.batch_examples:
                    examples.append(q.pop(0))
        return examples

    def _batch_prefix(self, embed) -> list[dict]:
        """The fixed start of every batch prompt (system prompt, the fixed examples as one exchange)."""
        prefix = getattr(self, "_prefix", None)
        if prefix is None:
            prefix = self._prefix = batch.prefix_messages(self._fixed_examples())
        return prefix

    def _generate(self, prompts, drafts, embed) -> tuple[list, list]:
        """Per journey: the messages a retry continues (None: no titles to show) and the raw
        candidates (greedy first), one journey per call or `per_call` per call."""
        runner = getattr(self.llm, "map", None)
        if self.per_call == 1:  # one journey per call, the fixed examples first (a shared, cached prefix)
            if getattr(self, "_shared", None) is None:
                self._shared = batch.shared_prefix(self._fixed_examples(), load_pool(POOL_FILE)["system"])
            kws = self.batch_keywords if self.fewshot else self.hint_keywords
            messages = [self._shared + [{"role": "user", "content": batch.item_turn(
                batch.short_titles(p.titles, self.batch_titles), d.keywords[:kws])}] if p.titles else None
                for p, d in zip(prompts, drafts)]
            return self._each(messages, runner)
        if self.per_call:
            kws = self.batch_keywords if self.fewshot else self.hint_keywords
            groups = [batch.group_line(p.titles, d.keywords[:kws], self.batch_titles) if p.titles else None
                      for p, d in zip(prompts, drafts)]
            return batch.generate(groups, self._batch_prefix(embed), self._ask, runner, self.per_call,
                                  getattr(self.llm, "parallel", 1), self.samples, self.temperature)
        messages = [self.messages_for(p.titles, embed, d.keywords) if p.titles else None
                    for p, d in zip(prompts, drafts)]
        return self._each(messages, runner)

    def _each(self, messages: list, runner) -> tuple[list, list]:
        """Each journey's own prompt (None: nothing to show) -> its candidates, on the backend's
        slots when it has several."""
        jobs = [m for m in messages if m is not None]
        answers = iter(runner(self._candidates, jobs) if runner else [self._candidates(m) for m in jobs])
        return messages, [next(answers) if m is not None else [] for m in messages]

    def name_user(self, context: NamingContext) -> list[NamedJourney]:
        drafts = list(context.drafts)
        if not drafts:
            return []
        prompts = [prepare(d, self.max_titles, context.embed) for d in drafts]
        clean_ctx = _without_injections(context, prompts)
        fallback = keyword_names(clean_ctx)
        messages, generated = self._generate(prompts, clean_ctx.drafts, context.embed)
        answers = iter(raw for raw, m in zip(generated, messages) if m is not None)
        verifier = None
        if context.embed is not None:
            verifier = Verifier(context.embed, [evidence(p.titles, d.keywords, self.evidence_keywords)
                                                for p, d in zip(prompts, drafts)], self.distinct, self.keyword_penalty)
        used: set[str] = set()
        out: list[NamedJourney] = []
        self.trace_ = []
        for i, (draft, prompt, msgs) in enumerate(zip(drafts, prompts, messages)):
            raw = next(answers) if msgs is not None else []
            named, trace = self._select(i, draft, prompt, msgs, raw, clean_ctx.drafts[i], fallback[i], used, verifier)
            used.add(_key(named.name))
            out.append(named)
            self.trace_.append({**trace, "source": named.source})
        return out

    def _check(self, name: str, prompt: DraftPrompt, draft, shown: set[str], used: set[str] = frozenset()) -> str | None:
        """Why a candidate may not name the journey (the rules, an example's echo, safety), or None."""
        why = validate(name, prompt, draft, set(used))
        if why is None and _key(name) in shown:  # a small model echoes an example's answer
            why = "that is an example's name; name these items"
        if why is None and not safety.is_safe(name):
            why = "unsafe"
        return why

    def _retry(self, titles: Sequence[str], keywords: Sequence[str], passes) -> list[str]:
        """The question asked afresh, in other words and without examples, greedy and sampled like
        the first round: shown its rejected answer and the reason, the 0.5B model repeats it. The
        greedy answer and RETRY_FIRST samples come first; while none of them `passes`, more samples
        follow one by one, up to retry_samples (so they cost only where they are needed)."""
        question = user_prompt(titles, list(keywords)[: self.hint_keywords]).split("\nIn 2 to 5 words")[0]
        system = load_pool(POOL_FILE)["system"]
        messages = [{"role": "system", "content": system}, {"role": "user", "content": question + RETRY_QUESTION}]
        most = max(self.samples, self.retry_samples)
        asked = min(most, max(self.samples, RETRY_FIRST))
        out = [clean_name(a) for a in self._candidates(messages, asked)]
        while asked < most and not any(passes(n) for n in out):
            asked += 1
            out.append(clean_name(self._ask(messages, self.temperature, seed=asked)))
        return out

    def _select(self, i, draft, prompt, msgs, raw, clean_draft, keyword_name, used, verifier):
        """Best-of-n for journey `i`: the LLM candidates and the best keyword phrases that pass the
        rules compete under the verifier; the best wins. No valid LLM candidate: one retry (`_retry`);
        still none: the best keyword phrase is the fallback."""
        names = [clean_name(a) for a in raw]
        shown = {_key(n) for n in batch.example_names(msgs)} if msgs else set()
        reasons = [self._check(n, prompt, draft, shown, used) for n in names]
        llm: list[tuple[str, str]] = []
        for k, (n, why) in enumerate(zip(names, reasons)):
            if why is None and n not in [v for v, _ in llm]:
                llm.append((n, "llm" if k == 0 else "llm-sample"))
        # the keywords namer's own name (a broad category qualified: "Lucas Sci Fi") and the best phrases
        phrases = (list(dict.fromkeys([keyword_name, *keyword_phrases(clean_draft.keywords, self.keyword_candidates)]))
                   if self.keyword_candidates else [])
        kws = [(p, "keywords-verified") for p in phrases
               if p not in [n for n, _ in llm] and self._check(p, prompt, draft, shown, used) is None]
        trace = {"names": names, "reasons": reasons, "retry": None, "keyword_candidates": len(kws)}

        def best(cands):  # every candidate here passed the rules and is unused
            if not cands or verifier is None:
                return cands[0] if cands else None
            ranked = verifier.score(i, cands)
            trace["scored"] = [(s.name, s.source, s.own, s.other) for s in ranked]
            return ranked[0].name, ranked[0].source

        result = best(llm + kws) if llm else None
        unsafe = "unsafe" in reasons
        if msgs is not None and not llm:  # no LLM candidate passed: ask once more
            retried = self._retry(prompt.titles, clean_draft.keywords,
                                  lambda n: self._check(n, prompt, draft, shown, used) is None)
            checked = [(n, self._check(n, prompt, draft, shown, used)) for n in retried]
            for n, w in checked:
                if w is None and n not in [v for v, _ in llm]:
                    llm.append((n, "llm-retry"))
            trace["retry"] = "ok" if llm else checked[0][1]
            if llm:
                result = best(llm + kws)
            unsafe = unsafe or any(w == "unsafe" for _, w in checked)
        if not llm:  # no LLM candidate passed the rules: the best keyword phrase stands in
            source = "keywords-unsafe" if unsafe else "keywords-fallback"
            result = best(beyond_categories(kws, clean_draft.broad))
            result = ((result[0], source) if result else
                      self._fallback(i, clean_draft, keyword_name, used, verifier, source))
        return NamedJourney(*result), trace

    def _fallback(self, index, draft, name, used, verifier, source) -> tuple[str, str]:
        """The best keyword phrase by the verifier (the keyword name first on ties), unused and safe."""
        phrases = [name] + [_pretty(k) for k in draft.keywords[:5] if _pretty(k) != name]
        phrases = [p for p in phrases if safety.is_safe(p) and _key(p) and _key(p) not in used
                   and (p == name or not only_categories(p, draft.broad))]
        if verifier is not None and len(phrases) > 1:
            phrases = [s.name for s in verifier.score(index, [(p, source) for p in phrases])]
        if phrases:
            return phrases[0], source
        n = index + 1
        while f"journey {n}" in used:
            n += 1
        return f"Journey {n}", "neutral"

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
