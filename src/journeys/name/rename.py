"""Re-name stored journeys with any namer (`journeys name`): the service behind the CLI.

Drafts are rebuilt from the store: the journey's items and titles, its keywords, and its most
representative titles (nearest the stored centroid, when the store holds the item vectors).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from journeys.keywords import BROAD_SHARE
from journeys.name import JourneyDraft, NamingContext


def representative(journey, items: dict, store=None, embedder_name: str | None = None,
                   template: str | None = None) -> tuple[str, ...]:
    """Titles nearest the journey centroid first (time order when vectors are unavailable)."""
    ids = [i for i in journey.item_ids if i in items]
    titles = tuple(items[i].title for i in ids)
    evidence = [i for i in getattr(journey, "evidence", ()) if i in items]
    if evidence:  # the pipeline stored the items nearest the centroid
        rest = [i for i in ids if i not in set(evidence)]
        return tuple(items[i].title for i in evidence + rest)
    if store is None or not embedder_name or not journey.centroid:
        return titles
    from journeys.embed.text import DEFAULT_TEMPLATE, content_hash, item_text

    hashes = [content_hash(item_text(items[i], template or DEFAULT_TEMPLATE)) for i in ids]
    vecs = store.get_embeddings(embedder_name, sorted(set(hashes)))
    if not all(h in vecs for h in hashes):
        return titles
    c = np.asarray(journey.centroid, dtype=np.float32)
    sims = np.array([float(np.asarray(vecs[h]) @ c) for h in hashes])
    return tuple(titles[k] for k in np.argsort(-sims, kind="stable"))


def stored_keyword_model(store):
    """The keyword model in use (`keywords:current`), or None when the store keeps none."""
    from journeys.keywords import KeywordModel
    from journeys.pipeline import current_artifact, load_arrays

    current = current_artifact(store, "keywords:current")
    return None if current is None else KeywordModel().load_state(load_arrays(current[1]))


def rename_users(store, namer, users: Sequence[str] | None = None, settings=None,
                 tick: Callable[[int], None] | None = None) -> dict[str, int]:
    """Name every stored journey of `users` (all users when None) with `namer`; store the names.
    Returns {name_source: count}."""
    embedder_name, template, embed = None, None, None
    if settings is not None:
        from journeys.embed import EMBEDDERS

        try:
            embedder = EMBEDDERS.create(settings.embed.model)
            embedder_name, embed = embedder.name, embedder.embed  # embed: to check names against titles
            template = settings.embed.template
        except Exception:  # noqa: BLE001 - representative order is a nicety, never a failure
            embedder_name = None
    keyword_model = stored_keyword_model(store)
    share = settings.name.broad_share if settings is not None else BROAD_SHARE

    def broad(keywords):
        return keyword_model.broad(keywords, share) if keyword_model is not None else ()

    targets = list(users) if users else sorted({j.user_id for j in store.journeys()})
    counts: dict[str, int] = {}
    for user in targets:
        journeys = store.journeys(user)
        if not journeys:
            if tick:
                tick(1)
            continue
        items = store.items(sorted({i for j in journeys for i in j.item_ids}))
        drafts = tuple(
            JourneyDraft(user, j.item_ids, tuple(items[i].title for i in j.item_ids if i in items), j.keywords,
                         representative(j, items, store, embedder_name, template), broad(j.keywords))
            for j in journeys
        )
        named = namer.name_user(NamingContext(user, drafts, embed))
        renamed = [dataclasses.replace(j, name=n.name, name_source=n.source) for j, n in zip(journeys, named)]
        store.replace_journeys(user, renamed, store.unassigned(user))
        for n in named:
            counts[n.source] = counts.get(n.source, 0) + 1
        if tick:
            tick(1)
    return counts
