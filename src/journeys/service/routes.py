"""The v1 routes. Each one authenticates, checks that the key may reach the user, and calls
service functions; nothing here computes journeys."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from journeys.service.auth import principal, require_admin, require_user
from journeys.services.core import list_users
from journeys.services.keys import Principal
from journeys.services.serve import journey_cards, journey_detail, journey_owner, timeline

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
                        who: Principal = Who) -> JSONResponse:
    require_user(who, user)
    return JSONResponse({"user_id": user, "journeys": journey_cards(store_of(request), user, include_hidden=hidden)})


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
    return journey_detail(store, journey_id)
