"""Forget a person or an item for good (issue 7 item 5): the service the CLI and the HTTP API call.

The store deletes every row that names them (tables found from its schema) and the learned global
artifacts (refit without them by the next discover or refresh), then compacts its files (WAL
checkpoint and VACUUM with secure_delete), so the database keeps no byte of the forgotten id.
The run is recorded with counts only, never with the id."""

from __future__ import annotations

from journeys.config import Settings
from journeys.embed.text import DEFAULT_TEMPLATE, content_hash, item_text
from journeys.errors import NotFound
from journeys.store import Store


def forget_user(store: Store, user_id: str) -> dict[str, int]:
    """Remove every event, journey, edit, lineage entry and per-user state of `user_id`."""
    if not store.events(user_id) and not store.journeys(user_id):
        raise NotFound(f"no user '{user_id}' in the store")
    run_id = store.start_run({"command": "forget", "what": "user"})
    counts = store.forget_user(user_id)
    store.finish_run(run_id, {"forgotten": "user", "rows": counts})
    store.compact()
    return counts


def unshared_hashes(store: Store, item_id: str, settings: Settings | None = None) -> list[str]:
    """Content hashes of the item's text (under the configured and the default template) that no
    other item of the catalogue shares: those embeddings can go."""
    item = store.items([item_id]).get(item_id)
    if item is None:
        return []
    templates = {DEFAULT_TEMPLATE, (settings or Settings()).embed.template}
    mine = {content_hash(item_text(item, t)) for t in templates}
    others = {content_hash(item_text(o, t)) for o in store.items().values()
              if o.item_id != item_id and o.title.strip() == item.title.strip() for t in templates}
    return sorted(mine - others)


def forget_item(store: Store, item_id: str, settings: Settings | None = None) -> dict[str, int]:
    """Remove the item from the catalogue, every event and journey, and the caches."""
    known = store.items([item_id])
    if not known and not any(e.item_id == item_id for e in store.events()):
        raise NotFound(f"no item '{item_id}' in the store")
    hashes = unshared_hashes(store, item_id, settings)
    run_id = store.start_run({"command": "forget", "what": "item"})
    counts = store.forget_item(item_id, hashes)
    store.finish_run(run_id, {"forgotten": "item", "rows": counts})
    store.compact()
    return counts
