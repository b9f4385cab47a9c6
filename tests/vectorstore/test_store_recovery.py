"""A store whose Chroma handles break: one reopen and retry, then 503 with Retry-After, and /readyz says why.

The fault is injected at the Chroma seam (the collection's query raising Chroma's own InternalError, as a stale
in-memory index does); everything else is the real store and the real app.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chromadb.errors import InternalError
from fastapi.testclient import TestClient

from citebot.deps import build_deps, build_services
from citebot.settings import Settings
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.config import StoreConfig
from vectorstore.errors import StoreUnavailableError
from vectorstore.store import Store
from web.config import WebConfig
from web.server import create_app

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


class Faults:
    """Make the next `n` vector queries of every collection fail like a stale index."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.left = 0
        import chromadb.api.models.Collection as collection_module

        real = collection_module.Collection.query

        def query(col, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.left > 0:
                self.left -= 1
                raise InternalError("Error executing plan: Internal error: Error finding id")
            return real(col, *args, **kwargs)

        monkeypatch.setattr(collection_module.Collection, "query", query)


@pytest.fixture
def seeded(tmp_path, hash_embedder):
    cfg = StoreConfig(chroma_path=tmp_path / "chroma", collection="recovery")
    ingest([SEEDS], Store.open(cfg), lambda: hash_embedder, IngestConfig())
    return cfg


def test_one_internal_error_is_healed_by_a_reopen(seeded, hash_embedder, monkeypatch):
    store = Store.open(seeded)
    faults = Faults(monkeypatch)
    revs = [d.rev for d in store.documents()]
    before = store._client_generation
    faults.left = 1
    hits = store.nearest(hash_embedder.embed(["Putin Kremlin"])[0], 3, revs=revs)
    assert len(hits) == 3 and store._client_generation > before and store.failure is None


def test_two_in_a_row_are_unavailable_then_the_next_good_read_clears_it(seeded, hash_embedder, monkeypatch):
    store = Store.open(seeded)
    faults = Faults(monkeypatch)
    revs = [d.rev for d in store.documents()]
    vec = hash_embedder.embed(["Putin Kremlin"])[0]
    faults.left = 2
    with pytest.raises(StoreUnavailableError, match="failed twice"):
        store.nearest(vec, 3, revs=revs)
    assert "Error finding id" in (store.failure or "")
    assert store.nearest(vec, 3, revs=revs) and store.failure is None


def test_the_server_answers_503_with_retry_after_and_readyz_says_why(seeded, tmp_path, hash_embedder, monkeypatch):
    settings = Settings(chroma_path=seeded.chroma_path, collection=seeded.collection, data_dir=tmp_path / "data")
    deps = build_deps(settings, embedder=hash_embedder)
    client = TestClient(create_app(build_services(settings, deps), WebConfig(), ui=False))
    faults = Faults(monkeypatch)
    faults.left = 2
    r = client.post("/api/ask", json={"question": "When did Putin return to the Kremlin?"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "2" and "failed twice" in r.json()["error"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "store failing" in ready.json()["reason"]
    again = client.post("/api/ask", json={"question": "When did Putin return to the Kremlin?"})
    assert again.status_code == 200 and client.get("/readyz").status_code == 200
