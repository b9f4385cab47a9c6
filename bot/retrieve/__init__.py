"""Retrieval: the store's documents as a corpus (corpus.py), their BM25 index (lexical.py), and hybrid search
(hybrid.py)."""

from bot.retrieve.corpus import Corpus, SentenceSpans, Snapshot, Texts
from bot.retrieve.hybrid import Filters, HybridRetriever, Passage, rrf_fuse

__all__ = ["Corpus", "Filters", "HybridRetriever", "Passage", "SentenceSpans", "Snapshot", "Texts", "rrf_fuse"]
