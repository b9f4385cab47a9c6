"""citebot's hybrid retriever as a LangChain retriever, so it plugs into other LangChain apps."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.retrieve import Filters, HybridRetriever


class CitebotRetriever(BaseRetriever):
    """Hybrid (dense + BM25, RRF) retrieval over the committed chunks, as LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    retriever: HybridRetriever
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **kwargs: Any
    ) -> list[LCDocument]:
        """The `k` best chunks (the constructor's `k` unless `invoke(..., k=n)` overrides it)."""
        self.retriever.refresh()
        return [
            LCDocument(
                page_content=p.chunk.text,
                id=p.chunk.id,
                metadata={
                    "doc_id": p.chunk.doc_id, "source": p.doc.source, "title": p.doc.title,
                    "author": p.doc.author, "published": p.doc.published, "chunk_id": p.chunk.id,
                    "start": p.chunk.start, "end": p.chunk.end, "score": p.score,
                },
            )
            for p in self.retriever.search(query, k=k or self.k, filters=self.filters)
        ]
