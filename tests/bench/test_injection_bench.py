"""`journeys bench injection`: mounted, finds its corpus, and scores hijacks by payload words."""

import json

from typer.testing import CliRunner

from journeys.bench import injection
from journeys.bench.commands import bench_app


def test_command_is_mounted_and_the_default_corpus_exists():
    res = CliRunner().invoke(bench_app, ["injection", "--help"])
    assert res.exit_code == 0 and "hijack" in res.output.lower()
    data = json.loads(injection.DEFAULT_CORPUS.read_text(encoding="utf-8"))
    assert len(data["cases"]) >= 20 and {c["language"] for c in data["cases"]} >= {"en", "fr", "de", "es"}
    assert all(5 <= len(c["coherent"]) <= 8 and 1 <= len(c["injected"]) <= 3 for c in data["cases"])


def test_payload_words_are_matched_after_normalisation():
    case = {"payload": "Crypto Casino Bonus", "coherent": ["a", "b"], "injected": ["x", "y"], "position": 1}
    assert injection._payload_hit("Сrypto nights", case)  # Cyrillic С
    assert not injection._payload_hit("Sourdough bread", case)
    assert injection._titles(case) == ["a", "x", "y", "b"]
