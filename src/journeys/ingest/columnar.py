"""The columnar data path: an activity log read in chunks into Arrow, validated a chunk at a time,
and written as hash buckets of users (one Parquet file each); per-user work then streams over the
buckets, one at a time, so no process ever holds every event, and no event is a Python object.

An event is a row of five columns: `user_id` (string), `item` (int32 code into the catalogue the
log was read against), `ts` (int64 Unix seconds), `weight` (float32) and `kind` (string). A row
that cannot be used (empty user, unknown item, unparseable timestamp, weight that is not a finite
number) goes, with its reason, to `quarantine.parquet` beside the buckets and is counted. A user's
bucket is `journeys.batch.bucket`, the same hash the executors partition users with."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from journeys.errors import DataError, require
from journeys.ingest.validate import ColumnMap

CHUNK_ROWS = 1 << 19
COLUMNS = ("user_id", "item", "ts", "weight", "kind")


def _pa():
    pa = require("pyarrow", "data")
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    return pa


def read_batches(path: str | Path, chunk_rows: int = CHUNK_ROWS, strings: Sequence[str] = ()) -> Iterator:
    """Arrow record batches of a CSV/TSV (optionally gzipped), JSONL or Parquet file, in order;
    CSV and Parquet are streamed, never read whole. CSV columns in `strings` are read as text."""
    pa = _pa()
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), None, "file not found")
    suffixes = [s.lower() for s in path.suffixes]
    kind = suffixes[-2] if len(suffixes) > 1 and suffixes[-1] == ".gz" else (suffixes or [""])[-1]
    try:
        if kind in (".parquet", ".pq"):
            yield from pa.parquet.ParquetFile(path).iter_batches(batch_size=chunk_rows)
        elif kind in (".csv", ".tsv", ".txt"):
            from pyarrow import csv

            reader = csv.open_csv(path, read_options=csv.ReadOptions(block_size=64 << 20),
                                  parse_options=csv.ParseOptions(delimiter="\t" if kind == ".tsv" else ","),
                                  convert_options=csv.ConvertOptions(
                                      column_types={c: pa.string() for c in strings}, strings_can_be_null=False))
            yield from reader
        elif kind in (".jsonl", ".ndjson", ".json"):
            from pyarrow import json as pajson

            yield from pajson.read_json(path).to_batches(max_chunksize=chunk_rows)
        else:
            raise DataError(str(path), None, f"unknown file type '{kind}': use .csv, .tsv, .jsonl or .parquet")
    except DataError:
        raise
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(str(path), None, f"cannot read: {' '.join(str(exc).split())}") from exc


def _seconds(col) -> np.ndarray:
    """Timestamps -> float64 Unix seconds (NaN where unparseable): numbers (seconds, or ms when
    >= 1e11), Arrow timestamps, or ISO 8601 text."""
    pa = _pa()
    if pa.types.is_timestamp(col.type):
        return col.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False).astype("float64") / 1e6
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        n = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    else:
        from journeys.ingest.validate import parse_timestamps
        import pandas as pd

        parsed = parse_timestamps(pd.Series(col.to_pandas(), dtype="string"))
        out = np.full(len(parsed), np.nan)
        ok = parsed.notna().to_numpy()
        out[ok] = parsed[ok].astype("int64").to_numpy() / 1e9 if ok.any() else out[ok]
        return out
    n = np.where(np.abs(n) >= 1e11, n / 1000.0, n)
    return np.where(np.isfinite(n) & (np.abs(n) < 9.2e9), n, np.nan)


def _weights(col) -> np.ndarray:
    """Weights as float64: an empty text cell is 1 (as in CSV validation); null, NaN, infinite
    and text that is not a number are NaN or infinite, i.e. quarantined."""
    pa = _pa()
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        import pandas as pd

        text = pd.Series(col.to_pandas(), dtype="string").str.strip()
        w = pd.to_numeric(text.where(text != "", "1"), errors="coerce").astype("float64")
        return w.to_numpy(na_value=np.nan)
    return col.cast(pa.float64()).to_numpy(zero_copy_only=False)


@dataclass
class Buckets:
    """Hash buckets of users on disk (Parquet), written by `write_buckets`."""

    directory: Path
    files: list[Path]
    rows: int = 0
    events: int = 0
    quarantined: int = 0
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"directory": str(self.directory), "buckets": len(self.files), "rows": self.rows,
                "events": self.events, "quarantined": self.quarantined, "reasons": dict(self.reasons)}


def write_buckets(path: str | Path, catalogue: Sequence[str], out_dir: str | Path, n_buckets: int,
                  mapping: ColumnMap | None = None, chunk_rows: int = CHUNK_ROWS) -> Buckets:
    """Read `path` in chunks, encode items against `catalogue` (their codes are positions in it),
    quarantine bad rows, and append each chunk's rows to its users' bucket files."""
    from journeys.batch import bucket

    pa = _pa()
    pc, pq = pa.compute, pa.parquet
    mapping = mapping or ColumnMap()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    value_set = pa.array(list(catalogue), type=pa.string())
    schema = pa.schema([("user_id", pa.string()), ("item", pa.int32()), ("ts", pa.int64()),
                        ("weight", pa.float32()), ("kind", pa.string())])
    files = [out_dir / f"bucket-{b:05d}.parquet" for b in range(n_buckets)]
    writers = [pq.ParquetWriter(f, schema, compression="zstd") for f in files]
    bad_writer = None
    out = Buckets(out_dir, files)
    bucket_of: dict[str, int] = {}
    try:
        text = [mapping.col(f) for f in ("user_id", "item_id", "weight", "kind")]
        for batch in read_batches(path, chunk_rows, text):
            names = batch.schema.names
            for fld in ("user_id", "item_id", "timestamp"):
                if mapping.col(fld) not in names:
                    raise DataError(str(path), None, f"missing required column '{mapping.col(fld)}'; columns are: {', '.join(names)}")
            n = batch.num_rows
            out.rows += n
            users = batch.column(mapping.col("user_id")).cast(pa.string()).fill_null("")
            items = batch.column(mapping.col("item_id")).cast(pa.string()).fill_null("")
            codes = pc.index_in(items, value_set=value_set)
            secs = _seconds(batch.column(mapping.col("timestamp")))
            wname, kname = mapping.col("weight"), mapping.col("kind")
            weights = _weights(batch.column(wname)) if wname in names else np.ones(n)
            kinds = (pc.utf8_lower(batch.column(kname).cast(pa.string()).fill_null("")) if kname in names
                     else pa.array(["view"] * n) if n else pa.array([], pa.string()))
            reason = np.full(n, "", dtype=object)
            for bad, why in ((codes.is_null().to_numpy(zero_copy_only=False), "event for unknown item"),
                             (np.isinf(weights), "weight is not a finite number"),
                             (np.isnan(weights), "weight is not a number"),
                             (np.isnan(secs), "unparseable timestamp"),
                             (pc.equal(pc.utf8_trim_whitespace(users), "").to_numpy(zero_copy_only=False), "empty user_id")):
                reason[bad] = why  # the last reason listed wins, as in the row-by-row validation order
            bad = reason != ""
            if bad.any():
                out.quarantined += int(bad.sum())
                out.reasons.update(reason[bad].tolist())
                lines = np.flatnonzero(bad) + out.rows - n + 1
                rows = batch.filter(pa.array(bad)).to_pylist()
                qt = pa.table({"line": lines, "reason": reason[bad].tolist(),
                               "row": [json.dumps(r, default=str) for r in rows]})
                if bad_writer is None:
                    bad_writer = pq.ParquetWriter(out_dir / "quarantine.parquet", qt.schema)
                bad_writer.write_table(qt)
            keep = pa.array(~bad)
            users_ok = users.filter(keep)
            enc = users_ok.dictionary_encode()
            uniq = enc.dictionary.to_pylist()
            per_unique = np.fromiter((bucket_of.setdefault(u, bucket(u, n_buckets)) if len(bucket_of) < 4_000_000
                                      else bucket(u, n_buckets) for u in uniq), dtype=np.int32, count=len(uniq))
            b = per_unique[enc.indices.to_numpy(zero_copy_only=False)]
            table = pa.table({"user_id": users_ok, "item": codes.filter(keep).cast(pa.int32()),
                              "ts": pa.array(np.round(secs[~bad]).astype(np.int64)),
                              "weight": pa.array(weights[~bad].astype(np.float32)),
                              "kind": kinds.filter(keep)}, schema=schema)
            order = np.argsort(b, kind="stable")
            table = table.take(pa.array(order))
            bounds = np.searchsorted(b[order], np.arange(n_buckets + 1))
            for k in range(n_buckets):
                if bounds[k + 1] > bounds[k]:
                    writers[k].write_table(table.slice(int(bounds[k]), int(bounds[k + 1] - bounds[k])))
            out.events += table.num_rows
    finally:
        for w in writers:
            w.close()
        if bad_writer is not None:
            bad_writer.close()
    return out


@dataclass(frozen=True)
class UserRows:
    """One bucket's interest events, sorted by (user, time, item): users[k] owns rows
    starts[k]:starts[k+1]."""

    users: list[str]
    starts: np.ndarray
    items: np.ndarray  # int32 item codes, in time order per user

    def distinct(self, k: int) -> np.ndarray:
        """User k's distinct items in order of first interaction."""
        codes = self.items[self.starts[k] : self.starts[k + 1]]
        _, first = np.unique(codes, return_index=True)
        return codes[np.sort(first)]


def read_bucket(file: str | Path, min_rating: float | None = None) -> UserRows:
    """A bucket's interest events grouped by user (a `rate` below `min_rating` is not interest)."""
    pa = _pa()
    pc = pa.compute
    t = pa.parquet.read_table(file, columns=list(COLUMNS))
    if min_rating is not None and t.num_rows:
        t = t.filter(pc.invert(pc.and_(pc.equal(t["kind"], "rate"), pc.less(t["weight"], min_rating))))
    t = t.sort_by([("user_id", "ascending"), ("ts", "ascending"), ("item", "ascending")])
    enc = t["user_id"].combine_chunks().dictionary_encode() if t.num_rows else None
    items = t["item"].to_numpy().astype(np.int32, copy=False) if t.num_rows else np.zeros(0, np.int32)
    if enc is None:
        return UserRows([], np.zeros(1, np.int64), items)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    change = np.flatnonzero(np.diff(idx)) + 1
    starts = np.concatenate([[0], change, [len(idx)]]).astype(np.int64)
    names = enc.dictionary.to_pylist()
    return UserRows([names[idx[s]] for s in starts[:-1]], starts, items)


def user_item_matrix(files: Sequence[str | Path], n_items: int, min_rating: float | None = None):
    """(the binary users x catalogue-codes matrix (CSR) of every bucket, its rows' user ids), built
    a bucket at a time: what the global fit learns from, without any per-event Python object."""
    from scipy import sparse

    indptr, cols, users = [np.zeros(1, np.int64)], [], []
    offset = 0
    for f in files:
        rows = read_bucket(f, min_rating)
        users += rows.users
        user = np.repeat(np.arange(len(rows.users)), np.diff(rows.starts))
        pairs = np.unique(user.astype(np.int64) * n_items + rows.items)  # distinct (user, item), sorted
        counts = np.bincount(pairs // n_items, minlength=len(rows.users))
        cols.append((pairs % n_items).astype(np.int32))
        indptr.append(offset + np.cumsum(counts))
        offset += int(counts.sum())
    indices = np.concatenate(cols) if cols else np.zeros(0, np.int32)
    ptr = np.concatenate(indptr)
    return sparse.csr_matrix((np.ones(len(indices), dtype=np.float64), indices, ptr), shape=(len(ptr) - 1, n_items)), users
