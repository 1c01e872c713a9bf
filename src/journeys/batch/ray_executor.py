"""The `ray` executor: partitions become Ray tasks; the shared object goes to the object store once.

Starts a local Ray with `workers` CPUs, or joins a running cluster at `address` ("auto" or
"host:port"). A task whose worker process dies is retried up to `max_retries` times; since `fn` is
deterministic, a retried run gives identical results. `close()` shuts down a Ray this executor
started (never a cluster it only joined)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from journeys.batch import EXECUTORS
from journeys.errors import ConfigError, require


def _run(fn: Callable, shared: Any, partition: Any) -> Any:
    return fn(shared, partition)


class RayExecutor:
    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, max_retries: int = 3,
                 object_store_mb: int | None = None, temp_dir: str | None = None):
        self.ray = ray = require("ray", "ray")
        self.max_retries = max_retries
        self._owns = False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if not ray.is_initialized():
            kw: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
            if address:
                kw["address"] = address
            else:
                kw.update(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False)
                if object_store_mb:
                    kw["object_store_memory"] = int(object_store_mb) * 2**20
                if temp_dir:
                    kw["_temp_dir"] = str(temp_dir)
            try:
                ray.init(**kw)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"cannot start or join Ray{' at ' + address if address else ''}: {exc}") from None
            self._owns = True
        self.workers = int(workers or ray.cluster_resources().get("CPU", 1))
        self._task = ray.remote(max_retries=max_retries, num_cpus=1)(_run)

    def map(self, fn: Callable, shared: Any, partitions: Sequence, done: Callable[[int], None] | None = None,
            meanwhile: Callable[[], None] | None = None) -> list:
        """`fn(shared, p)` for every partition as Ray tasks, in order; `done(k)` as k more have finished;
        `meanwhile()` runs here once the tasks are submitted."""
        ref = self.ray.put(shared)  # once: every task gets the same object from the store
        refs = [self._task.remote(fn, ref, p) for p in partitions]
        if meanwhile is not None:
            meanwhile()
        if done is not None:
            pending = list(refs)
            while pending:
                ready, pending = self.ray.wait(pending, num_returns=1)
                done(len(ready))
        return self.ray.get(refs)

    def close(self) -> None:
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()
        self._owns = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@EXECUTORS.register("ray")
def _ray(workers: int | None = None, address: str | None = None, **config) -> RayExecutor:
    return RayExecutor(workers, address, **config)
