"""One error hierarchy and one error shape (issue 7 items 6 and 7)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from journeys.embed import EMBEDDERS
from journeys.errors import ConfigError, DataError, JourneysError, NotFound, StoreError
from journeys.extract import CLUSTERERS
from journeys.llm import LLMS
from journeys.llm.gguf import ModelIntegrityError
from journeys.llm.local import LLMError
from journeys.name import NAMERS


def test_error_shape_is_pinned():
    """The HTTP API returns exactly this; change it only with the API's clients."""
    assert NotFound("no user 'x'").to_dict() == {"error": {"code": "not_found", "message": "no user 'x'"}}
    assert DataError("e.csv", 7, "empty user_id").to_dict() == {"error": {
        "code": "data_error", "message": "e.csv:7: empty user_id", "file": "e.csv", "line": 7, "reason": "empty user_id"}}
    assert StoreError("locked").to_dict() == {"error": {"code": "store_error", "message": "locked"}}


def test_errors_defined_elsewhere_join_the_hierarchy():
    from journeys.store.sqlite import DatabaseLocked

    for cls in (LLMError, ModelIntegrityError, DatabaseLocked, ConfigError):
        assert issubclass(cls, JourneysError)
        assert cls.code != JourneysError.code


def test_bench_with_an_unknown_namer_is_one_line(tmp_path, data_dir):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-m", "journeys.cli", "bench", "naming", "--namer", "nope",
                           "--collections", str(data_dir / "collections_tiny.json")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120, env=env)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unknown namer 'nope'" in lines[0], proc.stderr


@pytest.mark.parametrize("registry,name,option", [
    (CLUSTERERS, "icpc", "treshold"), (CLUSTERERS, "hierarchical", "seed_items"), (EMBEDDERS, "hashing", "dims"),
    (NAMERS, "keywords", "top_n"), (LLMS, "openai", "temprature")])
def test_unknown_plugin_option_is_an_error_naming_both(registry, name, option):
    with pytest.raises(ConfigError) as info:
        registry.create(name, **{option: 1})
    assert f"'{name}'" in str(info.value) and f"'{option}'" in str(info.value)


def test_shared_options_reach_only_the_plugins_that_take_them():
    assert CLUSTERERS.create("icpc", {"seed": 7}).seed == 7
    assert CLUSTERERS.create("icpc", {"seed": 7}, seed=3).seed == 3  # an explicit option wins
    CLUSTERERS.create("hierarchical", {"seed": 7})  # takes no seed: not an error
    EMBEDDERS.create("hashing", {"threads": 1, "batch_size": 8, "seed": 7})


def test_settings_seed_reaches_the_pipeline_plugins():
    from journeys.config import Settings
    from journeys.pipeline import Pipeline

    s = Settings(seed=11)
    s.embed.model = "hashing"
    assert Pipeline(s).clusterer.seed == 11
    s.extract.params = {"icpc": {"no_such_option": 1}}
    with pytest.raises(ConfigError, match="no_such_option"):
        Pipeline(s)
