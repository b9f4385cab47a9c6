"""POST /api/ingest reads the server's own disk, so it answers only clients on the server's machine."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from citebot.deps import build_deps, build_services
from citebot.settings import Settings
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.config import StoreConfig
from vectorstore.store import Store
from web.config import WebConfig
from web.server import create_app

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_a_client_on_another_machine_is_refused_and_nothing_is_read(tmp_path, hash_embedder):
    cfg = StoreConfig(chroma_path=tmp_path / "chroma", collection="ingest-paths")
    ingest([SEEDS], Store.open(cfg), lambda: hash_embedder, IngestConfig())
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection, data_dir=tmp_path / "data")
    app = create_app(build_services(settings, build_deps(settings, embedder=hash_embedder)),
                     WebConfig(admin_token="t0ken"), ui=False)
    secret = tmp_path / "private.txt"
    secret.write_text("Private Notes\n\nThe safe's code is 4321.\n")
    # TestClient's requests come from the address "testclient": not this machine.
    client = TestClient(app)
    r = client.post("/api/ingest", json={"paths": [str(secret)]}, headers={"Authorization": "Bearer t0ken"})
    assert r.status_code == 403 and "POST /api/documents" in r.json()["error"]
    assert [d.source for d in Store.open(cfg).documents()] == sorted(p.name for p in SEEDS.iterdir())
