"""POST /api/documents/urls against a real HTTP server on loopback: pages and feeds ingested with the URL as the
source, per-URL errors, the SSRF guard, and nothing stored lost on error."""

from __future__ import annotations

import pytest
from conftest import make_client
from loopback_site import PAGES, Site

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(fresh_settings, real_embedder):
    settings = fresh_settings.model_copy(update={"fetch_allow_private": True})
    client, services = make_client(settings, real_embedder, admin_token="admin-secret")
    with client:
        yield client, services


def _sources(client):
    return {d["source"]: d for d in client.get("/api/documents").json()}


def test_a_page_is_fetched_ingested_and_answerable(api, site):
    client, _ = api
    url = site.url("/news/" + PAGES[1])
    r = client.post("/api/documents/urls", json={"urls": [url]}, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["documents"]["added"] == 1
    doc = _sources(client)[url]
    assert doc["site"] == "Reuters" and doc["url"]
    ans = client.post("/api/ask", json={"question": "Which film was the upset winner at the SAG awards?"}).json()
    assert not ans["abstained"] and "Parasite" in ans["answer"]
    assert any(c["source"] == url for c in ans["citations"])


def test_a_feed_adds_its_entries_and_a_reread_fetches_nothing(api, site):
    client, _ = api
    r = client.post("/api/documents/urls", json={"feeds": [site.url("/feed.atom")]}, headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()["documents"]
    assert body["added"] + body["unchanged"] == 2 and not r.json()["errors"]
    assert site.url("/news/" + PAGES[2]) in _sources(client)
    hits = site.hits.get("/news/" + PAGES[2])
    again = client.post("/api/documents/urls", json={"feeds": [site.url("/feed.atom")]}, headers=ADMIN)
    assert again.status_code == 200 and site.hits.get("/news/" + PAGES[2]) == hits


def test_per_url_errors_and_nothing_stored_is_lost(api, site):
    client, _ = api
    before = set(_sources(client))
    r = client.post("/api/documents/urls", json={"urls": [site.url("/missing.html"), site.url("/logo.png"),
                                                          "ftp://example.com/x", "not a url"]}, headers=ADMIN)
    assert r.status_code == 422
    errors = {e["path"]: e["error"] for e in r.json()["errors"]}
    assert "HTTP 404" in errors[site.url("/missing.html")]
    assert "image/png" in errors[site.url("/logo.png")]
    assert "only http and https" in errors["ftp://example.com/x"]
    assert "only http and https" in errors["not a url"]
    assert set(_sources(client)) == before


@pytest.mark.parametrize("body", [{}, {"urls": []}, {"urls": [""]}, {"urls": "http://x"}, {"urls": ["x" * 3000]}])
def test_malformed_requests_are_422(api, body):
    client, _ = api
    assert client.post("/api/documents/urls", json=body, headers=ADMIN).status_code == 422


def test_urls_need_the_admin_token(api, site):
    client, _ = api
    r = client.post("/api/documents/urls", json={"urls": [site.url("/news/" + PAGES[0])]})
    assert r.status_code == 401


def test_private_addresses_are_refused_without_the_setting(fresh_settings, real_embedder, site):
    client, _ = make_client(fresh_settings, real_embedder, admin_token="admin-secret")
    with client:
        before = set(_sources(client))
        r = client.post("/api/documents/urls", json={"urls": [site.url("/news/" + PAGES[0])]}, headers=ADMIN)
        assert r.status_code == 422 and "CITEBOT_FETCH_ALLOW_PRIVATE" in r.json()["errors"][0]["error"]
        assert set(_sources(client)) == before


def test_pdfs_upload_through_the_api_and_a_scan_is_refused(api, site):
    from loopback_site import SCAN_HTML, chromium_pdf

    client, _ = api
    before = set(_sources(client))
    article = chromium_pdf(site.url("/news/" + PAGES[0]))
    scan = chromium_pdf(html=SCAN_HTML)
    r = client.post("/api/documents", headers=ADMIN, files=[("files", ("telescope.pdf", article, "application/pdf")),
                                                             ("files", ("scan.pdf", scan, "application/pdf"))])
    assert r.status_code == 200, r.text
    assert r.json()["documents"]["added"] == 1
    (err,) = r.json()["errors"]
    assert err["path"] == "scan.pdf" and "no text layer" in err["error"] and "OCR" in err["error"]
    assert set(_sources(client)) == before | {"telescope.pdf"}
    ans = client.post("/api/ask", json={"question": "How many aluminium panels make up the telescope dish?",
                                         "sources": ["telescope.pdf"]}).json()
    assert not ans["abstained"] and "4,400" in ans["answer"], ans["answer"]
    assert ans["citations"][0]["source"] == "telescope.pdf" and isinstance(ans["citations"][0]["page"], int)
