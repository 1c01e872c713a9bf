"""A small persistent cache of LLM responses keyed by (model, prompt version, full request).

The request holds the journey's content (its titles in the prompt), so a re-run of the same
journeys with the same model and prompt costs no LLM calls. SQLite, one file under the cache
directory (`JOURNEYS_CACHE_DIR`, default ~/.cache/journeys); safe across threads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path


def request_key(model: str, prompt_version: str, request: object) -> str:
    blob = json.dumps([model, prompt_version, request], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path | None = None):
        if path is None:
            from journeys.paths import cache_dir

            path = cache_dir() / "llm_responses.sqlite"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, response TEXT)"
        )
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return row[0]

    def put(self, key: str, model: str, response: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, model, response) VALUES (?, ?, ?)",
                (key, model, response),
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class MemoryCache(ResponseCache):
    """The same interface in memory (tests, benchmarks that must measure real calls)."""

    def __init__(self):  # noqa: D107 - no file
        self._data: dict[str, str] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: str, model: str, response: str) -> None:
        self._data[key] = response

    def close(self) -> None:
        pass
