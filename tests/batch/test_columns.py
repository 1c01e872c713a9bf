"""Events shipped as columns come back equal, in order."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.batch.columns import EventColumns
from journeys.types import Event

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_T0 = datetime(1995, 1, 9, 11, 46, 49, 123456, tzinfo=timezone.utc)

events = st.lists(st.builds(
    Event,
    user_id=st.sampled_from(["1", "2", "u3"]),
    item_id=st.text(min_size=1, max_size=4),
    timestamp=st.integers(-10**12, 10**15).map(lambda us: _T0 + timedelta(microseconds=us)),
    kind=st.sampled_from(["view", "rate", "save", "search"]),
    weight=st.floats(allow_nan=False, allow_infinity=False),
    query=st.one_of(st.none(), st.text(max_size=6)),
), max_size=30)


@given(events)
@settings(max_examples=60, deadline=None)
def test_the_round_trip_gives_equal_events_in_order(evs):
    cols = pickle.loads(pickle.dumps(EventColumns.of(evs)))
    assert cols.events() == evs and len(cols) == len(evs)


def test_distinct_strings_travel_once():
    evs = [Event("7", f"m{n % 3}", _T0 + timedelta(seconds=n), "rate", 4.5) for n in range(9)]
    cols = EventColumns.of(evs)
    assert cols.users == ("7",) and cols.items == ("m0", "m1", "m2") and cols.item_code.tolist() == [0, 1, 2] * 3
    assert cols.micros[1] - cols.micros[0] == 1_000_000 and cols.events()[4].timestamp == _T0 + timedelta(seconds=4)


@given(events, st.floats(0, 5))
@settings(max_examples=60, deadline=None)
def test_by_user_interest_and_latest_match_the_events(evs, min_rating):
    cols = EventColumns.of(evs)
    users = cols.by_user()
    assert list(users) == list(dict.fromkeys(e.user_id for e in evs))
    for u, part in users.items():
        assert part.events() == [e for e in evs if e.user_id == u] and part.users == (u,)
        assert len(part.items) == len({e.item_id for e in evs if e.user_id == u})
    interest = [not (e.kind == "rate" and e.weight < min_rating) for e in evs]
    assert cols.interest(min_rating).tolist() == interest
    assert cols.latest() == (max(e.timestamp for e in evs) if evs else None)
    order: dict = {}
    for e in sorted((e for e, keep in zip(evs, interest) if keep), key=lambda e: (e.timestamp, e.item_id)):
        order.setdefault(e.item_id, None)
    assert cols.first_seen(cols.interest(min_rating)) == tuple(order)


@given(st.lists(st.floats(-10**10, 10**10, allow_nan=False) | st.integers(-10**12, 10**12).map(lambda n: n / 1e3)
                | st.integers(-10**15, 10**15).map(lambda n: n / 1e6), max_size=40))
@settings(max_examples=100, deadline=None)
def test_seconds_become_the_microseconds_datetime_rounds_to(seconds):
    from journeys.batch.columns import micros_of_seconds

    want = [(datetime.fromtimestamp(s, tz=timezone.utc) - _EPOCH) // timedelta(microseconds=1) for s in seconds]
    assert micros_of_seconds(np.array(seconds, dtype=np.float64)).tolist() == want


@pytest.mark.parametrize("capacity", [0, 1, 3, 10])  # a count that is off only costs a copy
def test_columns_built_from_rows_in_chunks(capacity):
    from journeys.batch.columns import ColumnsBuilder

    rows = [("b", "x", 1.5, "rate", 4.0, ""), ("a", "y", 0.0000015, "search", 1.0, "q"), ("b", "y", -2.25, "view", 1.0, "")]
    built = ColumnsBuilder(capacity)
    built.add(rows[:1])
    built.add([])
    built.add(rows[1:])
    cols = built.build()
    assert cols.users == ("b", "a") and cols.queries == (None, "q") and len(cols.micros) == 3
    assert cols.events() == [Event(u, i, datetime.fromtimestamp(t, tz=timezone.utc), k, w, q or None)
                             for u, i, t, k, w, q in rows]
    assert ColumnsBuilder(capacity).build().events() == []
