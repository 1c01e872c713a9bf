"""Where journeys keeps files outside the store (the cache directory), and a check of an output
path before anything is written, so a bad path is a one-line error and never a traceback after
the store has been changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from journeys.errors import ConfigError


def cache_dir() -> Path:
    """`JOURNEYS_CACHE_DIR`, else `~/.cache/journeys`: the GGUF and ONNX model files, LLM answers,
    benchmark embeddings and the film-credits match live under it."""
    root = os.environ.get("JOURNEYS_CACHE_DIR")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "journeys"


def check_writable(path: Path, option: str, create_dirs: bool = True) -> None:
    """Raise ConfigError unless `path` can be written (appended to, or created; with
    `create_dirs` its missing parent directories may be created). Probes for real, so it also
    holds for root and for read-only file systems; it leaves nothing behind."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory, not a file")
    if path.exists():
        try:
            with path.open("a"):
                pass
        except OSError as exc:
            raise ConfigError(f"{option} {path}: cannot write: {exc.strerror or exc}") from None
        return
    parent = path.parent
    if not parent.exists() and not create_dirs:
        raise ConfigError(f"{option} {path}: directory {parent} does not exist")
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{option} {path}: {ancestor} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot write in {ancestor}: {exc.strerror or exc}") from None
    if not os.access(ancestor, os.W_OK | os.X_OK):  # pragma: no cover - the probe above decides
        raise ConfigError(f"{option} {path}: cannot write in {ancestor}")
