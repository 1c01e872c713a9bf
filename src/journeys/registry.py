"""Plug-ins are chosen by name from a registry, one registry per stage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

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

    def create(self, name: str, **config) -> T:
        try:
            factory = self._factories[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}"
            ) from None
        return factory(**config)

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: str) -> bool:
        return name in self._factories
