"""Shared fixtures: the real embedding model loaded once per session, a deterministic fake, fresh stores."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DEV_SET = ROOT / "eval" / "dev_questions.jsonl"
ARTIFACTS = ROOT / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that loads the real embedding model, directly or through another fixture, is an integration
    test, so `make unit` (-m "not integration") never pays for the model."""
    for item in items:
        if "real_embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


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


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session (about 9 s)."""
    from vectorstore.config import StoreConfig
    from vectorstore.embeddings import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder.from_config(StoreConfig())
    emb.load()
    return emb


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def store_config(tmp_path):
    """A StoreConfig pointing at a fresh on-disk store, with the test embedder's name."""
    from vectorstore.config import StoreConfig

    return StoreConfig(chroma_path=tmp_path / "chroma", collection="test-citebot")


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of seeds/."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture(scope="session")
def seeded_store_factory(tmp_path_factory, real_embedder) -> Callable[..., object]:
    """Build (once per variant) a store with the seeds ingested by the real model."""
    from ingest.config import IngestConfig
    from ingest.pipeline import ingest
    from vectorstore.config import StoreConfig
    from vectorstore.store import Store

    cache: dict[tuple[str, ...], StoreConfig] = {}

    def make(*extra: Path) -> StoreConfig:
        key = tuple(str(p) for p in extra)
        if key not in cache:
            cfg = StoreConfig(chroma_path=tmp_path_factory.mktemp("seeded") / "chroma", collection="citebot")
            store = Store.open(cfg)
            report = ingest([SEEDS, *extra], store, lambda: real_embedder, IngestConfig())
            assert not report.errors, report.errors
            cache[key] = cfg
        return cache[key]

    return make
