"""`CitebotRetriever` against LangChain's standard retriever suite (langchain-tests), over a real store."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot.lc import CitebotRetriever


class TestCitebotRetrieverStandard(RetrieversIntegrationTests):
    """The `k` constructor parameter, the `k` invoke kwarg, sync and async invoke returning Documents."""

    _hybrid: Any = None

    @pytest.fixture(autouse=True)
    def _real_store(self, seeded_deps) -> None:
        type(self)._hybrid = seeded_deps.retriever

    @property
    def retriever_constructor(self) -> type[CitebotRetriever]:
        return CitebotRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"retriever": self._hybrid, "k": 5}

    @property
    def retriever_query_example(self) -> str:
        return "What did Iran and Russia sign?"
