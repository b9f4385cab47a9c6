"""Outlets over the API: each document's `site` and `url` in GET /api/documents and in citations, and `sites`
restricting what is retrieved (the real app and store; the deterministic embedder at the model seam)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from citebot.deps import build_deps, build_services
from citebot.settings import Settings
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.config import StoreConfig
from vectorstore.store import Store
from web.config import WebConfig
from web.server import create_app

PAGE = ("<html><head><title>{t}</title><meta property='og:site_name' content='{site}'>"
        "<link rel='canonical' href='https://{host}/story'></head><body><article><h1>{t}</h1>"
        "<p>The Brenholt dam was closed on Tuesday after engineers found a crack in its spillway, {who} said. "
        "Repairs are expected to take {weeks} weeks, and the reservoir will be lowered by two metres meanwhile."
        "</p><p>Residents downstream were told that no evacuation is needed.</p></article></body></html>")


def test_documents_and_citations_carry_the_outlet_and_sites_filters_answers(tmp_path, hash_embedder):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text(PAGE.format(t="Brenholt Dam Closed", site="Valley Post", host="valleypost.example",
                                               who="the water board", weeks="6"))
    (folder / "b.html").write_text(PAGE.format(t="Crack Closes Brenholt Dam", site="Northern Wire",
                                               host="northernwire.example", who="a board spokesman", weeks="8"))
    cfg = StoreConfig(chroma_path=tmp_path / "chroma", collection="outlets-api")
    ingest([folder], Store.open(cfg), lambda: hash_embedder, IngestConfig())
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection, data_dir=tmp_path / "data")
    client = TestClient(create_app(build_services(settings, build_deps(settings, embedder=hash_embedder)),
                                   WebConfig(), ui=False))
    docs = {d["source"]: d for d in client.get("/api/documents").json()}
    assert (docs["a.html"]["site"], docs["a.html"]["url"]) == ("Valley Post", "https://valleypost.example/story")
    assert docs["b.html"]["site"] == "Northern Wire"

    # Both outlets carry the story in near-identical sentences; the filter picks the one that was asked for.
    r = client.post("/api/ask", json={"question": "When was the Brenholt dam closed?", "sites": ["northern wire"]})
    assert r.status_code == 200, r.text
    cited = r.json()["citations"]
    assert cited and {c["source"] for c in cited} == {"b.html"} and {c["site"] for c in cited} == {"Northern Wire"}
    assert "a board spokesman" in r.json()["answer"]
    none = client.post("/api/ask", json={"question": "When was the Brenholt dam closed?", "sites": ["Nowhere Times"]})
    assert none.status_code == 200 and none.json()["abstained"] and not none.json()["citations"]
