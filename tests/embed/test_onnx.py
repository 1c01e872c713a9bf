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
