"""Read CSV, TSV, JSONL or Parquet into a string-typed DataFrame with each row's source line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from journeys.errors import DataError

LINE = "__line__"  # column holding each row's 1-based line (text files) or row number (Parquet)


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise DataError(str(path), None, "file not found")
    suffixes = [s.lower() for s in path.suffixes]
    kind = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else (suffixes or [""])[-1]
    try:
        if kind in (".csv", ".tsv", ".txt"):
            df = pd.read_csv(
                path, sep="\t" if kind == ".tsv" else ",", dtype=str, keep_default_na=False
            )
            df[LINE] = range(2, len(df) + 2)  # line 1 is the header
        elif kind in (".jsonl", ".ndjson", ".json"):
            df = _read_jsonl(path)
        elif kind in (".parquet", ".pq"):
            df = pd.read_parquet(path)
            df[LINE] = range(1, len(df) + 1)
        else:
            raise DataError(str(path), None, f"unknown file type '{kind}': use .csv, .tsv, .jsonl or .parquet")
    except DataError:
        raise
    except Exception as exc:  # the parser's own words are the best reason we have
        raise DataError(str(path), None, f"cannot read: {exc}") from exc
    return df


def _read_jsonl(path: Path) -> pd.DataFrame:
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    records = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                obj = {"__error__": f"invalid JSON: {exc.msg}", "__raw__": raw.strip()[:500]}
            if not isinstance(obj, dict):
                obj = {"__error__": "a JSON line must be an object", "__raw__": raw.strip()[:500]}
            obj[LINE] = lineno
            records.append(obj)
    df = pd.DataFrame.from_records(records)
    if LINE not in df:
        df[LINE] = pd.Series(dtype="int64")
    return df
