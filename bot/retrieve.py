"""Hybrid retrieval: dense search in Chroma and BM25 (bm25s), fused by weighted reciprocal rank."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import bm25s
import numpy as np
from cachetools import LRUCache

from bot.config import BotConfig
from bot.text import content_terms
from vectorstore.embeddings import Embedder
from vectorstore.sentences import sentence_spans
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


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    # Interned: the same stemmed word is one object across every chunk, so the kept tokens cost a pointer each.
    return [[sys.intern(t) for t in content_terms(text)] or ["\x00empty"] for text in texts]


def _bm25(tokens: list[list[str]]) -> Any:
    bm25 = bm25s.BM25()
    if tokens:
        bm25.index(tokens, show_progress=False)
    return bm25


# Up to this many changed documents (or a twentieth of the archive), a refresh reads only those.
_FEW_CHANGED = 200


class SentenceSpans:
    """Each document's sentence offsets, split when first asked for and kept in a bounded cache: a question reads
    the sentences of the few documents it retrieved, so splitting every document on each (re)load was work that
    grew with the archive."""

    def __init__(self, texts: dict[str, str], size: int = 4096) -> None:
        self._texts = texts
        self._cache: LRUCache[str, list[tuple[int, int]]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, doc_id: str, default: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
        with self._lock:
            spans = self._cache.get(doc_id)
        if spans is None:
            text = self._texts.get(doc_id)
            if text is None:
                return default if default is not None else []
            spans = sentence_spans(text)
            with self._lock:
                self._cache[doc_id] = spans
        return spans


@dataclass
class Corpus:
    """Everything retrieval needs from the store, loaded once and rebuilt only when the store changes."""

    docs: dict[str, Document]
    texts: dict[str, str]
    chunks: list[Chunk]
    bm25: Any
    sentences: SentenceSpans | dict[str, list[tuple[int, int]]]
    signature: str
    doc_freq: dict[str, int] = field(default_factory=dict)
    tokens: list[list[str]] = field(default_factory=list)  # each chunk's terms, kept to re-index without re-reading

    def __post_init__(self) -> None:
        # What every question would otherwise recompute from all documents: the stored outlets, and the
        # committed revisions by tier.
        self.sites = frozenset(d.site for d in self.docs.values() if d.site)
        by_tier: dict[int, set[str]] = {}
        for d in self.docs.values():
            by_tier.setdefault(d.tier, set()).add(d.rev)
        self.revs_by_tier = {tier: frozenset(revs) for tier, revs in by_tier.items()}

    @classmethod
    def load(cls, store: Store) -> Corpus:
        """Read the committed documents and chunks and index them."""
        manifest, texts = store.documents_and_texts()
        docs = {d.doc_id: d for d in manifest}
        # The chunks of this very manifest: the signature then describes what was loaded, so a tier changed
        # meanwhile shows up as a changed signature and is reloaded on the next refresh.
        chunks = store.visible_chunks(manifest, texts)
        tokens = _tokens([c.text for c in chunks])
        doc_freq: dict[str, int] = {}
        _count(doc_freq, tokens, 1)
        return cls(
            docs=docs,
            texts={k: v for k, v in texts.items() if k in docs},
            chunks=chunks,
            bm25=_bm25(tokens),
            sentences=SentenceSpans(texts),
            signature=signature(docs.values()),
            doc_freq=doc_freq,
            tokens=tokens,
        )

    def updated(self, store: Store, manifest: Sequence[Document]) -> Corpus:
        """This corpus brought up to `manifest` by reading only what changed: documents whose tier alone changed
        (an upgrade round) keep their chunks, texts and lexical index as they are; added, changed and removed
        documents are read by id and the lexical index is rebuilt from the kept terms. (Re-reading the whole
        store took seconds per upgrade round and per upload at 10,000 articles.)"""
        docs = {d.doc_id: d for d in manifest}
        changed = [d for d in manifest if d.doc_id not in self.docs or self.docs[d.doc_id].rev != d.rev]
        gone = {i for i in self.docs if i not in docs} | {d.doc_id for d in changed}
        if not changed and not gone:
            return replace(self, docs=docs, signature=signature(manifest))
        fresh_texts = store.texts_at({d.doc_id: d.rev for d in changed})
        if len(fresh_texts) < len(changed):
            return Corpus.load(store)  # changed again while being read: read everything, consistently
        fresh = [c for d in changed for c in store.chunks_of(d, d.tier)]
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in gone]
        fresh_tokens = _tokens([c.text for c in fresh])
        doc_freq = dict(self.doc_freq)
        _count(doc_freq, [self.tokens[i] for i, c in enumerate(self.chunks) if c.doc_id in gone], -1)
        _count(doc_freq, fresh_tokens, 1)
        tokens = [self.tokens[i] for i in keep] + fresh_tokens
        texts = {k: v for k, v in self.texts.items() if k not in gone} | fresh_texts
        return Corpus(docs=docs, texts=texts, chunks=[self.chunks[i] for i in keep] + fresh, bm25=_bm25(tokens),
                      sentences=SentenceSpans(texts), signature=signature(manifest), doc_freq=doc_freq, tokens=tokens)

    def idf(self, term: str) -> float:
        """Smoothed inverse chunk frequency of a stemmed term (high for rare words)."""
        n = max(len(self.chunks), 1)
        return float(np.log(1 + (n - self.doc_freq.get(term, 0) + 0.5) / (self.doc_freq.get(term, 0) + 0.5)))


def _count(doc_freq: dict[str, int], tokens: Sequence[list[str]], sign: int) -> None:
    for toks in tokens:
        for t in set(toks):
            n = doc_freq.get(t, 0) + sign
            if n > 0:
                doc_freq[t] = n
            else:
                doc_freq.pop(t, None)


def signature(docs: Sequence[Document] | Any) -> str:
    """A fingerprint of the committed documents: it changes whenever any is added, updated or removed."""
    h = hashlib.sha256()
    for d in sorted(docs, key=lambda d: d.doc_id):
        h.update(f"{d.doc_id}:{d.rev}:{d.tier};".encode())
    return h.hexdigest()


class HybridRetriever:
    """Dense + BM25 retrieval over the committed chunks, fused with RRF and de-duplicated."""

    def __init__(self, store: Store, embedder: Embedder, config: BotConfig, static: Embedder | None = None) -> None:
        self.store, self.embedder, self.config = store, embedder, config
        # The tier-1 model: queries for documents not yet upgraded are embedded with it, never with the full one.
        self.static = static
        self._token = store.change_token()
        self.corpus = Corpus.load(store)
        self._by_id = {c.id: c for c in self.corpus.chunks}
        self._checked = time.monotonic()
        # One reload at a time: a request that finds another thread reloading goes on with the current index
        # instead of loading the same corpus again beside it.
        self._reloading = threading.Lock()

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
            manifest = self.store.documents()
            if signature(manifest) == self.corpus.signature:
                self._token = token
                return False
            # Another process wrote: a reader's in-memory vector index must be loaded again to see it.
            self.store.follow_writes()
            changed = sum(1 for d in manifest if (old := self.corpus.docs.get(d.doc_id)) is None or old.rev != d.rev)
            # A few documents changed (an upload, an upgrade round): read only those. Many: read everything.
            if changed <= max(_FEW_CHANGED, len(manifest) // 20):
                corpus = self.corpus.updated(self.store, manifest)
            else:
                corpus = Corpus.load(self.store)
            self._by_id, self.corpus = {c.id: c for c in corpus.chunks}, corpus
            self._token = token
            return True
        finally:
            self._reloading.release()

    def lexical(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """BM25 ranking of chunk ids."""
        chunks = self.corpus.chunks
        terms = [t for t in content_terms(query) if t in self.corpus.doc_freq]
        if not chunks or not terms:
            return []
        scores = self.corpus.bm25.get_scores(terms)
        out: list[tuple[str, float]] = []
        # The best few by partial sort (linear), widened only when a filter drops most of them.
        want = k
        while True:
            top = min(want, len(scores))
            head = np.argpartition(-scores, top - 1)[:top]
            out = []
            for i in head[np.argsort(-scores[head])]:
                if scores[i] <= 0 or len(out) >= k:
                    break
                c = chunks[int(i)]
                if allowed is None or c.doc_id in allowed:
                    out.append((c.id, float(scores[i])))
            if len(out) >= k or top >= len(scores) or scores[head].min() <= 0:
                return out
            want *= 4

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
        docs = self.corpus.docs
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
            chunk = self._by_id.get(cid)
            if chunk is None or chunk.doc_id not in docs or allowed is not None and chunk.doc_id not in allowed:
                continue  # committed after this index was loaded; picked up on refresh
            if any(_overlap(chunk, p.chunk) > cfg.max_overlap for p in chosen):
                continue
            chosen.append(Passage(chunk, docs[chunk.doc_id], score, d_rank.get(cid), l_rank.get(cid),
                                  d_sim.get(cid, 0.0)))
            if len(chosen) >= k:
                break
        return chosen


def _overlap(a: Chunk, b: Chunk) -> float:
    """Share of the shorter chunk that the two have in common (0 for different documents)."""
    if a.doc_id != b.doc_id:
        return 0.0
    inter = min(a.end, b.end) - max(a.start, b.start)
    return max(inter, 0) / max(min(a.end - a.start, b.end - b.start), 1)
