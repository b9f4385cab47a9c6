"""With CITEBOT_READ_TOKEN set, the page itself asks for it (Gradio's login, the token as password)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_page_needs_the_read_token(fresh_settings, real_embedder):
    from citebot.deps import build_deps, build_services
    from web.config import WebConfig
    from web.server import create_app

    services = build_services(fresh_settings, build_deps(fresh_settings, embedder=real_embedder))
    app = create_app(services, WebConfig(read_token="reader", admin_token="admin"), ui=True)
    with TestClient(app) as client:
        assert client.get("/config").status_code == 401
        assert client.post("/login", data={"username": "anyone", "password": "wrong"}).status_code >= 400
        assert client.get("/config").status_code == 401
        assert client.post("/login", data={"username": "anyone", "password": "reader"}).json() == {"success": True}
        assert client.get("/config").status_code == 200
    open_app = create_app(services, WebConfig(), ui=True)
    with TestClient(open_app) as client:
        assert client.get("/config").status_code == 200  # no read token: the page is open
