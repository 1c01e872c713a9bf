"""The `journeys` recommender: collaborative + text retrieval per journey, calibrated slots,
steering. See recommend.py for the idea; every array is (journeys x catalogue) numpy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from journeys.errors import ConfigError, NotFound
from journeys.recommend import (RECOMMENDERS, ItemSpace, Steering, UserState, _unit_rows, active_journeys,
                                provisional_journey_id, search_journey_id, slot_quotas)
from journeys.recommend_hybrid import rerank
from journeys.recommend_models import SCORERS, pair_scores
from journeys.types import Journey, Recommendation


@RECOMMENDERS.register("journeys")
class JourneyRecommender:
    """Defaults: half_life, pool and every as `journeys bench recs` tuned them on the validation
    split of MovieLens latest-small; query_weight and query_text_weight on synthetic Debian blends
    users of seed 1 (the reported --query figure is seed 0); see docs/recommendations.md."""

    name = "journeys"

    def __init__(self, scorer: str = "ease", scorer_options: dict | None = None, text_weight: float = 0.0,
                 calibration: float = 0.0, rank_decay: float = 0.8, specificity: float = 1.0,
                 query_weight: float = 2.0, query_match: float = 0.4,
                 query_text_weight: float = 1.0, explore_low: float = 0.3,
                 explore_high: float = 0.8, half_life: float = 10.0, pool: int = 30, every: float = 1.0,
                 spread: float = 0.1, diversity: float = 0.2, **_: object):
        self.scorer = scorer
        self.scorer_options = dict(scorer_options or {})
        self.text_weight = text_weight
        self.calibration = calibration
        self.rank_decay = rank_decay
        self.specificity = specificity
        self.query_weight = query_weight
        self.query_match = query_match
        self.explore_low = explore_low
        self.explore_high = explore_high
        self.half_life = half_life
        self.query_text_weight = query_text_weight
        self.pool = pool
        self.every = every
        self.spread = spread
        self.diversity = diversity

    # -- learning -------------------------------------------------------------------------
    def fit(self, space: ItemSpace, interactions, journeys: Sequence[Journey] = (),
            embed: Callable[[list[str]], np.ndarray] | None = None) -> "JourneyRecommender":
        self.space_ = space
        self.index_ = space.index()
        self.scorer_ = SCORERS.create(self.scorer, **self.scorer_options).fit(interactions)
        self.embed_ = embed
        self.others_ = [j for j in journeys if not j.hidden]
        self.others_c_ = self.centroids(self.others_) if self.others_ else np.zeros((0, space.vectors.shape[1]))
        return self

    def centroids(self, journeys: Sequence[Journey]) -> np.ndarray:
        """Stored centroids where they match the catalogue's vectors, else the members' mean."""
        v = self.space_.vectors
        out = np.zeros((len(journeys), v.shape[1]), dtype=np.float32)
        for n, j in enumerate(journeys):
            if len(j.centroid) == v.shape[1]:
                out[n] = j.centroid
            else:
                rows = [self.index_[i] for i in j.item_ids if i in self.index_]
                out[n] = v[rows].sum(0) if rows else 0.0
        return _unit_rows(out)

    def _rows(self, groups: Sequence[Sequence[int]]):
        from scipy import sparse

        r = [n for n, g in enumerate(groups) for _ in g]
        c = [i for g in groups for i in g]
        return sparse.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(groups), len(self.index_)))

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.embed_ is None:
            raise ConfigError("this recommender was fitted without an embedder: no --query or --explore")
        return _unit_rows(np.asarray(self.embed_(texts), dtype=np.float32))

    # -- recommending ---------------------------------------------------------------------
    def recommend(self, user: UserState, k: int = 20, steering: Steering = Steering()) -> list[Recommendation]:
        js = active_journeys(user.journeys, steering.exclude_journeys)
        if not user.journeys and len(user.positives):
            js = [self._provisional(user)]
        unseen = np.ones(len(self.index_), dtype=bool)
        unseen[np.asarray(user.seen, dtype=np.int64)] = False
        if k <= 0 or not unseen.any():
            return []
        if steering.journey is None and not steering.explore and not steering.query:
            if not js:
                return []
            chosen, owners, scores = rerank(self, user, js, k, unseen)
            return self._emit(user, chosen, owners, scores)
        groups = [[self.index_[i] for i in j.item_ids if i in self.index_] for j in js]
        cf = self.scorer_.scores(self._rows(groups + [list(user.positives)])) if js or len(user.positives) else None
        total = cf[-1] if cf is not None else np.zeros(len(self.index_), dtype=np.float32)
        norm = float(np.max(total[unseen], initial=0.0)) or 1.0
        cf_j, total = (cf[:-1] / norm, total / norm) if cf is not None else (np.zeros((0, len(total))), total)
        need_text = js and (self.text_weight or steering.journey or steering.explore or steering.query)
        text = self.centroids(js) @ self.space_.vectors.T if need_text else np.zeros((len(js), len(total)), dtype=np.float32)
        q = self._embed([steering.query])[0] if steering.query else None
        qi = self.space_.vectors @ q if q is not None else 0.0
        if steering.journey is not None:
            pos = [n for n, j in enumerate(js) if j.journey_id == steering.journey]
            if not pos:
                raise NotFound(f"user '{user.user_id}' has no visible journey '{steering.journey}'")
            return self._one_journey(user, js, pos[0], cf_j, text, total, unseen, k, qi)
        if steering.explore:
            return self._explore(user, js, text, total, unseen, k)
        match = (self.centroids(js) @ q) if js else np.zeros(0)
        keep = np.flatnonzero(match >= self.query_match)
        if not len(keep):
            return self._search(user, q, steering.query, total, unseen, k)
        chosen, owners, scores = rerank(self, user, [js[n] for n in keep], k, unseen,
                                        boost=self.query_weight * qi, weights=match[keep],
                                        text_weight=self.query_text_weight, half_life=0.0, diversity=0.0)
        return self._emit(user, chosen, owners, scores)

    def _one_journey(self, user, js, t, cf_j, text, total, unseen, k, qi) -> list[Recommendation]:
        """Every slot from journey t: items nearer it than the user's other journeys first."""
        others = np.delete(text, t, axis=0)
        margin = text[t] - (others.max(axis=0) if len(others) else 0.0)
        score = cf_j[t] + self.text_weight * text[t] + self.specificity * margin + self.query_weight * qi
        score = np.where(unseen, score, -np.inf)
        order = np.lexsort((-score, ~(margin >= 0)))
        chosen = [int(i) for i in order[:k] if np.isfinite(score[i])]
        return self._emit(user, chosen, [js[t]] * len(chosen), score[chosen])

    def _search(self, user, q, query, total, unseen, k) -> list[Recommendation]:
        """No journey matches the query: a new, search-driven journey around it."""
        score = np.where(unseen, self.space_.vectors @ q + self.text_weight * total, -np.inf)
        chosen = [int(i) for i in np.argsort(-score, kind="stable")[:k] if np.isfinite(score[i])]
        jid = search_journey_id(user.user_id, query)
        return [Recommendation(user.user_id, self.space_.item_ids[i], jid, float(score[i]),
                               f"for your search '{query}'", rank=r)
                for r, i in enumerate(chosen, 1)]

    def _explore(self, user, js, text, total, unseen, k) -> list[Recommendation]:
        """Expansions: related names of the user's journeys, else neighbouring journeys of others."""
        targets: list[tuple[int, str, np.ndarray, np.ndarray | None]] = []  # (journey, label, vector, items)
        named = [(n, name) for n, j in enumerate(js) for name in j.related]
        if named:
            vecs = self._embed([name for _, name in named])
            targets = [(n, name, v, None) for (n, name), v in zip(named, vecs)]
        elif js and len(self.others_):
            mine = self.centroids(js)
            sims = mine @ self.others_c_.T  # (mine, others)
            far = sims.max(axis=0) < self.explore_high
            foreign = np.array([o.user_id != user.user_id for o in self.others_])
            for n in range(len(js)):
                ok = np.flatnonzero(far & foreign & (sims[n] >= self.explore_low))
                for o in ok[np.argsort(-sims[n, ok], kind="stable")][:2]:
                    rows = np.array([self.index_[i] for i in self.others_[o].item_ids if i in self.index_], dtype=np.int64)
                    targets.append((n, self.others_[o].name, self.others_c_[o], rows))
        if not targets:
            return []
        covered = text.max(axis=0) if len(text) else np.zeros(len(total))
        scores = []
        for _, _, vec, rows in targets:
            s = self.space_.vectors @ vec + self.text_weight * total - 0.5 * np.maximum(covered - self.explore_high, 0)
            if rows is not None:
                only = np.full(len(s), -np.inf)
                only[rows] = s[rows]
                s = only
            scores.append(np.where(unseen, s, -np.inf))
        s = np.stack(scores)
        attr = np.argmax(s, axis=0)
        base = s[attr, np.arange(s.shape[1])]
        weights = np.array([self.rank_decay ** targets[t][0] for t in range(len(targets))])
        quotas = slot_quotas(weights, k)
        chosen = _select(base, attr, quotas, quotas + int(round((1.0 - self.calibration) * k)), k)
        chosen = sorted(chosen, key=lambda i: -base[i])
        return [Recommendation(user.user_id, self.space_.item_ids[i], js[targets[attr[i]][0]].journey_id,
                               float(base[i]), f"to explore from your journey {js[targets[attr[i]][0]].name}: "
                               f"{targets[attr[i]][1]}", rank=r) for r, i in enumerate(chosen, 1)]

    def _provisional(self, user: UserState) -> Journey:
        """A user with no journey yet (every item unassigned): one provisional journey over the
        whole history, so that every recommendation still names the journey it serves."""
        from datetime import datetime, timezone

        ids = tuple(self.space_.item_ids[i] for i in user.positives)
        when = datetime(1970, 1, 1, tzinfo=timezone.utc)
        return Journey(provisional_journey_id(user.user_id), user.user_id, "your recent interests", "provisional",
                       (), ids, len(ids), when, when)

    def _emit(self, user, chosen, journeys, scores) -> list[Recommendation]:
        """Recommendations with reasons: the journey item that speaks most for each one."""
        out, parts = [], {}
        for n, j in enumerate(journeys):
            parts.setdefault(j.journey_id, (j, []))[1].append(n)
        why = [""] * len(chosen)
        v = self.space_.vectors
        for j, at in parts.values():
            members = [self.index_[m] for m in j.item_ids if m in self.index_]
            if not members:
                continue
            items = [chosen[n] for n in at]
            part = pair_scores(self.scorer_, members, items)  # (members, items)
            part = part / np.maximum(np.abs(part).max(axis=0, keepdims=True), 1e-12) + v[members] @ v[items].T
            for n, best in zip(at, part.argmax(axis=0)):
                why[n] = f": like {self.space_.titles[members[int(best)]]}"
        for r, (i, j, sc) in enumerate(zip(chosen, journeys, scores), 1):
            why_i = why[r - 1]
            out.append(Recommendation(user.user_id, self.space_.item_ids[i], j.journey_id, float(sc),
                                      f"for your journey {j.name}{why_i}", rank=r))
        return out


def _select(base: np.ndarray, attr: np.ndarray, quotas: np.ndarray, caps: np.ndarray, k: int) -> list[int]:
    """Best items first, each journey up to its cap, keeping a slot for every journey with a quota
    that has candidates; then fill what is left by score."""
    order = np.argsort(-base, kind="stable")
    order = order[np.isfinite(base[order])].tolist()
    has = np.zeros(len(quotas), dtype=bool)
    has[np.unique(attr[np.isfinite(base)])] = True
    unserved = set(np.flatnonzero(has & (quotas > 0)).tolist())
    count = np.zeros(len(quotas), dtype=np.int64)
    chosen: list[int] = []
    for i in order:
        if len(chosen) == k:
            break
        a = int(attr[i])
        if count[a] >= caps[a]:
            continue
        if a not in unserved and k - len(chosen) <= len(unserved):
            continue
        chosen.append(i)
        count[a] += 1
        unserved.discard(a)
    if len(chosen) < k:
        taken = set(chosen)
        chosen += [i for i in order if i not in taken][: k - len(chosen)]
    return chosen
