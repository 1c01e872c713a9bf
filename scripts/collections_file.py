"""Shared by the collections builders: write a collections file the way the benchmarks read it
(gzip JSON, byte-stable: no gzip timestamp, compact separators)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def write(colls: list[dict], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(colls, ensure_ascii=False, separators=(",", ":")).encode()
    target.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    n = sum(len(c["items"]) for c in colls)
    print(f"{target}: {len(colls)} collections, {n} items, {target.stat().st_size} bytes")
