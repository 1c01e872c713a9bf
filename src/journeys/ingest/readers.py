"""Read CSV, TSV, JSONL or Parquet into a DataFrame with each row's source line.

Text files are decoded with the given encoding (UTF-8 by default); a byte that does not decode
is reported with its physical line. CSV rows carry the physical line they start on (quoted fields
may span lines; blank lines are skipped but counted). A row whose field count differs from the
header's is kept with an `__error__` so that validation quarantines it instead of the whole file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from pathlib import Path

import pandas as pd

from journeys.errors import DataError

LINE = "__line__"  # column holding each row's 1-based line (text files) or row number (Parquet)
ERROR = "__error__"  # column holding why a row cannot be read (it is quarantined)
DEFAULT_ENCODING = "utf-8"


def read_table(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise DataError(str(path), None, "file not found")
    if path.is_dir():
        raise DataError(str(path), None, "is a directory, not a file")
    encoding = encoding or DEFAULT_ENCODING
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(str(path), None, f"unknown encoding '{encoding}'") from None
    suffixes = [s.lower() for s in path.suffixes]
    kind = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else (suffixes or [""])[-1]
    try:
        if kind in (".csv", ".tsv", ".txt"):
            df = _read_csv(path, "\t" if kind == ".tsv" else ",", encoding)
        elif kind in (".jsonl", ".ndjson", ".json"):
            df = _read_jsonl(path, encoding)
        elif kind in (".parquet", ".pq"):
            df = pd.read_parquet(path)
            df[LINE] = range(1, len(df) + 1)
        else:
            raise DataError(str(path), None, f"unknown file type '{kind}': use .csv, .tsv, .jsonl or .parquet")
    except DataError:
        raise
    except Exception as exc:  # the parser's own words are the best reason we have
        raise DataError(str(path), None, f"cannot read: {' '.join(str(exc).split())}") from exc
    return df


def _text(path: Path, encoding: str) -> str:
    """The whole file decoded; a byte that does not decode names its physical line."""
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        raw = gzip.decompress(raw)
    enc = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise DataError(str(path), line, f"byte 0x{bad} is not valid {encoding}; "
                        "give the file's encoding with --encoding (e.g. latin-1)") from None


def _read_csv(path: Path, sep: str, encoding: str) -> pd.DataFrame:
    csv.field_size_limit(2**31 - 1)  # a 1 MB title is data, not an error (the default is 128 KiB)
    reader = csv.reader(io.StringIO(_text(path, encoding), newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    errors: list[str] = []
    end = 0  # physical lines consumed so far
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(str(path), start, f"cannot read: {exc}") from None
        end = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip() and header is not None):
            continue  # a blank line
        if header is None:
            header = [h.strip() for h in fields]
            dup = sorted({h for h in header if header.count(h) > 1})
            if dup:
                raise DataError(str(path), start, f"duplicate column name(s): {', '.join(dup)}")
            continue
        err = ""
        if len(fields) != len(header):
            err = f"row has {len(fields)} fields, the header has {len(header)}"
            fields = (fields + [""] * len(header))[: len(header)]
        rows.append(fields)
        lines.append(start)
        errors.append(err)
    if header is None:
        raise DataError(str(path), None, "empty file: no header line")
    df = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    if any(errors):
        df[ERROR] = errors
    df[LINE] = lines
    return df


def _read_jsonl(path: Path, encoding: str) -> pd.DataFrame:
    records = []
    for lineno, raw in enumerate(_text(path, encoding).split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            obj = {ERROR: f"invalid JSON: {exc.msg}", "__raw__": raw.strip()[:500]}
        if not isinstance(obj, dict):
            obj = {ERROR: "a JSON line must be an object", "__raw__": raw.strip()[:500]}
        obj[LINE] = lineno
        records.append(obj)
    keys: dict[str, None] = {}
    for r in records:
        keys.update(dict.fromkeys(r))
    # a key absent from a line is an empty cell (as in CSV); an explicit null stays null
    df = pd.DataFrame.from_records([{k: r.get(k, "") for k in keys} for r in records], columns=list(keys))
    if LINE not in df:
        df[LINE] = pd.Series(dtype="int64")
    return df
