"""`journeys bench serve`: the HTTP API under load (BENCHMARKS.md section 7).

A real `journeys serve` runs in a subprocess on 127.0.0.1 over a copy of a MovieLens database;
an asyncio httpx loop with N concurrent clients (default 16) drives each route, bounded both in
requests and in seconds. Per route: requests, errors, p50/p99 latency and requests/s; for
POST /v1/events also events/s and the journeys updated. Routes the server does not have (their
feature has not landed) are reported as skipped, never faked."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from journeys.paths import cache_dir


def movielens_db(embedder: str, log=print) -> Path:
    """A MovieLens latest-small database, discovered once with `embedder` and cached (per schema)."""
    from journeys.store.sqlite import MIGRATIONS

    path = cache_dir() / f"serve-movielens-{embedder}-v{len(MIGRATIONS)}.db"
    if path.exists():
        return path
    from journeys.config import Settings
    from journeys.ingest.movielens import load_movielens_small
    from journeys.services.core import discover
    from journeys.store import open_store

    settings = Settings()
    settings.embed.model = embedder
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for p in tmp.parent.glob(tmp.name + "*"):
        p.unlink()
    log(f"building {path} (discover on MovieLens latest-small, embedder {embedder}) ...")
    with open_store(tmp) as store:
        discover(load_movielens_small(), settings, store)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tmp.rename(path)
    return path


def _quantile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _drive(client, clients: int, max_requests: int, seconds: float, make) -> dict[str, Any]:
    """Run `make(i) -> (method, url, json)` requests from `clients` workers until either bound."""
    lat: list[float] = []
    errors: dict[str, int] = {}
    extra: list[dict] = []
    counter = iter(range(max_requests))
    deadline = time.perf_counter() + seconds

    async def worker():
        for i in counter:
            if time.perf_counter() > deadline:
                return
            method, url, body = make(i)
            t = time.perf_counter()
            try:
                r = await client.request(method, url, json=body)
                ok = 200 <= r.status_code < 300
                if not ok:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                elif method == "POST":
                    extra.append(r.json())
            except Exception as exc:  # a transport error is an error, counted by its type
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - t0
    n = len(lat) + sum(v for k, v in errors.items() if not k.isdigit())
    return {"requests": n, "errors": sum(errors.values()), "error_kinds": errors, "seconds": round(wall, 3),
            "rps": round(n / wall, 1) if wall else None, "p50_ms": round(1000 * _quantile(lat, 0.5), 2),
            "p99_ms": round(1000 * _quantile(lat, 0.99), 2), "_posted": extra}


class _Reply:
    def __init__(self, status_code: int, body: bytes):
        self.status_code, self.content = status_code, body

    def json(self):
        import json

        return json.loads(self.content)


class RawClient:
    """A lean HTTP/1.1 keep-alive client on asyncio streams (one connection per concurrent
    client), so the load generator costs the shared CPUs less than httpx does. It speaks just
    what the benchmark needs: JSON bodies and Content-Length replies."""

    def __init__(self, base: str, headers: dict[str, str], connections: int):
        from urllib.parse import urlsplit

        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{u.hostname}:{u.port}", **headers}.items())
        self.n = connections
        self.pool: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self):
        for _ in range(self.n):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def __aexit__(self, *exc):
        while not self.pool.empty():
            _, writer = self.pool.get_nowait()
            writer.close()

    async def request(self, method: str, url: str, json=None) -> _Reply:
        import json as _json

        body = b"" if json is None else _json.dumps(json).encode()
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if json is not None else ""
        reader, writer = await self.pool.get()
        try:
            writer.write(f"{method} {url} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = next(int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.lower() == "content-length")
            data = await reader.readexactly(length)
        except Exception:
            writer.close()
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise
        self.pool.put_nowait((reader, writer))
        return _Reply(status, data)

    async def get(self, url: str) -> _Reply:
        return await self.request("GET", url)

    async def post(self, url: str, json=None) -> _Reply:
        return await self.request("POST", url, json=json)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(db: Path, env: dict | None = None, rate: float = 0, max_body: int = 8 << 20):
    """`journeys serve --db DB` in a subprocess on a free 127.0.0.1 port; yields its base URL."""
    import httpx

    port = _free_port()
    log = tempfile.TemporaryFile()  # the server's stderr (a pipe nobody reads could fill and stall it)
    proc = subprocess.Popen([sys.executable, "-m", "journeys.cli", "serve", "--db", str(db), "--port", str(port),
                             "--rate", str(rate), "--max-body", str(max_body)],
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log.seek(0)
                raise RuntimeError("the server did not start: " + log.read().decode(errors="replace")[-2000:])
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _events(rng: random.Random, users: list[str], item_ids: list[str], n: int, start: datetime,
            per_batch: int) -> list[dict]:
    """n view events of `per_batch` random users (an app posts a few sessions at a time)."""
    who = rng.sample(users, min(per_batch, len(users)))
    return [{"user_id": who[k % len(who)], "item_id": rng.choice(item_ids),
             "timestamp": (start + timedelta(seconds=k)).isoformat(), "kind": "view"} for k in range(n)]


def run(db: Path | None = None, embedder: str = "hashing", clients: int = 16, requests: int = 5000,
        seconds: float = 15.0, batch: int = 100, batch_users: int = 1, client_kind: str = "raw", seed: int = 0,
        log=print) -> dict[str, Any]:
    import httpx

    from journeys.services.keys import create_key
    from journeys.store import open_store

    if client_kind not in ("httpx", "raw"):
        from journeys.errors import ConfigError

        raise ConfigError(f"unknown load client '{client_kind}': use httpx or raw")
    source = Path(db) if db is not None else movielens_db(embedder, log)
    work = Path(tempfile.mkdtemp(prefix="journeys-bench-serve-"))
    stack = ExitStack()
    try:
        copy = work / "serve.db"
        with open_store(source) as src:  # a consistent copy; the source is never written
            src.conn.execute("VACUUM INTO ?", (str(copy),))
        with open_store(copy) as store:
            _, admin = create_key(store, admin=True, label="bench serve")
            users = [u["user_id"] for u in store.users() if u["n_journeys"] > 0]
            item_ids = sorted(store.items())
        env = {"JOURNEYS_EMBED__MODEL": embedder, "JOURNEYS_ADMIN_KEY": ""}
        base = stack.enter_context(running_server(copy, env, rate=1_000_000))
        paths = httpx.get(base + "/openapi.json").json()["paths"]
        rng = random.Random(seed)
        start = datetime(2030, 1, 1, tzinfo=timezone.utc)
        phases: dict[str, Any] = {}

        async def main():
            limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
            headers = {"Authorization": f"Bearer {admin}"}
            if client_kind == "raw":
                opened = RawClient(base, headers, clients)
            else:
                opened = httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30)
            async with opened as client:
                def journeys(i):
                    return "GET", f"/v1/users/{rng.choice(users)}/journeys", None

                await _drive(client, clients, min(200, requests), seconds, journeys)  # warm-up
                log(f"GET journeys: {clients} clients, up to {requests} requests or {seconds:g}s ...")
                phases["get_journeys"] = await _drive(client, clients, requests, seconds, journeys)
                if "/v1/users/{user}/recommendations" in paths:
                    def recs(i):
                        return "GET", f"/v1/users/{rng.choice(users)}/recommendations?k=20", None

                    log("GET recommendations: fitting the recommender (first request), then the load ...")
                    t = time.perf_counter()
                    await client.get(recs(0)[1])
                    phases["recommender_fit_s"] = round(time.perf_counter() - t, 2)
                    await _drive(client, clients, min(100, requests), seconds, recs)  # warm-up
                    phases["get_recommendations"] = await _drive(client, clients, requests, seconds, recs)
                else:
                    phases["get_recommendations"] = {"skipped": "the server has no recommendations route"}
                if "/v1/events" in paths:
                    def post(i):
                        return "POST", "/v1/events", {"events": _events(rng, users, item_ids, batch,
                                                                         start + timedelta(hours=i), batch_users)}

                    await client.post("/v1/events", json=post(10**6)[2])  # loads the online model once
                    log(f"POST events: batches of {batch} events from {batch_users} user(s) ...")
                    phases["post_events"] = await _drive(client, clients, max(1, requests // 10), seconds, post)
                else:
                    phases["post_events"] = {"skipped": "the server has no events route"}

        asyncio.run(main())
        for name, ph in phases.items():
            if not isinstance(ph, dict):
                continue
            posted = ph.pop("_posted", [])
            if name == "post_events" and "requests" in ph:
                accepted = sum(p.get("accepted", 0) for p in posted)
                ph["events"] = accepted
                ph["events_per_s"] = round(accepted / ph["seconds"], 1) if ph["seconds"] else None
                ph["journeys_updated"] = sum(len(p.get("affected", [])) for p in posted)
        return {"setup": {"database": str(source), "embedder": embedder, "users": len(users),
                          "items": len(item_ids), "clients": clients, "max_requests": requests,
                          "max_seconds": seconds, "event_batch": batch, "users_per_batch": batch_users, "cores": os.cpu_count(),
                          "server": "journeys serve (uvicorn, 1 process)",
                          "client": f"asyncio {client_kind} client, same machine"},
                "results": phases}
    finally:
        stack.close()
        shutil.rmtree(work, ignore_errors=True)


def print_report(out: dict[str, Any], log=print) -> None:
    s = out["setup"]
    log(f"serve: {s['users']} users, {s['items']} items, {s['clients']} clients, {s['cores']} cores")
    for name, r in out["results"].items():
        if not isinstance(r, dict):
            log(f"  {name:20s} {r}")
            continue
        if "skipped" in r:
            log(f"  {name:20s} skipped: {r['skipped']}")
            continue
        line = (f"  {name:20s} {r['requests']:6d} requests  {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.2f} ms"
                f"  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}")
        if "events_per_s" in r:
            line += f"  {r['events_per_s']:.0f} events/s, {r['journeys_updated']} journeys updated"
        log(line)
