"""The `local` executor: partitions run in this process, or also in a pool of spawned processes.

With `workers` > 1 the pool holds `workers - 1` processes and this process is the last worker:
the pool takes partitions from the front, one per process at a time, this process takes from the
back those that no pool process holds, so the processes' start-up overlaps with work, this
process's share is never shipped, and the two meet with at most one partition in each process.
The pool lives as long as the executor (one start-up for several `map` calls, and `warm` starts
it early); the shared object of each `map` goes to the pool's processes once, as a pickle in a
private temporary folder that each process reads when a task names it."""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from journeys.batch import EXECUTORS

_loaded: tuple[str, Any] | None = None  # a pool process's copy of the current shared object


def _shared(path: str) -> Any:
    global _loaded
    if _loaded is None or _loaded[0] != path:
        with open(path, "rb") as f:
            _loaded = (path, pickle.load(f))
    return _loaded[1]


def _call(path: str, fn: Callable, partition: Any) -> Any:
    return fn(_shared(path), partition)


def _warm(modules: Sequence[str], calls: Sequence[tuple[Callable, Any]]) -> int:
    for m in modules:
        importlib.import_module(m)
    for fn, arg in calls:
        fn(arg)
    return os.getpid()


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))
        self.in_process_ = 0  # partitions the last map ran in this process
        self._pool = None
        self._dir: str | None = None

    def _start(self):
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self._dir = tempfile.mkdtemp(prefix="journeys-shared-")
            from journeys.runtime import batch_gc

            self._pool = ProcessPoolExecutor(self.workers - 1, mp_context=mp.get_context("spawn"), initializer=batch_gc)
        return self._pool

    def warm(self, modules: Sequence[str] = (), calls: Sequence[tuple[Callable, Any]] = ()) -> None:
        """Start the pool's processes now, import `modules` there and run each `fn(arg)` of
        `calls` (module-level functions: loading a model, say), while this process works."""
        if self.workers > 1:
            pool = self._start()
            for _ in range(self.workers - 1):
                pool.submit(_warm, tuple(modules), tuple(calls))

    def map(self, fn: Callable, shared: Any, partitions: Sequence, done: Callable[[int], None] | None = None,
            meanwhile: Callable[[], None] | None = None) -> list:
        """`fn(shared, p)` for every partition, in order; `done(k)` (when given) as k more have finished;
        `meanwhile()` (when given) runs in this process once the pool has work, before this
        process takes partitions of its own: work of the caller's that overlaps the pool's.

        The pool is handed one partition per process at a time, from the front, and the next only
        when one comes back; this process takes from the back what no pool process holds. (A
        `ProcessPoolExecutor` moves submitted work into its call queue early, where it can no
        longer be cancelled: handing it everything up front left this process idle at the end
        while the pool worked through partitions queued for it.)"""
        tick = done or (lambda k: None)
        if self.workers == 1 or len(partitions) <= 1:
            if meanwhile is not None:
                meanwhile()
            self.in_process_ = len(partitions)
            out = []
            for p in partitions:
                out.append(fn(shared, p))
                tick(1)
            return out
        pool = self._start()
        path = os.path.join(self._dir, f"{uuid.uuid4().hex}.pickle")
        with open(path, "wb") as f:
            pickle.dump(shared, f, protocol=pickle.HIGHEST_PROTOCOL)
        lock = threading.Lock()
        span = [0, len(partitions)]  # [next for the pool, one past the next for this process]
        futures: dict[int, Any] = {}
        finished = [0]  # pool partitions done (counted in the pool's callback thread)

        def hand_out() -> None:
            with lock:
                if span[0] >= span[1]:
                    return
                k = span[0]
                span[0] += 1
                futures[k] = fut = pool.submit(_call, path, fn, partitions[k])
            fut.add_done_callback(came_back)

        def came_back(fut) -> None:
            with lock:
                finished[0] += 1
            if not fut.cancelled() and fut.exception() is None:
                hand_out()

        out: list = [None] * len(partitions)
        mine = told = 0
        try:
            for _ in range(self.workers - 1):
                hand_out()
            if meanwhile is not None:
                meanwhile()
            while True:
                with lock:
                    if span[1] <= span[0]:
                        break
                    span[1] -= 1
                    k = span[1]
                out[k] = fn(shared, partitions[k])
                mine += 1
                now = finished[0]
                tick(1 + now - told)
                told = now
            for k in sorted(futures):
                out[k] = futures[k].result()
            tick(len(partitions) - mine - told)
        finally:
            with lock:
                span[0] = span[1]  # after an error: hand out nothing more
            for fut in list(futures.values()):
                fut.cancel()
            os.unlink(path)
        self.in_process_ = mine
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)  # idle processes exit on their own
            self._pool = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@EXECUTORS.register("local")
def _local(workers: int = 1, **_ignored) -> LocalExecutor:
    return LocalExecutor(workers)
