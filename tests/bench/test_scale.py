from __future__ import annotations

import numpy as np

from journeys.bench import scale
from journeys.bench.synth import load_collections


def test_generator_is_seeded_exact_in_size_and_long_tailed(data_dir):
    cols = load_collections(data_dir / "collections_tiny.json")
    users, hist, items = scale.generate(cols, 5000, seed=3)
    users2, hist2, _ = scale.generate(cols, 5000, seed=3)
    assert users == users2 and all(np.array_equal(a, b) for a, b in zip(hist, hist2))
    sizes = np.array([len(h) for h in hist])
    assert sizes.sum() == 5000 and sizes.min() >= 1
    assert sizes.max() > 3 * np.median(sizes)  # a heavy tail of very active users
    assert max(int(h.max()) for h in hist) < len(items)


def test_run_reports_every_stage_and_executors_agree(data_dir):
    out = scale.run(data_dir / "collections_tiny.json", 3000, seed=0, settings=(("local", 1), ("local", 2)), buckets=4)
    st = out["stages"]
    assert list(st) == ["generate", "embed", "ingest", "fit", "assign[localx1]", "assign[localx2]"]
    assert st["assign[localx2]"]["identical"] is True and st["assign[localx1]"]["users"] == out["setup"]["users"]
    assert st["ingest"]["quarantined"] == 0
    assert all(s["events_per_s"] > 0 for s in st.values()) and out["peak_mb"] > 0 and out["job_peak_mb"] > 0
    assert out["bytes_per_event"] >= 0 and set(out["bytes_per_event_by_stage"]) == {"ingest", "fit", "assign[localx1]", "assign[localx2]"}


def test_the_heaviest_users_timestamps_stay_in_range(data_dir, tmp_path):
    """A user with 10^5 events must not run past the year 2261 (ingest would quarantine them)."""
    import pyarrow.parquet as pq

    cols = load_collections(data_dir / "collections_tiny.json")
    _, users = scale.write_log(cols, 200_000, tmp_path / "log.parquet", seed=0)
    ts = pq.read_table(tmp_path / "log.parquet", columns=["user_id", "timestamp"]).to_pandas()
    assert users == 1250 and ts["timestamp"].max() < 2_000_000_000 + 300_000_000
    assert ts.groupby("user_id").size().max() > 5_000  # the tail is there
    assert (ts.groupby("user_id")["timestamp"].diff().dropna() > 0).all()  # strictly in time order
