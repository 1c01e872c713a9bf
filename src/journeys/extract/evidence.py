"""Noise stays noise: other users' histories must confirm that an item belongs to a journey.

Text alone pulls one-offs into journeys about a similar topic (Debian blends are alike texts), and
co-occurrence vectors (PPMI + SVD) blur collections into shared dimensions. The raw record is
sharper: look at the *other* users who have the item. If the item belongs to the journey, those
users tend to have some of the journey's other items too, about as often as the co-users of the
journey's other members do. If it is a one-off from another interest, they have the journey's items
only as often as anybody does.

For each member i of a journey J with other members M (only the user's own journey, one user):

- n_i: other users who have i; k_i: those of them who have at least one item of M;
- p0_i: the share of all other users who have at least one item of M (a stranger's rate);
- q_i: the same share among the co-users of J's other members, pooled, with add-one smoothing
  (a member's rate), leave-one-out so an item does not vouch for itself;
- the log-likelihood ratio of "member" against "stranger" over the n_i co-users (binomial):
  llr_i = k_i log(q_i / p0_i) + (n_i - k_i) log((1 - q_i) / (1 - p0_i)).

The item leaves the journey (becomes unassigned) when llr_i < -margin, i.e. the co-users look like
strangers by a factor e^margin, and q_i > p0_i (the journey's members do confirm each other, so the
test has power). An item nobody else has (n_i = 0) is not tested: text decides, as before. Dense
logs where everybody has a journey's items (p0 ~ q) give llr ~ 0, so the test keeps items there.

The incidence (which users have which item) is learned once in `fit` and kept as CSR arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISE = -1


@dataclass(frozen=True)
class Incidence:
    """Which users have which item: item row r's users are indices[indptr[r]:indptr[r+1]]."""

    indptr: np.ndarray  # (n_items + 1,) int64
    indices: np.ndarray  # user numbers, int32, sorted within a row
    user_ids: tuple[str, ...]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def users_of(self, row: int) -> np.ndarray:
        return self.indices[self.indptr[row]:self.indptr[row + 1]]


def incidence(histories, index: dict[str, int]) -> Incidence:
    """Item-user incidence of `histories` (UserHistory-like: user_id, item_ids) over the item
    rows of `index` (items outside it are ignored)."""
    users = [h.user_id for h in histories]
    rows = [[] for _ in range(len(index))]
    for u, h in enumerate(histories):
        for item in dict.fromkeys(h.item_ids):
            r = index.get(item)
            if r is not None:
                rows[r].append(u)
    lens = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    indices = np.fromiter((u for r in rows for u in r), dtype=np.int32, count=int(lens.sum()))
    return Incidence(indptr, indices, tuple(users))


def member_llr(inc: Incidence, rows: np.ndarray, self_user: int | None) -> np.ndarray:
    """Per member (item rows of one journey, -1 = unknown item): the log-likelihood ratio that the
    other users who have it behave like members of the journey rather than strangers; NaN where the
    test has no evidence (nobody else has it) or no power (members do not confirm each other)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full(len(rows), np.nan)
    if not len(rows):
        return out
    others = max(inc.n_users - (self_user is not None), 1)
    # every member's co-users end to end (`seg`: whose they are), without this user
    lists = [inc.users_of(r) if r >= 0 else inc.indices[:0] for r in rows.tolist()]
    flat = np.concatenate(lists)
    seg = np.repeat(np.arange(len(rows)), [len(u) for u in lists])
    if self_user is not None:
        keep = flat != self_user
        flat, seg = flat[keep], seg[keep]
    cnt = np.bincount(flat, minlength=inc.n_users)
    any_member = int((cnt >= 1).sum())
    held = cnt[flat]
    n = np.bincount(seg, minlength=len(rows)).astype(np.float64)
    k = np.bincount(seg, weights=held >= 2, minlength=len(rows))  # co-users with another member
    only = np.bincount(seg, weights=held == 1, minlength=len(rows))  # ... with i alone
    big_n, big_k = n.sum(), k.sum()
    eps = 1e-9
    p0 = np.clip((any_member - only) / others, eps, 1 - eps)
    q = np.clip((big_k - k + 1.0) / (big_n - n + 2.0), eps, 1 - eps)
    test = (n > 0) & (q > p0)
    a = np.flatnonzero(test)
    out[a] = k[a] * np.log(q[a] / p0[a]) + (n[a] - k[a]) * np.log((1 - q[a]) / (1 - p0[a]))
    return out


def drop_outsiders(inc: Incidence, item_rows: np.ndarray, labels: np.ndarray, self_user: int | None,
                   margin: float) -> np.ndarray:
    """Labels with every journey member whose co-users look like strangers (llr < -margin) made
    NOISE. Journeys are tested as they stand (no re-test after removals); the caller drops what
    falls under min_size."""
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    for j in np.unique(labels[labels != NOISE]):
        idx = np.flatnonzero(labels == j)
        llr = member_llr(inc, item_rows[idx], self_user)
        out[idx[llr < -margin]] = NOISE  # NaN compares False: untested items stay
    return out
