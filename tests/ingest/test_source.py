"""Input fingerprints (journeys.ingest.source): the same bytes and options give the same key, any
change gives another, and an unreadable file gives none (the load names the file)."""

from __future__ import annotations

import shutil

from journeys.ingest.source import PREFIX, dataset_fingerprint, file_fingerprint


def test_file_fingerprint_follows_bytes_options_and_names(tmp_path, data_dir):
    events = tmp_path / "events.csv"
    shutil.copy(data_dir / "events.csv", events)
    a = file_fingerprint(events, None, {"strict": False})
    assert a is not None and a.startswith(PREFIX) and len(a) == len(PREFIX) + 64
    assert file_fingerprint(events, None, {"strict": False}) == a
    assert file_fingerprint(events, None, {"strict": True}) != a
    assert file_fingerprint(events, data_dir / "items.csv", {"strict": False}) != a
    other = tmp_path / "other.csv"
    shutil.copy(events, other)
    assert file_fingerprint(other, None, {"strict": False}) != a  # another file: read it again
    events.write_bytes(events.read_bytes() + b"zed,i1,1700000000,view,1\n")
    assert file_fingerprint(events, None, {"strict": False}) != a


def test_unreadable_input_has_no_fingerprint(tmp_path):
    assert file_fingerprint(tmp_path / "missing.csv", None, {}) is None
    assert file_fingerprint(tmp_path, None, {}) is None  # a directory


def test_dataset_fingerprint_depends_on_enrichment():
    plain = dataset_fingerprint("movielens-small", {"enrich": False})
    enriched = dataset_fingerprint("movielens-small", {"enrich": True})
    assert plain is not None and enriched is not None and plain != enriched
    assert dataset_fingerprint("movielens-small", {"enrich": False}) == plain
    assert dataset_fingerprint("movielens-100k", {"enrich": False}) != plain
