"""Tune the LLM namer's selection (verifier weights, keyword candidates) on held-out users.

Runs the naming benchmark's journeys once, then names them under each setting with the LLM answers
served from a response cache (fill it with `journeys bench naming ... --llm-cache FILE`), and
prints embedding similarity, retrieval@1, fallback and keyword-chosen shares per setting. Tune on
one seed (e.g. --seed 1) and report `journeys bench naming --seed 0`, never the tuned run.

    python scripts/tune_naming_selection.py --collections data/bench/emoji_subgroups_collections.json.gz \
        --users 6 --seed 1 --llm-cache /tmp/llm.sqlite
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collections", required=True)
    ap.add_argument("--users", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--llm-cache", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--penalty", default="0,0.03,0.06,0.1,0.2")
    ap.add_argument("--distinct", default="0.25,0.5")
    ap.add_argument("--candidates", default="0,3")
    ap.add_argument("--evidence", default="0,5")
    ap.add_argument("--variants", default="llm-zeroshot,llm")
    args = ap.parse_args()

    from journeys.bench import naming
    from journeys.bench.synth import load_collections
    from journeys.embed import EMBEDDERS
    from journeys.name.fewshot import domain_sources, pool_keys

    every = load_collections(args.collections)
    excluded = pool_keys()
    kept = [c for c in every if c.key not in excluded and c.name not in excluded]
    left_out = sorted(domain_sources({c.key for c in every} | {c.name for c in every}))
    emb = EMBEDDERS.create("minilm")
    contexts, data = naming.extract_contexts(kept, args.users, args.seed, emb)
    names_of = {c.key: c.name for c in kept}
    refs, cands, keep = naming.majority_references(contexts, data, names_of)
    grid = list(itertools.product([float(x) for x in args.penalty.split(",")], [float(x) for x in args.distinct.split(",")],
                             [int(x) for x in args.candidates.split(",")], [int(x) for x in args.evidence.split(",")]))
    opts = {"backend": "local", "threads": args.threads, "cache_file": args.llm_cache}
    for variant in args.variants.split(","):
        for penalty, distinct, n_kw, n_ev in grid:
            nm = naming.make_namer(variant, {**opts, "keyword_penalty": penalty, "distinct": distinct,
                                             "keyword_candidates": n_kw, "evidence_keywords": n_ev}, left_out)
            named = [nm.name_user(ctx) for ctx in contexts]
            nm.close()
            names = [named[ci][di].name for ci, di in keep]
            m = naming.score_names(names, refs, cands, emb.embed)
            src = Counter(named[ci][di].source for ci, di in keep)
            print(json.dumps({"variant": variant, "penalty": penalty, "distinct": distinct, "keyword_candidates": n_kw,
                              "evidence_keywords": n_ev, "embed_sim": m["embed_sim"], "r@1": m["retrieval_at_1"],
                              "fallback": round(sum(v for k, v in src.items() if k in naming.FALLBACK_SOURCES) / len(keep), 3),
                              "keyword_chosen": round(src.get("keywords-verified", 0) / len(keep), 3)}), flush=True)


if __name__ == "__main__":
    main()
