"""Test helpers: a free loopback port, waiting until a URL answers, and a deterministic fake embedder."""

from __future__ import annotations

import hashlib
import subprocess
import time
import urllib.request

import numpy as np

from bench.net import free_port, stop_all

__all__ = ["HashEmbedder", "free_port", "stop_all", "wait_for"]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 120, what: str = "server") -> None:  # type: ignore[type-arg]
    """Poll `url` until it answers 200; fail early if the process died."""
    deadline = time.time() + timeout
    while True:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        assert time.time() < deadline, f"{what} did not answer {url} within {timeout:.0f}s"
        time.sleep(0.3)


class HashEmbedder:
    """Deterministic bag-of-words vectors: a stand-in for the model at the embedding seam in unit tests."""

    name = "test-hash-embedder"

    def __init__(self, dimension: int = 64) -> None:
        self._dim = dimension
        self.calls = 0
        self.texts_embedded = 0

    @property
    def dimension(self) -> int:
        return self._dim

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[i, h % self._dim] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out
