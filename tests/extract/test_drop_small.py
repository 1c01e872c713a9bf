from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from journeys.extract import NOISE, drop_small


def _reference(labels, min_size):
    """The definition, item by item: small journeys become noise, the rest are renumbered 0..k-1
    in order of first appearance."""
    counts = {}
    for lab in labels:
        if lab != NOISE:
            counts[lab] = counts.get(lab, 0) + 1
    mapping, out = {}, []
    for lab in labels:
        if lab == NOISE or counts[lab] < min_size:
            out.append(NOISE)
        else:
            out.append(mapping.setdefault(lab, len(mapping)))
    return out


def test_known_answer():
    assert drop_small(np.array([5, 5, -1, 2, 5, 2, 7]), 2).tolist() == [0, 0, -1, 1, 0, 1, -1]


@given(st.lists(st.integers(-1, 6), max_size=40), st.integers(1, 4))
def test_equals_the_definition(labels, min_size):
    assert drop_small(np.array(labels, dtype=np.int64), min_size).tolist() == _reference(labels, min_size)
