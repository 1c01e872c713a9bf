"""Per-journey keywords by class-based TF-IDF (c-TF-IDF).

A term scores high for a journey when many of the journey's items contain it (share), it is rare
across all items (global background IDF) and it is rare among the user's other journeys and
unassigned items (user IDF). Scikit-learn does the counting; phrases stay inside one tag or
sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

_WORD = re.compile(r"(?u)\b[^\W\d_][^\W\d_]+\b")  # words of 2+ letters; no years or numbers
_BREAK = re.compile(r"[.,;:!?|()\[\]{}/\"]+")  # phrases never cross punctuation (tags, sentences)


def _analyzer(stop_words: frozenset[str], ngram_range: tuple[int, int]):
    lo, hi = ngram_range

    def analyze(text: str) -> list[str]:
        terms: list[str] = []
        for segment in _BREAK.split(text.lower()):
            words = [w for w in _WORD.findall(segment)]
            for n in range(lo, hi + 1):
                for i in range(len(words) - n + 1):
                    gram = words[i : i + n]
                    if gram[0] in stop_words or gram[-1] in stop_words:
                        continue
                    terms.append(" ".join(gram))
        return terms

    return analyze


BROAD_SHARE = 0.01  # a term one item in a hundred carries is a category, not a journey's own word
BROAD_MIN_ITEMS = 10  # ... and at least this many items


class KeywordModel:
    """Fit once on every item's text; then score terms for groups of one user's items."""

    def __init__(self, top_n: int = 8, ngram_range: tuple[int, int] = (1, 2)):
        self.top_n = top_n
        self.ngram_range = ngram_range

    def fit(self, texts: Mapping[str, str]) -> "KeywordModel":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

        self.item_ids_ = list(texts)
        self.row_ = {item_id: i for i, item_id in enumerate(self.item_ids_)}
        self.vectorizer_ = CountVectorizer(
            analyzer=_analyzer(frozenset(ENGLISH_STOP_WORDS), self.ngram_range),
            binary=True,
            dtype=np.float32,
        )
        docs = [texts[i] for i in self.item_ids_] or [""]
        try:
            self.X_ = self.vectorizer_.fit_transform(docs).tocsr()
        except ValueError:  # every text was empty or stop words only
            self.vectorizer_ = None
            self.X_ = None
            return self
        df = np.asarray(self.X_.sum(axis=0)).ravel()
        self.global_idf_ = np.log1p(self.X_.shape[0] / np.maximum(df, 1.0))
        self.terms_ = self.vectorizer_.get_feature_names_out()
        self.__dict__.pop("term_index_", None)
        return self

    def state(self) -> dict[str, np.ndarray]:
        """The fitted model as arrays (stored as a versioned artifact; no pickle)."""
        if getattr(self, "X_", None) is None:
            return {"item_ids": np.asarray(getattr(self, "item_ids_", []), dtype=str)}
        X = self.X_.tocsr()
        return {"item_ids": np.asarray(self.item_ids_, dtype=str), "terms": np.asarray(self.terms_, dtype=str),
                "data": X.data, "indices": X.indices, "indptr": X.indptr,
                "shape": np.asarray(X.shape), "global_idf": self.global_idf_}

    def load_state(self, a: Mapping[str, np.ndarray]) -> "KeywordModel":
        from scipy import sparse

        self.item_ids_ = a["item_ids"].tolist()
        self.row_ = {item_id: i for i, item_id in enumerate(self.item_ids_)}
        self.vectorizer_ = None
        if "terms" not in a:
            self.X_ = None
            return self
        self.X_ = sparse.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=tuple(a["shape"].tolist()))
        self.terms_ = a["terms"]
        self.__dict__.pop("term_index_", None)
        self.global_idf_ = a["global_idf"]
        return self

    def keywords(
        self, groups: Sequence[Sequence[str]], others: Sequence[str] = ()
    ) -> list[list[str]]:
        """Top keywords per group of item ids, scored against the other groups and `others`."""
        if self.X_ is None or not groups:
            return [[] for _ in groups]
        classes = [list(g) for g in groups] + ([list(others)] if others else [])
        shares = []
        for members in classes:
            rows = [self.row_[i] for i in members if i in self.row_]
            if rows:
                shares.append(np.asarray(self.X_[rows].sum(axis=0)).ravel() / len(rows))
            else:
                shares.append(np.zeros(self.X_.shape[1], dtype=np.float32))
        shares = np.vstack(shares)
        present = (shares > 0).sum(axis=0)
        user_idf = np.log1p(len(classes) / np.maximum(present, 1))
        out = []
        for k in range(len(groups)):
            # share squared: a name-worthy term is carried by most of the journey, not one item
            score = shares[k] ** 2 * self.global_idf_ * user_idf
            out.append(self._top(score))
        return out

    def catalogue_share(self, term: str) -> float:
        """The share of all items whose text carries `term` (0 for a term the model never saw)."""
        if getattr(self, "X_", None) is None:
            return 0.0
        if not hasattr(self, "term_index_"):
            self.term_index_ = {str(t): j for j, t in enumerate(self.terms_)}
        j = self.term_index_.get(term)
        return 0.0 if j is None else float(1.0 / np.expm1(self.global_idf_[j]))

    def broad(self, terms: Sequence[str], share: float = BROAD_SHARE) -> tuple[str, ...]:
        """The terms that at least `share` of the whole catalogue, and at least BROAD_MIN_ITEMS
        items, carry: a category many items share ('drama', 'sci fi'), which names no one's
        journey on its own (in a catalogue of a dozen items no word is a category)."""
        n = self.X_.shape[0] if getattr(self, "X_", None) is not None else 0
        shares = {t: self.catalogue_share(t) for t in terms}
        return tuple(t for t in terms if shares[t] >= share and shares[t] * n >= BROAD_MIN_ITEMS - 1e-6)

    def _top(self, score: np.ndarray) -> list[str]:
        nz = np.flatnonzero(score > 0)
        # best first; ties broken by the term itself so results never depend on hashing
        # (a longer phrase wins a tie: 'sci fi' beats 'sci' and 'fi' when all three score alike)
        key = lambda j: (-round(float(score[j]), 9), -self.terms_[j].count(" "), self.terms_[j])  # noqa: E731
        head = 4 * self.top_n
        if len(nz) > head:
            # Sort only the best terms first: those whose rounded score is at least that of the
            # `head`-th best (rounding is monotone, so they lead the full order, in the same order).
            # If the rules below skip too many of them, fall back to the full order.
            vals = score[nz]
            floor = float(np.partition(vals, len(vals) - head)[len(vals) - head])
            near = nz[vals >= floor - 2e-9]  # a rounded tie is within 1e-9
            best = sorted((j for j in near if round(float(score[j]), 9) >= round(floor, 9)), key=key)
            chosen = self._choose(best)
            if len(chosen) == self.top_n:
                return chosen
        return self._choose(sorted(nz, key=key))

    def _choose(self, order) -> list[str]:
        chosen: list[str] = []
        for j in order:
            term = str(self.terms_[j])
            words = term.split()
            # a unigram already inside a chosen phrase adds nothing; nor a phrase made of chosen words
            if len(words) == 1 and any(term in c.split() for c in chosen):
                continue
            if len(words) > 1 and all(w in chosen for w in words):
                continue
            chosen.append(term)
            if len(chosen) == self.top_n:
                break
        return chosen
