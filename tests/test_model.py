"""The fitted model ships as npz bytes and partitions users exactly as the pipeline it came from."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from journeys.bench.synth import load_collections, make_users
from journeys.config import Settings
from journeys.model import FittedModel, partition_users
from journeys.pipeline import Pipeline

TINY = Path(__file__).parent / "data" / "collections_tiny.json"


def test_fitted_model_roundtrip_partitions_identically():
    synth = make_users(load_collections(TINY), n_users=5, seed=1, k=(2, 3), items=(5, 8), noise=0.2)
    pipe = Pipeline(Settings(embed={"model": "hashing"})).prepare(synth.items, synth.events)
    blob = FittedModel.of(pipe).to_bytes()
    names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
    assert "clusterer.cooc_vectors.npy" in names and all(n.endswith(".npy") for n in names)  # arrays only
    model = FittedModel.from_bytes(blob)
    users = [(u, evs) for u, evs in synth.events_by_user().items()]
    shipped = partition_users(model, users)
    local = [pipe.partition(u, evs) for u, evs in users]
    assert shipped == local
    assert sum(len(p.groups) for p in local) >= 5  # real journeys, not an empty comparison
