from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.errors import DataError
from journeys.ingest import ColumnMap, load_events, parse_timestamps


def test_csv_with_items_file_counts_every_row(data_dir, tmp_path):
    res = load_events(data_dir / "events.csv", data_dir / "items.csv")
    s = res.stats
    assert s.rows == 19
    assert s.events + s.duplicates + s.quarantined == s.rows
    assert s.duplicates == 1  # alice,u5 repeated exactly
    assert s.quarantined == 4
    reasons = {r.line: r.reason for r in res.quarantine.rows}
    assert reasons[17] == "empty user_id"
    assert reasons[18].startswith("unparseable timestamp 'not-a-time'")
    assert reasons[19] == "event for unknown item 'zz'"
    assert reasons[20].startswith("weight is not a number")
    out = tmp_path / "q.jsonl"
    res.quarantine.write(out)
    assert len(out.read_text().splitlines()) == 4


def test_timestamps_are_normalised_to_utc(data_dir):
    res = load_events(data_dir / "events.csv", data_dir / "items.csv")
    by_item = {e.item_id: e.timestamp for e in res.events if e.user_id == "alice"}
    assert by_item["u1"] == datetime(2024, 1, 3, 10, tzinfo=timezone.utc)  # ISO, Z
    assert by_item["h1"] == datetime(2024, 1, 4, 8, tzinfo=timezone.utc)  # ISO, +01:00
    assert by_item["u2"] == datetime(2024, 1, 5, 10, tzinfo=timezone.utc)  # unix seconds
    assert by_item["h2"] == datetime(2024, 1, 6, 10, tzinfo=timezone.utc)  # unix milliseconds


def test_parse_timestamps_known_values():
    got = parse_timestamps(pd.Series(["0", "1700000000", "1700000000000", "2023-11-14T22:13:20Z", "", "x"]))
    assert got.iloc[0] == pd.Timestamp(0, unit="s", tz="UTC")
    assert got.iloc[1] == got.iloc[2] == got.iloc[3]
    assert pd.isna(got.iloc[4]) and pd.isna(got.iloc[5])


def test_strict_stops_at_first_bad_row(data_dir):
    with pytest.raises(DataError) as info:
        load_events(data_dir / "events.csv", data_dir / "items.csv", strict=True)
    assert info.value.line == 17
    assert str(info.value) == f"{data_dir / 'events.csv'}:17: empty user_id"


def test_missing_required_column_names_column_and_file(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("user,item_id,timestamp\na,b,1\n")
    with pytest.raises(DataError) as info:
        load_events(p)
    assert "missing required column 'user_id'" in str(info.value)
    assert str(p) in str(info.value)
    # a mapped column that is missing names both the column and the field
    with pytest.raises(DataError, match="missing required column 'uid' \\(mapped from field 'user_id'\\)"):
        load_events(p, mapping=ColumnMap.parse(["user_id=uid"]))


def test_jsonl_inline_items_search_and_column_mapping(data_dir):
    mapping = ColumnMap.parse(["user_id=uid", "item_id=item", "timestamp=ts"])
    res = load_events(data_dir / "events_inline.jsonl", mapping=mapping)
    assert res.stats.rows == 6 and res.stats.events == 3 and res.stats.duplicates == 1
    assert [(r.line, r.reason.split(":")[0]) for r in res.quarantine.rows] == [
        (5, "invalid JSON"),
        (6, "unparseable timestamp 'yesterday'"),
    ]
    search = [e for e in res.events if e.kind == "search"]
    assert len(search) == 1 and search[0].query == "sourdough hydration"
    assert res.items[search[0].item_id].title == "sourdough hydration"  # the query is item text
    assert res.items["p1"].tags == ("baking", "bread")


def test_parquet_reads_with_row_numbers(data_dir):
    res = load_events(data_dir / "events.parquet", data_dir / "items.csv")
    assert res.stats.rows == 11 and res.stats.events == 11 and not len(res.quarantine)


def test_bad_map_option():
    with pytest.raises(DataError, match="FIELD=COLUMN"):
        ColumnMap.parse(["nonsense"])


def test_unknown_file_type(tmp_path):
    p = tmp_path / "e.xlsx"
    p.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        load_events(p)


_cell = st.one_of(st.just(""), st.sampled_from(["a", "b", "c"]), st.text(alphabet="xyz,\"'\n", max_size=3))
_time = st.one_of(st.just(""), st.just("junk"), st.integers(0, 2_000_000_000).map(str),
                  st.integers(0, 2_000_000_000_000).map(str), st.just("2024-05-01T12:00:00+02:00"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_cell, st.sampled_from(["u1", "h1", "nope", ""]), _time), max_size=25))
def test_every_row_is_an_event_a_duplicate_or_quarantined(rows, tmp_path_factory, data_dir):
    path = tmp_path_factory.mktemp("prop") / "events.csv"
    pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).to_csv(path, index=False)
    res = load_events(path, data_dir / "items.csv")
    assert res.stats.events + res.stats.duplicates + len(res.quarantine) == len(rows)
    assert len({(e.user_id, e.item_id, e.timestamp, e.kind, e.weight) for e in res.events}) == len(res.events)
    assert all(e.timestamp.tzinfo is not None for e in res.events)


def test_timestamps_out_of_range_are_unparseable_not_a_crash():
    got = parse_timestamps(pd.Series(["9223372037", "-9223372037", "1e30"]))
    assert got.isna().all()
