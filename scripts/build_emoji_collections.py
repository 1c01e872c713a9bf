"""Build a third-domain collections file for the benchmarks from the Unicode emoji data.

Source: the Debian package `unicode-data` (apt-get install unicode-data, or `apt-get download
unicode-data` and `dpkg -x`), file `/usr/share/unicode/emoji/emoji-test.txt` (Unicode 15.0), under
the Unicode licence (permissive; the notice travels with the file: data/bench/UNICODE-LICENSE.txt).

Collections are the emoji *subgroups* that Unicode's editors filed each emoji under ("food-fruit",
"animal-bird", "musical-instrument", "sport"): everyday things, a domain unlike software packages
or WordNet's specialist vocabulary. The collection name is the subgroup label with its hyphens read
as spaces ("food fruit"); each item is one fully-qualified emoji, title = its CLDR short name
("red apple"), no description (the subgroup label would give the answer away). Skin-tone and
hair-style variants are skipped (they repeat a base emoji). Subgroups with at least MIN_ITEMS
emoji are kept, each capped at MAX_ITEMS chosen by a stable hash, so the output is deterministic.

    python scripts/build_emoji_collections.py [/usr/share/unicode/emoji/emoji-test.txt] \
        [data/bench/emoji_subgroups_collections.json.gz]
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import collections_file

MIN_ITEMS = 8
MAX_ITEMS = 40
_LINE = re.compile(r"^(?P<cps>[0-9A-F ]+?)\s*;\s*(?P<status>[\w-]+)\s*#\s*\S+\s+E[\d.]+\s+(?P<name>.+)$")


def parse(path: Path) -> list[tuple[str, str, str, str]]:
    """(group, subgroup, codepoints, name) of every fully-qualified emoji, variants skipped."""
    group = subgroup = ""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            m = _LINE.match(line)
            if not m or m["status"] != "fully-qualified" or group == "Component":
                continue
            name = m["name"].strip()
            if "skin tone" in name or re.search(r"\b(red|curly|white) hair\b|\bbald\b", name):
                continue
            out.append((group, subgroup, "-".join(m["cps"].split()), name))
    return out


def _stable(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()


def build(path: Path) -> list[dict]:
    members: dict[str, list[tuple[str, str]]] = {}
    for _group, subgroup, cps, name in parse(path):
        members.setdefault(subgroup, []).append((cps, name))
    out = []
    for subgroup, items in members.items():  # file order: Unicode's own order of subgroups
        if len(items) < MIN_ITEMS:
            continue
        items = sorted(sorted(items, key=lambda it: _stable(it[0]))[:MAX_ITEMS])
        out.append({"key": "emoji-" + re.sub(r"\W+", "-", subgroup).strip("-"), "name": subgroup.replace("-", " "),
                    "items": [{"id": f"emoji:{cps}", "title": name} for cps, name in items]})
    return out


def main(argv: list[str]) -> None:
    src = Path(argv[1]) if len(argv) > 1 else Path("/usr/share/unicode/emoji/emoji-test.txt")
    target = Path(argv[2]) if len(argv) > 2 else Path("data/bench/emoji_subgroups_collections.json.gz")
    colls = build(src)
    collections_file.write(colls, target)


if __name__ == "__main__":
    main(sys.argv)
