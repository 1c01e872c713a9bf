"""The store conformance suite: every `Store` protocol method, with known answers.

A backend's test module subclasses `StoreConformance` and provides a `store` fixture (a fresh, empty
store) and `reopen(store)` (the same database, newly opened). Not collected on its own (no `Test`
prefix)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from journeys.types import Event, Item, Journey

T = datetime(2024, 1, 1, tzinfo=timezone.utc)


def journey(jid="j_1", user="alice", name="Ukulele", items=("u1", "u2"), **kw) -> Journey:
    return Journey(jid, user, name, "keywords", ("ukulele", "chords"), items, 3, T, T + timedelta(days=2),
                   (0.6, 0.8), ("u1",), **kw)


class StoreConformance:
    """Mixin: subclasses define the `store` fixture and `reopen`."""

    def reopen(self, store):  # pragma: no cover - overridden
        raise NotImplementedError

    # -- items ------------------------------------------------------------------------------
    def test_items_upsert_counts_only_changes(self, store):
        items = [Item("u1", "Ukulele chords", "strum", ("music", "ukulele")), Item("u2", "Tuning")]
        assert store.upsert_items(items) == 2
        assert store.upsert_items(items) == 0
        assert store.upsert_items([Item("u2", "Tuning a ukulele"), Item("u1", "Ukulele chords", "strum",
                                                                         ("music", "ukulele"))]) == 1
        assert store.upsert_items([]) == 0
        got = store.items()
        assert set(got) == {"u1", "u2"}
        assert got["u1"] == Item("u1", "Ukulele chords", "strum", ("music", "ukulele"))
        assert store.items(["u2", "missing"]) == {"u2": Item("u2", "Tuning a ukulele")}
        assert store.items([]) == {}

    def test_items_keep_unicode_and_tag_order(self, store):
        item = Item("ü/1", "Crème brûlée — 焦糖", "a 'quoted' \"text\"\nnew line", ("z", "a", "ü"))
        store.upsert_items([item])
        assert store.items(["ü/1"]) == {"ü/1": item}

    # -- events -----------------------------------------------------------------------------
    def test_events_dedup_and_order(self, store):
        ev = [Event("bob", "b2", T + timedelta(hours=1)), Event("alice", "u2", T, "search", 1.0, "tuning"),
              Event("alice", "u1", T), Event("alice", "u0", T + timedelta(seconds=1), "rate", 4.5)]
        assert store.add_events(ev) == 4
        assert store.add_events(ev) == 0
        assert store.add_events(ev[:1] + ev[:1] + [Event("bob", "b2", T + timedelta(hours=1), "click")]) == 1
        assert store.add_events([]) == 0
        alice = store.events("alice")
        assert alice == [ev[2], ev[1], ev[3]]  # by time, then item id
        assert alice[1].query == "tuning" and alice[0].query is None and alice[2].weight == 4.5
        assert all(e.timestamp.tzinfo is not None for e in alice)
        assert [e.user_id for e in store.events()] == ["alice"] * 3 + ["bob"] * 2
        assert store.events("nobody") == []

    def test_event_timestamps_roundtrip_to_the_microsecond(self, store):
        e = Event("alice", "u1", datetime(2023, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc))
        store.add_events([e])
        assert store.events("alice") == [e]

    def test_many_events_in_one_batch(self, store):
        ev = [Event(f"u{i % 37}", f"i{i % 101}", T + timedelta(seconds=i)) for i in range(5000)]
        assert store.add_events(ev) == 5000
        assert len(store.events()) == 5000 and len(store.events("u5")) == len([e for e in ev if e.user_id == "u5"])

    def test_event_columns_are_the_events_in_the_same_order(self, store):
        # same order as events(): by user, time, item id (ties on those three in the key's order)
        ev = [Event("bob", "b2", T + timedelta(hours=1)), Event("alice", "u2", T, "search", 1.0, "tuning"),
              Event("alice", "u1", T), Event("alice", "u0", T + timedelta(seconds=1), "rate", 4.5),
              Event("10", "ü/1", datetime(1969, 12, 31, 23, 59, 58, 999999, tzinfo=timezone.utc), "rate", 0.5),
              Event("10", "u1", datetime(2023, 5, 6, 7, 8, 9, 123457, tzinfo=timezone.utc), "search", 1.0, ""),
              Event("bob", "b2", T + timedelta(hours=1), "click")]
        ev += [Event(f"u{i % 37}", f"i{i % 101}", T + timedelta(microseconds=1_000_003 * i)) for i in range(3000)]
        assert store.event_columns().events() == [] and len(store.event_columns()) == 0
        store.add_events(ev)
        cols = store.event_columns(chunk=500)  # several chunks
        assert cols.events() == store.events() and len(cols) == len(ev)
        assert set(cols.users) == {e.user_id for e in ev} and len(cols.items) == len({e.item_id for e in ev})
        assert cols.by_user()["alice"].events() == store.events("alice")

    # -- users ------------------------------------------------------------------------------
    def test_users_numeric_then_alphabetical_with_counts(self, store):
        for user, n in (("10", 1), ("2", 2), ("bob", 1), ("alice", 3), ("1", 1)):
            store.add_events(Event(user, f"i{k}", T + timedelta(seconds=k)) for k in range(n))
        store.replace_journeys("2", [journey("j_a", "2"), journey("j_b", "2")], [])
        assert store.users() == [
            {"user_id": "1", "n_events": 1, "n_journeys": 0},
            {"user_id": "2", "n_events": 2, "n_journeys": 2},
            {"user_id": "10", "n_events": 1, "n_journeys": 0},
            {"user_id": "alice", "n_events": 3, "n_journeys": 0},
            {"user_id": "bob", "n_events": 1, "n_journeys": 0},
        ]

    # -- embeddings -------------------------------------------------------------------------
    def test_embeddings_by_model_and_hash(self, store):
        v = np.arange(4, dtype=np.float32) / 3
        store.put_embeddings("m", {"h1": v, "h2": -v})
        got = store.get_embeddings("m", ["h1", "h2", "h3"])
        assert set(got) == {"h1", "h2"} and got["h1"].dtype == np.float32
        assert np.array_equal(got["h1"], v) and np.array_equal(got["h2"], -v)
        assert store.get_embeddings("other-model", ["h1"]) == {}
        assert store.get_embeddings("m", []) == {}
        store.put_embeddings("m", {"h1": v * 2})  # replaced
        assert np.array_equal(store.get_embeddings("m", ["h1"])["h1"], v * 2)
        store.put_embeddings("m", {})

    def test_many_embeddings(self, store):
        rng = np.random.default_rng(0)
        vecs = {f"h{i}": rng.standard_normal(8).astype(np.float32) for i in range(3000)}
        store.put_embeddings("m", vecs)
        got = store.get_embeddings("m", list(vecs))
        assert len(got) == 3000 and all(np.array_equal(got[h], vecs[h]) for h in ("h0", "h1234", "h2999"))

    # -- artifacts --------------------------------------------------------------------------
    def test_artifacts_bytes_roundtrip_and_replace(self, store):
        assert store.get_artifact("k") is None
        blob = bytes(range(256)) * 3
        store.put_artifact("k", blob)
        assert store.get_artifact("k") == blob
        store.put_artifact("k", b"")
        assert store.get_artifact("k") == b""

    # -- journeys ---------------------------------------------------------------------------
    def test_journeys_roundtrip_every_field(self, store):
        full = journey("j_full", score=0.75, stage="ongoing, evergreen", stage_activity="ongoing",
                       stage_kind="evergreen", score_source="heuristic", parent_id="j_0", hidden=True,
                       pinned=True, related=("Guitar", "Banjo"))
        plain = journey("j_plain", name="Tuning", items=("u3",))
        assert store.replace_journeys("alice", [full, plain], ["x2", "x1"]) is True
        got = store.journeys("alice")
        assert [j.journey_id for j in got] == ["j_full", "j_plain"]  # in the given (rank) order
        g = got[0]
        for name in ("journey_id", "user_id", "name", "name_source", "keywords", "item_ids", "n_events",
                     "first_seen", "last_seen", "evidence", "score", "stage", "stage_activity", "stage_kind",
                     "score_source", "parent_id", "hidden", "pinned", "related"):
            assert getattr(g, name) == getattr(full, name), name
        assert np.allclose(g.centroid, full.centroid)
        assert got[1].parent_id is None and got[1].hidden is False and got[1].related == ()
        assert store.unassigned("alice") == ["x2", "x1"]

    def test_replace_journeys_unchanged_is_false_and_changes_replace(self, store):
        assert store.replace_journeys("alice", [journey()], ["x1"]) is True
        assert store.replace_journeys("alice", [journey()], ["x1"]) is False
        assert store.replace_journeys("alice", [journey()], ["x2"]) is True  # unassigned counts
        assert store.replace_journeys("alice", [journey(pinned=True)], ["x2"]) is True  # so do edits
        assert store.replace_journeys("alice", [journey(name="Ukulele chords", items=("u1",))], []) is True
        [j] = store.journeys("alice")
        assert j.item_ids == ("u1",) and j.name == "Ukulele chords" and not j.pinned
        assert store.unassigned("alice") == []
        assert store.replace_journeys("alice", [], []) is True
        assert store.journeys("alice") == [] and store.unassigned("nobody") == []

    def test_journeys_of_all_users_by_user_then_rank(self, store):
        store.replace_journeys("bob", [journey("j_b2", "bob"), journey("j_b1", "bob")], [])
        store.replace_journeys("alice", [journey("j_a", "alice")], [])
        assert [j.journey_id for j in store.journeys()] == ["j_a", "j_b2", "j_b1"]
        store.replace_journeys("bob", [journey("j_b3", "bob")], [])  # other users untouched
        assert [j.journey_id for j in store.journeys()] == ["j_a", "j_b3"]

    # -- runs -------------------------------------------------------------------------------
    def test_runs_are_recorded_in_order(self, store):
        assert store.runs() == []
        r1 = store.start_run({"a": 1, "when": T})
        r2 = store.start_run({"b": [1, 2]})
        assert r2 > r1
        store.finish_run(r1, {"journeys": 2})
        runs = store.runs()
        assert [r["run_id"] for r in runs] == [r1, r2]
        assert runs[0]["params"] == {"a": 1, "when": str(T)} and runs[0]["stats"] == {"journeys": 2}
        assert runs[0]["finished"] and runs[1]["finished"] is None and runs[1]["stats"] is None
        datetime.fromisoformat(runs[0]["started"])

    # -- living journeys: identity, lineage, overrides, inputs, online state -------------------
    def test_registry_upserts_and_lineage_in_order(self, store):
        store.save_identity("alice", {"j_1": {"created": 1.5, "status": "active"},
                                      "j_2": {"created": 2.0, "status": "active", "parent_id": "j_1"}},
                            [("j_1", "born", None, ""), ("j_2", "split", "j_1", "3 items")])
        store.save_identity("alice", {"j_2": {"created": 2.0, "status": "merged", "merged_into": "j_1"}},
                            [("j_2", "merged", "j_1", "")])
        assert store.registry("alice") == {
            "j_1": {"created": 1.5, "status": "active", "merged_into": None, "parent_id": None},
            "j_2": {"created": 2.0, "status": "merged", "merged_into": "j_1", "parent_id": None}}
        assert store.registry("bob") == {}
        assert store.registry_entry("j_2") == {"journey_id": "j_2", "user_id": "alice", "created": 2.0,
                                               "status": "merged", "merged_into": "j_1", "parent_id": None}
        assert store.registry_entry("nope") is None
        events = store.lineage("j_1")  # as subject or as the other journey, in the order written
        assert [(e["journey_id"], e["event"], e["other_id"], e["detail"]) for e in events] == [
            ("j_1", "born", None, ""), ("j_2", "split", "j_1", "3 items"), ("j_2", "merged", "j_1", "")]
        assert all(datetime.fromisoformat(e["at"]) for e in events)
        assert store.lineage("j_9") == []

    def test_overrides_in_order_per_user(self, store):
        store.add_override("alice", "j_1", "rename", "Strumming")
        store.add_override("bob", "j_5", "hide", "1")
        store.add_override("alice", "j_1", "pin", "1")
        assert store.overrides("alice") == [{"journey_id": "j_1", "kind": "rename", "value": "Strumming"},
                                            {"journey_id": "j_1", "kind": "pin", "value": "1"}]
        assert store.overrides("carol") == []

    def test_input_digests_and_online_state(self, store):
        assert store.input_digests() == {} and store.online_state("alice") is None
        store.set_input_digest("alice", "d1")
        store.set_input_digest("bob", "d2")
        store.set_input_digest("alice", "d3")
        assert store.input_digests() == {"alice": "d3", "bob": "d2"}
        store.put_online_state("alice", "v1", b"\x00state")
        store.put_online_state("alice", "v2", b"\x01")
        assert store.online_state("alice") == ("v2", b"\x01")

    def test_insert_new_events_returns_only_fresh_ones_in_input_order(self, store):
        a, b, c = (Event("alice", i, T + timedelta(minutes=n)) for n, i in enumerate(("u3", "u1", "u2")))
        store.add_events([b])
        assert store.insert_new_events([a, b, c, a]) == [a, c]
        assert store.insert_new_events([a, b, c]) == [] and store.insert_new_events([]) == []
        assert store.events("alice") == [a, b, c]

    def test_user_ids_in_user_order(self, store):
        store.add_events(Event(u, "i", T) for u in ("b", "10", "a", "2"))
        assert store.user_ids() == ["2", "10", "a", "b"]

    # -- after naming (issue 8): expansions, latest event time ------------------------------
    def test_expansions_and_latest_event_time(self, store):
        assert store.get_expansion("guitar") is None and store.latest_event_time() is None
        store.put_expansion("guitar", {"related": ["Banjo", "Ukulele"], "n": 2})
        store.put_expansion("guitar", {"related": ["Bass"]})
        assert store.get_expansion("guitar") == {"related": ["Bass"]}
        store.put_expansions({"banjo": {"related": ["Guitar"]}, "guitar": {"related": ["Ukulele"]}})
        assert store.get_expansions(["guitar", "lute", "banjo", "guitar"]) == {
            "guitar": {"related": ["Ukulele"]}, "banjo": {"related": ["Guitar"]}}
        assert store.get_expansions([]) == {} and store.get_expansion("banjo") == {"related": ["Guitar"]}
        store.add_events([Event("a", "i", T), Event("b", "i", T + timedelta(days=3, microseconds=5))])
        assert store.latest_event_time() == T + timedelta(days=3, microseconds=5)

    # -- persistence ------------------------------------------------------------------------
    def test_everything_survives_reopening(self, store):
        store.upsert_items([Item("u1", "Ukulele")])
        store.add_events([Event("alice", "u1", T)])
        store.put_embeddings("m", {"h": np.ones(3, dtype=np.float32)})
        store.put_artifact("k", b"v")
        store.replace_journeys("alice", [journey()], ["x"])
        store.start_run({})
        other = self.reopen(store)
        try:
            assert other.items() == {"u1": Item("u1", "Ukulele")}
            assert other.events() == [Event("alice", "u1", T)]
            assert np.array_equal(other.get_embeddings("m", ["h"])["h"], np.ones(3))
            assert other.get_artifact("k") == b"v"
            assert other.journeys("alice")[0].journey_id == "j_1" and other.unassigned("alice") == ["x"]
            assert other.replace_journeys("alice", [journey()], ["x"]) is False
            assert len(other.runs()) == 1
        finally:
            other.close()

    def test_is_a_context_manager(self, store):
        with store as s:
            assert s is store


__all__ = ["StoreConformance", "journey", "T"]
