"""Splitting journeys that have grown into blobs, after PinnerSage (Pinterest, KDD 2020).

A walk in time order with a running-mean centroid lets one journey swallow a heavy user's whole
history when the items live in one dense cloud (movie texts are short and alike; popular movies
co-occur with everything). PinnerSage clusters a user's items with Ward linkage and stops merging
when the merge cost passes a threshold; Ward's cost grows with the size of the clusters it joins,
so the cut is size-aware: a tight group of any size stays whole while a wide cloud of hundreds of
items falls apart into its densest parts.

`split_journeys` runs Ward on the members of each journey and cuts its tree at `distance`
(scipy's Ward height: sqrt(2 n_a n_b / (n_a + n_b)) times the distance between the two
centroids). Pieces smaller than `min_size` join the piece whose centroid is nearest, so a split
never turns journey items into noise. Deterministic: same vectors and labels in, same labels out.
"""

from __future__ import annotations

import numpy as np

NOISE = -1


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1.0, n)


def ward_pieces(x: np.ndarray, distance: float, min_size: int) -> np.ndarray:
    """Piece number (0..p-1) of each row of `x` (unit rows): Ward tree cut at `distance`, pieces
    under `min_size` folded into the nearest larger piece (one piece if none is large enough)."""
    n = len(x)
    if n < 2 * min_size:
        return np.zeros(n, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(np.asarray(x, dtype=np.float64), method="ward")
    if tree[-1, 2] <= distance:  # the whole journey is one tight group
        return np.zeros(n, dtype=np.int64)
    piece = fcluster(tree, distance, criterion="distance") - 1
    sizes = np.bincount(piece)
    big = np.flatnonzero(sizes >= min_size)
    if len(big) <= 1:
        return np.zeros(n, dtype=np.int64)
    cents = _unit(np.stack([x[piece == k].sum(0) for k in big]))
    small = sizes[piece] < min_size
    if small.any():
        piece[small] = big[(x[small] @ cents.T).argmax(1)]
    _, out = np.unique(piece, return_inverse=True)
    return out.astype(np.int64)


def split_journeys(x: np.ndarray, labels: np.ndarray, distance: float, min_size: int) -> np.ndarray:
    """New labels: every journey of `labels` cut into its Ward pieces; noise (-1) stays noise."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, NOISE, dtype=np.int64)
    nxt = 0
    for k in np.unique(labels[labels != NOISE]):
        idx = np.flatnonzero(labels == k)
        pieces = ward_pieces(x[idx], distance, min_size)
        out[idx] = pieces + nxt
        nxt += int(pieces.max()) + 1
    return out


def split_dominant(x: np.ndarray, labels: np.ndarray, max_share: float, min_size: int) -> np.ndarray:
    """While one journey holds more than `max_share` of the user's journey items, cut it in two
    with Ward (each piece >= `min_size`, else it stays whole): a journey that holds nearly all a
    person did is no journey."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    done: set[int] = set()
    while True:
        ids, sizes = np.unique(labels[labels != NOISE], return_counts=True)
        order = [int(k) for k in ids[np.argsort(-sizes, kind="stable")] if int(k) not in done]
        if not order or sizes.max() <= max_share * sizes.sum():
            return labels
        k = order[0]
        if (labels == k).sum() <= max_share * sizes.sum() or (labels == k).sum() < 2 * min_size:
            return labels
        idx = np.flatnonzero(labels == k)
        from scipy.cluster.hierarchy import fcluster, linkage

        piece = fcluster(linkage(np.asarray(x[idx], dtype=np.float64), method="ward"), 2,
                         criterion="maxclust") - 1
        if np.bincount(piece, minlength=2).min() < min_size:
            done.add(k)
            continue
        labels[idx[piece == 1]] = int(labels.max()) + 1
