from __future__ import annotations

import pytest

pytest.importorskip("fastapi")


@pytest.fixture(scope="session")
def served_db(tmp_path_factory, data_dir_session):
    """The tiny fixture logs (alice and bob; carol, dave and erin, who leave things to recommend),
    discovered with the hashing embedder, plus keys for alice, bob, carol and an admin."""
    import os

    from typer.testing import CliRunner

    from journeys.cli import app
    from journeys.services.keys import create_key
    from journeys.store import open_store

    old = os.environ.get("JOURNEYS_EMBED__MODEL")
    os.environ["JOURNEYS_EMBED__MODEL"] = "hashing"
    try:
        path = tmp_path_factory.mktemp("serve") / "j.db"
        for events, items in (("events.csv", "items.csv"), ("serve_events.csv", "serve_items.csv")):
            res = CliRunner().invoke(app, ["discover", "--events", str(data_dir_session / events),
                                           "--items", str(data_dir_session / items), "--db", str(path), "-q"])
            assert res.exit_code == 0, res.output
    finally:
        if old is None:
            os.environ.pop("JOURNEYS_EMBED__MODEL", None)
        else:
            os.environ["JOURNEYS_EMBED__MODEL"] = old
    with open_store(path) as store:
        keys = {"alice": create_key(store, user_id="alice")[1], "bob": create_key(store, user_id="bob")[1],
                "carol": create_key(store, user_id="carol")[1],
                "admin": create_key(store, admin=True)[1]}
    return path, keys


@pytest.fixture(scope="session")
def data_dir_session():
    from pathlib import Path

    return Path(__file__).parent.parent / "data"


@pytest.fixture
def db_copy(served_db, tmp_path):
    """A private copy of the served database, for tests that write."""
    import shutil

    path, keys = served_db
    dst = tmp_path / "j.db"
    shutil.copy(path, dst)
    return dst, keys


def make_client(path, **config):
    from fastapi.testclient import TestClient

    from journeys.config import Settings
    from journeys.service import ServeConfig, create_app

    settings = Settings(embed={"model": "hashing"})
    return TestClient(create_app(ServeConfig(db=path, settings=settings, admin_key="", **config)))


@pytest.fixture
def client(db_copy):
    path, keys = db_copy
    with make_client(path) as c:
        yield c, keys


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
