"""ICPC, after ALLY: incremental personalized clustering over a user's history in time order."""

from __future__ import annotations

import numpy as np

from journeys.extract import CLUSTERERS, NOISE, Corpus, UserHistory, drop_small


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1.0, n)


def _unit_row(v: np.ndarray) -> np.ndarray:
    """`_unit` of one row, the same numbers (np.linalg.norm's sum of squares) at less call cost."""
    n = float(np.sqrt(np.add.reduce(v * v)))
    return v / n if n != 0 else v.copy()


@CLUSTERERS.register("icpc")
class ICPC:
    """Walk items in time order; an item joins the journey whose normalised centroid is most
    cosine-similar to it if that similarity is >= `threshold`, else it starts a new journey.
    Centroids are running means. Then, optionally:

    - `merge_threshold`: journeys whose centroids have cosine >= this are merged (closest pair
      first) - a walk in time order can split one interest whose first items happened to differ;
    - `refine`: one re-assignment pass of every item to its most similar final centroid (still
      subject to `threshold`), which undoes order effects of the single pass.

    Journeys with fewer than `min_size` items are dropped; their items become noise (-1).

    `collaborative` (0..1) mixes in what everybody's histories say about an item: `fit` learns
    co-occurrence vectors (PPMI + truncated SVD over all users, see `cooccur.py`), and each item
    is walked as [sqrt(1-w) text, sqrt(w) co-occurrence] (unit), so cosines are the w-weighted
    mix of text and co-occurrence cosines. The weight of an item is `collaborative * (1 - 1/n)`
    with n the number of users who have it: an item only this user has tells nothing beyond
    the user's own history, and unseen items are walked on their text alone. Mixed vectors have
    higher cosines than text alone, so an item's threshold slides from `text_threshold` (no
    co-occurrence evidence) to `threshold` (full weight); `text_threshold=None` uses `threshold`.

    The right grain (issue 12, docs/granularity.md), after PinnerSage's Ward clustering:

    - `split_distance`: each journey is cut by Ward linkage on its members at this height
      (`split.py`); Ward's cost grows with size, so a tight group stays whole while a blob of
      hundreds of alike items falls into its densest parts. None: no split.
    - `max_share`: while one journey holds more than this share of the user's journey items, it
      is cut in two by Ward (pieces >= `min_size`). None: no such cut.
    - `cooc_floor` (off by default): an item other users have leaves its journey when its
      co-occurrence vector has cosine below this with the journey's; fewer one-offs absorbed,
      at some recall.
    - `outsider_llr` (noise stays noise, `evidence.py`): the other users who have an item must
      look like members of its journey, not strangers: it leaves the journey when the
      log-likelihood ratio is below -outsider_llr. Items nobody else has are not tested. None: off.

    Defaults come from `journeys bench sweep` on the Debian blends collections (best harmonic
    mean of recall and purity over 432 settings, then text_threshold over 24), checked on WordNet
    topic domains and on fewer users; see
    docs/extraction-benchmark.md.
    """

    name = "icpc"
    fit_uses_vectors = False  # the global fit is co-occurrence: item ids only

    def __init__(
        self,
        threshold: float = 0.5,
        min_size: int = 3,
        merge_threshold: float | None = 0.7,
        refine: bool = True,
        collaborative: float = 0.5,
        text_threshold: float | None = 0.3,
        collaborative_dims: int = 64,
        split_distance: float | None = 2.0,
        max_share: float | None = 0.8,
        cooc_floor: float | None = None,
        outsider_llr: float | None = 1.0,
        seed: int = 0,
    ):
        self.threshold = threshold
        self.min_size = min_size
        self.merge_threshold = merge_threshold
        self.refine = refine
        self.collaborative = collaborative
        self.text_threshold = text_threshold
        self.collaborative_dims = collaborative_dims
        self.split_distance = split_distance
        self.max_share = max_share
        self.cooc_floor = cooc_floor
        self.outsider_llr = outsider_llr
        self.seed = seed

    def fit(self, corpus: Corpus) -> "ICPC":
        self.cooc_ = None
        if self.collaborative > 0 and corpus.histories:
            from journeys.extract.cooccur import cooccurrence_vectors

            self.cooc_ = cooccurrence_vectors(corpus, self.collaborative_dims, self.seed)
            self.cooc_index_ = self.cooc_.index()
        self._set_incidence(None)
        if self.cooc_ is not None and self.outsider_llr is not None:
            from journeys.extract.evidence import incidence

            self._set_incidence(incidence(corpus.histories, self.cooc_index_))
        return self

    def fit_matrix(self, x, catalogue, users=()) -> "ICPC":
        """`fit` from a binary users x catalogue-codes matrix (the columnar path; `users` names its
        rows); the same result as `fit` on the same histories."""
        self.cooc_ = None
        self._set_incidence(None)
        if self.collaborative > 0 and x.shape[0]:
            from journeys.extract.cooccur import cooccurrence_from_matrix

            self.cooc_ = cooccurrence_from_matrix(x, catalogue, self.collaborative_dims, self.seed)
            self.cooc_index_ = self.cooc_.index()
            if self.outsider_llr is not None:
                from journeys.extract.evidence import Incidence

                code = {str(c): n for n, c in enumerate(catalogue)}
                xt = x.T.tocsr()[[code[i] for i in self.cooc_.item_ids]]
                xt.sort_indices()
                self._set_incidence(Incidence(xt.indptr.astype(np.int64), xt.indices.astype(np.int32), tuple(users)))
        return self

    def _set_incidence(self, inc) -> None:
        self.incidence_ = inc
        self.user_index_ = {u: n for n, u in enumerate(inc.user_ids)} if inc is not None else {}

    def state(self) -> dict[str, np.ndarray]:
        """The learned state as plain arrays (what the store keeps and workers receive)."""
        cooc = getattr(self, "cooc_", None)
        if cooc is None:
            return {}
        out = {"cooc_item_ids": np.asarray(cooc.item_ids, dtype=str), "cooc_vectors": cooc.vectors,
               "cooc_users": np.asarray(cooc.users, dtype=np.float64)}
        inc = getattr(self, "incidence_", None)
        if inc is not None:
            out.update({"inc_indptr": inc.indptr, "inc_indices": inc.indices,
                        "inc_user_ids": np.asarray(inc.user_ids, dtype=str)})
        return out

    def load_state(self, arrays: dict[str, np.ndarray]) -> "ICPC":
        from journeys.extract.cooccur import CooccurrenceVectors

        self.cooc_ = None
        if "cooc_vectors" in arrays:
            self.cooc_ = CooccurrenceVectors(tuple(arrays["cooc_item_ids"].tolist()),
                                             arrays["cooc_vectors"].astype(np.float32), arrays["cooc_users"])
            self.cooc_index_ = self.cooc_.index()
        self._set_incidence(None)
        if "inc_indptr" in arrays:
            from journeys.extract.evidence import Incidence

            self._set_incidence(Incidence(arrays["inc_indptr"].astype(np.int64), arrays["inc_indices"].astype(np.int32),
                                          tuple(arrays["inc_user_ids"].tolist())))
        return self

    def walk(self, history: UserHistory) -> tuple[np.ndarray, np.ndarray]:
        """The vectors ICPC walks (text, mixed with co-occurrence) and each item's threshold."""
        return self._vectors(history)

    def _thresholds(self, w: np.ndarray) -> np.ndarray:
        """Per item: `threshold` for an item with full collaborative weight, `text_threshold` for
        one walked on text alone, linear in between (mixed vectors have higher cosines)."""
        if self.collaborative <= 0 or self.text_threshold is None:
            return np.full(len(w), self.threshold)
        share = np.clip(w / self.collaborative, 0.0, 1.0)
        return self.text_threshold + (self.threshold - self.text_threshold) * share

    def _parts(self, history: UserHistory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Text vectors, co-occurrence vectors (zero rows where none) and collaborative weights."""
        x = np.asarray(history.vectors, dtype=np.float32)
        cooc = getattr(self, "cooc_", None)
        if cooc is None or not len(x) or not cooc.item_ids:
            return x, np.zeros((len(x), 0), dtype=np.float32), np.zeros(len(x), dtype=np.float32)
        get = self.cooc_index_.get
        rows = np.fromiter((get(i, -1) for i in history.item_ids), dtype=np.int64, count=len(x))
        c = np.zeros((len(x), cooc.vectors.shape[1]), dtype=np.float32)
        users = np.ones(len(x))
        has = rows >= 0
        c[has], users[has] = cooc.vectors[rows[has]], cooc.users[rows[has]]
        w = (self.collaborative * (1.0 - 1.0 / np.maximum(users, 1.0))).astype(np.float32)
        return x, c, w

    def _vectors(self, history: UserHistory) -> tuple[np.ndarray, np.ndarray]:
        """Walk vectors and per-item thresholds."""
        x, c, w = self._parts(history)
        if not c.shape[1]:
            return x, self._thresholds(w)
        mixed = _unit(np.hstack([np.sqrt(1.0 - w)[:, None] * x, np.sqrt(w)[:, None] * c]))
        return mixed, self._thresholds(w)

    def assign(self, history: UserHistory) -> np.ndarray:
        x, th = self._vectors(history)
        n = len(x)
        labels = np.empty(n, dtype=np.int64)
        # running sums of each journey's vectors and their unit rows; only the row that changed is
        # renormalised (the same numbers as normalising all of them at every step)
        sums = np.zeros((n, x.shape[1] if n else 0), dtype=np.float64)
        units = np.zeros_like(sums)
        wide = x.astype(np.float64)  # what every product below casts x's rows to anyway
        limits = th.tolist()
        k = 0
        for i in range(n):
            row = wide[i]
            if k:
                sims = units[:k] @ row
                best = int(sims.argmax())
                if sims[best] >= limits[i]:
                    total = sums[best]
                    total += row
                    units[best] = _unit_row(total)
                    labels[i] = best
                    continue
            sums[k] = row
            units[k] = _unit_row(row)
            labels[i] = k
            k += 1
        if self.merge_threshold is not None and k > 1:
            labels = self._merge(x, labels)
        if self.refine and n:
            labels = self._refine(x, labels, th)
        labels = drop_small(labels, self.min_size)
        if self.split_distance is not None:
            from journeys.extract.split import split_journeys

            labels = drop_small(split_journeys(x, labels, self.split_distance, self.min_size), 1)
        if self.max_share is not None:
            from journeys.extract.split import split_dominant

            labels = drop_small(split_dominant(x, labels, self.max_share, self.min_size), 1)
        if self.cooc_floor is not None:
            labels = drop_small(self._agree(history, labels), self.min_size)
        if self.outsider_llr is not None and getattr(self, "incidence_", None) is not None:
            labels = drop_small(self._outsiders(history, labels), self.min_size)
        return labels

    def _outsiders(self, history: UserHistory, labels: np.ndarray) -> np.ndarray:
        """Other users' histories must confirm membership (`evidence.py`): an item whose co-users
        look like strangers to its journey (log-likelihood ratio < -outsider_llr) leaves it."""
        from journeys.extract.evidence import drop_outsiders

        rows = np.array([self.cooc_index_.get(i, -1) for i in history.item_ids], dtype=np.int64)
        return drop_outsiders(self.incidence_, rows, labels, self.user_index_.get(history.user_id),
                              self.outsider_llr)

    def _agree(self, history: UserHistory, labels: np.ndarray) -> np.ndarray:
        """Both signals must agree: an item that other users have (collaborative weight > 0)
        stays in its journey only if its co-occurrence vector has cosine >= `cooc_floor` with the
        journey's co-occurrence centroid (the other members with evidence). Text alone can pull a
        one-off into a journey about the same topic; what people do together says it is not."""
        _, c, w = self._parts(history)
        if not c.shape[1]:
            return labels
        out = labels.copy()
        has = w > 0
        for k in np.unique(labels[labels != NOISE]):
            idx = np.flatnonzero((labels == k) & has)
            if len(idx) < 2:
                continue
            total = c[idx].sum(0)
            for i in idx:
                rest = total - c[i]
                norm = np.linalg.norm(rest)
                if norm > 0 and float(c[i] @ rest) / norm < self.cooc_floor:
                    out[i] = NOISE
        return out

    def _merge(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        labels = labels.copy()
        while True:
            ids = np.unique(labels)
            if len(ids) < 2:
                return labels
            cents = _unit(np.stack([x[labels == k].sum(0) for k in ids]))
            sims = cents @ cents.T
            np.fill_diagonal(sims, -np.inf)
            a, b = np.unravel_index(int(np.argmax(sims)), sims.shape)
            if sims[a, b] < self.merge_threshold:
                return labels
            keep, gone = sorted((int(ids[a]), int(ids[b])))
            labels[labels == gone] = keep

    def _refine(self, x: np.ndarray, labels: np.ndarray, th: np.ndarray) -> np.ndarray:
        big = [k for k in np.unique(labels) if (labels == k).sum() >= self.min_size]
        if not big:
            return labels
        cents = _unit(np.stack([x[labels == k].sum(0) for k in big]))
        sims = x @ cents.T
        best = sims.argmax(1)
        out = labels.copy()
        ok = sims[np.arange(len(x)), best] >= th
        out[ok] = np.asarray(big)[best[ok]]
        return out
