"""`journeys serve` and `journeys keys create|list|revoke`; cli.py mounts them with `register(app)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from journeys.errors import ConfigError

DB = typer.Option(None, "--db", help="database URL or SQLite file [default: ./journeys.db or JOURNEYS_DB]")
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


def _db(db: Optional[str]) -> str:
    from journeys.config import load_settings

    return str(db) if db else str(load_settings().db)


def serve_cmd(
    db: Optional[str] = DB,
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    rate: float = typer.Option(50.0, "--rate", help="requests/s per key (0: no limit)"),
    max_body: int = typer.Option(1 << 20, "--max-body", help="largest request body, bytes"),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level"),
) -> None:
    """Serve the HTTP API (docs at /docs) and the web page (at /)."""
    from journeys.errors import require

    uvicorn = require("uvicorn", "serve")
    from journeys.service import ServeConfig, create_app

    path = _db(db)
    if "://" not in path and not Path(path).exists():
        raise ConfigError(f"no database at {path}: run `journeys discover` first or pass --db")
    app = create_app(ServeConfig(db=path, rate=rate, max_body_bytes=max_body))
    typer.echo(f"journeys: serving {path} on http://{host}:{port}/ (API docs at /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


@keys_app.command("create")
def keys_create(
    user: Optional[str] = typer.Option(None, "--user", help="a key that reaches only this user's journeys"),
    admin: bool = typer.Option(False, "--admin", help="a key that may do everything"),
    label: str = typer.Option("", "--label", help="a note to recognise the key by"),
    db: Optional[str] = DB,
) -> None:
    """Create a key and print it (once: only its hash is stored)."""
    from journeys.services.keys import create_key
    from journeys.store import open_store

    with open_store(_db(db)) as store:
        key_id, token = create_key(store, user_id=user, admin=admin, label=label)
    typer.echo(f"created key {key_id} ({'admin' if admin else 'user ' + str(user)}); it is shown only now:", err=True)
    typer.echo(token)


@keys_app.command("list")
def keys_list(db: Optional[str] = DB, as_json: bool = typer.Option(False, "--json", help="one JSON object per line")) -> None:
    """Every key: id, scope, label, created, revoked (never the key itself)."""
    from journeys.services.keys import list_keys
    from journeys.store import open_store

    with open_store(_db(db)) as store:
        rows = list_keys(store)
    for r in rows:
        if as_json:
            typer.echo(json.dumps(r))
        else:
            scope = "admin" if r["admin"] else f"user {r['user_id']}"
            state = f"revoked {r['revoked']}" if r["revoked"] else "active"
            typer.echo(f"{r['key_id']}\t{scope}\t{state}\tcreated {r['created']}\t{r['label']}")


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="the key id (the part after jk_)"), db: Optional[str] = DB) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    from journeys.services.keys import revoke_key
    from journeys.store import open_store

    with open_store(_db(db)) as store:
        revoke_key(store, key_id)
    typer.echo(f"revoked key {key_id}", err=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
    app.add_typer(keys_app, name="keys")
