"""Events shipped as columns come back equal, in order."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.batch.columns import EventColumns
from journeys.types import Event

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
