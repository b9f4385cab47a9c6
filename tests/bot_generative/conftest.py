"""Fixtures for the LLM engines: Deps with a scripted chat model at the seam."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from citebot.deps import build_deps
from citebot.settings import Settings


@pytest.fixture
def scripted_deps(seeded_store_factory, real_embedder):
    """Build Deps whose `openai` engine replies with the given scripted messages, in order."""

    def make(*replies: str, strict: bool = True):
        cfg = seeded_store_factory()
        settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection, strict=strict)
        model = FakeListChatModel(responses=list(replies))
        return build_deps(settings, embedder=real_embedder, chat_model=model), model

    return make
