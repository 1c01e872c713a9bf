from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def minilm():
    """The real default embedder, loaded once per test session."""
    from journeys.embed import EMBEDDERS

    return EMBEDDERS.create("minilm", threads=2)


# A throwaway PostgreSQL server (issue 14): `postgres_server` (session) and `postgres_url` (per test).
from tests.pgserver import postgres_server, postgres_url  # noqa: E402,F401
