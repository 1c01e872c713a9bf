from __future__ import annotations

import gc

from journeys.runtime import BATCH_THRESHOLDS, batch_gc


def test_batch_gc_sets_the_batch_thresholds():
    before = gc.get_threshold()
    try:
        batch_gc()
        assert gc.get_threshold() == BATCH_THRESHOLDS == (20_000, 20, 20)
    finally:
        gc.set_threshold(*before)


def test_pool_processes_collect_as_batch_work():
    from journeys.batch.local import LocalExecutor

    with LocalExecutor(workers=2) as ex:
        got = ex.map(_thresholds, None, [0, 1, 2, 3])
    assert tuple(got[0]) == BATCH_THRESHOLDS  # the first partition always goes to the pool's process


def _thresholds(_shared, _partition):
    return gc.get_threshold()
