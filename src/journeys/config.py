"""One Settings object: defaults < journeys.toml < JOURNEYS_* environment (nested with `__`)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from journeys.embed.text import DEFAULT_TEMPLATE


class IngestSettings(BaseModel):
    min_rating: float = 3.5  # `rate` events below this are kept and counted, but are not interest
    strict: bool = False
    enrich: bool = True  # bundled MovieLens: add film credits to item text (ingest/credits.py)

    @field_validator("min_rating")
    @classmethod
    def _finite(cls, v: float) -> float:
        import math

        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class EmbedSettings(BaseModel):
    model: str = "minilm-onnx"  # int8 ONNX all-MiniLM-L6-v2 (2.3x torch, extraction within 0.01); "minilm": torch
    threads: int = 2
    batch_size: int = 64
    template: str = DEFAULT_TEMPLATE


class ICPCSettings(BaseModel):
    """Mirrors the ICPC plug-in's defaults (chosen by `journeys bench sweep`; a test keeps them equal)."""

    threshold: float = 0.5
    min_size: int = 3
    merge_threshold: float | None = 0.7
    refine: bool = True
    collaborative: float = 0.5
    text_threshold: float | None = 0.3
    collaborative_dims: int = 64
    split_distance: float | None = 2.0
    max_share: float | None = 0.8
    cooc_floor: float | None = None
    outsider_llr: float | None = 1.0


class HierarchicalSettings(BaseModel):
    distance_threshold: float = 0.6
    min_size: int = 3


class ExtractSettings(BaseModel):
    method: str = "icpc"
    icpc: ICPCSettings = ICPCSettings()
    hierarchical: HierarchicalSettings = HierarchicalSettings()
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)  # other plug-ins, by name

    def options(self, method: str | None = None) -> dict[str, Any]:
        method = method or self.method
        typed = {"icpc": self.icpc, "hierarchical": self.hierarchical}.get(method)
        base = typed.model_dump() if typed else {}
        return {**base, **self.params.get(method, {})}


class NameSettings(BaseModel):
    namer: str = "keywords"
    keywords_top_n: int = 8
    # a keyword that this share of the catalogue carries is a category: a name qualifies it
    broad_share: float = Field(0.01, gt=0, le=1)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)  # namer options, by name

    def options(self, namer: str | None = None) -> dict[str, Any]:
        return dict(self.params.get(namer or self.namer, {}))


class AfterSettings(BaseModel):
    """Stage -> rank -> diversify -> expand, after naming (plug-ins by name; options in params)."""

    enabled: bool = True
    now: datetime | None = None  # judge stages at this time [default: the latest event in the store]
    stager: str = "timeseries"
    ranker: str = "learned"  # the trained ranker in the store; the heuristic until one is trained
    diversifier: str = "pinterest"
    penalty: float = 0.95
    similarity: float = 0.9  # centroid cosine at which two journeys count as similar (chosen on training users, docs/after-naming.md)
    expand: list[str] = Field(default_factory=lambda: ["collaborative"])  # sources: collaborative, llm
    related: int = 3  # related journeys per journey
    ground_threshold: float = 0.3  # catalogue items at least this near ground a candidate
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)  # plug-in options, by name

    def options(self, name: str) -> dict[str, Any]:
        return dict(self.params.get(name, {}))


class BatchSettings(BaseModel):
    """Where per-user work runs: `local` (this process, or a pool of `workers` processes) or `ray`
    (a local Ray with `workers` CPUs, or the cluster at `ray_address`)."""

    executor: str = "local"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)  # every core
    partitions: int | None = Field(None, ge=1)  # hash buckets of users [4 per worker, >= 64 users each]
    ray_address: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JOURNEYS_", env_nested_delimiter="__", toml_file="journeys.toml", extra="ignore"
    )

    db: Path = Path("journeys.db")
    busy_timeout: float = Field(10.0, ge=0)  # seconds a writer waits for another writer's lock
    batch: BatchSettings = BatchSettings()
    seed: int = 0
    ingest: IngestSettings = IngestSettings()
    embed: EmbedSettings = EmbedSettings()
    extract: ExtractSettings = ExtractSettings()
    name: NameSettings = NameSettings()
    after: AfterSettings = AfterSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(**overrides: Any) -> Settings:
    """Settings from journeys.toml and the environment, with explicit overrides on top. A bad
    value is a one-line ConfigError naming the setting and its environment variable."""
    from journeys.errors import ConfigError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from None
    except ValueError as exc:  # a journeys.toml that is not TOML, a JOURNEYS_* value that is not JSON
        raise ConfigError(f"invalid settings (JOURNEYS_* or journeys.toml): {' '.join(str(exc).split())}") from None


def describe(exc: ValidationError) -> str:
    """'invalid setting ingest.min_rating (JOURNEYS_INGEST__MIN_RATING or journeys.toml): ...'"""
    parts = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        env = "JOURNEYS_" + "__".join(loc).upper()
        value = e.get("input")
        got = f", got {value!r}" if isinstance(value, (str, int, float)) else ""
        parts.append(f"{'.'.join(loc)} ({env} or journeys.toml): {e.get('msg', 'invalid')}{got}")
    return "invalid setting " + "; ".join(parts)
