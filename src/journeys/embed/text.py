"""The text an item is embedded and keyworded by, from a configurable template."""

from __future__ import annotations

import hashlib

from journeys.types import Item

DEFAULT_TEMPLATE = "{title}. {tags}. {description}"


def item_text(item: Item, template: str = DEFAULT_TEMPLATE) -> str:
    """Fill the template with the item's fields; empty parts leave no dangling separators."""
    text = template.format(
        title=item.title.strip(),
        tags=", ".join(t for t in item.tags if t),
        description=item.description.strip(),
    )
    parts = [p.strip() for p in text.split(". ")]
    return ". ".join(p for p in parts if p and p != ".").strip(" .")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
