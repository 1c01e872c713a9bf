"""Issue 13: physical line numbers, ragged rows, encodings, ids kept verbatim, conflicting inline
titles and non-finite weights. Each case failed before the fix."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from journeys.errors import DataError
from journeys.ingest import load_events

HEAD = "user_id,item_id,timestamp,title\n"


def _csv(tmp_path, body: str, name="e.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes((HEAD + body).encode(encoding))
    return p


def test_line_after_a_quoted_multiline_field_is_the_physical_line(tmp_path):
    body = ('a,i1,1700000000,"first line\nsecond line\nthird line"\n'  # lines 2-4
            "a,i2,1700000001,Plain\n"  # line 5
            '"b","i3",1700000002,"x\ny"\n'  # lines 6-7
            ",i4,1700000003,No user\n")  # line 8
    res = load_events(_csv(tmp_path, body))
    assert [r.line for r in res.quarantine.rows] == [8]
    with pytest.raises(DataError) as info:
        load_events(_csv(tmp_path, body), strict=True)
    assert info.value.line == 8


def test_line_after_blank_lines_is_the_physical_line(tmp_path):
    body = "a,i1,1700000000,T1\n\n\n\na,i2,1700000001,T2\n\n,i3,1700000002,T3\n"  # bad row on line 8
    res = load_events(_csv(tmp_path, body))
    assert [r.line for r in res.quarantine.rows] == [8]
    assert res.stats.rows == 3 and res.stats.events == 2


def test_a_ragged_row_is_quarantined_not_the_whole_file(tmp_path):
    body = "a,i1,1700000000,T1\na,i2,1700000001,T2,extra,fields\na,i3,1700000002\na,i4,1700000003,T4\n"
    res = load_events(_csv(tmp_path, body))
    assert {e.item_id for e in res.events} == {"i1", "i4"}
    assert [(r.line, r.reason) for r in res.quarantine.rows] == [
        (3, "row has 6 fields, the header has 4"), (4, "row has 3 fields, the header has 4")]


def test_latin1_file_with_encoding_option(tmp_path):
    p = _csv(tmp_path, "a,i1,1700000000,Crème brûlée\na,i2,1700000001,Café\n", encoding="latin-1")
    with pytest.raises(DataError) as info:
        load_events(p)
    assert info.value.line == 2 and "--encoding" in str(info.value) and "byte 0xe8" in str(info.value)
    res = load_events(p, encoding="latin-1")
    assert res.items["i1"].title == "Crème brûlée"


def test_one_bad_byte_names_its_line(tmp_path):
    p = tmp_path / "e.csv"
    p.write_bytes((HEAD + "a,i1,1700000000,T1\na,i2,1700000001,T2\n").encode() + b"a,i3,1700000002,T\xff3\n")
    with pytest.raises(DataError) as info:
        load_events(p)
    assert info.value.line == 4 and "0xff" in info.value.reason


def test_unknown_encoding_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="unknown encoding 'nosuch'"):
        load_events(_csv(tmp_path, "a,i1,1700000000,T\n"), encoding="nosuch")


def test_padded_ids_are_kept_verbatim_and_never_counted_as_duplicates(tmp_path):
    body = "alice,i1,1700000000,T1\nalice ,i1,1700000000,T1\n   ,i2,1700000001,T2\n"
    res = load_events(_csv(tmp_path, body))
    assert res.stats.duplicates == 0
    assert sorted(e.user_id for e in res.events) == ["alice", "alice "]
    assert [r.reason for r in res.quarantine.rows] == ["empty user_id"]  # spaces only is empty


def test_conflicting_inline_titles_are_counted(tmp_path):
    body = "a,i1,1700000000,Sourdough\nb,i1,1700000001,Sourdough\nc,i1,1700000002,Crypto casino\n"
    res = load_events(_csv(tmp_path, body))
    assert res.stats.title_conflicts == 1 and res.items["i1"].title == "Sourdough"
    assert res.stats.as_dict()["title_conflicts"] == 1


@pytest.mark.parametrize("value", [float("nan"), None, float("inf"), float("-inf")])
def test_parquet_nan_null_and_infinite_weights_are_quarantined(tmp_path, value):
    df = pd.DataFrame({"user_id": ["a", "a"], "item_id": ["i1", "i2"], "timestamp": [1700000000, 1700000001],
                       "title": ["T1", "T2"], "weight": [2.0, value]})
    p = tmp_path / "e.parquet"
    df.to_parquet(p)
    res = load_events(p)
    assert [e.weight for e in res.events] == [2.0]
    assert [r.line for r in res.quarantine.rows] == [2] and "weight" in res.quarantine.rows[0].reason


@pytest.mark.parametrize("cell,ok", [("nan", False), ("inf", False), ("-Infinity", False), ("", True), ("2.5", True)])
def test_csv_weights_must_be_finite(tmp_path, cell, ok):
    p = tmp_path / "e.csv"
    p.write_text(f"user_id,item_id,timestamp,title,weight\na,i1,1700000000,T1,{cell}\n")
    res = load_events(p)
    assert (len(res.events) == 1) == ok and (len(res.quarantine) == 0) == ok


def test_jsonl_null_weight_is_quarantined_but_a_missing_one_is_the_default(tmp_path):
    p = tmp_path / "e.jsonl"
    lines = [{"user_id": "a", "item_id": "i1", "timestamp": 1700000000, "title": "T1", "weight": None},
             {"user_id": "a", "item_id": "i2", "timestamp": 1700000001, "title": "T2"}]
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    res = load_events(p)
    assert [(e.item_id, e.weight) for e in res.events] == [("i2", 1.0)]
    assert [r.line for r in res.quarantine.rows] == [1]
