"""Build a second-domain collections file for `journeys bench extraction` from WordNet 3.0.

Source: the Debian package `wordnet-base` (apt-get install wordnet-base), WordNet 3.0,
(c) 2006 Princeton University, WordNet 3.0 licence (permissive; the notice travels with the file:
data/bench/WORDNET-LICENSE.txt).

Collections are WordNet's *topic domains*: lexicographers filed synsets under a topic synset
(pointer ';c', e.g. "law, jurisprudence", "cookery, cooking, preparation", "chess, chess game").
Each item is one synset that belongs to exactly one topic: title = its words, description = its
gloss with a leading "(topic)" label removed so the text does not give the answer away. Topics
with at least MIN_ITEMS such synsets are kept; each is capped at MAX_ITEMS, chosen by a stable
hash, so the output is deterministic.

    python scripts/build_wordnet_collections.py [/usr/share/wordnet] [data/bench/wordnet_topics_collections.json.gz]
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import collections_file

MIN_ITEMS = 15
MAX_ITEMS = 40
POS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
_LEAD = re.compile(r"^\s*\([^)]*\)\s*")


def parse(wordnet: Path) -> tuple[dict, dict]:
    synsets: dict[str, dict] = {}
    topic_of: dict[str, list[str]] = {}
    for name, pos in POS.items():
        for line in (wordnet / f"data.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue  # licence header
            head, _, gloss = line.partition(" | ")
            f = head.split()
            offset, w_cnt = f[0], int(f[3], 16)
            words = [f[4 + 2 * i].replace("_", " ") for i in range(w_cnt)]
            words = [re.sub(r"\([a-z]+\)$", "", w) for w in words]  # adjective markers
            p = 4 + 2 * w_cnt
            p_cnt = int(f[p])
            sid = f"{pos}{offset}"
            synsets[sid] = {"words": words, "gloss": gloss.strip()}
            for i in range(p_cnt):
                sym, target, tpos = f[p + 1 + 4 * i : p + 4 + 4 * i]
                if sym == ";c":
                    topic_of.setdefault(sid, []).append(f"{'a' if tpos == 's' else tpos}{target}")
    return synsets, topic_of


def _stable(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()


def build(wordnet: Path) -> list[dict]:
    synsets, topic_of = parse(wordnet)
    members: dict[str, list[str]] = {}
    for sid, topics in topic_of.items():
        if len(set(topics)) == 1:
            members.setdefault(topics[0], []).append(sid)
    out = []
    for topic, sids in sorted(members.items()):
        if len(sids) < MIN_ITEMS or topic not in synsets:
            continue
        sids = sorted(sids, key=_stable)[:MAX_ITEMS]
        words = synsets[topic]["words"]
        items = []
        for sid in sorted(sids):
            gloss = _LEAD.sub("", synsets[sid]["gloss"]).strip()
            items.append({"id": f"wn:{sid}", "title": ", ".join(synsets[sid]["words"]), "description": gloss})
        key = "wn-" + re.sub(r"\W+", "-", words[0].lower()).strip("-")
        out.append({"key": key, "name": ", ".join(words), "items": items, "_topic": topic})
    counts: dict[str, int] = {}
    for c in out:
        counts[c["key"]] = counts.get(c["key"], 0) + 1
    for c in out:  # two topics sharing a head word ("music", "medicine") keep their synset offset
        topic = c.pop("_topic")
        if counts[c["key"]] > 1:
            c["key"] += "-" + topic[1:].lstrip("0")
    return out


def main(argv: list[str]) -> None:
    wordnet = Path(argv[1]) if len(argv) > 1 else Path("/usr/share/wordnet")
    target = Path(argv[2]) if len(argv) > 2 else Path("data/bench/wordnet_topics_collections.json.gz")
    colls = build(wordnet)
    collections_file.write(colls, target)


if __name__ == "__main__":
    main(sys.argv)
