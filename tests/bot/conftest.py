"""Fixtures for the bot: Deps over the seeded store with the real embedder, and a tiny store with a fake one."""

from __future__ import annotations

import pytest

from bot.config import BotConfig
from citebot.deps import build_deps
from citebot.settings import Settings


@pytest.fixture(scope="session")
def seeded_deps(seeded_store_factory, real_embedder):
    """Deps over the two seeds, ingested once per session with the real model."""
    cfg = seeded_store_factory()
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection)
    return build_deps(settings, embedder=real_embedder)


@pytest.fixture
def bot_config() -> BotConfig:
    return BotConfig()
