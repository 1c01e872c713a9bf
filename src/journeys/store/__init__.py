"""Stores keep items, events, embeddings (by content hash), journeys, learned artifacts and runs.

A store is a few narrow protocols, so that a stage asks only for what it uses:

- `EventStore`: events, the source of truth for every journey (also as columns, for recompute);
- `ItemStore`: the catalogue and the embedding cache (vectors by model and content hash);
- `JourneyStore`: each user's journeys and unassigned items (and, later, overrides and lineage);
- `ArtifactStore`: versioned learned state (a fitted global model), as bytes;
- `RunStore`: a record of every run;
- `ForgetStore`: forgetting a user or an item everywhere, and compacting the files.

`Store` is all of them. `open_store` picks the backend from a URL (`sqlite:///path/to.db`, or a
plain path; `postgresql://...` where a backend is registered). Every backend passes the same
conformance suite (tests/store/conformance.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from journeys.errors import ConfigError
from journeys.types import Event, Item, Journey

if TYPE_CHECKING:
    from journeys.batch.columns import EventColumns


class EventStore(Protocol):
    def add_events(self, events: Iterable[Event]) -> int: ...
    def events(self, user_id: str | None = None) -> list[Event]: ...
    def event_columns(self) -> EventColumns: ...  # every event, in events()'s order
    def users(self) -> list[dict]: ...


class ItemStore(Protocol):
    def upsert_items(self, items: Iterable[Item]) -> int: ...
    def items(self, item_ids: Sequence[str] | None = None) -> dict[str, Item]: ...
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...
    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None: ...


class JourneyStore(Protocol):
    def replace_journeys(self, user_id: str, journeys: Sequence[Journey], unassigned: Sequence[str]) -> bool: ...
    def journeys(self, user_id: str | None = None) -> list[Journey]: ...
    def unassigned(self, user_id: str) -> list[str]: ...


class ArtifactStore(Protocol):
    def get_artifact(self, key: str) -> bytes | None: ...
    def put_artifact(self, key: str, value: bytes) -> None: ...


class RunStore(Protocol):
    def start_run(self, params: dict) -> int: ...
    def finish_run(self, run_id: int, stats: dict) -> None: ...
    def runs(self) -> list[dict]: ...


class ExpansionStore(Protocol):
    """Related-journey candidates per normalised journey name (Pinterest's key-value store)."""

    def get_expansion(self, key: str) -> dict | None: ...
    def put_expansion(self, key: str, value: dict) -> None: ...
    def get_expansions(self, keys: Iterable[str]) -> dict[str, dict]: ...
    def put_expansions(self, entries: Mapping[str, dict]) -> None: ...


class ForgetStore(Protocol):
    """Removing a person or an item for good: every table that names them (found from the schema),
    learned global state, then `compact()` so the files keep no byte of the forgotten id."""

    def forget_user(self, user_id: str) -> dict[str, int]: ...
    def forget_item(self, item_id: str, embedding_hashes: Sequence[str] = ()) -> dict[str, int]: ...
    def compact(self) -> dict[str, int]: ...


class Store(EventStore, ItemStore, JourneyStore, ArtifactStore, RunStore, ExpansionStore, ForgetStore, Protocol):
    def close(self) -> None: ...
    def __enter__(self) -> "Store": ...
    def __exit__(self, *exc) -> None: ...


def user_order(user_id: str) -> tuple:
    """Numeric ids in numeric order, then the others alphabetically (1, 2, 10, alice)."""
    return (0, int(user_id), "") if user_id.isdecimal() else (1, 0, user_id)  # isdigit() takes "²", int() does not


def _open_sqlite(target: str, busy_timeout: float) -> Store:
    from journeys.store.sqlite import SQLiteStore

    return SQLiteStore(Path(target), busy_timeout=busy_timeout)


def _open_postgres(target: str, busy_timeout: float) -> Store:
    try:
        from journeys.store.postgres import PostgresStore
    except ImportError as exc:  # the backend lands with its own issue
        raise ConfigError(f"no PostgreSQL store in this build: {exc}") from None
    return PostgresStore(target)


BACKENDS = {"sqlite": _open_sqlite, "postgresql": _open_postgres, "postgres": _open_postgres}


def parse_url(target: str | Path) -> tuple[str, str]:
    """('sqlite', path) for `sqlite:///path` or a plain path; (scheme, url) for server databases."""
    text = str(target)
    if "://" not in text:
        return "sqlite", text
    scheme, rest = text.split("://", 1)
    scheme = scheme.split("+", 1)[0].lower()
    if scheme == "sqlite":
        # sqlite:///relative.db -> relative.db ; sqlite:////abs/path.db -> /abs/path.db
        return "sqlite", rest[1:] if rest.startswith("/") else rest
    if scheme not in BACKENDS:
        raise ConfigError(f"unknown store URL scheme '{scheme}://'; use sqlite:///PATH, a plain path or postgresql://")
    return scheme, text


def open_store(target: str | Path, busy_timeout: float | None = None) -> Store:
    """`busy_timeout`: seconds to wait for another writer [Settings.busy_timeout, JOURNEYS_BUSY_TIMEOUT]."""
    scheme, where = parse_url(target)
    if busy_timeout is None:
        from journeys.config import load_settings

        busy_timeout = load_settings().busy_timeout
    return BACKENDS[scheme](where, busy_timeout)


__all__ = ["ArtifactStore", "EventStore", "ForgetStore", "ItemStore", "JourneyStore", "RunStore", "Store",
           "open_store", "parse_url", "user_order"]
