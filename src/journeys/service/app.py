"""The FastAPI app: `create_app(ServeConfig(...))`. One store connection per worker thread, a pure
ASGI guard for the body-size limit and request metrics, the one error shape, the v1 routes, the
web page at `/` and Prometheus text at `/metrics`."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from journeys.config import Settings, load_settings
from journeys.service import errors
from journeys.service.auth import RateLimiter
from journeys.service.metrics import Metrics
from journeys.services.serve import RecCache
from journeys.store import Store, open_store

STATIC = Path(__file__).parent / "static"


@dataclass
class ServeConfig:
    db: str | Path = "journeys.db"
    admin_key: str | None = None  # else JOURNEYS_ADMIN_KEY, read when a request comes
    max_body_bytes: int = 1 << 20
    rate: float = 50.0  # requests per second per key (0: no limit)
    burst: float | None = None  # default 2 x rate
    max_events: int = 10_000  # rows in one POST /v1/events
    recs_max_age: float = 600.0  # seconds before the fitted recommender is rebuilt (in the background)
    settings: Settings | None = field(default=None, repr=False)


class StorePool:
    """One open store per thread (SQLite connections are not shared across threads here)."""

    def __init__(self, url: str | Path):
        self.url = url
        self._local = threading.local()
        self._all: list[Store] = []
        self._lock = threading.Lock()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.url)
            self._local.store = store
            with self._lock:
                self._all.append(store)
        return store

    def open_new(self) -> Store:
        """A store of its own (for a background job); the caller closes it."""
        return open_store(self.url)

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                try:
                    s.close()
                except Exception:  # pragma: no cover - closing on shutdown
                    pass
            self._all.clear()


class Guard:
    """Pure ASGI middleware: rejects bodies over the limit (413, in the one shape) and records
    each request's route, status and latency."""

    def __init__(self, app, max_body_bytes: int, metrics: Metrics):
        self.app, self.limit, self.metrics = app, max_body_bytes, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = [500]

        async def send_wrapped(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._too_large(send_wrapped)
        else:
            seen = [0]

            async def receive_counted():
                message = await receive()
                if message["type"] == "http.request":
                    seen[0] += len(message.get("body", b""))
                    if seen[0] > self.limit:
                        raise errors.TooLarge(f"request body over {self.limit} bytes")
                return message

            await self.app(scope, receive_counted, send_wrapped)
        route = scope.get("route")
        self.metrics.observe(scope["method"], getattr(route, "path", "unmatched"), status[0], time.perf_counter() - t0)

    async def _too_large(self, send):
        body = errors.error_bytes("body_too_large", f"request body over {self.limit} bytes")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def create_app(config: ServeConfig | None = None) -> FastAPI:
    from journeys.service.routes import router

    config = config or ServeConfig()
    stores = StorePool(config.db)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        stores.close()

    app = FastAPI(title="journeys", version="1", lifespan=lifespan,
                  description="People's interest journeys: read, steer and correct them. "
                              "Send `Authorization: Bearer KEY`; errors are `{\"error\": {\"code\", \"message\"}}`.")
    app.state.config = config
    app.state.settings = config.settings or load_settings()
    app.state.stores = stores
    app.state.limiter = RateLimiter(config.rate, config.burst)
    app.state.write_lock = threading.Lock()
    app.state.recs = RecCache(config.recs_max_age)
    app.state.read_cache = {}  # (connection, route, args) -> (store version, response body)
    app.state.metrics = Metrics()
    errors.install(app)
    app.include_router(router)
    app.add_middleware(Guard, max_body_bytes=config.max_body_bytes, metrics=app.state.metrics)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict:
        app.state.stores.get()
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics() -> Response:
        return Response(app.state.metrics.render(), media_type=app.state.metrics.content_type)

    return app
