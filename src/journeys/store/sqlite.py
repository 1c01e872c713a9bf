"""The embedded default store: one SQLite file in WAL mode, schema versioned by migrations."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from journeys.store import user_order
from journeys.types import Event, Item, Journey

# Each entry migrates the schema from version i to i+1; never edit one that has shipped.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE items (
        item_id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE events (
        user_id TEXT NOT NULL, item_id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
        weight REAL NOT NULL, query TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (user_id, ts, item_id, kind, weight, query)
    ) WITHOUT ROWID;
    CREATE TABLE embeddings (
        model TEXT NOT NULL, content_hash TEXT NOT NULL, vector BLOB NOT NULL,
        PRIMARY KEY (model, content_hash)
    ) WITHOUT ROWID;
    CREATE TABLE journeys (
        journey_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL,
        name_source TEXT NOT NULL, keywords TEXT NOT NULL, n_events INTEGER NOT NULL,
        first_seen REAL NOT NULL, last_seen REAL NOT NULL, centroid BLOB NOT NULL,
        score REAL NOT NULL DEFAULT 0, stage TEXT NOT NULL DEFAULT '', rank INTEGER NOT NULL,
        evidence TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX journeys_user ON journeys (user_id, rank);
    CREATE TABLE journey_items (
        journey_id TEXT NOT NULL, position INTEGER NOT NULL, item_id TEXT NOT NULL,
        PRIMARY KEY (journey_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE unassigned (
        user_id TEXT NOT NULL, position INTEGER NOT NULL, item_id TEXT NOT NULL,
        PRIMARY KEY (user_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE user_state (user_id TEXT PRIMARY KEY, digest TEXT NOT NULL);
    CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
        params TEXT NOT NULL, stats TEXT
    );
    """,
    """
    CREATE TABLE artifacts (key TEXT PRIMARY KEY, value BLOB NOT NULL, created TEXT NOT NULL);
    """,
    """
    ALTER TABLE journeys ADD COLUMN stage_activity TEXT NOT NULL DEFAULT '';
    ALTER TABLE journeys ADD COLUMN stage_kind TEXT NOT NULL DEFAULT '';
    ALTER TABLE journeys ADD COLUMN score_source TEXT NOT NULL DEFAULT '';
    ALTER TABLE journeys ADD COLUMN parent_id TEXT;
    ALTER TABLE journeys ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE journeys ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE journeys ADD COLUMN related TEXT NOT NULL DEFAULT '[]';
    """,
    # living journeys: identity and lineage, people's edits (overrides), what each user's journeys
    # were computed from, and the online ICPC state that `ingest` updates event by event
    """
    CREATE TABLE journey_registry (
        journey_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created REAL NOT NULL,
        status TEXT NOT NULL, merged_into TEXT, parent_id TEXT
    );
    CREATE INDEX journey_registry_user ON journey_registry (user_id);
    CREATE TABLE lineage (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, journey_id TEXT NOT NULL, user_id TEXT NOT NULL,
        event TEXT NOT NULL, other_id TEXT, detail TEXT NOT NULL DEFAULT '', at TEXT NOT NULL
    );
    CREATE INDEX lineage_journey ON lineage (journey_id);
    CREATE INDEX lineage_user ON lineage (user_id);
    CREATE TABLE overrides (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, journey_id TEXT NOT NULL,
        kind TEXT NOT NULL, value TEXT NOT NULL, at TEXT NOT NULL
    );
    CREATE INDEX overrides_user ON overrides (user_id);
    CREATE TABLE user_inputs (user_id TEXT PRIMARY KEY, digest TEXT NOT NULL);
    CREATE TABLE online_state (user_id TEXT PRIMARY KEY, model_version TEXT NOT NULL, state BLOB NOT NULL);
    """,
    # after naming (issue 8): expansion candidates, keyed by the normalised journey name
    """
    CREATE TABLE expansions (key TEXT PRIMARY KEY, value TEXT NOT NULL, created TEXT NOT NULL);
    """,
    # issue 10 (serve): API keys, stored as the sha256 of the secret token, never the token
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, user_id TEXT, admin INTEGER NOT NULL DEFAULT 0,
        label TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked TEXT
    );
    CREATE INDEX api_keys_user ON api_keys (user_id);
    CREATE INDEX IF NOT EXISTS events_ts ON events (ts);  -- MAX(ts) per online update, without a scan
    """,
]


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(x: float) -> datetime:
    return datetime.fromtimestamp(x, tz=timezone.utc)


_JOURNEY_COLUMNS = ("journey_id", "user_id", "name", "name_source", "keywords", "n_events", "first_seen",
                    "last_seen", "centroid", "score", "stage", "rank", "evidence", "stage_activity",
                    "stage_kind", "score_source", "parent_id", "hidden", "pinned", "related")


def _journey_row(j: Journey, rank: int) -> tuple:
    return (j.journey_id, j.user_id, j.name, j.name_source, json.dumps(list(j.keywords)), j.n_events,
            _ts(j.first_seen), _ts(j.last_seen), np.asarray(j.centroid, dtype=np.float32).tobytes(),
            j.score, j.stage, rank, json.dumps(list(j.evidence)), j.stage_activity, j.stage_kind,
            j.score_source, j.parent_id, int(j.hidden), int(j.pinned), json.dumps(list(j.related)))


def _journey_from_row(r: tuple, item_ids: tuple[str, ...]) -> Journey:
    return Journey(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), item_ids, r[5], _dt(r[6]), _dt(r[7]),
                   tuple(np.frombuffer(r[8], dtype=np.float32).tolist()), tuple(json.loads(r[12])),
                   r[9], r[10], stage_activity=r[13], stage_kind=r[14], score_source=r[15],
                   parent_id=r[16], hidden=bool(r[17]), pinned=bool(r[18]), related=tuple(json.loads(r[19])))


_KEY_COLUMNS = "key_id, secret_hash, user_id, admin, label, created, revoked"


def _key_dict(r: tuple) -> dict:
    return {"key_id": r[0], "secret_hash": r[1], "user_id": r[2], "admin": bool(r[3]), "label": r[4],
            "created": r[5], "revoked": r[6]}


class SQLiteStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    # -- schema ---------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        for version in range(self.schema_version, len(MIGRATIONS)):
            with self.conn:
                self.conn.executescript("BEGIN;" + MIGRATIONS[version] + f"; PRAGMA user_version={version + 1};COMMIT;")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- items and events -----------------------------------------------------------------
    def upsert_items(self, items: Iterable[Item]) -> int:
        before = self.conn.total_changes
        with self.conn:
            self.conn.executemany(
                """INSERT INTO items (item_id, title, description, tags) VALUES (?, ?, ?, ?)
                   ON CONFLICT(item_id) DO UPDATE SET title=excluded.title,
                     description=excluded.description, tags=excluded.tags
                   WHERE (items.title, items.description, items.tags)
                      IS NOT (excluded.title, excluded.description, excluded.tags)""",
                ((i.item_id, i.title, i.description, json.dumps(list(i.tags))) for i in items),
            )
        return self.conn.total_changes - before

    def add_events(self, events: Iterable[Event]) -> int:
        before = self.conn.total_changes
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?)",
                ((e.user_id, e.item_id, _ts(e.timestamp), e.kind, e.weight, e.query or "") for e in events),
            )
        return self.conn.total_changes - before

    def items(self, item_ids: Sequence[str] | None = None) -> dict[str, Item]:
        if item_ids is None:
            rows = self.conn.execute("SELECT item_id, title, description, tags FROM items").fetchall()
        else:
            rows = []
            ids = list(item_ids)
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                rows += self.conn.execute(
                    f"SELECT item_id, title, description, tags FROM items WHERE item_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
        return {r[0]: Item(r[0], r[1], r[2], tuple(json.loads(r[3]))) for r in rows}

    def events(self, user_id: str | None = None) -> list[Event]:
        sql = "SELECT user_id, item_id, ts, kind, weight, query FROM events"
        args: tuple = ()
        if user_id is not None:
            sql, args = sql + " WHERE user_id = ?", (user_id,)
        rows = self.conn.execute(sql + " ORDER BY user_id, ts, item_id", args).fetchall()
        return [Event(r[0], r[1], _dt(r[2]), r[3], r[4], r[5] or None) for r in rows]

    # -- embeddings -----------------------------------------------------------------------
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hs = list(hashes)
        for start in range(0, len(hs), 900):
            chunk = hs[start : start + 900]
            for h, blob in self.conn.execute(
                f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND content_hash IN ({','.join('?' * len(chunk))})",
                [model, *chunk],
            ):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                ((model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()),
            )

    # -- learned state (e.g. a clusterer's global fit), keyed by a digest of its inputs ------
    def get_artifact(self, key: str) -> bytes | None:
        row = self.conn.execute("SELECT value FROM artifacts WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_artifact(self, key: str, value: bytes) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?)",
                              (key, value, datetime.now(timezone.utc).isoformat()))

    # -- journeys -------------------------------------------------------------------------
    @staticmethod
    def _digest(journeys: Sequence[Journey], unassigned: Sequence[str]) -> str:
        h = hashlib.sha256()
        for j in journeys:
            h.update(repr((j.journey_id, j.name, j.name_source, j.keywords, j.item_ids, j.n_events,
                           _ts(j.first_seen), _ts(j.last_seen), j.evidence, j.score, j.stage,
                           j.stage_activity, j.stage_kind, j.score_source, j.parent_id, j.hidden,
                           j.pinned, j.related)).encode())
            h.update(np.asarray(j.centroid, dtype=np.float32).tobytes())
        h.update(repr(tuple(unassigned)).encode())
        return h.hexdigest()

    def replace_journeys(self, user_id: str, journeys: Sequence[Journey], unassigned: Sequence[str]) -> bool:
        """Store a user's journeys; returns False (and writes nothing) when they are unchanged."""
        digest = self._digest(journeys, unassigned)
        row = self.conn.execute("SELECT digest FROM user_state WHERE user_id = ?", (user_id,)).fetchone()
        if row and row[0] == digest:
            return False
        with self.conn:
            old = [r[0] for r in self.conn.execute("SELECT journey_id FROM journeys WHERE user_id = ?", (user_id,))]
            self.conn.executemany("DELETE FROM journey_items WHERE journey_id = ?", ((j,) for j in old))
            self.conn.execute("DELETE FROM journeys WHERE user_id = ?", (user_id,))
            self.conn.execute("DELETE FROM unassigned WHERE user_id = ?", (user_id,))
            self.conn.executemany(
                f"INSERT INTO journeys ({', '.join(_JOURNEY_COLUMNS)}) VALUES ({', '.join('?' * len(_JOURNEY_COLUMNS))})",
                (_journey_row(j, rank) for rank, j in enumerate(journeys)),
            )
            self.conn.executemany(
                "INSERT INTO journey_items VALUES (?, ?, ?)",
                ((j.journey_id, pos, item) for j in journeys for pos, item in enumerate(j.item_ids)),
            )
            self.conn.executemany(
                "INSERT INTO unassigned VALUES (?, ?, ?)", ((user_id, p, i) for p, i in enumerate(unassigned))
            )
            self.conn.execute("INSERT OR REPLACE INTO user_state VALUES (?, ?)", (user_id, digest))
        return True

    def journeys(self, user_id: str | None = None) -> list[Journey]:
        sql = f"SELECT {', '.join(_JOURNEY_COLUMNS)} FROM journeys"
        args: tuple = ()
        if user_id is not None:
            sql, args = sql + " WHERE user_id = ?", (user_id,)
        rows = self.conn.execute(sql + " ORDER BY user_id, rank", args).fetchall()
        items: dict[str, list[str]] = {}
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            for jid, item in self.conn.execute(
                f"SELECT journey_id, item_id FROM journey_items WHERE journey_id IN ({','.join('?' * len(chunk))}) ORDER BY journey_id, position",
                chunk,
            ):
                items.setdefault(jid, []).append(item)
        return [_journey_from_row(r, tuple(items.get(r[0], ()))) for r in rows]

    def unassigned(self, user_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT item_id FROM unassigned WHERE user_id = ? ORDER BY position", (user_id,))]

    def users(self) -> list[dict]:
        rows = self.conn.execute(
            """SELECT e.user_id, e.n, COALESCE(j.n, 0) FROM
                 (SELECT user_id, COUNT(*) AS n FROM events GROUP BY user_id) e
               LEFT JOIN (SELECT user_id, COUNT(*) AS n FROM journeys GROUP BY user_id) j
               ON j.user_id = e.user_id"""
        ).fetchall()
        return [{"user_id": r[0], "n_events": r[1], "n_journeys": r[2]}
                for r in sorted(rows, key=lambda r: user_order(r[0]))]

    # -- living journeys: identity, lineage, overrides, inputs, online state ---------------
    def registry(self, user_id: str) -> dict[str, dict]:
        rows = self.conn.execute(
            "SELECT journey_id, created, status, merged_into, parent_id FROM journey_registry WHERE user_id = ?",
            (user_id,)).fetchall()
        return {r[0]: {"created": r[1], "status": r[2], "merged_into": r[3], "parent_id": r[4]} for r in rows}

    def registry_entry(self, journey_id: str) -> dict | None:
        r = self.conn.execute(
            "SELECT journey_id, user_id, created, status, merged_into, parent_id FROM journey_registry"
            " WHERE journey_id = ?", (journey_id,)).fetchone()
        return None if r is None else {"journey_id": r[0], "user_id": r[1], "created": r[2], "status": r[3],
                                       "merged_into": r[4], "parent_id": r[5]}

    def save_identity(self, user_id: str, entries: dict[str, dict], lineage: Sequence[tuple]) -> None:
        """Upsert registry entries and append lineage events (journey_id, event, other_id, detail)."""
        now = datetime.now(timezone.utc).isoformat()
        with self.conn:
            self.conn.executemany(
                """INSERT INTO journey_registry VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT(journey_id) DO UPDATE SET status=excluded.status,
                     merged_into=excluded.merged_into, parent_id=excluded.parent_id""",
                ((jid, user_id, e["created"], e["status"], e.get("merged_into"), e.get("parent_id"))
                 for jid, e in entries.items()))
            self.conn.executemany(
                "INSERT INTO lineage (journey_id, user_id, event, other_id, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
                ((jid, user_id, ev, other, detail, now) for jid, ev, other, detail in lineage))

    def lineage(self, journey_id: str) -> list[dict]:
        rows = self.conn.execute(
            "SELECT journey_id, event, other_id, detail, at FROM lineage WHERE journey_id = ? OR other_id = ?"
            " ORDER BY seq", (journey_id, journey_id)).fetchall()
        return [{"journey_id": r[0], "event": r[1], "other_id": r[2], "detail": r[3], "at": r[4]} for r in rows]

    def add_override(self, user_id: str, journey_id: str, kind: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO overrides (user_id, journey_id, kind, value, at) VALUES (?, ?, ?, ?, ?)",
                              (user_id, journey_id, kind, value, datetime.now(timezone.utc).isoformat()))

    def overrides(self, user_id: str) -> list[dict]:
        rows = self.conn.execute(
            "SELECT journey_id, kind, value FROM overrides WHERE user_id = ? ORDER BY seq", (user_id,)).fetchall()
        return [{"journey_id": r[0], "kind": r[1], "value": r[2]} for r in rows]

    def input_digests(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT user_id, digest FROM user_inputs").fetchall())

    def set_input_digest(self, user_id: str, digest: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO user_inputs VALUES (?, ?)", (user_id, digest))

    def online_state(self, user_id: str) -> tuple[str, bytes] | None:
        r = self.conn.execute("SELECT model_version, state FROM online_state WHERE user_id = ?", (user_id,)).fetchone()
        return None if r is None else (r[0], bytes(r[1]))

    def put_online_state(self, user_id: str, model_version: str, state: bytes) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO online_state VALUES (?, ?, ?)", (user_id, model_version, state))

    def insert_new_events(self, events: Iterable[Event]) -> list[Event]:
        """Add events; return those that were not stored yet (in input order)."""
        fresh = []
        with self.conn:
            for e in events:
                cur = self.conn.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?)",
                                        (e.user_id, e.item_id, _ts(e.timestamp), e.kind, e.weight, e.query or ""))
                if cur.rowcount:
                    fresh.append(e)
        return fresh

    def user_ids(self) -> list[str]:
        return sorted((r[0] for r in self.conn.execute("SELECT DISTINCT user_id FROM events")), key=user_order)

    # -- after naming (issue 8): expansion key-value table and the latest event time --------
    def get_expansion(self, key: str) -> dict | None:
        row = self.conn.execute("SELECT value FROM expansions WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_expansion(self, key: str, value: dict) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO expansions VALUES (?, ?, ?)",
                              (key, json.dumps(value, sort_keys=True), datetime.now(timezone.utc).isoformat()))

    def latest_event_time(self) -> datetime | None:
        row = self.conn.execute("SELECT MAX(ts) FROM events").fetchone()
        return None if row is None or row[0] is None else _dt(row[0])

    # -- API keys and journey ownership (issue 10: serve) ----------------------------------
    def add_key(self, key_id: str, secret_hash: str, user_id: str | None, admin: bool, label: str = "") -> None:
        with self.conn:
            self.conn.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                              (key_id, secret_hash, user_id, int(admin), label,
                               datetime.now(timezone.utc).isoformat()))

    def key(self, key_id: str) -> dict | None:
        row = self.conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return None if row is None else _key_dict(row)

    def keys(self) -> list[dict]:
        return [_key_dict(r) for r in self.conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created, key_id")]

    def revoke_key(self, key_id: str) -> bool:
        with self.conn:
            cur = self.conn.execute("UPDATE api_keys SET revoked = ? WHERE key_id = ? AND revoked IS NULL",
                                    (datetime.now(timezone.utc).isoformat(), key_id))
        return cur.rowcount > 0

    def delete_user_keys(self, user_id: str) -> int:
        with self.conn:
            return self.conn.execute("DELETE FROM api_keys WHERE user_id = ?", (user_id,)).rowcount

    def data_version(self) -> tuple[int, int]:
        """Changes whenever any connection commits to the file (a read cache's validity check)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0]), self.conn.total_changes

    def journey_owner(self, journey_id: str) -> str | None:
        row = self.conn.execute("SELECT user_id FROM journeys WHERE journey_id = ?", (journey_id,)).fetchone()
        return None if row is None else row[0]

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, params: dict) -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO runs (started, params) VALUES (?, ?)",
                (datetime.now(timezone.utc).isoformat(), json.dumps(params, default=str, sort_keys=True)),
            )
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, stats: dict) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET finished = ?, stats = ? WHERE run_id = ?",
                (datetime.now(timezone.utc).isoformat(), json.dumps(stats, default=str, sort_keys=True), run_id),
            )

    def runs(self) -> list[dict]:
        rows = self.conn.execute("SELECT run_id, started, finished, params, stats FROM runs ORDER BY run_id").fetchall()
        return [{"run_id": r[0], "started": r[1], "finished": r[2], "params": json.loads(r[3]),
                 "stats": json.loads(r[4]) if r[4] else None} for r in rows]
