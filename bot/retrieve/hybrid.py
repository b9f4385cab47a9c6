"""Hybrid retrieval: dense search in Chroma and BM25 (bot.retrieve.lexical), fused by weighted reciprocal rank."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from cachetools import LRUCache

from bot.config import BotConfig
from bot.retrieve.corpus import Corpus, Snapshot
from bot.text import content_terms
from vectorstore.embeddings import Embedder
from vectorstore.store import Chunk, Document, Store


@dataclass
class Filters:
    """Restrict retrieval to some sources and/or a published-date range (ISO dates, inclusive)."""

    sources: Sequence[str] = ()
    published_from: str | None = None
    published_to: str | None = None
    sites: Sequence[str] = ()  # outlets, compared without regard to case

    @classmethod
    def checked(cls, sources: Sequence[str], published_from: str | None, published_to: str | None,
                sites: Sequence[str] = ()) -> Filters:
        """Filters with the dates validated; ValueError names the bad one."""
        for name, value in (("published_from", published_from), ("published_to", published_to)):
            if value is not None:
                try:
                    dt.date.fromisoformat(value)
                except ValueError as exc:
                    raise ValueError(f"{name} must be a date like 2024-12-31, not {value!r}") from exc
        return cls(sources=list(sources), published_from=published_from, published_to=published_to,
                   sites=[s.strip() for s in sites if s.strip()])

    def admits(self, doc: Document) -> bool:
        """Does this document pass the filters?"""
        if self.sources and doc.source not in self.sources:
            return False
        if self.sites and (doc.site or "").casefold() not in {s.casefold() for s in self.sites}:
            return False
        if self.published_from or self.published_to:
            if not doc.published:
                return False
            if self.published_from and doc.published < _iso(self.published_from):
                return False
            if self.published_to and doc.published > _iso(self.published_to):
                return False
        return True


def _iso(value: str) -> str:
    return dt.date.fromisoformat(value).isoformat()


@dataclass
class Passage:
    """A retrieved chunk with its document and its place in each ranking."""

    chunk: Chunk
    doc: Document
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_similarity: float = 0.0


def rrf_fuse(
    rankings: Sequence[tuple[Sequence[str], float]], k: int = 60
) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: each (ids best-first, weight) adds weight / (k + rank)."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class HybridRetriever:
    """Dense + BM25 retrieval over the committed chunks, fused with RRF and de-duplicated."""

    def __init__(self, store: Store, embedder: Embedder, config: BotConfig, static: Embedder | None = None,
                 snapshot: Snapshot | None = None) -> None:
        self.store, self.embedder, self.config = store, embedder, config
        # The tier-1 model: queries for documents not yet upgraded are embedded with it, never with the full one.
        self.static = static
        self.snapshot = snapshot
        self._texts: LRUCache[tuple[str, str], str] = LRUCache(maxsize=max(config.text_cache_size, 1))
        self._token = store.change_token()
        self.corpus = self._load()
        self._checked = time.monotonic()
        # One reload at a time: a request that finds another thread reloading goes on with the current index
        # instead of loading the same corpus again beside it.
        self._reloading = threading.Lock()

    def _load(self) -> Corpus:
        """The saved corpus brought up to date, or (none saved, or the store changed wholesale) one built by reading
        the whole store, which is then saved for the next start."""
        if self.snapshot is None:
            return Corpus.build(self.store, self._texts)
        corpus, current = self.snapshot.current(self.store, self._texts)
        if not current:
            self.snapshot.save_later(corpus, self._token)
        return corpus

    def refresh(self, max_age: float = 0.0) -> bool:
        """Reload if documents were ingested or removed; checks at most every `max_age` seconds."""
        now = time.monotonic()
        if max_age and now - self._checked < max_age:
            return False
        if not self._reloading.acquire(blocking=max_age == 0.0):
            return False
        try:
            self._checked = time.monotonic()
            # Taken before the manifest is read, so a write that lands meanwhile is seen by the next refresh.
            token = self.store.change_token()
            if token is not None and token == self._token:
                return False  # nothing was written: the manifest is not read (its size grows with the archive)
            # Only the manifest entries written since the last read, and the chunks of the documents they
            # changed (an upload, an upgrade round); when many changed, everything is read again.
            got = self.corpus.caught_up(self.store, self._texts)
            if not got.changed:
                self._token = token
                return False
            # Another process wrote: a reader's in-memory vector index must be loaded again to see it.
            self.store.follow_writes()
            corpus = got.corpus or Corpus.build(self.store, self._texts)
            self.corpus = corpus
            self._token = token
            if self.snapshot is not None:
                self.snapshot.save_later(corpus, token)
            return True
        finally:
            self._reloading.release()

    def lexical(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """BM25 ranking of chunk ids."""
        index = self.corpus.lexical
        terms = [t for t in content_terms(query) if index.doc_freq(t)]
        if not terms:
            return []
        return [(c.id, score) for c, score in index.top(terms, k, allowed)]

    def dense(self, query: str, k: int, revs: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Vector ranking of chunk ids with cosine similarity, each tier searched with its own model's query.

        Upgraded documents are searched with the full model, the rest with the static one; the two rankings
        cover different documents and their similarities are on different scales, so they are merged by rank.
        """
        full: Collection[str]
        static: Collection[str]
        if revs is None:
            full, static = self.corpus.revs_by_tier.get(2, frozenset()), self.corpus.revs_by_tier.get(1, frozenset())
        else:
            tiers = {d.rev: d.tier for d in self.corpus.docs.values()}
            full = [r for r in revs if tiers.get(r, 2) == 2]
            static = [r for r in revs if tiers.get(r, 2) == 1]
        ranked: list[list[tuple[str, float]]] = []
        if full:
            vec = self.embedder.embed([query])[0]
            ranked.append(self.store.nearest(vec, k, revs=full))
        if static and self.static is not None:
            svec = self.static.embed([query])[0]
            ranked.append(self.store.nearest(svec, k, revs=static, tier=1))
        if len(ranked) == 1:
            return ranked[0]
        merged = [hit for rank in range(k) for hits in ranked if rank < len(hits) for hit in [hits[rank]]]
        return merged[:k]

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The top-k passages for a query, fused and de-duplicated."""
        cfg = self.config
        k = k or cfg.top_k
        corpus = self.corpus
        docs = corpus.docs
        # Without a filter every committed document is allowed: nothing per question walks them all.
        allowed: set[str] | None = None
        revs: list[str] | None = None
        if filters is not None:
            allowed = {d.doc_id for d in docs.values() if filters.admits(d)}
            revs = [docs[d].rev for d in allowed]
        if not docs or allowed is not None and not allowed:
            return []
        dense = self.dense(query, cfg.candidate_k, revs) if cfg.dense_weight > 0 else []
        lexical = self.lexical(query, cfg.candidate_k, allowed) if cfg.lexical_weight > 0 else []
        fused = rrf_fuse(
            [([cid for cid, _ in dense], cfg.dense_weight), ([cid for cid, _ in lexical], cfg.lexical_weight)],
            cfg.rrf_k,
        )
        d_rank = {cid: i for i, (cid, _) in enumerate(dense, 1)}
        l_rank = {cid: i for i, (cid, _) in enumerate(lexical, 1)}
        d_sim = dict(dense)
        chosen: list[Passage] = []
        for cid, score in fused:
            chunk = corpus.lexical.chunk(cid)
            if chunk is None or chunk.doc_id not in docs or allowed is not None and chunk.doc_id not in allowed:
                continue  # committed after this index was loaded; picked up on refresh
            if any(_overlap(chunk, p.chunk) > cfg.max_overlap for p in chosen):
                continue
            chosen.append(Passage(chunk, docs[chunk.doc_id], score, d_rank.get(cid), l_rank.get(cid),
                                  d_sim.get(cid, 0.0)))
            if len(chosen) >= k:
                break
        return self._with_texts(chosen, corpus)

    def _with_texts(self, passages: list[Passage], corpus: Corpus) -> list[Passage]:
        """The passages with their chunk's text, cut from their documents' texts read in one request (a document
        changed since the index was loaded is left out; the next refresh has its new revision)."""
        corpus.prefetch(p.doc.doc_id for p in passages)
        out = []
        for p in passages:
            text = corpus.texts.get(p.doc.doc_id)
            if text is None:
                continue
            out.append(replace(p, chunk=replace(p.chunk, text=text[p.chunk.start : p.chunk.end], source=p.doc.source,
                                                title=p.doc.title)))
        return out


def _overlap(a: Chunk, b: Chunk) -> float:
    """Share of the shorter chunk that the two have in common (0 for different documents)."""
    if a.doc_id != b.doc_id:
        return 0.0
    inter = min(a.end, b.end) - max(a.start, b.start)
    return max(inter, 0) / max(min(a.end - a.start, b.end - b.start), 1)
