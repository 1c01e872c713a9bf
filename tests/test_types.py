from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from journeys.types import Event


def test_event_timestamps_must_be_utc_aware():
    assert Event("a", "b", datetime(2024, 1, 1, tzinfo=timezone.utc)).timestamp.year == 2024
    assert Event("a", "b", datetime(2024, 1, 1, tzinfo=timezone(timedelta(0)))).user_id == "a"  # UTC, another object
    for tz in (None, timezone(timedelta(hours=1))):
        with pytest.raises(ValueError, match="UTC-aware"):
            Event("a", "b", datetime(2024, 1, 1, tzinfo=tz))
