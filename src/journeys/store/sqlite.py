"""The embedded default store: one SQLite file in WAL mode, schema versioned by migrations."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np

from journeys.errors import JourneysError, StoreError

from journeys.store import user_order
from journeys.types import Event, Item, Journey

if TYPE_CHECKING:
    from journeys.batch.columns import EventColumns

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
    # runs: who runs it, and whether it finished, is still running or was interrupted (killed)
    """
    ALTER TABLE runs ADD COLUMN status TEXT NOT NULL DEFAULT 'running';
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN host TEXT;
    UPDATE runs SET status = CASE WHEN finished IS NULL THEN 'interrupted' ELSE 'finished' END;
    """,
    # the latest event time (`now` for stages) without a scan of every event
    """
    CREATE INDEX events_ts ON events (ts);
    """,
    # issue 10 (serve): API keys, stored as the sha256 of the secret token, never the token
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, user_id TEXT, admin INTEGER NOT NULL DEFAULT 0,
        label TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked TEXT
    );
    CREATE INDEX api_keys_user ON api_keys (user_id);
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


APPLICATION_ID = 0x4A524E59  # "JRNY": marks an SQLite file as a journeys database
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a writer waits for another writer's lock


class DatabaseLocked(StoreError):
    code = "database_locked"


class ReadOnlyDatabase(StoreError):
    code = "database_read_only"


class BadDatabasePath(StoreError):
    code = "bad_database_path"


class NotAJourneysDatabase(StoreError):
    code = "not_a_journeys_database"


class SchemaTooNew(StoreError):
    code = "schema_too_new"


def store_error(exc: sqlite3.Error, path: object) -> JourneysError:
    """One line that says what went wrong with the database at `path`."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return DatabaseLocked(f"database is locked by another writer: {path} (waited for the busy timeout)")
    if "readonly" in text or "read-only" in text:
        return ReadOnlyDatabase(f"database is read-only: {path}")
    if "not a database" in text or "malformed" in text:
        return NotAJourneysDatabase(f"not an SQLite database (or corrupt): {path}")
    if "unable to open" in text:
        return BadDatabasePath(f"cannot open the database {path}: {text}")
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(f"{text}: {path}")
    return StoreError(f"database error at {path}: {text}")


def _translated(call):
    """Run call(); SQLite's own failures (not programming errors) become StoreErrors."""

    def wrapper(self, *args):
        try:
            return call(self, *args)
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if type(exc) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise  # IntegrityError and friends are the caller's to handle
            raise store_error(exc, self.where) from None

    return wrapper


class _Connection(sqlite3.Connection):
    """sqlite3.Connection whose SQLite failures (locked, read-only, not a database) surface as
    one-line StoreErrors naming the database, wherever in the store they happen."""

    where = ""
    execute = _translated(sqlite3.Connection.execute)
    executemany = _translated(sqlite3.Connection.executemany)
    executescript = _translated(sqlite3.Connection.executescript)
    commit = _translated(sqlite3.Connection.commit)
    __exit__ = _translated(sqlite3.Connection.__exit__)


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (so it can run inside one transaction)."""
    out, buf = [], ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    return out


def _writable(path: Path) -> bool:
    """Whether SQLite can write here: the file and (for the -wal/-shm files) its directory."""
    if path.exists() and not os.access(path, os.W_OK):
        return False
    sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    if all(p.exists() and os.access(p, os.W_OK) for p in sidecars):
        return True
    return os.access(path.parent, os.W_OK)


_KEY_COLUMNS = "key_id, secret_hash, user_id, admin, label, created, revoked"


def _key_dict(r: tuple) -> dict:
    return {"key_id": r[0], "secret_hash": r[1], "user_id": r[2], "admin": bool(r[3]), "label": r[4],
            "created": r[5], "revoked": r[6]}


class SQLiteStore:
    """`busy_timeout`: seconds a writer waits while another process writes, then fails with
    DatabaseLocked. A database that cannot be written (read-only file or directory) opens
    read-only: reads work, writes raise ReadOnlyDatabase."""

    def __init__(self, path: Path | str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.path = Path(path)
        self.busy_timeout = float(busy_timeout)
        self.read_only = False
        memory = str(self.path) == ":memory:"
        if not memory:
            self._check_path()
            self.read_only = self.path.exists() and not _writable(self.path)
        self.conn = self._connect(memory)
        self._check_database_consistently()
        if not self.read_only:
            self._use_wal()
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    # -- connection and schema ------------------------------------------------------------
    def _use_wal(self) -> None:
        """Switch to WAL. On a fresh file another process may be switching or migrating at the
        same moment, and SQLite answers "locked" here without waiting: retry until busy_timeout."""
        import time

        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except ReadOnlyDatabase:
                self.read_only = True
                return
            except DatabaseLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def _check_path(self) -> None:
        p = self.path
        if p.is_dir():
            raise BadDatabasePath(f"--db is a directory, not a database file: {p}")
        for parent in p.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise BadDatabasePath(f"cannot create the database {p}: {parent} is a file, not a directory")
                break
        if not p.exists():
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BadDatabasePath(f"cannot create the database {p}: {exc.strerror or exc}") from None
            if not os.access(p.parent, os.W_OK):
                raise ReadOnlyDatabase(f"cannot create the database {p}: its directory is read-only")

    def _connect(self, memory: bool) -> sqlite3.Connection:
        try:
            if memory:
                conn = sqlite3.connect(":memory:", check_same_thread=False, factory=_Connection)
            elif self.read_only:
                conn = self._connect_read_only()
            else:
                conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout, check_same_thread=False,
                                       factory=_Connection)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from None
        conn.where = str(self.path)
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """mode=ro sees a live WAL; where SQLite cannot open it so (no -shm and a read-only
        directory, i.e. nobody can be writing), the file is read as immutable."""
        uri = "file:" + quote(str(self.path.absolute()))
        conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=self.busy_timeout,
                               check_same_thread=False, factory=_Connection)
        conn.where = str(self.path)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except (sqlite3.Error, StoreError):
            conn.close()
        return sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, check_same_thread=False,
                               factory=_Connection)

    def _check_database_consistently(self) -> None:
        """The check in one read transaction: the version and the tables it reads are one snapshot,
        never the tables of a migration committed between the two reads."""
        if self.conn.in_transaction:
            return self._check_database()
        self.conn.execute("BEGIN")
        try:
            self._check_database()
        finally:
            self.conn.rollback()

    def _check_database(self) -> None:
        """Refuse an SQLite file that some other program owns, or a newer journeys schema."""
        version = self.schema_version
        app_id = int(self.conn.execute("PRAGMA application_id").fetchone()[0])
        tables = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        foreign = app_id not in (0, APPLICATION_ID) or (version == 0 and tables) or (version and "events" not in tables)
        if foreign:
            raise NotAJourneysDatabase(
                f"not a journeys database (an SQLite file with other tables): {self.path}; give another --db")
        if version > len(MIGRATIONS):
            raise SchemaTooNew(
                f"the database {self.path} has schema version {version}, newer than this journeys "
                f"(version {len(MIGRATIONS)}): upgrade journeys")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema up to date in one IMMEDIATE transaction, re-checking the version
        inside it, so two processes opening a fresh database at once migrate it exactly once."""
        target = len(MIGRATIONS)
        if self.schema_version == target:
            return
        if self.read_only:
            raise ReadOnlyDatabase(f"database is read-only and needs migrating to schema version {target}: {self.path}")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_database()  # another process may have migrated (or refused) meanwhile
            for version in range(self.schema_version, target):
                for stmt in _statements(MIGRATIONS[version]):
                    self.conn.execute(stmt)
            self.conn.execute(f"PRAGMA user_version={target}")
            self.conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

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

    # -- columnar events (issue 14): recompute reads the events as columns ------------------
    def event_columns(self, chunk: int = 1024) -> EventColumns:
        """Every event as columns, in `events()`'s order, read from the cursor `chunk` rows at a
        time (no `Event` objects) into arrays sized by the count of events."""
        from journeys.batch.columns import ColumnsBuilder

        built = ColumnsBuilder(self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        cur = self.conn.execute("SELECT user_id, item_id, ts, kind, weight, query FROM events"
                                " ORDER BY user_id, ts, item_id")
        while rows := cur.fetchmany(chunk):
            built.add(rows)
        return built.build()

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
            # one statement inside the write transaction: ids read before it could be stale when
            # another process replaced this user's journeys in between
            self.conn.execute("DELETE FROM journey_items WHERE journey_id IN "
                              "(SELECT journey_id FROM journeys WHERE user_id = ?)", (user_id,))
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
        self.put_expansions({key: value})

    def get_expansions(self, keys: Iterable[str]) -> dict[str, dict]:
        """The entries kept for these keys (keys without one are left out), in one pass."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows = self.conn.execute(f"SELECT key, value FROM expansions WHERE key IN ({','.join('?' * len(part))})",
                                     part)
            out.update((k, json.loads(v)) for k, v in rows)
        return out

    def put_expansions(self, entries: Mapping[str, dict]) -> None:
        """Keep these entries (replacing earlier ones), in one transaction."""
        now = datetime.now(timezone.utc).isoformat()
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO expansions VALUES (?, ?, ?)",
                                  [(k, json.dumps(v, sort_keys=True), now) for k, v in entries.items()])

    def latest_event_time(self) -> datetime | None:
        row = self.conn.execute("SELECT MAX(ts) FROM events").fetchone()
        return None if row is None or row[0] is None else _dt(row[0])

    # -- forget (issue 7 item 5): remove a user or an item from every table, then compact ------
    # Tables are discovered from the schema, so tables added later are covered: per-user rows by a
    # `user_id` column, per-journey rows by a `journey_id` (or `*_journey_id`) column, item rows
    # by an `item_id` column. Learned global state is dropped so it is refit without them.
    LEARNED_PREFIXES = ("fit:", "model:", "keywords:", "source:")  # source: inputs held whole (ingest/source.py)

    def _columns(self) -> dict[str, list[tuple[str, str]]]:
        tables = [r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: [(r[1], (r[2] or "").upper()) for r in self.conn.execute(f'PRAGMA table_info("{t}")')]
                for t in tables}

    def _drop_learned(self, counts: dict) -> None:
        where = " OR ".join("key LIKE ?" for _ in self.LEARNED_PREFIXES)
        cur = self.conn.execute(f"DELETE FROM artifacts WHERE {where}", [p + "%" for p in self.LEARNED_PREFIXES])
        counts["artifacts"] = counts.get("artifacts", 0) + cur.rowcount
        # derived caches built from users' journeys and items (expansion candidates): rebuilt later
        for table in self.DERIVED_CACHES:
            if self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
                counts[table] = counts.get(table, 0) + self.conn.execute(f'DELETE FROM "{table}"').rowcount

    DERIVED_CACHES = ("expansions",)

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete every row of the user (events, journeys, edits, lineage, per-user state) and
        the learned global artifacts; returns rows deleted per table (counts only)."""
        counts: dict[str, int] = {}
        self.conn.execute("PRAGMA secure_delete=ON")
        with self.conn:
            schema = self._columns()
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS forget_journeys (journey_id TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM temp.forget_journeys")
            for t, cols in schema.items():
                if {"user_id", "journey_id"} <= {c for c, _ in cols}:
                    self.conn.execute(f'INSERT OR IGNORE INTO temp.forget_journeys SELECT journey_id FROM "{t}" '
                                      "WHERE user_id = ?", (user_id,))
            for t, cols in schema.items():
                names = [c for c, _ in cols]
                conds = ["user_id = ?"] if "user_id" in names else []
                conds += [f'"{c}" IN (SELECT journey_id FROM temp.forget_journeys)'
                          for c in names if c == "journey_id" or c.endswith("_journey_id")]
                if conds:
                    cur = self.conn.execute(f'DELETE FROM "{t}" WHERE ' + " OR ".join(conds),
                                            (user_id,) if "user_id" in names else ())
                    if cur.rowcount:
                        counts[t] = cur.rowcount
            self.conn.execute("DROP TABLE temp.forget_journeys")
            if counts:
                self._drop_learned(counts)
        return counts

    def forget_item(self, item_id: str, embedding_hashes: Sequence[str] = ()) -> dict[str, int]:
        """Delete the item from the catalogue, events, journeys and unassigned lists, the given
        embeddings (content hashes no other item shares: the caller knows the text template) and
        the learned global artifacts. Journeys that held it lose it (and its evidence entry);
        per-user caches of the users who had it (tables keyed by user_id alone) are dropped so
        the next run rebuilds them, and their edits or lineage rows that mention it are removed."""
        counts: dict[str, int] = {}
        self.conn.execute("PRAGMA secure_delete=ON")
        with self.conn:
            schema = self._columns()
            users = {r[0] for r in self.conn.execute("SELECT DISTINCT user_id FROM events WHERE item_id = ?", (item_id,))}
            held = self.conn.execute(
                "SELECT j.journey_id, j.user_id, j.evidence FROM journeys j WHERE j.journey_id IN "
                "(SELECT journey_id FROM journey_items WHERE item_id = ?)", (item_id,)).fetchall()
            users |= {r[1] for r in held}
            for t, cols in schema.items():
                if "item_id" in {c for c, _ in cols}:
                    cur = self.conn.execute(f'DELETE FROM "{t}" WHERE item_id = ?', (item_id,))
                    if cur.rowcount:
                        counts[t] = cur.rowcount
            for jid, _, evidence in held:
                left = self.conn.execute("SELECT count(*) FROM journey_items WHERE journey_id = ?", (jid,)).fetchone()[0]
                if left:
                    self.conn.execute("UPDATE journeys SET evidence = ? WHERE journey_id = ?",
                                      (json.dumps([i for i in json.loads(evidence) if i != item_id]), jid))
                else:
                    self.conn.execute("DELETE FROM journeys WHERE journey_id = ?", (jid,))
                    counts["journeys"] = counts.get("journeys", 0) + 1
            counts["journeys_changed"] = len(held)
            marks = ",".join("?" * len(users))
            for t, cols in schema.items():
                names = [c for c, _ in cols]
                if "user_id" not in names or t in ("events", "journeys", "unassigned") or not users:
                    continue
                pk = [r[1] for r in self.conn.execute(f'PRAGMA table_info("{t}")') if r[5]]
                if pk == ["user_id"]:  # a per-user cache (digests, online state): rebuilt later
                    cur = self.conn.execute(f'DELETE FROM "{t}" WHERE user_id IN ({marks})', sorted(users))
                else:  # edits and lineage that name the item
                    texts = [c for c, kind in cols if kind in ("TEXT", "") and c != "user_id"]
                    if not texts:
                        continue
                    mention = " OR ".join(f'instr("{c}", ?) > 0' for c in texts)
                    cur = self.conn.execute(f'DELETE FROM "{t}" WHERE user_id IN ({marks}) AND ({mention})',
                                            [*sorted(users), *([item_id] * len(texts))])
                if cur.rowcount:
                    counts[t] = counts.get(t, 0) + cur.rowcount
            hs = list(embedding_hashes)
            if hs:
                cur = self.conn.execute(
                    f"DELETE FROM embeddings WHERE content_hash IN ({','.join('?' * len(hs))})", hs)
                counts["embeddings"] = cur.rowcount
            counts["users_affected"] = len(users)
            self._drop_learned(counts)
        return counts

    def compact(self) -> dict[str, int]:
        """Checkpoint the WAL into the database (truncating it) and VACUUM, so that deleted rows
        leave no bytes behind in the db, -wal or -shm files (with secure_delete on)."""
        self.conn.execute("PRAGMA secure_delete=ON")
        self.conn.commit()
        busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        self.conn.execute("VACUUM")
        busy += self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        self.conn.execute("PRAGMA secure_delete=OFF")
        if busy:
            raise DatabaseLocked(f"another process is reading {self.path}; forgotten rows are deleted but "
                                 "the files are not compacted yet: run the command again when it is done")
        return {"bytes": self.path.stat().st_size if self.path.exists() else 0}

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
        """Record a new run; runs left unfinished by a process that is gone (killed) are
        marked 'interrupted' first."""
        with self.conn:
            dead = [r[0] for r in self.conn.execute(
                "SELECT run_id, pid, host FROM runs WHERE status = 'running'").fetchall() if _gone(r[1], r[2])]
            self.conn.executemany("UPDATE runs SET status = 'interrupted' WHERE run_id = ?", ((r,) for r in dead))
            cur = self.conn.execute(
                "INSERT INTO runs (started, params, status, pid, host) VALUES (?, ?, 'running', ?, ?)",
                (datetime.now(timezone.utc).isoformat(), json.dumps(params, default=str, sort_keys=True),
                 os.getpid(), socket.gethostname()),
            )
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, stats: dict) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET finished = ?, stats = ?, status = 'finished' WHERE run_id = ?",
                (datetime.now(timezone.utc).isoformat(), json.dumps(stats, default=str, sort_keys=True), run_id),
            )

    def runs(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT run_id, started, finished, params, stats, status, pid, host FROM runs ORDER BY run_id").fetchall()
        return [{"run_id": r[0], "started": r[1], "finished": r[2], "params": json.loads(r[3]),
                 "stats": json.loads(r[4]) if r[4] else None,
                 "status": "interrupted" if r[5] == "running" and _gone(r[6], r[7]) else r[5]} for r in rows]


def _gone(pid: int | None, host: str | None) -> bool:
    """Whether the process that started a run has ended (known only for this host's runs)."""
    if pid is None or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
