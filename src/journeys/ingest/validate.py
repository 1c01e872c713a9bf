"""Turn raw tables into Events and Items; every input row becomes an event, a counted duplicate
or a quarantined row (with its file, line and reason). `strict` stops at the first bad row.

User and item ids are kept verbatim (never trimmed): "alice " and "alice" are two users, so no
row is merged into another. A duplicate is a row equal to an earlier one in every event field.
An inline title that differs from the item's first title is counted (`title_conflicts`); the
first title is kept. A weight must be a finite number: NaN, null or infinite weights are
quarantined in every format (an empty CSV cell means the default weight, 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from journeys.errors import DataError
from journeys.ingest.quarantine import Quarantine
from journeys.ingest.readers import ERROR, LINE, read_table
from journeys.ingest.result import IngestResult, IngestStats  # noqa: F401  (re-exported)
from journeys.types import Event, Item

EVENT_FIELDS = ("user_id", "item_id", "timestamp", "kind", "weight", "query")
ITEM_FIELDS = ("item_id", "title", "description", "tags")
SEARCH_PREFIX = "search:"


@dataclass(frozen=True)
class ColumnMap:
    """Which source column holds each field; unmapped fields use their own name."""

    columns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, pairs: list[str] | None) -> "ColumnMap":
        out: dict[str, str] = {}
        for pair in pairs or []:
            fld, sep, col = pair.partition("=")
            if not sep or fld.strip() not in EVENT_FIELDS + ITEM_FIELDS:
                raise DataError("--map", None, f"'{pair}' is not FIELD=COLUMN with FIELD one of {', '.join(sorted(set(EVENT_FIELDS + ITEM_FIELDS)))}")
            out[fld.strip()] = col.strip()
        return cls(out)

    def col(self, fld: str) -> str:
        return self.columns.get(fld, fld)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Unix seconds, unix milliseconds or ISO 8601 (any offset) -> UTC; NaT where unparseable."""
    s = values.astype("string").str.strip()
    num = pd.to_numeric(s, errors="coerce")
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    is_num = num.notna() & np.isfinite(num.astype("float64"))
    if is_num.any():
        n = num[is_num].astype("float64")
        ms = n.abs() >= 1e11  # 1e11 s is the year 5138; as ms it is 1973
        secs = n.where(~ms, n / 1000.0)
        ok = secs.abs() < 9.2e9  # inside the range of nanosecond timestamps (years 1678-2261)
        out.loc[secs[ok].index] = pd.to_datetime(secs[ok], unit="s", utc=True)
    rest = ~is_num & s.notna() & (s != "")
    if rest.any():
        out.loc[rest] = pd.to_datetime(s[rest], utc=True, errors="coerce", format="ISO8601")
    return out.dt.floor("us")  # Python datetimes hold microseconds


def _text(df: pd.DataFrame, col: str, strip: bool = True) -> pd.Series:
    if col not in df:
        return pd.Series("", index=df.index, dtype="string")
    s = df[col].astype("string").fillna("")
    return s.str.strip() if strip else s


def _ids(df: pd.DataFrame, col: str) -> pd.Series:
    """Ids verbatim (padding kept); an id of only spaces is empty."""
    s = _text(df, col, strip=False)
    return s.where(s.str.strip() != "", "")


def _weights(df: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """(weights, reason per row or ""): an empty cell is 1; null, NaN, inf and text are bad."""
    if col not in df:
        return pd.Series(1.0, index=df.index), pd.Series("", index=df.index)
    raw = df[col]
    text = _text(df, col)
    null = raw.isna()
    w = pd.to_numeric(text.where(null | (text != ""), "1"), errors="coerce").astype("float64")
    bad = pd.Series("", index=df.index, dtype=object)
    bad[null] = "weight is missing (null or NaN)"
    nan = ~null & w.isna()
    bad[nan] = "weight is not a number: '" + text[nan].astype(str) + "'"
    inf = ~null & ~nan & ~np.isfinite(w)
    bad[inf] = "weight is not a finite number: '" + text[inf].astype(str) + "'"
    return w, bad


def _tags(value: str) -> tuple[str, ...]:
    parts = value.replace("|", ",").replace(";", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


def _require(df: pd.DataFrame, file: str, mapping: ColumnMap, fields: tuple[str, ...]) -> None:
    for fld in fields:
        col = mapping.col(fld)
        if col not in df.columns:
            hint = f" (mapped from field '{fld}')" if col != fld else ""
            raise DataError(file, None, f"missing required column '{col}'{hint}; columns are: {', '.join(c for c in df.columns if c != LINE)}")


def load_items(path: str | Path, mapping: ColumnMap, quarantine: Quarantine, strict: bool,
               encoding: str | None = None) -> tuple[dict[str, Item], int]:
    file = str(path)
    df = read_table(path, encoding)
    _require(df, file, mapping, ("item_id", "title"))
    ids, titles = _ids(df, mapping.col("item_id")), _text(df, mapping.col("title"))
    errors = _text(df, ERROR)
    descs, tags = _text(df, mapping.col("description")), _text(df, mapping.col("tags"))
    items: dict[str, Item] = {}
    bad = 0
    for pos, line in enumerate(df[LINE].tolist()):
        reason = None
        if errors.iat[pos]:
            reason = errors.iat[pos]
        elif not ids.iat[pos]:
            reason = "empty item_id"
        elif not titles.iat[pos]:
            reason = f"empty title for item '{ids.iat[pos]}'"
        elif ids.iat[pos] in items:
            reason = f"duplicate item_id '{ids.iat[pos]}' (the first row is kept)"
        if reason:
            if strict:
                raise DataError(file, int(line), reason)
            quarantine.add(file, int(line), reason, _row(df, pos))
            bad += 1
            continue
        items[ids.iat[pos]] = Item(ids.iat[pos], titles.iat[pos], descs.iat[pos], _tags(tags.iat[pos]))
    return items, bad


def _row(df: pd.DataFrame, pos: int) -> dict:
    rec = df.iloc[pos].to_dict()
    rec.pop(LINE, None)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}


def load_events(
    path: str | Path,
    items_path: str | Path | None = None,
    mapping: ColumnMap | None = None,
    strict: bool = False,
    encoding: str | None = None,
) -> IngestResult:
    """Read events (and items, from their own file or inline columns) and validate every row."""
    mapping = mapping or ColumnMap()
    file = str(path)
    quarantine = Quarantine()
    stats = IngestStats()
    items: dict[str, Item] = {}
    if items_path is not None:
        items, stats.item_rows_quarantined = load_items(items_path, mapping, quarantine, strict, encoding)
    df = read_table(path, encoding)
    stats.rows = len(df)
    _require(df, file, mapping, ("user_id", "timestamp"))
    has_query = mapping.col("query") in df.columns
    if not has_query:
        _require(df, file, mapping, ("item_id",))
    users = _ids(df, mapping.col("user_id"))
    item_ids = _ids(df, mapping.col("item_id"))
    kinds = _text(df, mapping.col("kind")).str.lower().replace("", "view")
    queries = _text(df, mapping.col("query"))
    raw_ts = df[mapping.col("timestamp")] if mapping.col("timestamp") in df else pd.Series("", index=df.index)
    stamps = parse_timestamps(raw_ts.astype("string").fillna(""))
    wcol = mapping.col("weight")
    weights, bad_weight = _weights(df, wcol)
    inline = mapping.col("title") in df.columns
    titles, descs, tags = _text(df, mapping.col("title")), _text(df, mapping.col("description")), _text(df, mapping.col("tags"))
    errors = _text(df, ERROR)

    seen: set[tuple] = set()
    events: list[Event] = []
    lines = df[LINE].tolist()
    for pos in range(len(df)):
        user, item, kind, query = users.iat[pos], item_ids.iat[pos], kinds.iat[pos], queries.iat[pos]
        reason = None
        if errors.iat[pos]:
            reason = errors.iat[pos]
        elif not user:
            reason = "empty user_id"
        elif pd.isna(stamps.iat[pos]):
            reason = f"unparseable timestamp '{raw_ts.iat[pos]}'"
        elif bad_weight.iat[pos]:
            reason = bad_weight.iat[pos]
        elif not item and not query:
            reason = "empty item_id and no search query"
        if reason is None and not item:  # a search: its query is the item's text
            item = SEARCH_PREFIX + " ".join(query.lower().split())
            items.setdefault(item, Item(item, query, "", ("search",)))
            kind = "search" if kind == "view" else kind
        elif reason is None and item not in items:
            if inline and titles.iat[pos]:
                items[item] = Item(item, titles.iat[pos], descs.iat[pos], _tags(tags.iat[pos]))
            else:
                reason = f"event for unknown item '{item}'"
        elif reason is None and inline and titles.iat[pos] and items[item].title != titles.iat[pos]:
            stats.title_conflicts += 1
        if reason:
            if strict:
                raise DataError(file, int(lines[pos]), reason)
            quarantine.add(file, int(lines[pos]), reason, _row(df, pos))
            continue
        ts = stamps.iat[pos].to_pydatetime()
        key = (user, item, ts, kind, float(weights.iat[pos]), query or None)
        if key in seen:
            stats.duplicates += 1
            continue
        seen.add(key)
        events.append(Event(user, item, ts, kind, float(weights.iat[pos]), query or None))
    stats.events = len(events)
    stats.quarantined = len(quarantine) - stats.item_rows_quarantined
    used = {e.item_id for e in events}
    stats.items = len(used)
    return IngestResult(events, items, stats, quarantine)
