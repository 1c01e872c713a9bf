from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_length_sorted_batches_return_rows_in_input_order(minilm):
    texts = ["a", "a much longer text about ukulele chords and tuning", "mid length text", "b"]
    together = minilm.embed(texts)
    alone = np.vstack([minilm.embed([t]) for t in texts])
    assert together.shape == (4, 384) and together.dtype == np.float32
    assert np.allclose(together, alone, atol=1e-5)
    assert minilm.threads >= 1
