"""Meaning similarity of words and short phrases with the already-loaded embedder, each embedded once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from vectorstore.embeddings import Embedder


class WordSimilarity:
    """cos(embed(a), embed(b)) for words and short phrases, with vectors cached (LRU) across questions."""

    def __init__(self, embedder: Embedder, cache_size: int = 50000) -> None:
        self.embedder = embedder
        self.cache_size = cache_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def prefetch(self, phrases: Iterable[str]) -> None:
        """Embed, in one batch, the phrases not seen before."""
        missing = [p for p in dict.fromkeys(x.lower() for x in phrases) if p not in self._vectors]
        if missing:
            vecs = np.asarray(self.embedder.embed(missing), dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = (vecs / np.where(norms == 0, 1, norms)).astype(np.float32)
            for p, v in zip(missing, vecs, strict=True):
                self._vectors[p] = v
        while len(self._vectors) > self.cache_size:
            self._vectors.popitem(last=False)

    def vector(self, phrase: str) -> np.ndarray:
        """The unit vector of a phrase."""
        key = phrase.lower()
        if key not in self._vectors:
            self.prefetch([key])
        self._vectors.move_to_end(key)
        return self._vectors[key]

    def __call__(self, a: str, b: str) -> float:
        """Cosine similarity of the two phrases."""
        return float(self.vector(a) @ self.vector(b))

    def best(self, word: str, candidates: Iterable[str]) -> float:
        """The highest similarity of `word` to any candidate (0 for none)."""
        cands = list(dict.fromkeys(c.lower() for c in candidates))
        if not cands:
            return 0.0
        self.prefetch([word, *cands])
        mat = np.stack([self._vectors[c] for c in cands])
        return float((mat @ self._vectors[word.lower()]).max())
