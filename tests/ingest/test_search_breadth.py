"""Vector search breadth: Chroma's HNSW must find (nearly) the exact nearest chunks, in new and old stores."""

from __future__ import annotations

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from vectorstore.config import StoreConfig
from vectorstore.store import Chunk, Document, Store


def _clustered(rng: np.random.Generator, n: int, centres: np.ndarray) -> np.ndarray:
    """Unit vectors around topic centres, like passages of a few dozen articles."""
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.normal(size=(n, centres.shape[1]))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_nearest_finds_the_exact_top_30_of_a_3000_chunk_store(tmp_path):
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(40, 384))
    # Questions are worded unlike passages, so their vectors sit away from the passages' topic centres: the
    # case where a narrow HNSW search misses neighbours.
    vectors, questions = _clustered(rng, 3000, centres), _clustered(rng, 40, rng.normal(size=(40, 384)))
    store = Store.open(StoreConfig(chroma_path=tmp_path / "store", collection="breadth"))
    store.ensure_collections(384)
    chunks = [Chunk(f"d-r-{i:05d}", "d", "r", i, i, i + 1, "x", "s.txt") for i in range(len(vectors))]
    store.add_chunks(chunks, vectors)
    store.commit_document(Document("d", "s.txt", "", "t", None, None, "h", "r", "now", len(chunks)), "x" * 3001)
    found = 0
    for q in questions:
        exact = {chunks[i].id for i in np.argsort(-(vectors @ q))[:30]}
        found += len(exact & {cid for cid, _ in store.nearest(q, 30, revs=["r"])})
    # Chroma's default breadth (ef_search 100) finds about 94% of these
    assert found / (30 * len(questions)) >= 0.99


def test_a_store_made_with_chromas_default_breadth_is_widened_when_opened(tmp_path):
    path = tmp_path / "old"
    client = chromadb.PersistentClient(str(path), settings=ChromaSettings(anonymized_telemetry=False))
    client.create_collection("older", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    assert client.get_collection("older").configuration_json["hnsw"]["ef_search"] == 100
    del client
    cfg = StoreConfig(chroma_path=path, collection="older")
    store = Store.open(cfg)
    assert store._chunks.configuration_json["hnsw"]["ef_search"] == cfg.search_ef
    store.ensure_static(384)
    assert store._static.configuration_json["hnsw"]["ef_search"] == cfg.search_ef
