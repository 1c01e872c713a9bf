"""Few-shot examples for the LLM namer: a data file in the package, and how it is built.

The file (`prompts/fewshot_v1.json`) holds a training split of a curated-collections file (the
Debian Pure Blends task lists: a collection is in the split when a stable hash of its key falls
in the first fifth) plus everyday-interest examples written by hand. Each example keeps the
curated `name` and a `prompt_name`, the same interest in a user's words ("Chess and shogi
games", not "Debian's chess games"): the prompt shows the latter, because a small model copies
the boilerplate of curated names ("Debian's ...") into unrelated domains. Benchmarks exclude every
collection whose key or name appears here and say how many.

Rebuild with: python -m journeys.name.fewshot ../shared/data/debian_blends_collections.json.gz
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


def _stable_titles(items, n: int) -> list[str]:
    ordered = sorted(items, key=lambda it: hashlib.sha256(it.item_id.encode()).hexdigest())
    out: list[str] = []
    for it in ordered:
        t = clip(it.title)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
