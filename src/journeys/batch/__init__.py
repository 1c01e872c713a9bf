"""Executors run per-user work over partitions of users, in one process or on a cluster.

The one seam is `executor.map(fn, shared, partitions) -> list`: `shared` is a serialisable object (a
fitted global model) sent to the workers once; `fn(shared, partition)` runs one partition and its
results come back in partition order, so every executor gives the same answer. `fn` must be a
module-level function (it travels by reference). Partitions are deterministic hash buckets of user
ids (`partition_users`). Executors are chosen by name from `EXECUTORS`:

- `local`: in this process (`workers=1`), or N-1 spawned processes with this one as the last
  worker (the default: every core);
- `ray`: Ray tasks, on a local Ray started with N CPUs or on a cluster joined by `address`; the
  shared object goes to the object store once, and a task whose worker dies is retried."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from journeys.registry import Registry
from journeys.store import user_order

P = TypeVar("P")
R = TypeVar("R")


@runtime_checkable
class Executor(Protocol):
    name: str
    workers: int

    def map(self, fn: Callable[[Any, P], R], shared: Any, partitions: Sequence[P],
            done: Callable[[int], None] | None = None, meanwhile: Callable[[], None] | None = None) -> list[R]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Executor": ...
    def __exit__(self, *exc) -> None: ...


EXECUTORS: Registry[Executor] = Registry("executor")


def bucket(user_id: str, n: int) -> int:
    """A user's partition: a stable hash (the same in every process, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(user_id.encode(), digest_size=8).digest(), "big") % n


def partition_users(user_ids: Iterable[str], n: int) -> list[list[str]]:
    """`n` hash buckets of the distinct user ids, each in user order; empty buckets are kept."""
    if n < 1:
        raise ValueError("need at least one partition")
    parts: list[list[str]] = [[] for _ in range(n)]
    for uid in sorted(set(user_ids), key=user_order):
        parts[bucket(uid, n)].append(uid)
    return parts


def default_partitions(n_users: int, workers: int) -> int:
    """Enough partitions to balance the workers (8 each) without tiny tasks (>= 32 users each)."""
    return max(1, min(8 * max(workers, 1), -(-n_users // 32)))


from journeys.batch import local, ray_executor  # noqa: E402,F401  (registers the plug-ins)

__all__ = ["EXECUTORS", "Executor", "bucket", "default_partitions", "partition_users"]
