"""Diversify: Pinterest's 0.95 rule. Properties (Hypothesis) and a known answer."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.diversify import DIVERSIFIERS, PenaltyDiversifier, mean_pairwise_similarity
from journeys.rank import order
from tests.after_shared import journey


def J(jid, score, centroid, **kw):
    return dataclasses.replace(journey(jid, [0, 1, 2], centroid=centroid)[0], score=score, **kw)


lists = st.lists(
    st.tuples(st.floats(0.0, 100.0, allow_nan=False), st.sampled_from([(1, 0), (0.9, 0.1), (0, 1), (0.6, 0.8)]),
              st.booleans(), st.booleans()),
    min_size=0, max_size=8,
).map(lambda rows: [J(f"j{k}", s, c, pinned=p, hidden=h) for k, (s, c, p, h) in enumerate(rows)])


@settings(max_examples=60, deadline=None)
@given(lists, st.floats(0.5, 1.0), st.floats(0.0, 1.0))
def test_output_is_a_permutation(js, penalty, threshold):
    for name in DIVERSIFIERS.names():
        out = DIVERSIFIERS.create(name, penalty=penalty, threshold=threshold).diversify(js)
        assert sorted(j.journey_id for j in out) == sorted(j.journey_id for j in js)
        assert out == order(out)  # pinned first, hidden last, scores descending in between


@settings(max_examples=60, deadline=None)
@given(lists, st.floats(0.0, 1.0))
def test_a_penalty_of_one_changes_nothing(js, threshold):
    ranked = order(js)
    assert PenaltyDiversifier(penalty=1.0, threshold=threshold).diversify(ranked) == ranked


def test_known_answer():
    a = J("a", 1.00, (1.0, 0.0))
    a2 = J("a2", 0.99, (0.99, 0.14))  # cosine 0.99 with a
    b = J("b", 0.97, (0.0, 1.0))
    a3 = J("a3", 0.96, (0.98, 0.2))  # similar to a and a2
    out = PenaltyDiversifier(penalty=0.95, threshold=0.9).diversify([a, a2, b, a3])
    assert [j.journey_id for j in out] == ["a", "b", "a2", "a3"]
    assert [j.score for j in out] == [1.0, 0.97, round(0.99 * 0.95, 6), round(0.96 * 0.95 ** 2, 6)]
    assert mean_pairwise_similarity([a, b]) == 0.0
