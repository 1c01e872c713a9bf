from __future__ import annotations

from tests.service.conftest import auth, make_client


def error_of(resp, status: int, code: str | None = None) -> dict:
    """Every error has exactly the one shape {"error": {"code", "message"[, "details"]}}."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def test_journeys_of_a_user(client):
    c, keys = client
    r = c.get("/v1/users/alice/journeys", headers=auth(keys["alice"]))
    assert r.status_code == 200
    js = r.json()["journeys"]
    assert js and all(j["user_id"] == "alice" for j in js)
    j = js[0]
    assert len(j["evidence_titles"]) == len(j["evidence"]) and j["evidence_titles"][0]
    assert "centroid" not in j


def test_journey_detail_and_timeline(client):
    c, keys = client
    jid = c.get("/v1/users/alice/journeys", headers=auth(keys["alice"])).json()["journeys"][0]["journey_id"]
    d = c.get(f"/v1/journeys/{jid}", headers=auth(keys["alice"])).json()
    assert d["journey_id"] == jid and len(d["items"]) == d["size"] and all(i["title"] for i in d["items"])
    assert "lineage" in d and "related" in d and "stage" in d
    t = c.get("/v1/users/alice/timeline?bins=10", headers=auth(keys["alice"])).json()
    assert t["bins"] == 10 and all(len(r["counts"]) == 10 for r in t["rows"])
    # every event of a journey's items is counted once
    assert sum(sum(r["counts"]) for r in t["rows"]) >= len(t["rows"])


def test_error_shape_is_one_shape(client):
    c, keys = client
    error_of(c.get("/v1/users/alice/journeys"), 401, "unauthorized")
    error_of(c.get("/v1/users/alice/journeys", headers=auth("jk_nope_nope")), 401, "unauthorized")
    error_of(c.get("/v1/users/alice/journeys", headers=auth(keys["bob"])), 403, "forbidden")
    error_of(c.get("/v1/users/nobody/journeys", headers=auth(keys["admin"])), 404, "not_found")
    error_of(c.get("/v1/journeys/nope", headers=auth(keys["admin"])), 404, "not_found")
    error_of(c.get("/v1/no/such/route"), 404, "not_found")
    error_of(c.delete("/healthz"), 405, "method_not_allowed")
    error_of(c.get("/v1/users/alice/timeline?bins=x", headers=auth(keys["alice"])), 422, "invalid_request")
    error_of(c.get("/v1/users", headers=auth(keys["alice"])), 403, "forbidden")


def test_body_size_limit(db_copy):
    path, keys = db_copy
    with make_client(path, max_body_bytes=100) as c:
        error_of(c.post("/v1/events", headers=auth(keys["admin"]), content=b"x" * 101), 413, "body_too_large")


def test_rate_limit(db_copy):
    path, keys = db_copy
    with make_client(path, rate=1, burst=3) as c:
        codes = [c.get("/v1/me", headers=auth(keys["alice"])).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
        error_of(c.get("/v1/me", headers=auth(keys["alice"])), 429, "rate_limited")
        assert c.get("/v1/me", headers=auth(keys["bob"])).status_code == 200  # per key


def test_revoked_key_is_refused(client, db_copy):
    from journeys.services.keys import revoke_key
    from journeys.store import open_store

    c, keys = client
    assert c.get("/v1/me", headers=auth(keys["alice"])).json()["user_id"] == "alice"
    with open_store(db_copy[0]) as store:
        revoke_key(store, keys["alice"].split("_")[1])
    error_of(c.get("/v1/me", headers=auth(keys["alice"])), 401, "unauthorized")


def test_admin_key_from_environment(db_copy, monkeypatch):
    from fastapi.testclient import TestClient

    from journeys.config import Settings
    from journeys.service import ServeConfig, create_app

    monkeypatch.setenv("JOURNEYS_ADMIN_KEY", "s3cret-admin")
    app = create_app(ServeConfig(db=db_copy[0], settings=Settings()))
    with TestClient(app) as c:
        assert c.get("/v1/me", headers={"X-API-Key": "s3cret-admin"}).json()["admin"] is True
        error_of(c.get("/v1/me", headers={"X-API-Key": "s3cret-admin2"}), 401)


def test_ops_routes_and_docs(client):
    c, keys = client
    assert c.get("/healthz").json() == {"status": "ok"}
    c.get("/v1/users/alice/journeys", headers=auth(keys["alice"]))
    text = c.get("/metrics").text
    assert 'journeys_http_requests_total{method="GET",route="/v1/users/{user}/journeys",status="200"}' in text
    assert "/v1/users/{user}/journeys" in c.get("/openapi.json").json()["paths"]
    assert c.get("/docs").status_code == 200
    page = c.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
