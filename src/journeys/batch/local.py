"""The `local` executor: partitions run in this process, or in a pool of spawned worker processes."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from typing import Any

from journeys.batch import EXECUTORS

_shared: Any = None  # a pool worker's copy of the shared object, unpickled once per process


def _init_worker(blob: bytes) -> None:
    global _shared
    _shared = pickle.loads(blob)


def _call(fn: Callable, partition: Any) -> Any:
    return fn(_shared, partition)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))

    def map(self, fn: Callable, shared: Any, partitions: Sequence) -> list:
        if self.workers == 1 or len(partitions) <= 1:
            return [fn(shared, p) for p in partitions]
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        blob = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)  # once; each worker unpickles it once
        with ProcessPoolExecutor(min(self.workers, len(partitions)), mp_context=mp.get_context("spawn"),
                                 initializer=_init_worker, initargs=(blob,)) as pool:
            return list(pool.map(_call, [fn] * len(partitions), partitions))

    def close(self) -> None:
        pass

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@EXECUTORS.register("local")
def _local(workers: int = 1, **_ignored) -> LocalExecutor:
    return LocalExecutor(workers)
