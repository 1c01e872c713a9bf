import json
import math

import numpy as np
import pytest

from journeys.bench import judge as bench_judge
from journeys.bench import naming
from journeys.errors import ConfigError


def _embed(texts):
    from journeys.embed import EMBEDDERS

    return EMBEDDERS.create("hashing").embed(list(texts))


def test_score_names_known_answers():
    refs = ["Bread baking", "Chess openings"]
    cands = [refs, refs]
    perfect = naming.score_names(refs, refs, cands, _embed)
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["rouge_l"] == 1.0
    assert perfect["embed_sim"] == pytest.approx(1.0, abs=1e-4) and perfect["retrieval_at_1"] == 1.0
    swapped = naming.score_names(refs[::-1], refs, cands, _embed)
    assert swapped["retrieval_at_1"] == 0.0 and swapped["rouge_l"] == 0.0


def test_variants():
    assert naming.variants_for("all") == ["keywords", "llm-zeroshot", "llm"]
    assert naming.variants_for("llm", zeroshot=False) == ["llm"]
    with pytest.raises(ConfigError):
        naming.variants_for("nope")


def test_keywords_benchmark_on_tiny_collections(data_dir):
    result = naming.run(data_dir / "collections_tiny.json", users=6, seed=1, namer="keywords", embedder="hashing")
    m = result["namers"]["keywords"]
    assert set(m) >= {"bleu", "rouge_l", "embed_sim", "retrieval_at_1", "names_per_s", "n_eval", "n_excluded_fewshot"}
    assert m["n_eval"] > 0 and m["n_excluded_fewshot"] == 0
    assert 0 <= m["retrieval_at_1"] <= 1
    json.dumps(result)
    assert "keywords" in naming.table(result)
    again = naming.run(data_dir / "collections_tiny.json", users=6, seed=1, namer="keywords", embedder="hashing")
    drop = lambda d: {k: v for k, v in d.items() if k != "names_per_s"}  # noqa: E731
    assert drop(again["namers"]["keywords"]) == drop(m)  # seeded: same figures


class OverlapLLM:
    """A stand-in judge: 'Yes' is likely when the name shares words with the items."""

    name = "overlap"

    def first_token_logprobs(self, messages, top=10):
        text = messages[-1]["content"].lower()
        items, _, name = text.partition("\nname: ")
        overlap = len(set(name.split('"')[1].split()) & set(items.replace('"', " ").split()))
        p = 0.9 if overlap else 0.2
        return {"Yes": math.log(p), "No": math.log(1 - p)}


def test_judge_benchmark_logic(data_dir):
    r = bench_judge.run(data_dir / "collections_tiny.json", n=4, seed=0, embedder="hashing", llm=OverlapLLM())
    assert 0 <= r["pairwise_accuracy"] <= 1 and r["config"]["n"] == 4
    assert r["mean_rating_keywords"] >= r["mean_rating_other"]
    assert "pairwise_accuracy" in bench_judge.table(r)
    assert np.isfinite(r["judgements_per_s"])


def test_judge_levels_are_calibrated_on_other_collections(data_dir):
    from journeys.judge import calibrate, level

    cuts = calibrate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert cuts == (0.28, 0.46, 0.64, 0.82)
    assert [level(p, cuts) for p in (0.1, 0.5, 0.9)] == [1, 3, 5]
    r = bench_judge.run(data_dir / "collections_tiny.json", n=2, calibrate=2, seed=0, embedder="hashing",
                        llm=OverlapLLM())
    assert r["config"]["n"] == 2 and r["config"]["n_calibration"] == 2
    assert r["config"]["cuts_from"] == "calibration split" and len(r["config"]["cuts"]) == 4
    assert 0 <= r["level_order_accuracy"] <= 1


def test_third_domain_collections_file_loads():
    from pathlib import Path

    from journeys.bench.synth import load_collections

    cols = load_collections(Path(__file__).parents[2] / "data" / "bench" / "emoji_subgroups_collections.json.gz")
    assert len(cols) == 69 and all(len(c.items) >= 8 for c in cols)
    assert {"food fruit", "musical instrument", "animal bird"} <= {c.name for c in cols}
    ids = [it.item_id for c in cols for it in c.items]
    assert len(ids) == len(set(ids))  # each emoji in one collection


@pytest.mark.slow  # loads the local LLM and names 6 journeys (~20 s here); CI runs slow tests too
def test_throughput_counts_names_tokens_and_rates(data_dir):
    """The speed measurement names every journey after the first user's, and its token counts
    and llama.cpp rates add up: calls at least the names, prompt tokens per name > 0, rates > 0."""
    out = naming.throughput(data_dir / "collections_tiny.json", n=6, threads=(2,), users_of=2,
                            llm_options={"per_call": 1}, embedder="hashing")
    t = out["threads"]["2"]
    assert out["per_call"] == 1 and t["warm_names"] == 4  # the first user (2 journeys) is the cold part
    assert t["warm_llm_calls"] >= t["warm_names"] and t["warm_names_per_s"] > 0
    assert t["prompt_n_per_name"] > 0 and t["predicted_n_per_name"] > 0
    assert t["prompt_tokens_per_s"] > 0 and t["generated_tokens_per_s"] > 0
    assert sum(t["warm_sources"].values()) == 4
