"""The PostgreSQL store against a real server (tests/pgserver.py): the conformance suite and its schema."""

from __future__ import annotations

import pytest

from journeys.store import open_store
from tests.store.conformance import StoreConformance


@pytest.fixture
def pg_store(postgres_url):
    from journeys.store.postgres import PostgresStore

    s = PostgresStore(postgres_url)
    yield s
    s.close()


class TestPostgresConformance(StoreConformance):
    @pytest.fixture
    def store(self, pg_store):
        return pg_store

    def reopen(self, store):
        from journeys.store.postgres import PostgresStore

        return PostgresStore(store.url)


def test_open_store_routes_postgresql_urls(postgres_url):
    from journeys.store.postgres import MIGRATIONS, PostgresStore

    with open_store(postgres_url) as s:
        assert isinstance(s, PostgresStore) and s.schema_version == len(MIGRATIONS)
    with open_store(postgres_url.replace("postgresql://", "postgresql+psycopg://")) as s:  # reopening: no re-run
        assert s.schema_version == len(MIGRATIONS)


def test_text_orders_bytewise_like_sqlite(pg_store):
    from journeys.types import Event

    from tests.store.conformance import T

    pg_store.add_events([Event("u", i, T) for i in ("b", "B", "a", "_x", "Z")])
    assert [e.item_id for e in pg_store.events("u")] == ["B", "Z", "_x", "a", "b"]


def test_unreachable_server_is_a_one_line_config_error(postgres_server):
    from journeys.errors import ConfigError
    from journeys.store.postgres import PostgresStore

    with pytest.raises(ConfigError, match="cannot connect to postgresql://u:\\*\\*\\*@127.0.0.1"):
        PostgresStore(f"postgresql://u:secret@127.0.0.1:{postgres_server.port}/no_such_db?connect_timeout=2")
