"""Edits and events through the API: each lands in the store, bad input gets a 4xx in the one
shape, and the valid rows of a batch are stored even when others are refused."""

from __future__ import annotations

from tests.service.conftest import auth
from tests.service.test_api import error_of


def alice_journeys(c, keys):
    return c.get("/v1/users/alice/journeys?hidden=true", headers=auth(keys["alice"])).json()["journeys"]


def test_rename_hide_pin(client):
    c, keys = client
    h = auth(keys["alice"])
    j = alice_journeys(c, keys)[-1]
    r = c.patch(f"/v1/journeys/{j['journey_id']}", headers=h, json={"name": "Learning the ukulele", "pinned": True})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Learning the ukulele" and r.json()["pinned"] is True
    first = alice_journeys(c, keys)[0]
    assert first["journey_id"] == j["journey_id"] and first["name_source"] == "user"  # pinned ranks first
    assert c.patch(f"/v1/journeys/{j['journey_id']}", headers=h, json={"hidden": True}).status_code == 200
    visible = c.get("/v1/users/alice/journeys", headers=h).json()["journeys"]
    assert j["journey_id"] not in [x["journey_id"] for x in visible]
    assert j["journey_id"] in [x["journey_id"] for x in alice_journeys(c, keys)]


def test_patch_refuses_bad_bodies(client):
    c, keys = client
    h = auth(keys["alice"])
    jid = alice_journeys(c, keys)[0]["journey_id"]
    error_of(c.patch(f"/v1/journeys/{jid}", headers=h, json={"name": "x", "colour": "red"}), 422, "invalid_request")
    error_of(c.patch(f"/v1/journeys/{jid}", headers=h, json={"hidden": "yes"}), 422, "invalid_request")
    error_of(c.patch(f"/v1/journeys/{jid}", headers=h, json={"name": ""}), 422, "invalid_request")
    error_of(c.patch(f"/v1/journeys/{jid}", headers=h, json={}), 400)
    error_of(c.patch(f"/v1/journeys/{jid}", headers={**h, "Content-Type": "application/json"}, content=b"{nope"),
             422, "invalid_request")
    error_of(c.patch("/v1/journeys/nope", headers=auth(keys["admin"]), json={"name": "x"}), 404, "not_found")


def test_merge_and_split(client):
    c, keys = client
    h = auth(keys["alice"])
    js = alice_journeys(c, keys)
    assert len(js) >= 2
    keep, other = js[0], js[1]
    r = c.post(f"/v1/journeys/{keep['journey_id']}/merge", headers=h, json={"other_id": other["journey_id"]})
    assert r.status_code == 200, r.text
    merged = r.json()
    assert set(merged["item_ids"]) == set(keep["item_ids"]) | set(other["item_ids"])
    after = alice_journeys(c, keys)
    assert other["journey_id"] not in [x["journey_id"] for x in after]
    r = c.post(f"/v1/journeys/{keep['journey_id']}/split", headers=h, json={"item_ids": other["item_ids"]})
    assert r.status_code == 200, r.text
    child = r.json()["journey"]
    assert set(child["item_ids"]) == set(other["item_ids"]) and child["parent_id"] == keep["journey_id"]
    error_of(c.post(f"/v1/journeys/{keep['journey_id']}/split", headers=h, json={"item_ids": ["not-there"]}), 400)


def test_events_all_valid(client):
    c, keys = client
    h = auth(keys["alice"])
    r = c.post("/v1/events", headers=h, json={"events": [
        {"user_id": "alice", "item_id": "u3", "timestamp": "2024-06-01T10:00:00Z", "kind": "view"},
        {"user_id": "alice", "item_id": "u4", "timestamp": 1717236000, "kind": "save", "weight": 2},
    ]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2 and body["users"] == ["alice"] and body["affected"]
    ids = [j["journey_id"] for j in alice_journeys(c, keys)]
    assert set(body["affected"]) <= set(ids)
    again = c.post("/v1/events", headers=h, json={"events": [
        {"user_id": "alice", "item_id": "u3", "timestamp": "2024-06-01T10:00:00Z", "kind": "view"}]}).json()
    assert again["duplicates"] == 1 and again["added"] == 0


def test_events_partial_acceptance(client, db_copy):
    from journeys.store import open_store

    c, keys = client
    rows = [
        {"user_id": "bob", "item_id": "u2", "timestamp": "2024-07-01T10:00:00Z"},           # ok
        {"user_id": "bob", "item_id": "no-such-item", "timestamp": "2024-07-01T11:00:00Z"},  # unknown item
        {"user_id": "bob", "item_id": "u3", "timestamp": "2024-07-01T12:00:00"},            # no timezone
        {"user_id": "bob", "item_id": "u3", "timestamp": "2024-07-01T12:00:00Z", "mood": "x"},  # unknown field
        {"user_id": "bob", "item_id": "u3", "timestamp": "2024-07-01T12:00:00Z", "weight": "heavy"},  # type
        {"user_id": "bob", "item_id": "u4", "timestamp": "2024-07-01T13:00:00Z", "kind": "save"},  # ok
    ]
    err = error_of(c.post("/v1/events", headers=auth(keys["bob"]), json={"events": rows}), 422, "invalid_events")
    d = err["details"]
    assert [r["row"] for r in d["rejected"]] == [1, 2, 3, 4]
    assert "no-such-item" in d["rejected"][0]["reason"] and "timezone" in d["rejected"][1]["reason"]
    assert d["accepted"] == 2
    with open_store(db_copy[0]) as store:
        stored = {(e.item_id, e.timestamp.isoformat()) for e in store.events("bob")}
    assert ("u2", "2024-07-01T10:00:00+00:00") in stored and ("u4", "2024-07-01T13:00:00+00:00") in stored


def test_events_refused_as_a_whole(client):
    c, keys = client
    row = {"user_id": "alice", "item_id": "u1", "timestamp": "2024-07-01T10:00:00Z"}
    error_of(c.post("/v1/events", headers=auth(keys["bob"]), json={"events": [row]}), 403, "forbidden")
    error_of(c.post("/v1/events", headers=auth(keys["alice"]), json={"events": [row], "x": 1}), 422, "invalid_request")
    error_of(c.post("/v1/events", headers=auth(keys["alice"]), json={"events": []}), 422, "invalid_request")
    error_of(c.post("/v1/events", headers=auth(keys["alice"]), json=[row]), 422, "invalid_request")


def test_read_cache_sees_writes_from_other_connections(client, db_copy):
    """GET journeys is cached per store version: a write by another process shows at once."""
    from journeys.services import edits
    from journeys.store import open_store

    c, keys = client
    h = auth(keys["alice"])
    first = c.get("/v1/users/alice/journeys", headers=h).json()["journeys"][0]
    assert c.get("/v1/users/alice/journeys", headers=h).json()["journeys"][0] == first  # a cache hit
    with open_store(db_copy[0]) as store:  # another connection, as the CLI would be
        edits.rename(store, first["journey_id"], "Renamed elsewhere")
    assert c.get("/v1/users/alice/journeys", headers=h).json()["journeys"][0]["name"] == "Renamed elsewhere"


def test_recommendations_steer(client):
    c, keys = client
    h = auth(keys["carol"])
    js = c.get("/v1/users/carol/journeys", headers=h).json()["journeys"]
    assert len(js) == 2
    plain = c.get("/v1/users/carol/recommendations?k=6", headers=h)
    assert plain.status_code == 200, plain.text
    recs = plain.json()["recommendations"]
    assert recs and all(r["reason"] and r["title"] and r["journey_name"] for r in recs)
    assert {r["journey_id"] for r in recs} == {j["journey_id"] for j in js}  # both journeys get slots
    seen = {i for j in js for i in j["item_ids"]}
    assert not seen & {r["item_id"] for r in recs}  # nothing the user already has
    for target in js:
        deep = c.get(f"/v1/users/carol/recommendations?k=6&journey={target['journey_id']}", headers=h).json()
        assert deep["recommendations"]
        assert all(r["journey_id"] == target["journey_id"] for r in deep["recommendations"])
    error_of(c.get("/v1/users/carol/recommendations?journey=nope", headers=h), 404, "not_found")
    error_of(c.get("/v1/users/carol/recommendations?k=0", headers=h), 422, "invalid_request")


def test_forget_user(client, db_copy):
    import sqlite3

    c, keys = client
    assert c.delete("/v1/users/bob", headers=auth(keys["bob"])).json()["forgotten"] is True
    error_of(c.get("/v1/users/bob/journeys", headers=auth(keys["admin"])), 404, "not_found")
    error_of(c.get("/v1/me", headers=auth(keys["bob"])), 401, "unauthorized")  # bob's keys went with him
    n = sqlite3.connect(db_copy[0]).execute("SELECT COUNT(*) FROM api_keys WHERE user_id = 'bob'").fetchone()[0]
    assert n == 0
    assert c.get("/v1/users/alice/journeys", headers=auth(keys["alice"])).status_code == 200
