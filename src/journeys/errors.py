"""One error shape for the whole project."""

from __future__ import annotations


class JourneysError(Exception):
    """Base class: every error the CLI and the API report as one line."""

    code = "journeys_error"

    def to_dict(self) -> dict:
        """The one error shape of the CLI's JSON output and the HTTP API:
        `{"error": {"code": ..., "message": ...}}` (subclasses add fields inside "error")."""
        return {"error": {"code": self.code, "message": str(self)}}


class DataError(JourneysError):
    """Bad input data: names the file, the line (or row) and the reason."""

    code = "data_error"

    def __init__(self, file: str, line: int | None, reason: str):
        self.file, self.line, self.reason = str(file), line, reason
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {reason}")

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["error"].update(file=self.file, line=self.line, reason=self.reason)
        return out


class ConfigError(JourneysError):
    code = "config_error"


class StoreError(JourneysError):
    """The store cannot do what was asked (locked, read-only, not a journeys database, ...);
    each backend raises its own subclasses, always with the database's path or URL."""

    code = "store_error"


class NotFound(JourneysError):
    code = "not_found"


class MissingExtra(JourneysError):
    """An optional dependency is missing; says which extra to install."""

    code = "missing_extra"

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"the optional dependency '{package}' is not installed: pip install 'journeys[{extra}]'"
        )


def require(module: str, extra: str):
    """Import an optional heavy dependency lazily, or raise MissingExtra naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra(module, extra) from exc
