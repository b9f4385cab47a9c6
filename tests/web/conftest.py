"""A writable store per module: the seeds ingested by the real model into a fresh folder."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="module")
def fresh_settings(tmp_path_factory, seeded_store_factory):
    """Settings over a private copy of the seeded store, with its own data dir (conversations, uploads)."""
    from citebot.settings import Settings

    src = seeded_store_factory()
    tmp = tmp_path_factory.mktemp("fresh")
    shutil.copytree(src.chroma_path, tmp / "chroma")
    return Settings(chroma_path=tmp / "chroma", collection=src.collection, data_dir=tmp / "data")


def make_client(settings, embedder, **web):  # type: ignore[no-untyped-def]
    """A TestClient over real services built from `settings`."""
    from fastapi.testclient import TestClient

    from citebot.deps import build_deps, build_services
    from web.config import WebConfig
    from web.server import create_app

    services = build_services(settings, build_deps(settings, embedder=embedder))
    return TestClient(create_app(services, WebConfig(**web), ui=False), raise_server_exceptions=False), services
