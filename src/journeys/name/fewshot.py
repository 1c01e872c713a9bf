"""Few-shot examples for the LLM namer: a data file in the package, and how it is built.

The file (`prompts/fewshot_v1.json`) holds a training split of a curated-collections file (the
Debian Pure Blends task lists: a collection is in the split when a stable hash of its key falls
in the first fifth) plus everyday-interest examples written by hand. Each example keeps the
curated `name` and a `prompt_name`, the same interest in a user's words ("Chess and shogi
games", not "Debian's chess games"): the prompt shows the latter, because a small model copies
the boilerplate of curated names ("Debian's ...") into unrelated domains. Benchmarks exclude every
collection whose key or name appears here and say how many.

Rebuild with: python -m journeys.name.fewshot ../shared/data/debian_blends_collections.json.gz

The v2 pool (`prompts/fewshot_v2.json`) adds the training splits of the WordNet topic domains and
the Unicode emoji subgroups (data/bench), each with the interest in a user's words; the `llm` namer
picks the examples nearest each journey (`ExampleSelector`). Rebuild with
`python -m journeys.name.fewshot pool`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

FEWSHOT_FILE = "fewshot_v1.json"
TITLES_PER_EXAMPLE = 5
TITLE_CHARS = 60


def is_fewshot_key(key: str, share: int = 5) -> bool:
    """Stable training split: one collection in `share`, by sha256 of its key."""
    digest = hashlib.sha256(f"fewshot:{key}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % share == 0


def clip(title: str, chars: int = TITLE_CHARS) -> str:
    """One line, at most `chars` characters, cut at a word boundary."""
    t = " ".join(str(title).split())
    if len(t) > chars:
        t = t[:chars].rsplit(" ", 1)[0] if " " in t[:chars] else t[:chars]
    return t.rstrip(" ,;:-(")


def _stable_titles(items, n: int, chars: int = TITLE_CHARS) -> list[str]:
    ordered = sorted(items, key=lambda it: hashlib.sha256(it.item_id.encode()).hexdigest())
    out: list[str] = []
    for it in ordered:
        t = clip(it.title, chars)
        if t and t not in out:
            out.append(t)
        if len(out) == n:
            break
    return out


def build_examples(collections, source: str) -> list[dict]:
    """Examples from the training split of `collections` (journeys.bench.synth.Collection)."""
    return [
        {"source": source, "key": c.key, "name": c.name,
         "titles": _stable_titles(c.items, TITLES_PER_EXAMPLE)}
        for c in collections
        if is_fewshot_key(c.key)
    ]


@lru_cache(maxsize=4)
def load_fewshot(filename: str = FEWSHOT_FILE) -> dict:
    """{"version": int, "examples": [{"source", "key", "name", "titles"}]} from the package."""
    text = resources.files("journeys.name").joinpath("prompts", filename).read_text("utf-8")
    return json.loads(text)


def fewshot_keys(filename: str = FEWSHOT_FILE) -> set[str]:
    """Keys and names of every collection used as an example (to exclude from evaluation)."""
    data = load_fewshot(filename)
    return {e["key"] for e in data["examples"]} | {e["name"] for e in data["examples"]}


def main(argv: list[str]) -> int:  # pragma: no cover - maintenance tool
    from journeys.bench.synth import load_collections

    if argv and argv[0] == "pool":  # python -m journeys.name.fewshot pool
        root = Path(__file__).resolve().parents[3] / "data" / "bench"
        pool = build_pool({"wordnet-topics": root / "wordnet_topics_collections.json.gz",
                           "emoji-subgroups": root / "emoji_subgroups_collections.json.gz"})
        target = Path(__file__).parent / "prompts" / POOL_FILE
        target.write_text(json.dumps(pool, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"{len(pool['examples'])} examples -> {target}")
        return 0
    path = Path(argv[0])
    target = Path(__file__).parent / "prompts" / FEWSHOT_FILE
    data = json.loads(target.read_text("utf-8"))
    everyday = [e for e in data["examples"] if e["source"] == "everyday"]
    blends = build_examples(load_collections(path), "debian-blends")
    kept = {e["key"]: e.get("prompt_name") for e in data["examples"]}
    for e in blends:  # hand-written prompt names (the interest in a user's words) survive a rebuild
        e["prompt_name"] = kept.get(e["key"]) or e["name"]
    data["examples"] = blends + everyday
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"{len(blends)} collection examples + {len(everyday)} everyday examples -> {target}")
    return 0




# -- the multi-domain pool (v2) and per-journey selection -------------------------------------------
POOL_FILE = "fewshot_v2.json"
POOL_TITLES = 4
POOL_TITLE_CHARS = 40
# the interest in a user's words, for the training-split collections of the other domains
PROMPT_NAMES = {
    "wn-golf": "Golf shots and terms", "wn-american-football": "American football plays",
    "wn-sport": "Sports terminology", "wn-music-543233": "Music performance terms",
    "wn-navigation": "Sailing and navigation", "wn-government": "Politics and government",
    "wn-astrology": "Astrology and star signs", "wn-biology": "Biology vocabulary",
    "wn-anatomy": "Human anatomy terms", "wn-genetics": "Genetics concepts", "wn-zoology": "Zoology terms",
    "wn-chemistry": "Chemistry concepts", "wn-psychology": "Personality psychology",
    "wn-yiddish": "Yiddish words", "wn-music-7020895": "Music theory terms",
    "emoji-face-affection": "Kissing and loving faces", "emoji-face-negative": "Angry and scary faces",
    "emoji-cat-face": "Cat faces", "emoji-emotion": "Emotion symbols", "emoji-person": "People of all ages",
    "emoji-person-role": "People and their jobs", "emoji-person-sport": "People playing sports",
    "emoji-animal-bird": "Birds and poultry", "emoji-animal-marine": "Sea animals",
    "emoji-animal-bug": "Bugs and insects", "emoji-food-vegetable": "Vegetables and legumes",
    "emoji-place-building": "Buildings and landmarks", "emoji-place-other": "Places and scenery",
    "emoji-transport-air": "Air travel and rockets", "emoji-sport": "Sports equipment and games",
    "emoji-arrow": "Arrow signs",
}


@lru_cache(maxsize=2)
def load_pool(filename: str = POOL_FILE) -> dict:
    """{"version", "system", "examples": [{"source", "key", "name", "prompt_name", "titles"}]}."""
    return load_fewshot(filename)


def pool_keys(filename: str = POOL_FILE) -> set[str]:
    """Keys and names of every collection in the pool (the benchmarks never evaluate them)."""
    return fewshot_keys(filename)


def domain_sources(keys, filename: str = POOL_FILE) -> set[str]:
    """The pool sources that share a collection with `keys` (a file about to be evaluated):
    leaving them out keeps its whole domain out of the prompt."""
    keys = set(keys)
    return {e["source"] for e in load_pool(filename)["examples"] if e["key"] in keys or e["name"] in keys}


class ExampleSelector:
    """The pool's examples nearest a journey: cosine between the mean vector of the journey's
    titles and the mean vector of each example's titles; at most `per_source` from one source,
    sources in `exclude` and keys in `exclude_keys` never used. The nearest example comes last
    (closest to the question). Without an embedder, the first examples in pool order."""

    def __init__(self, embed=None, exclude=(), exclude_keys=(), per_source: int = 2,
                 filename: str = POOL_FILE):
        import numpy as np

        self.embed = embed
        self.per_source = per_source
        data = load_pool(filename)
        bad = set(exclude_keys)
        self.examples = [e for e in data["examples"] if e["source"] not in set(exclude)
                         and e["key"] not in bad and e["name"] not in bad]
        self._vecs = None
        self._np = np

    def _example_vecs(self):
        if self._vecs is None:
            np = self._np
            rows = []
            for e in self.examples:
                v = np.asarray(self.embed(list(e["titles"])), dtype=np.float32).mean(axis=0)
                rows.append(v / (np.linalg.norm(v) or 1.0))
            self._vecs = np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        return self._vecs

    def select(self, titles, k: int) -> list[dict]:
        if k <= 0 or not self.examples:
            return []
        if self.embed is None or not titles:
            order = list(range(len(self.examples)))
        else:
            np = self._np
            q = np.asarray(self.embed(list(titles)), dtype=np.float32).mean(axis=0)
            q = q / (np.linalg.norm(q) or 1.0)
            sims = self._example_vecs() @ q
            order = sorted(range(len(self.examples)), key=lambda i: (-float(sims[i]), self.examples[i]["key"]))
        chosen, per = [], {}
        for i in order:
            src = self.examples[i]["source"]
            if per.get(src, 0) < self.per_source:
                chosen.append(self.examples[i])
                per[src] = per.get(src, 0) + 1
            if len(chosen) == k:
                break
        return chosen[::-1]


def build_pool(files: dict[str, Path]) -> dict:
    """The v2 pool: v1's hand-checked examples plus the training split of each other domain's
    collections file (`files`: source -> path), with short titles."""
    from journeys.bench.synth import load_collections

    v1 = load_fewshot(FEWSHOT_FILE)
    examples = []
    for e in v1["examples"]:
        examples.append({**e, "titles": [clip(t, POOL_TITLE_CHARS) for t in e["titles"][:POOL_TITLES]]})
    for source, path in files.items():
        for c in load_collections(path):
            if is_fewshot_key(c.key):
                examples.append({"source": source, "key": c.key, "name": c.name,
                                 "prompt_name": PROMPT_NAMES.get(c.key, c.name),
                                 "titles": _stable_titles(c.items, POOL_TITLES, POOL_TITLE_CHARS)})
    return {"version": 2, "system": v1["system"], "examples": examples}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
