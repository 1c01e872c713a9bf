"""Progress for long steps: a rich bar on a terminal, plain lines otherwise, nothing when quiet."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, Protocol


class Tick(Protocol):
    def advance(self, n: int = 1) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int) -> "contextmanager[Tick]": ...


class _Silent:
    def advance(self, n: int = 1) -> None:
        pass


class QuietProgress:
    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        yield _Silent()


class _Lines:
    def __init__(self, description: str, total: int, stream):
        self.description, self.total, self.stream = description, max(total, 1), stream
        self.done, self.next_pct, self.start = 0, 10, time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self.done += n
        pct = 100 * self.done // self.total
        if pct >= self.next_pct and self.done < self.total:
            self.stream.write(f"{self.description}: {self.done}/{self.total} ({pct}%)\n")
            self.stream.flush()
            self.next_pct = (pct // 10 + 1) * 10


class LineProgress:
    """Plain lines (every 10%) for logs and pipes."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        tick = _Lines(description, total, self.stream)
        yield tick
        secs = time.perf_counter() - tick.start
        self.stream.write(f"{description}: {tick.done}/{total} done in {secs:.1f}s\n")
        self.stream.flush()


class RichProgress:
    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.console, transient=False) as bar:
            tid = bar.add_task(description, total=total)

            class _T:
                def advance(self, n: int = 1) -> None:
                    bar.advance(tid, n)

            yield _T()


def auto_progress(quiet: bool = False) -> Progress:
    if quiet:
        return QuietProgress()
    return RichProgress() if sys.stderr.isatty() else LineProgress()
