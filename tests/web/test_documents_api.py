"""Adding and removing articles over the API: auth, the CLI's checks and limits, nothing stored touched on error."""

from __future__ import annotations

import pytest
from conftest import make_client

ADMIN = {"Authorization": "Bearer admin-secret"}
ARTICLE = (
    "Lighthouse Restored in Port Elvar\n\nBy Mira Quell\n\n"
    "The Port Elvar lighthouse was relit on 3 March 2025 after a restoration that cost 2.4 million euros. "
    "The keeper, Tomas Ardent, said the new lamp is visible from 40 kilometres away.\n"
)


@pytest.fixture(scope="module")
def api(fresh_settings, real_embedder):
    client, services = make_client(fresh_settings, real_embedder, admin_token="admin-secret",
                                   max_upload_files=3)
    with client:
        yield client, services


def _docs(client):
    return {d["source"]: d for d in client.get("/api/documents").json()}


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/api/documents"), ("delete", "/api/documents/x"), ("post", "/api/documents/text"),
                         ("get", "/api/feedback"), ("get", "/api/conversations")])
def test_writes_need_the_admin_token(api, method, path):
    client, _ = api
    missing = client.request(method, path)
    assert missing.status_code == 401 and "Authorization: Bearer" in missing.json()["error"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.request(method, path, headers={"Authorization": "Bearer admin-secreT"})
    assert wrong.status_code == 401 and "not the admin token" in wrong.json()["error"]


def test_writes_are_disabled_without_the_setting(fresh_settings, real_embedder):
    client, _ = make_client(fresh_settings, real_embedder)
    with client:
        r = client.post("/api/documents", files={"files": ("a.txt", ARTICLE.encode())}, headers=ADMIN)
        assert r.status_code == 403 and "set CITEBOT_ADMIN_TOKEN" in r.json()["error"]
        assert client.delete("/api/documents/abc", headers=ADMIN).status_code == 403
        assert client.get("/api/documents").status_code == 200  # reads stay open


def test_read_token_guards_reads_and_cannot_write(fresh_settings, real_embedder):
    client, _ = make_client(fresh_settings, real_embedder, admin_token="admin-secret", read_token="reader")
    with client:
        assert client.get("/api/documents").status_code == 401
        assert client.post("/api/ask", json={"question": "Who is Armin Montazeri?"}).status_code == 401
        assert client.get("/api/documents", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/api/documents", headers={"Authorization": "Bearer reader"}).status_code == 200
        assert client.get("/api/documents", headers=ADMIN).status_code == 200  # admin also reads
        r = client.delete("/api/documents/abc", headers={"Authorization": "Bearer reader"})
        assert r.status_code == 403 and "read token cannot change anything" in r.json()["error"]


def test_upload_then_ask_within_two_seconds_then_delete(api):
    client, services = api
    r = client.post("/api/documents", headers=ADMIN, files=[("files", ("lighthouse.txt", ARTICLE.encode())),
                                                            ("files", ("empty.md", b"  \n"))])
    assert r.status_code == 200, r.text
    # Answerable at once: the upload response is sent only after the retriever has re-read the store.
    assert "lighthouse.txt" in {d.source for d in services.bot.retriever.corpus.docs.values()}
    body = r.json()
    assert body["documents"]["added"] == 1 and body["documents"]["failed"] == 1
    assert body["errors"] == [{"path": "empty.md", "error": "file is empty"}]
    ans = client.post("/api/ask", json={"question": "How far away is the new lighthouse lamp visible?"}).json()
    assert "40 kilometres" in ans["answer"] and ans["citations"][0]["source"] == "lighthouse.txt"
    kept = services.library.upload_dir / "lighthouse.txt"
    assert kept.read_bytes() == ARTICLE.encode()  # kept under the store's folder, so re-ingest and --prune work
    doc_id = _docs(client)["lighthouse.txt"]["doc_id"]

    gone = client.delete(f"/api/documents/{doc_id}", headers=ADMIN)
    assert gone.status_code == 200 and gone.json() == {"deleted": doc_id, "source": "lighthouse.txt"}
    assert "lighthouse.txt" not in _docs(client) and not kept.exists()
    after = client.post("/api/ask", json={"question": "How far away is the new lighthouse lamp visible?"}).json()
    assert "40 kilometres" not in after["answer"]
    missing = client.delete(f"/api/documents/{doc_id}", headers=ADMIN)
    assert missing.status_code == 404 and "no stored document" in missing.json()["error"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("../../etc/passwd", ARTICLE.encode(), "file name contains a path"),
        ("..\\evil.txt", ARTICLE.encode(), "file name contains a path"),
        (".hidden.txt", ARTICLE.encode(), "hidden files are not ingested"),
        ("", ARTICLE.encode(), None),
        ("photo.png", b"\x89PNG\r\n", "unsupported file type '.png'"),
        ("binary.txt", b"abc\x00def" * 10, "file is binary"),
        ("latin.txt", "Caf\u00e9 society news.".encode("latin-1"), "not valid UTF-8"),
        ("blank.txt", b"   ", "file is empty"),
        ("big.txt", b"word " * 30_000, "over the 0 MB limit (CITEBOT_MAX_FILE_MB)"),
    ],
)
def test_rejected_files_change_nothing(api, name, data, message):
    client, services = api
    before = client.get("/api/documents").json()
    uploads_before = sorted(p.name for p in services.library.upload_dir.iterdir())
    services.library.config = services.library.config.model_copy(update={"max_file_mb": 0.1})
    try:
        r = client.post("/api/documents", headers=ADMIN, files={"files": (name, data)})
    finally:
        services.library.config = services.library.config.model_copy(update={"max_file_mb": 20.0})
    assert r.status_code == 422, r.text
    if message:
        assert message in r.json()["error"] and r.json()["errors"][0]["path"] == name
    assert client.get("/api/documents").json() == before
    assert sorted(p.name for p in services.library.upload_dir.iterdir()) == uploads_before


def test_a_bad_file_with_a_stored_name_leaves_the_stored_one(api):
    client, services = api
    assert client.post("/api/documents", headers=ADMIN, files={"files": ("keep.txt", ARTICLE.encode())}).status_code == 200
    r = client.post("/api/documents", headers=ADMIN, files={"files": ("keep.txt", b"\x00\x01binary")})
    assert r.status_code == 422 and "binary" in r.json()["error"]
    assert (services.library.upload_dir / "keep.txt").read_bytes() == ARTICLE.encode()
    assert _docs(client)["keep.txt"]["title"] == "Lighthouse Restored in Port Elvar"
    # A file named like a document ingested from elsewhere (the seeds) must not replace it.
    clash = client.post("/api/documents", headers=ADMIN, files={"files": ("000_7d831f6347d504d0.txt", ARTICLE.encode())})
    assert clash.status_code == 422 and "already has the source name" in clash.json()["error"]


def test_upload_limits_and_missing_files(api):
    client, services = api
    too_many = [("files", (f"a{i}.txt", ARTICLE.encode())) for i in range(4)]
    over = services.library.max_bytes * 3 + 1024 * 1024
    r = client.post("/api/documents", headers={**ADMIN, "content-length": str(over + 1)}, content=b"x")
    assert r.status_code == 413 and "MiB limit" in r.json()["error"]
    r = client.post("/api/documents", headers=ADMIN)
    assert r.status_code == 422 and "files: Field required" in r.json()["error"]
    r = client.post("/api/documents", headers=ADMIN, files=too_many[:0] or {"other": ("a.txt", b"x")})
    assert r.status_code == 422 and "files" in r.json()["error"]


def test_oversize_upload_body_is_refused_before_it_is_read(fresh_settings, real_embedder, tmp_path):
    settings = fresh_settings.model_copy(update={"max_file_mb": 0.05, "data_dir": tmp_path})
    client, services = make_client(settings, real_embedder, admin_token="admin-secret", max_upload_files=1)
    with client:
        big = b"news " * 300_000  # 1.5 MB, over 0.05 MB x 1 file + 1 MiB of framing
        r = client.post("/api/documents", headers=ADMIN, files={"files": ("big.txt", big)})
        assert r.status_code == 413 and "over the" in r.json()["error"]
        assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_paste_text_with_a_title(api):
    client, _ = api
    r = client.post("/api/documents/text", headers=ADMIN,
                    json={"title": "Ferry Timetable Changes", "text": "# Ferries\n\nThe **night ferry** to Valmo now "
                          "leaves at 23:15 instead of 22:40, the harbour office said."})
    assert r.status_code == 200 and r.json()["documents"]["added"] == 1
    doc = _docs(client)["ferry-timetable-changes.md"]
    assert doc["title"] == "Ferry Timetable Changes"
    ans = client.post("/api/ask", json={"question": "At what time does the night ferry to Valmo leave now?"}).json()
    assert "23:15" in ans["answer"]
    quote = ans["citations"][0]["quote"]
    assert "**" not in quote and "#" not in quote  # Markdown is stored as the text a reader sees
    bad = client.post("/api/documents/text", headers=ADMIN, json={"title": "  ", "text": "x"})
    assert bad.status_code == 422 and "title is empty" in bad.json()["error"]
    missing = client.post("/api/documents/text", headers=ADMIN, json={"title": "T"})
    assert missing.status_code == 422 and missing.json()["error"] == "text: Field required"


def test_openapi_documents_the_new_endpoints(api):
    client, _ = api
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ("/api/documents", "/api/documents/{doc_id}", "/api/documents/text", "/api/conversations",
              "/api/conversations/{conversation_id}", "/api/feedback", "/v1/chat/completions", "/v1/models",
              "/api/conversations/{conversation_id}/turns/{turn_id}/feedback"):
        assert p in paths, p
    ask_body = paths["/api/ask"]["post"]["requestBody"]
    assert ask_body["required"] is True
    assert "multipart/form-data" in paths["/api/documents"]["post"]["requestBody"]["content"]
    assert "AskRequest" in spec["components"]["schemas"] and "ChatCompletion" in spec["components"]["schemas"]


def test_pasted_text_may_exceed_the_json_question_limit(api):
    client, _ = api
    text = "The Valmo harbour festival drew record crowds this summer. " * 6000  # ~360 KB, over 256 KiB
    r = client.post("/api/documents/text", headers=ADMIN, json={"title": "Valmo Festival", "text": text})
    assert r.status_code == 200, r.text
    assert _docs(client)["valmo-festival.md"]["chunks"] > 1
