"""`discover` from a named input: the service the CLI calls for `journeys discover`.

It fingerprints the input (`journeys.ingest.source`). When the store already holds that input
whole, nothing is read. Otherwise a bundled dataset or a file of `EARLY_POOL_BYTES` or more is
handed to `discover` as a loader (the worker pool starts while it is read); a smaller file is read
before the store is opened. Either way a bad row leaves no new store behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from journeys.config import Settings
from journeys.errors import DataError
from journeys.ingest import IngestResult
from journeys.progress import Progress
from journeys.services.core import DiscoverSummary, discover, stored_input

EARLY_POOL_BYTES = 2_000_000  # an input file this large starts the worker pool before it is read


@dataclass(frozen=True)
class InputSpec:
    """What discover reads: a bundled dataset, or an events file (and its items file) read with
    a column map (FIELD=COLUMN pairs), strictness and an encoding."""

    dataset: str | None = None
    events: Path | None = None
    items: Path | None = None
    column_map: tuple[str, ...] = ()
    strict: bool = False
    encoding: str | None = None

    def fingerprint(self, settings: Settings) -> str | None:
        from journeys.ingest.source import dataset_fingerprint, file_fingerprint

        options = settings.ingest.model_dump(mode="json")
        if self.dataset is not None:
            return dataset_fingerprint(self.dataset, options)
        return file_fingerprint(self.events, self.items, {**options, "map": sorted(self.column_map),
                                                          "strict": self.strict, "encoding": self.encoding})

    def read(self, settings: Settings, on_enrichment: Callable[[str], None] | None = None) -> IngestResult:
        if self.dataset is not None:
            from journeys.ingest import DATASETS

            loaded = DATASETS[self.dataset](enrich=settings.ingest.enrich)
            if loaded.enrichment is not None and on_enrichment is not None:
                on_enrichment(loaded.enrichment.line())
            return loaded
        from journeys.ingest import ColumnMap, load_events

        return load_events(self.events, self.items, ColumnMap.parse(list(self.column_map)),
                           strict=self.strict or settings.ingest.strict, encoding=self.encoding)

    def large(self) -> bool:
        """A bundled dataset, or files of EARLY_POOL_BYTES or more: worth starting the pool first."""
        if self.dataset is not None:
            return True
        return sum(p.stat().st_size for p in (self.events, self.items) if p is not None and p.is_file()) >= EARLY_POOL_BYTES


def store_exists(db: Path | str) -> bool:
    """Whether the store is there already (a server database always is; SQLite: its file)."""
    from journeys.store import parse_url

    scheme, where = parse_url(db)
    return scheme != "sqlite" or Path(where).exists()


def discover_input(spec: InputSpec, settings: Settings, db: Path | str, progress: Progress | None = None,
                   quarantine_path: Path | None = None, on_enrichment: Callable[[str], None] | None = None,
                   started: float | None = None) -> DiscoverSummary:
    """Discover from the input `spec` names into the store at `db` (see the module's docstring).
    `started`: a `time.perf_counter()` from before the caller's own preparation, counted as load."""
    import time

    from journeys.store import open_store

    t0 = time.perf_counter() if started is None else started
    fingerprint = spec.fingerprint(settings)
    fresh = not store_exists(db)
    data: IngestResult | Callable[[], IngestResult] | None = None
    if fingerprint is not None and not fresh:
        with open_store(db) as store:
            data = stored_input(store, fingerprint)
    if data is None:
        data = lambda: spec.read(settings, on_enrichment)  # noqa: E731  (read by discover)
        if not spec.large():
            data = data()  # read before the store is opened: a bad row leaves no store behind
    try:
        with open_store(db) as store:
            return discover(data, settings, store, progress, quarantine_path,
                            load_seconds=time.perf_counter() - t0, fingerprint=fingerprint)
    except DataError:
        if fresh and callable(data):  # a large input read after the store was made: leave none behind
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        raise
