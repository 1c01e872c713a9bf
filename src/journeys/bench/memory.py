"""Memory of a benchmark run: this process's resident set, sampled by a thread, and the resident
set of this process with all its descendants (Ray's raylet, workers and object store; pool
workers)."""

from __future__ import annotations

import os
import resource
import threading


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _trim() -> None:
    """Give freed heap back to the system (glibc), so a stage is not charged for the last one's."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _tree_rss() -> int:
    """Resident bytes of this process and all its descendants (Ray's raylet, workers and object
    store, pool workers); shared pages are counted in each process, so this errs high."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = set(), [os.getpid()]
    while todo:
        p = todo.pop()
        tree.add(p)
        todo += [c for c, pp in parent.items() if pp == p and c not in tree]
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


class Sampler:
    """The peak resident set since the last `reset`, sampled by a thread (this process every
    `every` seconds; with its descendants every 25th sample, as `tree_peak`)."""

    def __init__(self, every: float = 0.02):
        self.every, self.peak, self._stop = every, _rss(), threading.Event()
        self.tree_peak = _tree_rss()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        n = 0
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _rss())
            n += 1
            if n % 25 == 0:
                self.tree_peak = max(self.tree_peak, _tree_rss())

    def reset(self) -> int:
        _trim()
        self.peak = now = _rss()
        return now

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _rss())
