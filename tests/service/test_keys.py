"""Keys: every route that touches a user answers 401 without a valid key and 403 with another
user's key. The routes are read from the app itself, so a new route is covered the day it lands."""

from __future__ import annotations

import pytest

from tests.service.conftest import auth, make_client
from tests.service.test_api import error_of

# a valid body for each route that takes one (so 403 is not masked by 422)
BODIES = {
    ("PATCH", "/v1/journeys/{journey_id}"): {"name": "x"},
    ("POST", "/v1/journeys/{journey_id}/merge"): {"other_id": "{other}"},
    ("POST", "/v1/journeys/{journey_id}/split"): {"item_ids": ["{item}"]},
    ("POST", "/v1/events"): {"events": [{"user_id": "alice", "item_id": "u1", "timestamp": "2024-05-01T00:00:00Z"}]},
}
USER_PARAMS = ("{user}", "{journey_id}")


def user_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every v1 route with a user or journey in its path, and POST /v1/events."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        if path.startswith("/v1/") and (any(p in path for p in USER_PARAMS) or path == "/v1/events"):
            out += [(m.upper(), path) for m in sorted(ops)]
    return out


@pytest.fixture
def alice_world(db_copy):
    from journeys.store import open_store

    path, keys = db_copy
    with open_store(path) as store:
        js = store.journeys("alice")
    return path, keys, js


def fill(path: str, body, js):
    sub = {"{user}": "alice", "{journey_id}": js[0].journey_id,
           "{other}": js[1].journey_id if len(js) > 1 else js[0].journey_id, "{item}": js[0].item_ids[0]}
    for k, v in sub.items():
        path = path.replace(k, v)
    if isinstance(body, dict):
        import json

        text = json.dumps(body)
        for k, v in sub.items():
            text = text.replace(k, v)
        body = json.loads(text)
    return path, body


def test_every_user_route_needs_the_right_key(alice_world):
    path, keys, js = alice_world
    with make_client(path, rate=0) as c:
        routes = user_routes(c.app)
        assert ("GET", "/v1/users/{user}/journeys") in routes and ("GET", "/v1/journeys/{journey_id}") in routes
        for method, template in routes:
            url, body = fill(template, BODIES.get((method, template)), js)
            kw = {"json": body} if body is not None else {}
            error_of(c.request(method, url, **kw), 401, "unauthorized")
            error_of(c.request(method, url, headers=auth("jk_000000000000_forged"), **kw), 401, "unauthorized")
            error_of(c.request(method, url, headers=auth(keys["bob"]), **kw), 403, "forbidden")
        # and alice's own key reaches her reads
        assert c.get("/v1/users/alice/journeys", headers=auth(keys["alice"])).status_code == 200
        assert c.get(f"/v1/journeys/{js[0].journey_id}", headers=auth(keys["alice"])).status_code == 200


def test_keys_are_stored_hashed(db_copy):
    import sqlite3

    path, keys = db_copy
    raw = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                               if path.with_name(path.name + "-wal").exists() else b"")
    for token in keys.values():
        assert token.encode() not in raw
        assert token.split("_")[1].encode() in raw  # the key id is stored, the secret is not
    rows = sqlite3.connect(path).execute("SELECT secret_hash FROM api_keys").fetchall()
    assert all(len(r[0]) == 64 for r in rows)


def test_keys_cli(tmp_path):
    from typer.testing import CliRunner

    from journeys.cli import app

    db = str(tmp_path / "k.db")
    r = CliRunner().invoke(app, ["keys", "create", "--user", "alice", "--db", db])
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("jk_")
    key_id = token.split("_")[1]
    listed = CliRunner().invoke(app, ["keys", "list", "--db", db, "--json"]).stdout
    assert key_id in listed and "secret_hash" not in listed and token not in listed
    assert CliRunner().invoke(app, ["keys", "revoke", key_id, "--db", db]).exit_code == 0
    assert '"revoked": null' not in CliRunner().invoke(app, ["keys", "list", "--db", db, "--json"]).stdout
    # a second revoke names the key; --admin and --user together is refused
    from journeys.errors import JourneysError

    r = CliRunner().invoke(app, ["keys", "revoke", key_id, "--db", db])
    assert r.exit_code != 0 and isinstance(r.exception, JourneysError) and key_id in str(r.exception)
    r = CliRunner().invoke(app, ["keys", "create", "--user", "a", "--admin", "--db", db])
    assert isinstance(r.exception, JourneysError)


def test_rate_limiter_refills():
    from journeys.service.auth import RateLimiter

    lim = RateLimiter(rate=2, burst=2)
    assert [lim.allow("k", now=0.0) for _ in range(3)] == [True, True, False]
    assert lim.allow("k", now=0.5) is True and lim.allow("k", now=0.5) is False
    assert RateLimiter(rate=0).allow("k") is True
