"""Who is calling: the key from `Authorization: Bearer KEY` (or `X-API-Key`), checked by the keys
service; a per-key token-bucket rate limit; and the rule that a user key reaches its own user only."""

from __future__ import annotations

import threading
import time

from fastapi import Request

from journeys.service.errors import Forbidden, RateLimited, Unauthorized
from journeys.services.keys import Principal, check_key


class RateLimiter:
    """A token bucket per key: `rate` requests per second on average, bursts up to `burst`.
    A rate of 0 turns the limit off."""

    def __init__(self, rate: float, burst: float | None = None):
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, 2 * rate))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True


def token_from(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return request.headers.get("x-api-key") or None


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401 (missing or bad key) / 429 (over its rate)."""
    state = request.app.state
    who = check_key(state.stores.get(), token_from(request), state.config.admin_key)
    if who is None:
        raise Unauthorized("a valid API key is required (Authorization: Bearer KEY)")
    if not state.limiter.allow(who.key_id):
        raise RateLimited(f"key '{who.key_id}' is over its rate limit of {state.limiter.rate:g} requests/s")
    return who


def require_user(who: Principal, user_id: str) -> None:
    if not who.may_access(user_id):
        raise Forbidden(f"this key may not access user '{user_id}'")


def require_admin(who: Principal) -> None:
    if not who.admin:
        raise Forbidden("this needs an admin key")
