"""Shared fixtures: the real embedding model loaded once per session, a deterministic fake, fresh stores."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import HashEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
# One distilled static model for every test store (distilling takes seconds to minutes; it is cached here).
os.environ.setdefault("CITEBOT_STATIC_MODEL_DIR", str(ROOT / ".citebot" / "static-model"))
# One ONNX export of the embedding model for every `citebot serve` a test starts (the first one exports it).
os.environ.setdefault("CITEBOT_ONNX_MODEL_DIR", str(ROOT / ".citebot" / "onnx-model"))
# Tests decide when the tier-2 upgrade runs (`ingest --wait`, `citebot upgrade`), so no stray workers linger.
os.environ.setdefault("CITEBOT_BACKGROUND_UPGRADE", "false")

SEEDS = ROOT / "seeds"
DEV_SET = ROOT / "evals" / "data" / "dev_questions.jsonl"
ARTIFACTS = ROOT / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that loads the real embedding model, directly or through another fixture, is an integration
    test, so `make unit` (-m "not integration") never pays for the model."""
    for item in items:
        if "real_embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


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
