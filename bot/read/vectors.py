"""Vectors of texts embedded once per process, in a bounded least-recently-used cache (cachetools).

Shared by the reader's sentence vectors and the word similarity. A batch is returned from what was looked up or
embedded for it, never read back from the cache after inserting, so a full cache cannot evict a vector the
caller is about to use (the KeyError a hand-written LRU had once its cache filled up).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
from cachetools import LRUCache


class VectorCache:
    """`vectors(texts, embed)`: each text's vector, embedding only the ones not cached, in one batch."""

    def __init__(self, size: int, normalise: bool = False) -> None:
        self.size = size
        self.normalise = normalise
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(1, size))
        # Answers run on several threads; cachetools' caches are not thread-safe on their own.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._cache)

    def vectors(self, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Stacked vectors of `texts`, in order (shape (0, 1) for none)."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for t in dict.fromkeys(texts):
                v = self._cache.get(t)
                if v is not None:
                    found[t] = v
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vecs = np.asarray(embed(missing), dtype=np.float32)
            if self.normalise:
                norms = np.linalg.norm(vecs, axis=1, keepdims=True)
                vecs = (vecs / np.where(norms == 0, 1, norms)).astype(np.float32)
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    found[t] = v
                    self._cache[t] = v
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([found[t] for t in texts])
