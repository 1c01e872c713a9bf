"""Judge validation benchmark: may the LLM judge be trusted?

For a seeded sample of collections, the judge sees a sample of a collection's item titles and
scores (a) the collection's true name, (b) another collection's name and (c) the keyword name
of those items. Reported:

- pairwise_accuracy: share of collections whose true name scores above the other collection's
  name (ties count one half);
- mean rating of true vs other names (5 levels);
- agreement with the name metrics: Spearman correlation, over every (titles, candidate) pair,
  between the judge's P(yes) and the candidate's embed_sim / ROUGE-L against the true name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from journeys.errors import ConfigError, require


def _spearman(a: list[float], b: list[float]) -> float:
    if len(a) < 3:
        return float("nan")
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _keyword_name(texts: dict[str, str], ids: list[str], titles: list[str]) -> str:
    from journeys.keywords import KeywordModel
    from journeys.name import JourneyDraft, NamingContext
    from journeys.name.keywords import keyword_names

    kws = KeywordModel().fit(texts).keywords([ids])[0]
    draft = JourneyDraft("judge", tuple(ids), tuple(titles), tuple(kws), tuple(titles))
    return keyword_names(NamingContext("judge", (draft,)))[0]


def run(
    collections: str | Path,
    n: int = 40,
    seed: int = 0,
    titles: int = 8,
    backend: str = "auto",
    embedder: str = "minilm",
    llm=None,
    log: Callable[[str], None] | None = None,
    calibrate: int = 0,
    **llm_options,
) -> dict:
    """`calibrate` > 0: that many further collections, disjoint from the `n` evaluated, fit the
    level cut points (`journeys.judge.calibrate`); the levels reported use those cuts."""
    from journeys.bench.synth import load_collections
    from journeys.embed import EMBEDDERS, item_text
    from journeys.judge import LEVELS, Judge, level
    from journeys.judge import calibrate as fit_cuts
    from journeys.llm import LLMS

    say = log or (lambda _msg: None)
    cols = load_collections(collections)
    if len(cols) < 2:
        raise ConfigError("the judge benchmark needs at least two collections")
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(len(cols))]
    calib = [cols[i] for i in sorted(order[n:n + calibrate])] if calibrate else []
    picked = [cols[i] for i in sorted(order[:n])]
    texts = {it.item_id: item_text(it) for c in cols for it in c.items}
    llm = llm or LLMS.create(backend, **llm_options)
    judge = Judge(llm, max_titles=titles, reasons=False)
    emb = EMBEDDERS.create(embedder)
    rouge_scorer = require("rouge_score.rouge_scorer", "bench")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

    def judged(group, tag):
        out = []
        for c in group:
            out.append(one(c))
            say(f"{tag} {c.name!r}: true {out[-1]['p_true']:.3f} vs other {out[-1]['p_other']:.3f}")
        return out

    def one(c):
        k = min(titles, len(c.items))
        items = [c.items[i] for i in sorted(rng.choice(len(c.items), size=k, replace=False))]
        shown = [it.title for it in items]
        other = cols[int(rng.integers(len(cols)))]
        while other.key == c.key:
            other = cols[int(rng.integers(len(cols)))]
        kw = _keyword_name(texts, [it.item_id for it in items], shown)
        row = {"key": c.key, "true": c.name, "other": other.name, "keywords": kw}
        for role in ("true", "other", "keywords"):
            row[f"p_{role}"] = judge.score(shown, row[role])
        return row

    cal_rows = judged(calib, "calibration")
    cuts = fit_cuts([r[f"p_{k}"] for r in cal_rows for k in ("true", "other", "keywords")]) if cal_rows else LEVELS
    start = time.perf_counter()
    rows = judged(picked, "evaluation")
    secs = time.perf_counter() - start

    wins = [1.0 if r["p_true"] > r["p_other"] else 0.5 if r["p_true"] == r["p_other"] else 0.0 for r in rows]
    cands = [(r["true"], r[f"p_{role}"], r[role]) for r in rows for role in ("true", "other", "keywords")]
    vocab = sorted({t for t, _, _ in cands} | {x for _, _, x in cands})
    vecs = dict(zip(vocab, emb.embed(vocab)))
    p = [s for _, s, _ in cands]
    sim = [float(vecs[t] @ vecs[x]) for t, _, x in cands]
    rl = [scorer.score(t, x)["rougeL"].fmeasure for t, _, x in cands]
    result = {
        "config": {"collections": str(collections), "n": len(rows), "seed": seed, "titles": titles,
                   "judge": llm.name, "n_calibration": len(cal_rows), "cuts": list(cuts),
                   "cuts_from": "calibration split" if cal_rows else "judge.LEVELS"},
        "pairwise_accuracy": round(float(np.mean(wins)), 4),
        "mean_rating_true": round(float(np.mean([level(r["p_true"], cuts) for r in rows])), 3),
        "mean_rating_other": round(float(np.mean([level(r["p_other"], cuts) for r in rows])), 3),
        "mean_rating_keywords": round(float(np.mean([level(r["p_keywords"], cuts) for r in rows])), 3),
        "spearman_embed_sim": round(_spearman(p, sim), 4),
        "spearman_rouge_l": round(_spearman(p, rl), 4),
        "judgements_per_s": round(3 * len(rows) / secs, 3) if secs else None,
        "level_order_accuracy": round(float(np.mean([1.0 if level(r["p_true"], cuts) > level(r["p_other"], cuts) else
                                                     0.5 if level(r["p_true"], cuts) == level(r["p_other"], cuts)
                                                     else 0.0 for r in rows])), 4),
    }
    return result


def table(result: dict) -> str:
    keys = ("pairwise_accuracy", "level_order_accuracy", "mean_rating_true", "mean_rating_other", "mean_rating_keywords",
            "spearman_embed_sim", "spearman_rouge_l", "judgements_per_s")
    return "\n".join(f"{k:<22}{result[k]!s:>10}" for k in keys) + (f"\njudge: {result['config']['judge']}, n={result['config']['n']}, cuts {result['config']['cuts']} "
              f"from {result['config']['cuts_from']} (n={result['config']['n_calibration']})")
