"""Naming benchmark (BENCHMARKS.md section 2).

Synthetic users are built from a collections file (training-split few-shot collections are
excluded first, and counted), their journeys are extracted by the default pipeline, and each
predicted journey is matched to its majority collection. Every namer under test names the same
journeys; its names are scored against the collection names:

- bleu: mean sentence SacreBLEU (effective order, smoothed: names are short); rouge_l: mean ROUGE-L F1 (rouge-score, stemmed);
- embed_sim: mean cosine of name and reference name under the default embedder;
- retrieval_at_1: share of journeys whose reference name is, among the user's true collection
  names, the nearest to the generated name;
- names_per_s: naming throughput (every LLM call made, nothing cached).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from journeys.errors import ConfigError, require
from journeys.name import NAMERS, NamedJourney, NamingContext

VARIANTS = ("keywords", "llm-zeroshot", "llm")
FALLBACK_SOURCES = ("keywords-fallback", "keywords-unsafe", "neutral")  # no LLM candidate passed the rules


class RecordingNamer:
    """Stands in for the namer inside the pipeline: keeps every user's naming context."""

    name = "recording"

    def __init__(self):
        self.contexts: list[NamingContext] = []

    def name_user(self, context: NamingContext) -> list[NamedJourney]:
        self.contexts.append(context)
        return [NamedJourney(f"journey {i}", "recording") for i in range(len(context.drafts))]


def variants_for(namer: str, zeroshot: bool = True) -> list[str]:
    if namer == "all":
        return [v for v in VARIANTS if zeroshot or v != "llm-zeroshot"]
    if namer == "llm":
        return ["llm-zeroshot", "llm"] if zeroshot else ["llm"]
    if namer in NAMERS or namer in VARIANTS:
        return [namer]
    raise ConfigError(f"unknown namer {namer!r}; choose keywords, llm, llm-zeroshot or all")


def make_namer(variant: str, llm_options: dict | None = None, exclude_sources=()):
    """`exclude_sources`: few-shot pool sources of the evaluated domain, never shown to the model."""
    from journeys.llm.cache import MemoryCache, ResponseCache

    opts = dict(llm_options or {})
    cache_file = opts.pop("cache_file", None)  # reuse answers (selection work); names/s then means little
    cache = ResponseCache(cache_file) if cache_file else MemoryCache()
    if variant == "llm-zeroshot":
        return NAMERS.create("llm", fewshot=False, response_cache=cache, **opts)
    if variant == "llm":
        return NAMERS.create("llm", fewshot=True, response_cache=cache, fewshot_exclude=tuple(exclude_sources), **opts)
    return NAMERS.create(variant)


def extract_contexts(collections, users: int, seed: int, embedder, settings=None):
    """Synthetic users -> the pipeline's naming contexts, plus the ground truth."""
    from journeys.bench.synth import make_users
    from journeys.config import Settings
    from journeys.pipeline import Pipeline

    data = make_users(collections, n_users=users, seed=seed)
    recorder = RecordingNamer()
    pipe = Pipeline(settings or Settings(seed=seed), embedder=embedder, namer=recorder)
    pipe.prepare(data.items, data.events)
    for user, events in data.events_by_user().items():
        pipe.run_user(user, events)
    return recorder.contexts, data


def score_names(
    names: Sequence[str],
    refs: Sequence[str],
    candidates: Sequence[Sequence[str]],
    embed: Callable[[list[str]], np.ndarray],
) -> dict[str, float]:
    """bleu, rouge_l, embed_sim, retrieval_at_1 of generated `names` against `refs`;
    `candidates[i]` are the user's true collection names (refs[i] among them)."""
    sacrebleu = require("sacrebleu", "bench")
    rouge_scorer = require("rouge_score.rouge_scorer", "bench")
    if not names:
        return {"bleu": 0.0, "rouge_l": 0.0, "embed_sim": 0.0, "retrieval_at_1": 0.0}
    # names are 2-6 words: corpus BLEU-4 is almost always 0, so mean sentence BLEU with
    # effective n-gram order and exponential smoothing (sacrebleu's sentence_bleu defaults)
    bleu = float(np.mean([sacrebleu.sentence_bleu(n, [r]).score for n, r in zip(names, refs)]))
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rouge = float(np.mean([scorer.score(r, n)["rougeL"].fmeasure for n, r in zip(names, refs)]))
    vocab = sorted(set(names) | set(refs) | {c for cs in candidates for c in cs})
    vecs = dict(zip(vocab, embed(vocab)))
    sims = [float(vecs[n] @ vecs[r]) for n, r in zip(names, refs)]
    hits = []
    for n, r, cs in zip(names, refs, candidates):
        best = max(sorted(cs), key=lambda c: float(vecs[n] @ vecs[c]))
        hits.append(best == r)
    return {"bleu": round(bleu, 2), "rouge_l": round(rouge, 4), "embed_sim": round(float(np.mean(sims)), 4),
            "retrieval_at_1": round(float(np.mean(hits)), 4)}


def majority_references(contexts, data, names_of):
    """Match each predicted journey to its majority collection: the reference names, each user's
    true names (the candidates of retrieval@1) and the (context, draft) positions matched."""
    refs, cands, keep = [], [], []
    for ci, ctx in enumerate(contexts):
        truth = data.truth[ctx.user_id]
        true_names = sorted({names_of[k] for k in truth.values() if k is not None})
        for di, draft in enumerate(ctx.drafts):
            votes = Counter(truth.get(i) for i in draft.item_ids if truth.get(i) is not None)
            if votes:
                key = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
                refs.append(names_of[key])
                cands.append(true_names)
                keep.append((ci, di))
    return refs, cands, keep


def run(
    collections: str | Path,
    users: int = 200,
    seed: int = 0,
    namer: str = "all",
    zeroshot: bool = True,
    embedder: str = "minilm",
    llm_options: dict | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """The benchmark; returns {"config": ..., "namers": {variant: metrics}, "examples": [...]}."""
    from journeys.bench.synth import load_collections
    from journeys.embed import EMBEDDERS
    from journeys.name.fewshot import domain_sources, pool_keys

    say = log or (lambda _msg: None)
    variants_for(namer, zeroshot)  # a bad --namer is reported before any work
    every = load_collections(collections)
    excluded = pool_keys()
    kept = [c for c in every if c.key not in excluded and c.name not in excluded]
    n_excluded = len(every) - len(kept)
    # leave the evaluated domain out of the few-shot pool altogether (not only its collections)
    left_out = sorted(domain_sources({c.key for c in every} | {c.name for c in every}))
    say(f"few-shot pool without the evaluated domain: {left_out or 'nothing to leave out'}")
    emb = EMBEDDERS.create(embedder)
    say(f"{len(kept)} collections ({n_excluded} few-shot collections excluded); extracting {users} users")
    contexts, data = extract_contexts(kept, users, seed, emb)
    names_of = {c.key: c.name for c in kept}

    refs, cands, keep = majority_references(contexts, data, names_of)
    n_drafts = sum(len(c.drafts) for c in contexts)
    say(f"{n_drafts} journeys, {len(keep)} matched to a collection")

    results: dict[str, dict] = {}
    examples: dict[tuple[int, int], dict] = {}
    for variant in variants_for(namer, zeroshot):
        nm = make_namer(variant, llm_options, left_out)
        start = time.perf_counter()
        named, traces = [], []
        for ctx in contexts:
            named.append(nm.name_user(ctx))
            traces += getattr(nm, "trace_", [])
        secs = time.perf_counter() - start
        if hasattr(nm, "close"):
            nm.close()
        names = [named[ci][di].name for ci, di in keep]
        metrics = score_names(names, refs, cands, emb.embed)
        sources = Counter(named[ci][di].source for ci, di in keep)
        dups = sum(len(ns) - len({n.name.lower() for n in ns}) for ns in named)
        fallback = sum(v for k, v in sources.items() if k in FALLBACK_SOURCES)
        chosen = sources.get("keywords-verified", 0)
        llm_variant = variant != "keywords" and bool(keep)
        results[variant] = {**metrics, "names_per_s": round(n_drafts / secs, 3) if secs > 0 else None,
                            "n_eval": len(keep), "n_excluded_fewshot": n_excluded,
                            "fallback_share": round(fallback / len(keep), 4) if llm_variant else None,
                            "keyword_chosen_share": round(chosen / len(keep), 4) if llm_variant else None,
                            "duplicate_names": dups, "sources": dict(sorted(sources.items())),
                            **({"candidates": rejections(traces)} if traces else {})}
        for (ci, di), n, r in zip(keep, names, refs):
            examples.setdefault((ci, di), {"reference": r})[variant] = n
        say(f"{variant}: {results[variant]}")
    config = {"collections": str(collections), "users": users, "seed": seed, "embedder": embedder,
              "n_collections": len(kept), "n_excluded_fewshot": n_excluded, "n_journeys": n_drafts,
              "fewshot_pool_left_out": left_out, "llm": {k: v for k, v in (llm_options or {}).items()}}
    return {"config": config, "namers": results, "examples": list(examples.values())[:10]}


def rejections(traces: Sequence[dict]) -> dict:
    """Why LLM candidates failed the rules (counted per candidate, the quoted word blanked) and how
    often the retry saved a journey none of whose candidates passed."""
    reasons = Counter(re.sub(r"'[^']*'", "'<word>'", r or "passed") for t in traces for r in t.get("reasons", []))
    retries = [t["retry"] for t in traces if t.get("retry")]
    return {"per_candidate": dict(reasons.most_common()), "retried": len(retries),
            "retry_saved": sum(r == "ok" for r in retries),
            "retry_reasons": dict(Counter(re.sub(r"'[^']*'", "'<word>'", r) for r in retries if r != "ok").most_common())}


def table(result: dict) -> str:
    cols = ("bleu", "rouge_l", "embed_sim", "retrieval_at_1", "names_per_s", "fallback_share", "keyword_chosen_share",
            "n_eval")
    lines = [f"{'namer':<14}" + "".join(f"{c:>15}" for c in cols)]
    for variant, m in result["namers"].items():
        lines.append(f"{variant:<14}" + "".join(f"{m.get(c)!s:>15}" for c in cols))
    lines.append(f"n_excluded_fewshot: {result['config']['n_excluded_fewshot']}")
    return "\n".join(lines)


def throughput(
    collections: str | Path,
    n: int = 20,
    seed: int = 0,
    threads: Sequence[int] = (1, 2),
    titles: int = 8,
    fewshot: bool = True,
    parallel: int = 1,
    users_of: int = 4,
    llm_options: dict | None = None,
    embedder: str | None = None,
) -> dict:
    """Local-model naming speed per thread count on `n` journeys drawn from the collections, as
    users of `users_of` journeys each (their journeys are prompted concurrently when the model
    has `parallel` slots): cold (model load, first user) and warm names/s. The verifier embeds
    with `embedder`, by default the configured one (what `journeys name` and discover use)."""
    from journeys.bench.synth import load_collections
    from journeys.llm.cache import MemoryCache
    from journeys.llm import IN_PROCESS, LLMS
    from journeys.name import JourneyDraft

    cols = load_collections(collections)
    rng = np.random.default_rng(seed)
    from journeys.config import Settings
    from journeys.embed import EMBEDDERS

    embedder = embedder or Settings().embed.model
    emb = EMBEDDERS.create(embedder)
    contexts, drafts = [], []
    for u in range(n):
        c = cols[int(rng.integers(len(cols)))]
        picks = rng.choice(len(c.items), size=min(titles, len(c.items)), replace=False)
        items = [c.items[i] for i in sorted(picks)]
        user = f"s{u // users_of}"
        drafts.append(JourneyDraft(user, tuple(i.item_id for i in items), tuple(i.title for i in items), ()))
        if len(drafts) == users_of or u == n - 1:
            contexts.append(NamingContext(user, tuple(drafts), emb.embed))
            drafts = []
    opts = {k: v for k, v in (llm_options or {}).items() if k in ("model",)}
    backend = (llm_options or {}).get("backend", "auto")
    if backend not in IN_PROCESS:
        raise ConfigError(f"the naming speed measurement runs a local model, not the {backend!r} backend")
    if parallel > 1:
        opts["parallel"] = parallel
    # the namer's own defaults unless the caller set them (what is measured is the default mode)
    namer_opts = {k: v for k, v in (llm_options or {}).items() if k in ("samples", "per_call", "batch_keywords", "retry_samples")}
    out = {}
    for t in threads:
        llm = LLMS.create(backend, threads=t, **opts)
        nm = NAMERS.create("llm", llm=llm, fewshot=fewshot, response_cache=MemoryCache(), **namer_opts)
        start = time.perf_counter()
        nm.name_user(contexts[0])
        cold = time.perf_counter() - start
        before = dict(llm.totals)
        start = time.perf_counter()
        sources: Counter = Counter()
        for ctx in contexts[1:]:
            sources.update(n.source for n in nm.name_user(ctx))
        warm = time.perf_counter() - start
        n_warm = sum(len(ctx.drafts) for ctx in contexts[1:])
        used = {k: llm.totals[k] - before[k] for k in before}
        per_name = {f"{k}_per_name": round(used[k] / n_warm, 1) for k in ("prompt_n", "cache_n", "predicted_n")} if n_warm else {}
        # llama.cpp's rates: prompt evaluation (prefill) and generation, tokens per second of its own time
        rates = {f"{k}_tokens_per_s": round(1000 * used[n] / used[ms], 1)
                 for k, n, ms in (("prompt", "prompt_n", "prompt_ms"), ("generated", "predicted_n", "predicted_ms"))
                 if used.get(ms)}
        out[str(t)] = {"cold_first_user_s": round(cold, 2),
                       "warm_names_per_s": round(n_warm / warm, 3) if warm else None,
                       "warm_names": n_warm, "warm_llm_calls": used["calls"], **per_name, **rates,
                       "llm_calls": nm.calls, "cache_hits": nm.cache.hits, "parallel": parallel,
                       "warm_sources": dict(sorted(sources.items()))}
        llm.close()
    return {"n": n, "fewshot": fewshot, "samples": nm.samples, "per_call": nm.per_call, "model": llm.name,
            "verifier_embedder": embedder, "threads": out}
