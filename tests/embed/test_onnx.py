from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_int8_onnx_minilm_stays_close_to_torch_and_is_cached(minilm, tmp_path, monkeypatch):
    from journeys.embed import EMBEDDERS
    from journeys.embed.onnx import export_int8

    monkeypatch.setenv("JOURNEYS_CACHE_DIR", str(tmp_path))
    onnx = EMBEDDERS.create("minilm-onnx", threads=1)
    texts = ["Ukulele chords for absolute beginners", "a", "How to tune a soprano ukulele by ear",
             "Astronomy catalogue software for telescopes and observatories " * 8]
    got, ref = onnx.embed(texts), minilm.embed(texts)
    assert got.shape == (4, 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert ((got * ref).sum(1) > 0.97).all()  # int8 per-channel weights: cosine to torch
    assert np.allclose(onnx.embed(texts[::-1])[::-1], got, atol=1e-5)  # order of input does not matter
    path = export_int8()
    assert path.parent == tmp_path / "models" and path.stat().st_mtime == export_int8().stat().st_mtime
    assert onnx.name != minilm.name  # separate embedding caches


@pytest.mark.slow
def test_int8_onnx_batches_in_parts_give_the_whole_calls_vectors(minilm, tmp_path, monkeypatch):
    """Activations are quantised per batch, so a part of a call's batches must be the batches the
    whole call forms: the parts, put back together, are bit for bit the whole call's vectors."""
    from journeys.embed import EMBEDDERS

    monkeypatch.setenv("JOURNEYS_CACHE_DIR", str(tmp_path))
    onnx = EMBEDDERS.create("minilm-onnx", threads=1, batch_size=4)
    texts = [f"{w} " * (1 + (k * 7) % 13) + f"item {k}" for k, w in
             enumerate(["ukulele", "sourdough", "telescope", "marathon", "origami"] * 3)]
    whole = onnx.embed(texts)
    parts = [onnx.embed_batches(texts, first, first + 2) for first in (0, 2)]  # 15 texts: 4 batches
    rows = np.concatenate([r for r, _ in parts])
    assert sorted(rows.tolist()) == list(range(len(texts)))
    assert [len(r) for r, _ in parts] == [8, 7]
    for r, v in parts:
        assert np.array_equal(v, whole[r])
    assert len(onnx.embed_batches(texts, 4)[0]) == 0 and len(onnx.embed_batches(texts, 3)[0]) == 3
    # other batch company changes the numbers (a little): why parts may not be re-batched
    alone = onnx.embed(texts[:5])
    assert not np.array_equal(alone, whole[:5]) and np.allclose(alone, whole[:5], atol=0.05)


def test_the_weights_digest_is_noted_and_read_back_while_the_file_is_unchanged(tmp_path, monkeypatch):
    import hashlib
    from pathlib import Path

    from journeys.embed.onnx import _digest

    weights = tmp_path / "model" / "model.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"weights v1")
    folder = tmp_path / "models"
    first = _digest(weights, folder)
    assert first == hashlib.sha256(b"weights v1").hexdigest()[:16]
    assert len(list(folder.glob("*.digest.json"))) == 1

    def no_reading(self):
        raise AssertionError("hashed again")

    with monkeypatch.context() as m:
        m.setattr(Path, "read_bytes", no_reading)
        assert _digest(weights, folder) == first  # the note answers
    weights.write_bytes(b"weights v2, longer")  # size and time change: hashed again
    assert _digest(weights, folder) == hashlib.sha256(b"weights v2, longer").hexdigest()[:16]
    (folder / next(folder.glob("*.digest.json")).name).write_text("{not json")
    assert _digest(weights, folder) == hashlib.sha256(b"weights v2, longer").hexdigest()[:16]
