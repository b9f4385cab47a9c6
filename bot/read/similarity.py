"""Meaning similarity of words and short phrases with the already-loaded embedder, each embedded once."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bot.read.vectors import VectorCache
from vectorstore.embeddings import Embedder


class WordSimilarity:
    """cos(embed(a), embed(b)) for words and short phrases, with unit vectors cached (LRU) across questions."""

    def __init__(self, embedder: Embedder, cache_size: int = 50000) -> None:
        self.embedder = embedder
        self.cache_size = cache_size
        self._vectors = VectorCache(cache_size, normalise=True)

    def _unit(self, phrases: list[str]) -> np.ndarray:
        return self._vectors.vectors([p.lower() for p in phrases], self.embedder.embed)

    def prefetch(self, phrases: Iterable[str]) -> None:
        """Embed, in one batch, the phrases not seen before."""
        self._unit(list(phrases))

    def vector(self, phrase: str) -> np.ndarray:
        """The unit vector of a phrase."""
        return self._unit([phrase])[0]

    def __call__(self, a: str, b: str) -> float:
        """Cosine similarity of the two phrases."""
        va, vb = self._unit([a, b])
        return float(va @ vb)

    def best(self, word: str, candidates: Iterable[str]) -> float:
        """The highest similarity of `word` to any candidate (0 for none)."""
        cands = list(dict.fromkeys(c.lower() for c in candidates))
        if not cands:
            return 0.0
        vecs = self._unit([word, *cands])
        return float((vecs[1:] @ vecs[0]).max())
