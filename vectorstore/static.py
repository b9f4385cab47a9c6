"""The tier-1 embedder: a static model distilled locally from the bundled MiniLM with model2vec.

Encoding is a table look-up per token (about 100x faster than MiniLM), so a document is searchable as soon as
it is cut into chunks. The model is distilled once from the installed MiniLM folder (never downloaded) and
cached beside the store; a half-written cache is never used, because it is written to a temporary folder and
renamed into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vectorstore.cachedir import make_readable
from vectorstore.config import StoreConfig
from vectorstore.embeddings import EmbeddingError, canonical_name, resolve_model_path

STATIC_PREFIX = "model2vec-distilled:"


def static_name(config: StoreConfig) -> str:
    """The name recorded on the static collection: which MiniLM it was distilled from."""
    return STATIC_PREFIX + canonical_name(config.embedding_model)


def static_cache_dir(config: StoreConfig) -> Path:
    """Where the distilled model lives: beside the embedded store, or under the project for a Chroma server."""
    if config.static_model_dir is not None:
        return config.static_model_dir
    return Path(config.chroma_path).parent / "static-model"


def distill_to(source: Path, dest: Path, log: Callable[[str], None] | None = None) -> Path:
    """Distil `source` (a sentence-transformers folder) into `dest` atomically; returns `dest`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from model2vec.distill import distill

    if log:
        log(f"distilling the static tier-1 model from {source} into {dest} (once; about 20 s on 2 cores) …")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".static-", dir=dest.parent))
    try:
        # No PCA: keep MiniLM's 384 dimensions, so the static vectors live in the same geometry.
        model = distill(model_name=str(source), pca_dims=None, device="cpu")
        model.save_pretrained(str(tmp))
        if dest.exists():  # another process finished first; theirs is as good as ours
            return dest
        make_readable(tmp)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


@dataclass
class StaticEmbedder:
    """model2vec StaticModel from the cache, distilled on first use when the cache is missing."""

    source: Path
    cache: Path
    name: str
    log: Callable[[str], None] | None = None
    _model: object = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: StoreConfig, log: Callable[[str], None] | None = None) -> StaticEmbedder:
        return cls(source=resolve_model_path(config.embedding_model), cache=static_cache_dir(config),
                   name=static_name(config), log=log)

    def load(self) -> None:
        """Load the cached model, distilling it first if there is none."""
        with self._lock:
            if self._model is not None:
                return
            from model2vec import StaticModel

            if not (self.cache / "model.safetensors").is_file():
                try:
                    distill_to(self.source, self.cache, self.log)
                except Exception as exc:
                    raise EmbeddingError(
                        f"Could not distil the static model from {self.source} into {self.cache}: {exc}. "
                        "Check that the folder is writable (CITEBOT_STATIC_MODEL_DIR)."
                    ) from exc
            self._model = StaticModel.from_pretrained(str(self.cache))

    @property
    def dimension(self) -> int:
        self.load()
        return int(self._model.dim)  # type: ignore[attr-defined]

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length vectors."""
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = np.asarray(self._model.encode(list(texts), use_multiprocessing=False),  # type: ignore[attr-defined]
                          dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return vecs / np.where(norms == 0, 1.0, norms)
