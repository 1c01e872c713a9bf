"""Expand: sources (conformance), grounding, safety, dedup, the key-value table, per-user rank."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.expand import EXPANSION_SOURCES, Catalogue, ExpandContext, Expander, PeerIndex, normalise
from journeys.store.sqlite import SQLiteStore
from tests.after_shared import journey

X, Y, Z, W = (1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0)


class EchoLLM:
    """Answers 'also pursue' questions from a table keyed by a word of the question."""

    name = "echo"

    def __init__(self, table):
        self.table, self.calls = table, 0

    def chat(self, messages, **kw):
        self.calls += 1
        q = messages[-1]["content"]
        return next((a for k, a in self.table.items() if k in q), "")


def J(jid, user, name, centroid, items=None):
    j = journey(jid, [0, 1, 2], user=user, name=name, centroid=centroid)[0]
    return dataclasses.replace(j, item_ids=tuple(items)) if items else j


CATALOGUE = Catalogue.of({"bread1": np.array(X), "bread2": np.array(X), "yarn1": np.array(Y),
                          "yarn2": np.array(Y), "chess1": np.array(Z)})
EMBED = {"Homemade bread": X, "Knitting": Y, "Chess openings": Z, "Spaceflight": W, "Hardcore porn": X}


def embed(texts):
    return np.array([EMBED.get(t, W) for t in texts], dtype=np.float32)


def _source_options(name):
    return {"llm": EchoLLM({"Knitting": "Homemade bread\nChess openings\nSpaceflight"})} if name == "llm" else {}


PEERS = PeerIndex.of([J("a1", "ann", "Knitting", Y), J("a2", "ann", "Homemade bread", X),
                      J("b1", "bob", "Knitting", Y), J("b2", "bob", "Homemade bread", X),
                      J("c1", "cat", "Knitting", Y), J("c2", "cat", "Chess openings", Z)])


@pytest.mark.parametrize("name", EXPANSION_SOURCES.names())
def test_every_source_proposes_named_scored_candidates_deterministically(name):
    src = EXPANSION_SOURCES.create(name, **_source_options(name))
    ctx = ExpandContext([], CATALOGUE, PEERS, embed)
    first = src.candidates("Knitting", ctx)
    assert first and all(c.name.strip() and c.score > 0 for c in first)
    assert "knitting" not in {normalise(c.name) for c in first}
    assert src.candidates("Knitting", ctx) == first
    assert src.version(ctx)


def test_collaborative_people_who_knit_also_bake():
    ctx = ExpandContext([], CATALOGUE, PEERS)
    got = EXPANSION_SOURCES.create("collaborative", support=1).candidates("knitting!", ctx)
    # 3 knitters; 2 of them bake (P = 2/3, bakers are 2 of 3 users), 1 plays chess (1/3, 1 of 3)
    assert [(c.name, c.score) for c in got] == [("Homemade bread", round((2 / 3) ** 0.5, 6)),
                                                ("Chess openings", round((1 / 3) ** 0.5, 6))]
    assert set(got[0].items) == set(PEERS.journeys[1].item_ids + PEERS.journeys[3].item_ids)  # the bakers' items
    # the lift (alpha 1) divides popularity out: both are as likely among knitters as overall
    lift = EXPANSION_SOURCES.create("collaborative", support=1, alpha=1.0).candidates("Knitting", ctx)
    assert [(c.name, c.score) for c in lift] == [("Chess openings", 1.0), ("Homemade bread", 1.0)]
    # two co-holders needed: chess (one) is not proposed
    assert [c.name for c in EXPANSION_SOURCES.create("collaborative", support=2).candidates("Knitting", ctx)] == ["Homemade bread"]


def test_each_user_gets_the_items_their_neighbours_hold():
    peers = PeerIndex.of([J("a1", "ann", "Knitting", Y, items=["yarn1"]), J("a2", "ann", "Bread", X, items=["b1", "b2"]),
                          J("b1", "bob", "Knitting", Y, items=["yarn2"]), J("b2", "bob", "Bread", X, items=["b3", "b2"]),
                          J("c1", "cat", "Knitting", Y, items=["yarn2"]), J("c2", "cat", "Bread", X, items=["b3"])])
    assert peers.neighbours("me", ["yarn2"]) == {"cat": 1 / 2 ** 0.5, "bob": 1 / 3 ** 0.5}  # cosine of item sets
    exp = Expander(["collaborative"], items=2)
    cat = Catalogue.of({i: np.array(X if i[0] == "b" else Y) for i in ("b1", "b2", "b3", "yarn1", "yarn2")})
    likes_yarn1 = ExpandContext([J("m1", "me", "Knitting", Y, items=["yarn1"])], cat, peers)
    likes_yarn2 = ExpandContext([J("m1", "me", "Knitting", Y, items=["yarn2"])], cat, peers, seen=frozenset({"b1"}))
    # the name's items, most widely held first: b2, b3 (two journeys each), then b1
    assert exp.expand_user(likes_yarn1)[0].item_ids == ("b2", "b1")  # ann (yarn1) holds b1, b2; not b3
    assert exp.expand_user(likes_yarn2)[0].item_ids == ("b3", "b2")  # bob and cat: b3 twice; b1 seen


def test_grounded_safe_deduplicated_ranked_and_cached_in_the_store(tmp_path):
    me = [J("m1", "me", "Knitting", Y, items=["yarn1"]), J("m2", "me", "Chess", Z, items=["chess1"])]
    llm = EchoLLM({"Knitting": "Homemade bread\nChess openings\nSpaceflight\nHardcore porn",
                   "Chess": "Knitting\nGo strategy"})
    with SQLiteStore(tmp_path / "j.db") as store:
        exp = Expander(["llm", "collaborative"], params={"llm": {"llm": llm}})
        ctx = ExpandContext(me, CATALOGUE, PEERS, embed, store)
        ranked = exp.expand_user(ctx)
        # Spaceflight finds no catalogue item (dropped); Chess openings is mostly my chess items
        # (dropped); Knitting is mine (dropped); Go strategy embeds to nothing in the catalogue.
        assert [(e.name, e.journey_id) for e in ranked] == [("Homemade bread", "m1")]
        assert set(ranked[0].item_ids) == {"bread1", "bread2"}
        assert "porn" not in str(store.get_expansion("knitting"))  # it would ground: unsafe
        calls = llm.calls
        out = exp.expand(ExpandContext(me, CATALOGUE, PEERS, embed, store))
        assert llm.calls == calls  # kept in the table: a name is expanded once
        assert [j.related for j in out] == [("Homemade bread",), ()]


def test_items_for_a_user_follow_votes_then_position_like_a_full_sort():
    """Property: `for_user` orders a candidate's new items as sorting all of them by (-votes,
    position) does, whatever the votes (ties, none, negative)."""
    from hypothesis import given, settings, strategies as st

    class Votes:
        def __init__(self, table):
            self.table = table

        def votes(self, key, weights):
            return self.table

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0]), min_size=0, max_size=30), st.integers(1, 12))
    def check(values, n):
        items = [f"i{k}" for k in range(len(values))]
        table = {i: v for i, v in zip(items, values) if v}
        exp = Expander(items=n)
        ctx = ExpandContext([], CATALOGUE, Votes(table))
        want = sorted(range(len(items)), key=lambda p: (-table.get(items[p], 0.0), p))[:n]
        assert exp.for_user("x", items, ctx, {"someone": 1.0}) == tuple(items[p] for p in want)

    check()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=8), max_size=4),
       st.lists(st.sampled_from("abcdefghijkl"), max_size=12), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_repeats_is_the_shared_share_of_any_journey(journeys, items, same):
    """`_repeats` (one pass over the items, an early no for long candidates) answers as the plain
    definition: some journey shares at least `same` of the candidate's items (distinct ones)."""
    from journeys.expand import _repeats

    owner: dict[str, list[int]] = {}
    for n, j in enumerate(journeys):
        for i in dict.fromkeys(j):
            owner.setdefault(i, []).append(n)
    largest = max((len(set(j)) for j in journeys), default=0)
    plain = any(len(set(j).intersection(items)) >= same * len(items) for j in journeys)
    assert _repeats(items, owner, len(journeys), same, largest) == plain
    assert _repeats(items, owner, len(journeys), same) == plain


def test_peer_index_counts_known_answers():
    """Holders per name, co-holders of a set of users, and the users of journey rows."""
    js = [journey("a", [1, 2], user="u1", name="Bread baking")[0],
          journey("b", [1, 2], user="u1", name="Chess")[0],
          journey("c", [1, 2], user="u2", name="bread  BAKING")[0],
          journey("d", [1, 2], user="u3", name="Chess")[0],
          journey("e", [1, 2], user="u3", name="Knitting")[0]]
    peers = PeerIndex.of(js)
    assert peers.names() == ["bread baking", "chess", "knitting"]
    assert peers.holder_counts().tolist() == [2, 2, 1]
    assert peers.co_holder_counts({"u1", "u3"}).tolist() == [1, 2, 1]
    assert peers.co_holder_counts({"u2", "nobody"}).tolist() == [1, 0, 0]
    assert peers.co_holder_counts(set()).tolist() == [0, 0, 0]
    rows = [r for r, j in enumerate(peers.journeys) if j.journey_id in ("b", "c", "e")]
    assert peers.row_users(np.array(rows)) == {"u1", "u2", "u3"}
