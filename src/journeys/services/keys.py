"""API keys: created, listed, revoked and checked here (the CLI and the HTTP API both call these).

A key is `jk_<key_id>_<secret>`. The store keeps the key id and the sha256 of the whole token, never
the token; checks compare digests in constant time (`hmac.compare_digest`). An admin key may do
everything; a user key reads and edits one user's journeys only. The admin key may also come from
the environment (`JOURNEYS_ADMIN_KEY`), in which case it is never stored."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Protocol

from journeys.errors import ConfigError, NotFound

PREFIX = "jk_"
ADMIN_ENV = "JOURNEYS_ADMIN_KEY"


class KeyStore(Protocol):
    def add_key(self, key_id: str, secret_hash: str, user_id: str | None, admin: bool, label: str = "") -> None: ...
    def key(self, key_id: str) -> dict | None: ...
    def keys(self) -> list[dict]: ...
    def revoke_key(self, key_id: str) -> bool: ...
    def delete_user_keys(self, user_id: str) -> int: ...


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: an admin, or one user."""

    key_id: str
    admin: bool
    user_id: str | None = None

    def may_access(self, user_id: str) -> bool:
        return self.admin or self.user_id == user_id


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(store: KeyStore, user_id: str | None = None, admin: bool = False, label: str = "") -> tuple[str, str]:
    """A new key: returns (key_id, token). The token is shown once; only its digest is stored."""
    if admin == (user_id is not None):
        raise ConfigError("a key is either --admin or for one --user")
    if user_id is not None and not user_id.strip():
        raise ConfigError("a user key needs a non-empty user id")
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    store.add_key(key_id, _digest(token), user_id, admin, label)
    return key_id, token


def list_keys(store: KeyStore) -> list[dict]:
    """Every key without its digest: key_id, user_id, admin, label, created, revoked."""
    return [{k: v for k, v in row.items() if k != "secret_hash"} for row in store.keys()]


def revoke_key(store: KeyStore, key_id: str) -> None:
    if not store.revoke_key(key_id):
        raise NotFound(f"no active key '{key_id}'")


def forget_user_keys(store: KeyStore, user_id: str) -> int:
    """Remove (not just revoke) a forgotten user's keys, so no row names them."""
    return store.delete_user_keys(user_id)


def check_key(store: KeyStore, token: str | None, admin_token: str | None = None) -> Principal | None:
    """The principal a token stands for, or None when it is missing, unknown, revoked or wrong."""
    if not token:
        return None
    digest = _digest(token)
    admin_token = os.environ.get(ADMIN_ENV) if admin_token is None else admin_token
    if admin_token and hmac.compare_digest(digest, _digest(admin_token)):
        return Principal("env", admin=True)
    if not token.startswith(PREFIX):
        return None
    key_id = token[len(PREFIX):].split("_", 1)[0]
    lookup = getattr(store, "key", None)  # a backend without a keys table knows only the env admin key
    row = lookup(key_id) if lookup is not None else None
    if row is None or row["revoked"] or not hmac.compare_digest(digest, row["secret_hash"]):
        return None
    return Principal(key_id, admin=row["admin"], user_id=row["user_id"])
