"""A server store on PostgreSQL (psycopg 3): the same protocol as SQLite, for many writers and hosts.

Selected by a URL, `--db postgresql://user@host:port/dbname`. The schema has its own migrations and a
version table (`journeys_schema`); migrating takes an advisory lock so that concurrent openers do
not race. Text columns use the "C" collation so that ordering is byte order, as in SQLite, whatever
the server's locale. Vectors are float32 bytes in `bytea`. Bulk writes go through COPY into a
temporary table and one `INSERT ... SELECT ... ON CONFLICT`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from journeys.errors import ConfigError, require
from journeys.store import user_order
from journeys.store.sqlite import SQLiteStore
from journeys.types import Event, Item, Journey

if TYPE_CHECKING:
    from journeys.batch.columns import EventColumns

_LOCK_ID = 0x6A6F75726E  # advisory lock key for migrations ("journ")
_CHUNK = 10_000

# Each entry migrates the schema from version i to i+1; never edit one that has shipped.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE items (
        item_id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE events (
        user_id TEXT COLLATE "C" NOT NULL, item_id TEXT COLLATE "C" NOT NULL, ts DOUBLE PRECISION NOT NULL,
        kind TEXT COLLATE "C" NOT NULL, weight DOUBLE PRECISION NOT NULL, query TEXT COLLATE "C" NOT NULL DEFAULT '',
        PRIMARY KEY (user_id, ts, item_id, kind, weight, query)
    );
    CREATE TABLE embeddings (
        model TEXT COLLATE "C" NOT NULL, content_hash TEXT COLLATE "C" NOT NULL, vector BYTEA NOT NULL,
        PRIMARY KEY (model, content_hash)
    );
    CREATE TABLE journeys (
        journey_id TEXT COLLATE "C" PRIMARY KEY, user_id TEXT COLLATE "C" NOT NULL, name TEXT NOT NULL,
        name_source TEXT NOT NULL, keywords TEXT NOT NULL, n_events INTEGER NOT NULL,
        first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL, centroid BYTEA NOT NULL,
        score DOUBLE PRECISION NOT NULL DEFAULT 0, stage TEXT NOT NULL DEFAULT '', rank INTEGER NOT NULL,
        evidence TEXT NOT NULL DEFAULT '[]', stage_activity TEXT NOT NULL DEFAULT '',
        stage_kind TEXT NOT NULL DEFAULT '', score_source TEXT NOT NULL DEFAULT '', parent_id TEXT,
        hidden BOOLEAN NOT NULL DEFAULT FALSE, pinned BOOLEAN NOT NULL DEFAULT FALSE,
        related TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX journeys_user ON journeys (user_id, rank);
    CREATE TABLE journey_items (
        journey_id TEXT COLLATE "C" NOT NULL, position INTEGER NOT NULL, item_id TEXT NOT NULL,
        PRIMARY KEY (journey_id, position)
    );
    CREATE TABLE unassigned (
        user_id TEXT COLLATE "C" NOT NULL, position INTEGER NOT NULL, item_id TEXT NOT NULL,
        PRIMARY KEY (user_id, position)
    );
    CREATE TABLE user_state (user_id TEXT COLLATE "C" PRIMARY KEY, digest TEXT NOT NULL);
    CREATE TABLE runs (
        run_id BIGSERIAL PRIMARY KEY, started TEXT NOT NULL, finished TEXT, params TEXT NOT NULL, stats TEXT
    );
    CREATE TABLE artifacts (key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL, created TEXT NOT NULL);
    """,
    # living journeys: identity and lineage, overrides, per-user input digests, online ICPC state
    """
    CREATE TABLE journey_registry (
        journey_id TEXT COLLATE "C" PRIMARY KEY, user_id TEXT COLLATE "C" NOT NULL,
        created DOUBLE PRECISION NOT NULL, status TEXT NOT NULL, merged_into TEXT, parent_id TEXT
    );
    CREATE INDEX journey_registry_user ON journey_registry (user_id);
    CREATE TABLE lineage (
        seq BIGSERIAL PRIMARY KEY, journey_id TEXT NOT NULL, user_id TEXT NOT NULL, event TEXT NOT NULL,
        other_id TEXT, detail TEXT NOT NULL DEFAULT '', at TEXT NOT NULL
    );
    CREATE INDEX lineage_journey ON lineage (journey_id);
    CREATE INDEX lineage_other ON lineage (other_id);
    CREATE TABLE overrides (
        seq BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL, journey_id TEXT NOT NULL, kind TEXT NOT NULL,
        value TEXT NOT NULL, at TEXT NOT NULL
    );
    CREATE INDEX overrides_user ON overrides (user_id);
    CREATE TABLE user_inputs (user_id TEXT COLLATE "C" PRIMARY KEY, digest TEXT NOT NULL);
    CREATE TABLE online_state (user_id TEXT COLLATE "C" PRIMARY KEY, model_version TEXT NOT NULL, state BYTEA NOT NULL);
    """,
    # after naming (issue 8): expansion candidates, keyed by the normalised journey name
    """
    CREATE TABLE expansions (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, created TEXT NOT NULL);
    """,
]

_JOURNEY_COLUMNS = ("journey_id", "user_id", "name", "name_source", "keywords", "n_events", "first_seen",
                    "last_seen", "centroid", "score", "stage", "rank", "evidence", "stage_activity",
                    "stage_kind", "score_source", "parent_id", "hidden", "pinned", "related")


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(x: float) -> datetime:
    return datetime.fromtimestamp(x, tz=timezone.utc)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _vec(v) -> bytes:
    return np.asarray(v, dtype=np.float32).tobytes()


def _journey_row(j: Journey, rank: int) -> tuple:
    return (j.journey_id, j.user_id, j.name, j.name_source, json.dumps(list(j.keywords)), j.n_events,
            _ts(j.first_seen), _ts(j.last_seen), _vec(j.centroid), float(j.score), j.stage, rank,
            json.dumps(list(j.evidence)), j.stage_activity, j.stage_kind, j.score_source, j.parent_id,
            bool(j.hidden), bool(j.pinned), json.dumps(list(j.related)))


def _journey_from_row(r: tuple, item_ids: tuple[str, ...]) -> Journey:
    return Journey(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), item_ids, r[5], _dt(r[6]), _dt(r[7]),
                   tuple(np.frombuffer(bytes(r[8]), dtype=np.float32).tolist()), tuple(json.loads(r[12])),
                   r[9], r[10], stage_activity=r[13], stage_kind=r[14], score_source=r[15],
                   parent_id=r[16], hidden=bool(r[17]), pinned=bool(r[18]), related=tuple(json.loads(r[19])))


class PostgresStore:
    def __init__(self, url: str):
        psycopg = require("psycopg", "postgres")
        self.url = url
        conninfo = "postgresql://" + url.split("://", 1)[1] if "://" in url else url  # postgresql+psycopg:// -> postgresql://
        try:
            self.conn = psycopg.connect(conninfo, autocommit=True)
        except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
            raise ConfigError(f"cannot connect to {_redact(url)}: {str(exc).strip().splitlines()[0]}") from None
        self.migrate()

    # -- schema ---------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        row = self.conn.execute("SELECT to_regclass('journeys_schema')").fetchone()
        if row[0] is None:
            return 0
        return int(self.conn.execute("SELECT version FROM journeys_schema").fetchone()[0])

    def migrate(self) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            self.conn.execute("CREATE TABLE IF NOT EXISTS journeys_schema (version INTEGER NOT NULL)")
            if self.conn.execute("SELECT COUNT(*) FROM journeys_schema").fetchone()[0] == 0:
                self.conn.execute("INSERT INTO journeys_schema VALUES (0)")
            for version in range(self.schema_version, len(MIGRATIONS)):
                self.conn.execute(MIGRATIONS[version])
                self.conn.execute("UPDATE journeys_schema SET version = %s", (version + 1,))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _stage(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """COPY rows into a temporary `_stage_<table>` dropped at commit (call inside a transaction)."""
        cols = ", ".join(columns)
        self.conn.execute(f"CREATE TEMP TABLE _stage_{table} ON COMMIT DROP AS SELECT {cols} FROM {table} LIMIT 0")
        with self.conn.cursor().copy(f"COPY _stage_{table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    # -- items and events -----------------------------------------------------------------
    def upsert_items(self, items: Iterable[Item]) -> int:
        latest = {i.item_id: (i.item_id, i.title, i.description, json.dumps(list(i.tags))) for i in items}
        if not latest:
            return 0
        with self.conn.transaction():
            self._stage("items", ("item_id", "title", "description", "tags"), latest.values())
            cur = self.conn.execute(
                """INSERT INTO items (item_id, title, description, tags)
                   SELECT item_id, title, description, tags FROM _stage_items
                   ON CONFLICT (item_id) DO UPDATE SET title = excluded.title,
                     description = excluded.description, tags = excluded.tags
                   WHERE (items.title, items.description, items.tags)
                      IS DISTINCT FROM (excluded.title, excluded.description, excluded.tags)""")
            return max(cur.rowcount, 0)

    def add_events(self, events: Iterable[Event]) -> int:
        rows = ((e.user_id, e.item_id, _ts(e.timestamp), e.kind, float(e.weight), e.query or "") for e in events)
        with self.conn.transaction():
            self._stage("events", ("user_id", "item_id", "ts", "kind", "weight", "query"), rows)
            cur = self.conn.execute(
                "INSERT INTO events SELECT DISTINCT * FROM _stage_events ON CONFLICT DO NOTHING")
            return max(cur.rowcount, 0)

    def items(self, item_ids: Sequence[str] | None = None) -> dict[str, Item]:
        sql = "SELECT item_id, title, description, tags FROM items"
        if item_ids is None:
            rows = self.conn.execute(sql).fetchall()
        else:
            ids, rows = list(item_ids), []
            for start in range(0, len(ids), _CHUNK):
                rows += self.conn.execute(sql + " WHERE item_id = ANY(%s)", (ids[start : start + _CHUNK],)).fetchall()
        return {r[0]: Item(r[0], r[1], r[2], tuple(json.loads(r[3]))) for r in rows}

    def events(self, user_id: str | None = None) -> list[Event]:
        sql = "SELECT user_id, item_id, ts, kind, weight, query FROM events"
        args: tuple = ()
        if user_id is not None:
            sql, args = sql + " WHERE user_id = %s", (user_id,)
        rows = self.conn.execute(sql + " ORDER BY user_id, ts, item_id", args).fetchall()
        return [Event(r[0], r[1], _dt(r[2]), r[3], r[4], r[5] or None) for r in rows]

    # -- columnar events (issue 14): recompute reads the events as columns ------------------
    def event_columns(self, chunk: int = 1024) -> EventColumns:
        """Every event as columns, in `events()`'s order, read through a server-side cursor
        `chunk` rows at a time (no `Event` objects)."""
        from journeys.batch.columns import ColumnsBuilder

        built = ColumnsBuilder()
        with self.conn.transaction(), self.conn.cursor(name="journeys_event_columns") as cur:
            cur.execute("SELECT user_id, item_id, ts, kind, weight, query FROM events ORDER BY user_id, ts, item_id")
            while rows := cur.fetchmany(chunk):
                built.add(rows)
        return built.build()

    # -- embeddings -----------------------------------------------------------------------
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hs = list(hashes)
        for start in range(0, len(hs), _CHUNK):
            for h, blob in self.conn.execute(
                "SELECT content_hash, vector FROM embeddings WHERE model = %s AND content_hash = ANY(%s)",
                (model, hs[start : start + _CHUNK]),
            ):
                out[h] = np.frombuffer(bytes(blob), dtype=np.float32)
        return out

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        with self.conn.transaction():
            self._stage("embeddings", ("model", "content_hash", "vector"),
                        ((model, h, _vec(v)) for h, v in vectors.items()))
            self.conn.execute(
                """INSERT INTO embeddings SELECT model, content_hash, vector FROM _stage_embeddings
                   ON CONFLICT (model, content_hash) DO UPDATE SET vector = excluded.vector""")

    # -- learned state, keyed by a digest of its inputs ----------------------------------------
    def get_artifact(self, key: str) -> bytes | None:
        row = self.conn.execute("SELECT value FROM artifacts WHERE key = %s", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_artifact(self, key: str, value: bytes) -> None:
        self.conn.execute(
            """INSERT INTO artifacts VALUES (%s, %s, %s)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value, created = excluded.created""",
            (key, bytes(value), _now()))

    # -- journeys -------------------------------------------------------------------------
    def replace_journeys(self, user_id: str, journeys: Sequence[Journey], unassigned: Sequence[str]) -> bool:
        """Store a user's journeys; returns False (and writes nothing) when they are unchanged."""
        digest = SQLiteStore._digest(journeys, unassigned)
        row = self.conn.execute("SELECT digest FROM user_state WHERE user_id = %s", (user_id,)).fetchone()
        if row and row[0] == digest:
            return False
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("DELETE FROM journey_items WHERE journey_id IN (SELECT journey_id FROM journeys WHERE user_id = %s)",
                        (user_id,))
            cur.execute("DELETE FROM journeys WHERE user_id = %s", (user_id,))
            cur.execute("DELETE FROM unassigned WHERE user_id = %s", (user_id,))
            cur.executemany(
                f"INSERT INTO journeys ({', '.join(_JOURNEY_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_JOURNEY_COLUMNS))})",
                [_journey_row(j, rank) for rank, j in enumerate(journeys)])
            cur.executemany("INSERT INTO journey_items VALUES (%s, %s, %s)",
                            [(j.journey_id, pos, item) for j in journeys for pos, item in enumerate(j.item_ids)])
            cur.executemany("INSERT INTO unassigned VALUES (%s, %s, %s)",
                            [(user_id, p, i) for p, i in enumerate(unassigned)])
            cur.execute("""INSERT INTO user_state VALUES (%s, %s)
                           ON CONFLICT (user_id) DO UPDATE SET digest = excluded.digest""", (user_id, digest))
        return True

    def journeys(self, user_id: str | None = None) -> list[Journey]:
        sql = f"SELECT {', '.join(_JOURNEY_COLUMNS)} FROM journeys"
        args: tuple = ()
        if user_id is not None:
            sql, args = sql + " WHERE user_id = %s", (user_id,)
        rows = self.conn.execute(sql + " ORDER BY user_id, rank", args).fetchall()
        items: dict[str, list[str]] = {}
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), _CHUNK):
            for jid, item in self.conn.execute(
                "SELECT journey_id, item_id FROM journey_items WHERE journey_id = ANY(%s) ORDER BY journey_id, position",
                (ids[start : start + _CHUNK],),
            ):
                items.setdefault(jid, []).append(item)
        return [_journey_from_row(r, tuple(items.get(r[0], ()))) for r in rows]

    def unassigned(self, user_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT item_id FROM unassigned WHERE user_id = %s ORDER BY position", (user_id,))]

    def users(self) -> list[dict]:
        rows = self.conn.execute(
            """SELECT e.user_id, e.n, COALESCE(j.n, 0) FROM
                 (SELECT user_id, COUNT(*) AS n FROM events GROUP BY user_id) e
               LEFT JOIN (SELECT user_id, COUNT(*) AS n FROM journeys GROUP BY user_id) j
               ON j.user_id = e.user_id""").fetchall()
        return [{"user_id": r[0], "n_events": int(r[1]), "n_journeys": int(r[2])}
                for r in sorted(rows, key=lambda r: user_order(r[0]))]

    # -- living journeys: identity, lineage, overrides, inputs, online state ---------------
    def registry(self, user_id: str) -> dict[str, dict]:
        rows = self.conn.execute("SELECT journey_id, created, status, merged_into, parent_id FROM journey_registry"
                                 " WHERE user_id = %s", (user_id,)).fetchall()
        return {r[0]: {"created": r[1], "status": r[2], "merged_into": r[3], "parent_id": r[4]} for r in rows}

    def registry_entry(self, journey_id: str) -> dict | None:
        r = self.conn.execute("SELECT journey_id, user_id, created, status, merged_into, parent_id FROM journey_registry"
                              " WHERE journey_id = %s", (journey_id,)).fetchone()
        return None if r is None else {"journey_id": r[0], "user_id": r[1], "created": r[2], "status": r[3],
                                       "merged_into": r[4], "parent_id": r[5]}

    def save_identity(self, user_id: str, entries: dict[str, dict], lineage: Sequence[tuple]) -> None:
        """Upsert registry entries and append lineage events (journey_id, event, other_id, detail)."""
        now = _now()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO journey_registry VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (journey_id) DO UPDATE SET status = excluded.status,
                     merged_into = excluded.merged_into, parent_id = excluded.parent_id""",
                [(jid, user_id, float(e["created"]), e["status"], e.get("merged_into"), e.get("parent_id"))
                 for jid, e in entries.items()])
            cur.executemany(
                "INSERT INTO lineage (journey_id, user_id, event, other_id, detail, at) VALUES (%s, %s, %s, %s, %s, %s)",
                [(jid, user_id, ev, other, detail, now) for jid, ev, other, detail in lineage])

    def lineage(self, journey_id: str) -> list[dict]:
        rows = self.conn.execute("SELECT journey_id, event, other_id, detail, at FROM lineage"
                                 " WHERE journey_id = %s OR other_id = %s ORDER BY seq", (journey_id, journey_id))
        return [{"journey_id": r[0], "event": r[1], "other_id": r[2], "detail": r[3], "at": r[4]} for r in rows]

    def add_override(self, user_id: str, journey_id: str, kind: str, value: str) -> None:
        self.conn.execute("INSERT INTO overrides (user_id, journey_id, kind, value, at) VALUES (%s, %s, %s, %s, %s)",
                          (user_id, journey_id, kind, value, _now()))

    def overrides(self, user_id: str) -> list[dict]:
        rows = self.conn.execute("SELECT journey_id, kind, value FROM overrides WHERE user_id = %s ORDER BY seq",
                                 (user_id,))
        return [{"journey_id": r[0], "kind": r[1], "value": r[2]} for r in rows]

    def input_digests(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT user_id, digest FROM user_inputs").fetchall())

    def set_input_digest(self, user_id: str, digest: str) -> None:
        self.conn.execute("""INSERT INTO user_inputs VALUES (%s, %s)
                             ON CONFLICT (user_id) DO UPDATE SET digest = excluded.digest""", (user_id, digest))

    def online_state(self, user_id: str) -> tuple[str, bytes] | None:
        r = self.conn.execute("SELECT model_version, state FROM online_state WHERE user_id = %s", (user_id,)).fetchone()
        return None if r is None else (r[0], bytes(r[1]))

    def put_online_state(self, user_id: str, model_version: str, state: bytes) -> None:
        self.conn.execute("""INSERT INTO online_state VALUES (%s, %s, %s) ON CONFLICT (user_id)
                             DO UPDATE SET model_version = excluded.model_version, state = excluded.state""",
                          (user_id, model_version, bytes(state)))

    def insert_new_events(self, events: Iterable[Event]) -> list[Event]:
        """Add events; return those that were not stored yet (in input order, each once)."""
        events = list(events)
        keys = [(e.user_id, e.item_id, _ts(e.timestamp), e.kind, float(e.weight), e.query or "") for e in events]
        if not keys:
            return []
        with self.conn.transaction():
            self._stage("events", ("user_id", "item_id", "ts", "kind", "weight", "query"), keys)
            fresh = {tuple(r) for r in self.conn.execute(
                """INSERT INTO events SELECT DISTINCT * FROM _stage_events ON CONFLICT DO NOTHING
                   RETURNING user_id, item_id, ts, kind, weight, query""")}
        out = []
        for e, k in zip(events, keys):
            if k in fresh:
                fresh.discard(k)
                out.append(e)
        return out

    def user_ids(self) -> list[str]:
        return sorted((r[0] for r in self.conn.execute("SELECT DISTINCT user_id FROM events")), key=user_order)

    # -- after naming (issue 8): expansion key-value table and the latest event time --------
    def get_expansion(self, key: str) -> dict | None:
        row = self.conn.execute("SELECT value FROM expansions WHERE key = %s", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_expansion(self, key: str, value: dict) -> None:
        self.put_expansions({key: value})

    def get_expansions(self, keys: Iterable[str]) -> dict[str, dict]:
        """The entries kept for these keys (keys without one are left out), in one query."""
        keys = list(dict.fromkeys(keys))
        rows = self.conn.execute("SELECT key, value FROM expansions WHERE key = ANY(%s)", (keys,)) if keys else []
        return {k: json.loads(v) for k, v in rows}

    def put_expansions(self, entries: Mapping[str, dict]) -> None:
        """Keep these entries (replacing earlier ones), in one transaction."""
        now = _now()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany("""INSERT INTO expansions VALUES (%s, %s, %s) ON CONFLICT (key)
                               DO UPDATE SET value = excluded.value, created = excluded.created""",
                            [(k, json.dumps(v, sort_keys=True), now) for k, v in entries.items()])

    def latest_event_time(self) -> datetime | None:
        row = self.conn.execute("SELECT MAX(ts) FROM events").fetchone()
        return None if row is None or row[0] is None else _dt(row[0])

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, params: dict) -> int:
        row = self.conn.execute("INSERT INTO runs (started, params) VALUES (%s, %s) RETURNING run_id",
                                (_now(), json.dumps(params, default=str, sort_keys=True))).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int, stats: dict) -> None:
        self.conn.execute("UPDATE runs SET finished = %s, stats = %s WHERE run_id = %s",
                          (_now(), json.dumps(stats, default=str, sort_keys=True), run_id))

    def runs(self) -> list[dict]:
        rows = self.conn.execute("SELECT run_id, started, finished, params, stats FROM runs ORDER BY run_id").fetchall()
        return [{"run_id": int(r[0]), "started": r[1], "finished": r[2], "params": json.loads(r[3]),
                 "stats": json.loads(r[4]) if r[4] else None} for r in rows]


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url
