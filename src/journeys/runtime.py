"""Interpreter settings for batch work: the cyclic garbage collector.

CPython runs a young-generation collection every 700 net allocations of tracked objects, and
every so often a full one that walks every live object. A batch run holds hundreds of thousands
of long-lived objects (items, events while one user is at hand, journeys, expansions), so on a
cold MovieLens discover those walks cost about a second of the driver's CPU and as much again
when the interpreter exits. `batch_gc` makes collections rarer (reference counting still frees
everything that is not in a cycle at once); `skip_final_walk` freezes what is alive at the end of
a command, so that the interpreter's teardown does not walk it once more before the process
returns its memory anyway."""

from __future__ import annotations

import gc

BATCH_THRESHOLDS = (20_000, 20, 20)  # allocations before a young collection; young / middle ones before the next


def batch_gc() -> None:
    """Rarer collections for the rest of this process (CLI commands, pool workers)."""
    gc.set_threshold(*BATCH_THRESHOLDS)


def skip_final_walk() -> None:
    """Move every live object out of the collector's reach: for the end of a process."""
    gc.freeze()
