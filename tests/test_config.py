from __future__ import annotations

import inspect

import pytest

from journeys.config import Settings
from journeys.errors import ConfigError
from journeys.extract import CLUSTERERS


@pytest.mark.parametrize("method", ["icpc", "hierarchical"])
def test_typed_settings_mirror_the_plugin_defaults(method):
    params = inspect.signature(type(CLUSTERERS.create(method)).__init__).parameters
    for key, value in Settings().extract.options(method).items():
        assert params[key].default == value, key


def test_toml_then_environment_then_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "journeys.toml").write_text('db = "a.db"\n[extract.icpc]\nthreshold = 0.3\nmin_size = 4\n')
    s = Settings()
    assert str(s.db) == "a.db" and s.extract.icpc.threshold == 0.3 and s.extract.icpc.min_size == 4
    monkeypatch.setenv("JOURNEYS_EXTRACT__ICPC__THRESHOLD", "0.6")
    assert Settings().extract.icpc.threshold == 0.6
    assert Settings(db="b.db").db.name == "b.db"


def test_unknown_plugin_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown clusterer 'nope'; choose one of: .*icpc"):
        CLUSTERERS.create("nope")
