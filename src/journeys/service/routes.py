"""The v1 routes. Each one authenticates, checks that the key may reach the user, and calls
service functions; nothing here computes journeys."""

from __future__ import annotations

import json

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response

from journeys.service.auth import principal, require_admin, require_user
from journeys.service.errors import ApiError, InvalidEvents, TooLarge
from journeys.service.schemas import EventsBody, JourneyPatch, MergeBody, SplitBody, parse_rows
from journeys.services import edits
from journeys.services.core import list_users
from journeys.services.keys import Principal
from journeys.services.online import add_events
from journeys.services.forget import forget_user
from journeys.services.serve import journey_cards, journey_owner, recommendations, store_version, timeline

router = APIRouter(prefix="/v1")
Who = Depends(principal)


def store_of(request: Request):
    return request.app.state.stores.get()


@router.get("/me", tags=["keys"], summary="What this key may reach")
async def me(who: Principal = Who) -> dict:
    return {"key_id": who.key_id, "admin": who.admin, "user_id": who.user_id}


@router.get("/users", tags=["users"], summary="Users with their event and journey counts (admin)")
async def users(request: Request, who: Principal = Who) -> dict:
    require_admin(who)
    return {"users": list_users(store_of(request))}


@router.get("/users/{user}/journeys", tags=["journeys"], summary="A user's journeys, ranked")
async def user_journeys(request: Request, user: str, hidden: bool = Query(False, description="include hidden journeys"),
                        who: Principal = Who) -> Response:
    """Served from a read cache that any commit to the store invalidates."""
    require_user(who, user)
    store = store_of(request)
    version = store_version(store)
    cache = request.app.state.read_cache
    key = (id(store), "journeys", user, hidden)
    hit = cache.get(key)
    if hit is not None and version is not None and hit[0] == version:
        return Response(hit[1], media_type="application/json")
    body = json.dumps({"user_id": user, "journeys": journey_cards(store, user, include_hidden=hidden)},
                      ensure_ascii=False, separators=(",", ":")).encode()
    if version is not None:
        if len(cache) > 10_000:
            cache.clear()
        cache[key] = (version, body)
    return Response(body, media_type="application/json")


@router.get("/users/{user}/timeline", tags=["journeys"], summary="Event density over time, one row per journey")
async def user_timeline(request: Request, user: str, bins: int = Query(48, ge=4, le=200),
                        who: Principal = Who) -> dict:
    require_user(who, user)
    return timeline(store_of(request), user, bins)


@router.get("/journeys/{journey_id}", tags=["journeys"],
            summary="A journey: items with titles, evidence, stage, related journeys, lineage")
async def journey(request: Request, journey_id: str, who: Principal = Who) -> dict:
    store = store_of(request)
    require_user(who, journey_owner(store, journey_id))
    return edits.journey_detail(store, journey_id)


@router.get("/users/{user}/recommendations", tags=["recommendations"],
            summary="Journey-aware recommendations with reasons, steerable")
def user_recommendations(
    request: Request, user: str,
    k: int = Query(20, ge=1, le=100, description="how many"),
    journey: str | None = Query(None, description="delve deeper: every slot from this journey"),
    query: str | None = Query(None, max_length=500, description="natural-language steering"),
    explore: bool = Query(False, description="from related journeys the user has not started"),
    exclude_journey: str | None = Query(None, description="leave this journey out"),
    who: Principal = Who,
) -> dict:
    require_user(who, user)
    state = request.app.state
    recs = recommendations(store_of(request), state.settings, state.recs, user, k, journey=journey,
                           explore=explore, query=query, exclude_journey=exclude_journey,
                           open_store=state.stores.open_new)
    return {"user_id": user, "recommendations": recs}


# -- writes: run in the thread pool, one at a time (SQLite has one writer) -------------------------
def _writing(request: Request):
    return request.app.state.write_lock


def _own_journey(request: Request, who: Principal, journey_id: str):
    store = store_of(request)
    require_user(who, journey_owner(store, journey_id))
    return store


@router.patch("/journeys/{journey_id}", tags=["edits"], summary="Rename, hide or show, pin or unpin a journey")
def patch_journey(request: Request, journey_id: str, body: JourneyPatch, who: Principal = Who) -> dict:
    store = _own_journey(request, who, journey_id)
    if body.name is None and body.hidden is None and body.pinned is None:
        raise ApiError("give at least one of name, hidden, pinned")
    settings = request.app.state.settings
    with _writing(request):
        if body.name is not None:
            edits.rename(store, journey_id, body.name, settings)
        if body.hidden is not None:
            edits.set_hidden(store, journey_id, body.hidden, settings)
        if body.pinned is not None:
            edits.set_pinned(store, journey_id, body.pinned, settings)
        return edits.journey_detail(store, journey_id)


@router.post("/journeys/{journey_id}/merge", tags=["edits"],
             summary="Merge another journey of the same user into this one (this one keeps its id)")
def merge_journey(request: Request, journey_id: str, body: MergeBody, who: Principal = Who) -> dict:
    store = _own_journey(request, who, journey_id)
    require_user(who, journey_owner(store, body.other_id))
    with _writing(request):
        edits.merge(store, journey_id, body.other_id, request.app.state.settings)
        return edits.journey_detail(store, journey_id)


@router.post("/journeys/{journey_id}/split", tags=["edits"],
             summary="Split items off this journey into a new journey whose parent it is")
def split_journey(request: Request, journey_id: str, body: SplitBody, who: Principal = Who) -> dict:
    store = _own_journey(request, who, journey_id)
    with _writing(request):
        child = edits.split(store, journey_id, body.item_ids, request.app.state.settings)
        return {"parent": edits.journey_detail(store, journey_id), "journey": edits.journey_detail(store, child.journey_id)}


EVENTS_EXAMPLE = {"events": [{"user_id": "alice", "item_id": "u1", "timestamp": "2024-05-01T10:00:00Z",
                              "kind": "view", "weight": 1.0}]}


@router.post("/events", tags=["events"],
             summary="Store a batch of events and update the affected journeys online",
             description="Each row is checked on its own: valid rows are stored even when others are refused. "
                         "All valid: 200 with the affected journeys. Some refused: 422 in the error shape, whose "
                         "`details` say what was accepted and, per refused row, why.")
def post_events(request: Request, body: EventsBody = Body(..., examples=[EVENTS_EXAMPLE]),
                who: Principal = Who) -> dict:
    state = request.app.state
    if len(body.events) > state.config.max_events:
        raise TooLarge(f"{len(body.events)} events in one batch; at most {state.config.max_events}")
    events, where, rejected = parse_rows(body.events)
    for e in events:
        require_user(who, e.user_id)
    store = store_of(request)
    with _writing(request):
        res = add_events(store, events, state.settings)
    rejected += [{"row": where[r["index"]], "reason": r["reason"]} for r in res.rejected]
    rejected.sort(key=lambda r: r["row"])
    state.metrics.events.inc(res.added + res.duplicates)
    state.metrics.events_rejected.inc(len(rejected))
    report = {"accepted": res.added + res.duplicates, "added": res.added, "duplicates": res.duplicates,
              "users": res.users, "affected": res.affected}
    if rejected:
        raise InvalidEvents(f"{len(rejected)} of {len(body.events)} events refused (row {rejected[0]['row']}: "
                            f"{rejected[0]['reason']}); the other {report['accepted']} were stored",
                            {**report, "rejected": rejected})
    return report


@router.delete("/users/{user}", tags=["users"],
               summary="Forget a user: every event, journey, edit, key and per-user state")
def delete_user(request: Request, user: str, who: Principal = Who) -> dict:
    require_user(who, user)
    with _writing(request):
        counts = forget_user(store_of(request), user)
    request.app.state.recs.invalidate()  # the fitted recommender held the user's events
    request.app.state.read_cache.clear()
    return {"forgotten": True, "rows": counts}
