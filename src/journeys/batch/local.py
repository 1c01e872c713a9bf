"""The `local` executor: partitions run in this process, or also in a pool of spawned processes.

With `workers` > 1 the pool holds `workers - 1` processes and this process is the last worker:
the pool takes partitions from the front, this process takes from the back those that no pool
process has started, so the processes' start-up overlaps with work and this process's share is
never shipped. The pool lives as long as the executor (one start-up for several `map` calls, and
`warm` starts it early); the shared object of each `map` goes to the pool's processes once, as a
pickle in a private temporary folder that each process reads when a task names it."""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import tempfile
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


def _import(modules: Sequence[str]) -> int:
    for m in modules:
        importlib.import_module(m)
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
            self._pool = ProcessPoolExecutor(self.workers - 1, mp_context=mp.get_context("spawn"))
        return self._pool

    def warm(self, modules: Sequence[str] = ()) -> None:
        """Start the pool's processes now and import `modules` there (while this process works)."""
        if self.workers > 1:
            pool = self._start()
            for _ in range(self.workers - 1):
                pool.submit(_import, tuple(modules))

    def map(self, fn: Callable, shared: Any, partitions: Sequence, done: Callable[[int], None] | None = None) -> list:
        """`fn(shared, p)` for every partition, in order; `done(k)` (when given) as k more have finished."""
        tick = done or (lambda k: None)
        if self.workers == 1 or len(partitions) <= 1:
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
        try:
            futures = [pool.submit(_call, path, fn, p) for p in partitions]
            out: list = [None] * len(partitions)
            mine: set[int] = set()
            told = 0  # pool partitions reported to `done`
            for n in reversed(range(len(partitions))):
                if futures[n].cancel():
                    out[n] = fn(shared, partitions[n])
                    mine.add(n)
                    finished = sum(1 for k, f in enumerate(futures) if k not in mine and f.done())
                    tick(1 + finished - told)
                    told = finished
            for n, f in enumerate(futures):
                if n not in mine:
                    out[n] = f.result()
            tick(len(partitions) - len(mine) - told)
        finally:
            os.unlink(path)
        self.in_process_ = len(mine)
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
