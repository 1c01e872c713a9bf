"""The sub-journey measure (issue 12): parents by average linkage, scored against families."""

from __future__ import annotations

import numpy as np

from journeys.bench.subjourneys import family_scores, parent_groups


def test_parent_groups_cut_known_answer():
    e = np.eye(3)
    near = np.array([1.0, 0.1, 0.0]) / np.linalg.norm([1.0, 0.1, 0.0])
    c = np.stack([e[0], near, e[2]])
    g = parent_groups(c, 0.1)  # e0 and near are ~0.005 apart, e2 is 1.0 from both
    assert g[0] == g[1] != g[2]
    assert len(set(parent_groups(c, 1.5).tolist())) == 1
    assert parent_groups(c[:1], 0.1).tolist() == [0]


def test_family_scores_known_answer():
    # journeys: games, games, science, science, med; groups: {0,1,2} {3} {4}
    parents, pure, pairs, grouped = family_scores(np.array([0, 0, 0, 1, 2]),
                                                  ["games", "games", "science", "science", "med"])
    assert (parents, pure) == (1, 0)  # one parent, mixing games and science
    assert (pairs, grouped) == (2, 1)  # games pair grouped, science pair split
    assert family_scores(np.array([0, 0, 1]), ["a", "a", "b"]) == (1, 1, 1, 1)
