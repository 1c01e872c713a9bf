"""Plug-ins are chosen by name from a registry, one registry per stage."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from journeys.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a plug-in name to a factory. Factories take keyword configuration."""

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} plug-in '{name}' registered twice")
            self._factories[name] = factory
            return factory

        return deco

    def create(self, name: str, shared: Mapping[str, Any] | None = None, **config) -> T:
        """Build the plug-in `name` from its options. An option it does not take is a ConfigError
        naming the plug-in and the option (never silently swallowed). `shared` options (the seed,
        thread counts) go only to the plug-ins that take them."""
        factory = self.factory(name)
        params = inspect.signature(factory).parameters
        open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        known = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = sorted(set(config) - set(known))
        if unknown and not open_ended:
            raise ConfigError(f"{self.kind} '{name}' has no option '{unknown[0]}'; "
                              f"its options: {', '.join(known) or 'none'}")
        for key, value in (shared or {}).items():
            if open_ended or key in known:
                config.setdefault(key, value)
        return factory(**config)

    def factory(self, name: str) -> Callable[..., T]:
        """The factory registered as `name` (a class, for most plug-ins), without building it."""
        try:
            return self._factories[name]
        except KeyError:
            raise ConfigError(f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: str) -> bool:
        return name in self._factories
