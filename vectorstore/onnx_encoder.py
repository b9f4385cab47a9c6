"""The query-time encoder: the same embedding model exported once to ONNX, so a server answers without torch.

Importing sentence-transformers (torch, transformers, scikit-learn, scipy) costs about 7 s on 2 cores, which is
most of the time `citebot serve` takes to become ready; ONNX Runtime and the tokenizers library load the same
model in well under a second. The export is made from the installed model folder (never downloaded) by a
process that already has torch loaded (the tier-2 upgrade, or a server's first start), with the model's mean
pooling and normalisation inside the graph, and written atomically beside the store. Its vectors equal
sentence-transformers' (cosine 1.0 to float precision; a test holds it to 0.9999), so both encoders carry the
same model name and share one collection. Ingest keeps torch: for big batches it is the faster of the two here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.cachedir import make_readable
from vectorstore.config import StoreConfig
from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder, canonical_name

MODEL_FILE = "model.onnx"
META_FILE = "citebot-export.json"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_cache_dir(config: StoreConfig) -> Path:
    """Where the export lives: CITEBOT_ONNX_MODEL_DIR, else onnx-model/ beside the store."""
    if config.onnx_model_dir is not None:
        return config.onnx_model_dir
    return Path(config.chroma_path).parent / "onnx-model"


def exportable(model_path: Path) -> bool:
    """Whether the model is a plain transformer + mean pooling (+ normalisation), the shape the export covers."""
    try:
        modules = json.loads((model_path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((model_path / pooling / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    other_modes = [k for k, v in pool.items() if k.startswith("pooling_mode") and v and k != "pooling_mode_mean_tokens"]
    return (kinds[:2] == ["Transformer", "Pooling"] and set(kinds[2:]) <= {"Normalize"}
            and bool(pool.get("pooling_mode_mean_tokens")) and not other_modes
            and (model_path / "tokenizer.json").is_file())


def export_onnx(embedder: SentenceTransformerEmbedder, dest: Path, log: Callable[[str], None] | None = None) -> Path:
    """Export the loaded sentence-transformers model to `dest` (atomically; another process's export wins)."""
    import torch

    if not exportable(embedder.model_path):
        raise EmbeddingError(f"{embedder.model_path} is not a transformer with mean pooling; it stays on torch.")
    embedder.load()
    st: Any = embedder._model
    bert = st[0].auto_model.eval()
    max_len = int(st.max_seq_length)

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    if log:
        log(f"exporting {embedder.name} to ONNX in {dest} (once; a few seconds) …")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=dest.parent))
    try:
        sample = torch.ones(2, 8, dtype=torch.long)
        axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
        # The tracer warns about shape checks that are constant for this graph (the test compares the vectors).
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The TorchScript exporter: the dynamo one needs onnxscript, and this graph has no control flow.
            torch.onnx.export(MeanPooled(), (sample, sample, torch.zeros_like(sample)), str(tmp / MODEL_FILE),
                              input_names=list(_INPUTS), output_names=["embedding"],
                              dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
        shutil.copy(embedder.model_path / "tokenizer.json", tmp / "tokenizer.json")
        (tmp / META_FILE).write_text(json.dumps({"model": embedder.name, "max_seq_length": max_len,
                                                 "dimension": int(embedder.dimension)}))
        make_readable(tmp)
        try:
            tmp.rename(dest)
        except OSError:
            if not dest.exists():
                raise  # another process finishing first is fine; anything else is not
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def export_if_missing(embedder: SentenceTransformerEmbedder, config: StoreConfig,
                      log: Callable[[str], None] | None = None) -> Path | None:
    """Export once, when the runtime is onnx, the model fits and no export exists; None when nothing was done."""
    dest = onnx_cache_dir(config)
    if config.embedding_runtime != "onnx" or OnnxEmbedder.ready_at(dest, embedder.name):
        return None
    if not exportable(embedder.model_path):
        return None
    return export_onnx(embedder, dest, log)


@dataclass
class OnnxEmbedder:
    """The exported model under ONNX Runtime, with the model's own tokenizer (truncation as in training)."""

    path: Path
    name: str
    batch_size: int = 16
    threads: int = 0
    _session: Any = field(default=None, init=False, repr=False)
    _tokenizer: Any = field(default=None, init=False, repr=False)
    _dim: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @staticmethod
    def ready_at(path: Path, name: str) -> bool:
        """Whether `path` holds a complete export of model `name`."""
        try:
            meta = json.loads((path / META_FILE).read_text())
        except (OSError, ValueError):
            return False
        return meta.get("model") == name and (path / MODEL_FILE).is_file() and (path / "tokenizer.json").is_file()

    @classmethod
    def from_config(cls, config: StoreConfig) -> OnnxEmbedder | None:
        """The export for the configured model, or None when the runtime is torch or no export exists yet."""
        if config.embedding_runtime != "onnx":
            return None
        path, name = onnx_cache_dir(config), canonical_name(config.embedding_model)
        if not cls.ready_at(path, name):
            return None
        return cls(path=path, name=name, batch_size=config.embedding_batch_size)

    def load(self) -> None:
        """Open the session and the tokenizer (well under a second)."""
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            meta = json.loads((self.path / META_FILE).read_text())
            options = ort.SessionOptions()
            if self.threads:
                options.intra_op_num_threads = self.threads
            try:
                session = ort.InferenceSession(str(self.path / MODEL_FILE), options,
                                               providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            except Exception as exc:
                raise EmbeddingError(f"Could not load the ONNX export in {self.path}: {exc}. Delete that folder "
                                     "to have it exported again, or set CITEBOT_EMBEDDING_RUNTIME=torch.") from exc
            tokenizer.enable_truncation(int(meta["max_seq_length"]))
            tokenizer.no_padding()
            self._tokenizer, self._dim, self._session = tokenizer, int(meta["dimension"]), session

    @property
    def loaded(self) -> bool:
        """Whether the session is open."""
        return self._session is not None

    @property
    def dimension(self) -> int:
        self.load()
        return self._dim

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as the model sees them (capped at its maximum sequence length)."""
        self.load()
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length vectors, in batches of similar length so padding stays small."""
        self.load()
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            feed = {name: np.zeros((len(idx), width), dtype=np.int64) for name in _INPUTS}
            for row, i in enumerate(idx):
                e = encodings[i]
                n = len(e.ids)
                feed["input_ids"][row, :n] = e.ids
                feed["attention_mask"][row, :n] = e.attention_mask
                feed["token_type_ids"][row, :n] = e.type_ids
            out[idx] = self._session.run(None, feed)[0]
            if progress:
                progress(len(idx))
        return out
