"""Chroma storage: chunk vectors plus a document manifest that makes each document visible atomically.

A document's chunks are written first and its manifest entry last. Readers only see chunks whose
revision matches the manifest, so a crash mid-write leaves nothing half-indexed in view, and the
next ingest garbage-collects the orphans and finishes the job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from vectorstore.config import StoreConfig
from vectorstore.embeddings import canonical_name
from vectorstore.lease import IngestLock
from vectorstore.static import static_name

SCHEMA_VERSION = 1
# Chunks per write: each Chroma call has a high fixed cost, and a killed run redoes at most this many chunks.
WRITE_BATCH = 128
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")


class StoreError(RuntimeError):
    """The store cannot be opened or used as configured."""


class StoreMismatchError(StoreError):
    """The collection was built with a different embedding model."""


@dataclass
class Chunk:
    """One indexed passage: `text == clean_text[start:end]` of its document."""

    id: str
    doc_id: str
    rev: str
    index: int
    start: int
    end: int
    text: str
    source: str = ""
    title: str = ""


@dataclass
class Document:
    """A manifest entry: one ingested article and where its chunks are."""

    doc_id: str
    source: str
    path: str
    title: str
    author: str | None
    published: str | None
    sha256: str
    rev: str
    ingested_at: str
    chunks: int
    input_key: str = ""  # hash of the raw file, its declared metadata and the pipeline settings
    # 1: searchable with the static model's vectors; 2: upgraded to the full model's. Entries written before
    # the two tiers existed hold full-model vectors, so a missing tier reads as 2.
    tier: int = 2


def _meta(doc: Document) -> dict[str, Any]:
    # Chroma metadata cannot hold None.
    return {k: ("" if v is None else v) for k, v in asdict(doc).items()}


def _doc(meta: dict[str, Any]) -> Document:
    return Document(
        doc_id=str(meta["doc_id"]),
        source=str(meta["source"]),
        path=str(meta.get("path", "")),
        title=str(meta.get("title", "")),
        author=str(meta.get("author") or "") or None,
        published=str(meta.get("published") or "") or None,
        sha256=str(meta["sha256"]),
        rev=str(meta["rev"]),
        ingested_at=str(meta.get("ingested_at", "")),
        chunks=int(meta.get("chunks", 0)),
        input_key=str(meta.get("input_key", "")),
        tier=int(meta.get("tier", 2)),
    )


def _chunk(cid: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=cid,
        doc_id=str(meta["doc_id"]),
        rev=str(meta["rev"]),
        index=int(meta["index"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
    )


def make_client(config: StoreConfig) -> Any:
    """A Chroma client: embedded on disk, or HTTP to `chroma_url`. Telemetry is off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if config.chroma_url:
        url = urlparse(config.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreError(f"CITEBOT_CHROMA_URL={config.chroma_url!r} is not an http(s) URL.")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {config.chroma_url}: {exc}. "
                "Start it with `chroma run --path DIR --port N`, or unset CITEBOT_CHROMA_URL."
            ) from exc
    path = Path(config.chroma_path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the store directory {path}: {exc}. Set CITEBOT_CHROMA_PATH.") from exc
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class Store:
    """The chunk collection and its document manifest in one Chroma database."""

    def __init__(self, client: Any, config: StoreConfig, check_model: bool = True) -> None:
        if not _NAME_RE.match(config.collection):
            raise StoreError(
                f"CITEBOT_COLLECTION={config.collection!r} is not a valid name: use 3-63 characters "
                "of letters, digits, '.', '_' or '-', starting and ending with a letter or digit."
            )
        self.client = client
        self.config = config
        self.model_name = canonical_name(config.embedding_model)
        self.static_model_name = static_name(config)
        self._chunks: Any = None
        self._static: Any = None
        self._docs: Any = None
        self._open_existing(check_model)

    def reload(self, check_model: bool = True) -> None:
        """Pick up collections another process created since this store was opened (after waiting for it)."""
        self._open_existing(check_model)

    def ingest_lock(self, on_wait: Callable[[str], None] | None = None) -> IngestLock:
        """The lock one ingest holds while it writes (a file lock here, a lease on a Chroma server)."""
        return IngestLock(self.client, Path(self.config.chroma_path), self.config.collection,
                          server=bool(self.config.chroma_url), on_wait=on_wait)

    @classmethod
    def open(cls, config: StoreConfig, check_model: bool = True) -> Store:
        """Open the configured store; `check_model=False` only for a re-index that will drop it."""
        return cls(make_client(config), config, check_model)

    # -- collections -------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the store lives, for messages."""
        return self.config.chroma_url or str(self.config.chroma_path)

    def _open_existing(self, check_model: bool) -> None:
        try:
            names = {getattr(c, "name", c) for c in self.client.list_collections()}
        except Exception as exc:
            raise StoreError(f"Cannot read the Chroma store at {self.location}: {exc}") from exc
        if self.config.collection in names:
            self._chunks = self._widened(self.client.get_collection(self.config.collection, embedding_function=None))
            if check_model:
                self._check_model(self._chunks.metadata or {})
        if self._docs_name in names:
            self._docs = self.client.get_collection(self._docs_name, embedding_function=None)
        if self._static_name in names:
            self._static = self._widened(self.client.get_collection(self._static_name, embedding_function=None))
            if check_model:
                self._check_static(self._static.metadata or {})

    def _widened(self, col: Any) -> Any:
        """The vector collection with its search breadth raised to `search_ef` (collections made before it was
        set kept Chroma's default); done on open, before the index is loaded for a query."""
        hnsw = (getattr(col, "configuration_json", None) or {}).get("hnsw") or {}
        if int(hnsw.get("ef_search") or 0) < self.config.search_ef:
            col.modify(configuration={"hnsw": {"ef_search": self.config.search_ef}})
        return col

    @property
    def _docs_name(self) -> str:
        return f"{self.config.collection}-docs"

    @property
    def _static_name(self) -> str:
        return f"{self.config.collection}-static"

    def _check_static(self, meta: dict[str, Any]) -> None:
        stored = meta.get("embedding_model")
        if stored and stored != self.static_model_name:
            raise StoreMismatchError(
                f"The tier-1 collection {self._static_name!r} at {self.location} holds vectors of {stored!r}, "
                f"not of {self.static_model_name!r}: re-index with `citebot ingest --reindex`."
            )

    def ensure_static(self, dim: int) -> None:
        """Create the tier-1 (static model) collection on first write, recording its model."""
        if self._static is None:
            self._static = self.client.get_or_create_collection(
                self._static_name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "hnsw:search_ef": self.config.search_ef,
                          "embedding_model": self.static_model_name, "embedding_dim": dim,
                          "citebot_schema": SCHEMA_VERSION},
            )
        self._check_static(self._static.metadata or {})

    def _check_model(self, meta: dict[str, Any], dim: int | None = None) -> None:
        stored = meta.get("embedding_model")
        if stored and stored != self.model_name:
            raise StoreMismatchError(
                f"Collection {self.config.collection!r} at {self.location} was built with embedding model "
                f"{stored!r} (dimension {meta.get('embedding_dim')}), but CITEBOT_EMBEDDING_MODEL is "
                f"{self.model_name!r}. Vectors from different models cannot be mixed: re-index with "
                "`citebot ingest --reindex`, or choose another CITEBOT_COLLECTION."
            )
        if dim is not None and meta.get("embedding_dim") not in (None, dim):
            raise StoreMismatchError(
                f"Collection {self.config.collection!r} holds {meta.get('embedding_dim')}-dimensional vectors "
                f"but the embedding model gives {dim}; vectors cannot be mixed: "
                "re-index with `citebot ingest --reindex`."
            )

    def ensure_collections(self, dim: int) -> None:
        """Create the collections on first write, recording the model name and dimension."""
        if self._chunks is None:
            self._chunks = self.client.get_or_create_collection(
                self.config.collection,
                embedding_function=None,
                metadata={
                    "hnsw:space": "cosine",
                    "hnsw:search_ef": self.config.search_ef,
                    "embedding_model": self.model_name,
                    "embedding_dim": dim,
                    "citebot_schema": SCHEMA_VERSION,
                },
            )
        self._check_model(self._chunks.metadata or {}, dim)
        self.ensure_docs()

    def ensure_docs(self) -> None:
        """Create the document manifest on first write."""
        if self._docs is None:
            self._docs = self.client.get_or_create_collection(
                self._docs_name, embedding_function=None, metadata={"citebot_schema": SCHEMA_VERSION}
            )

    def reset(self) -> None:
        """Drop both collections (used by `--reindex`)."""
        names = {getattr(c, "name", c) for c in self.client.list_collections()}
        for name in (self.config.collection, self._docs_name, self._static_name):
            if name in names:
                self.client.delete_collection(name)
        self._chunks = self._docs = self._static = None

    # -- manifest ----------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        """Every committed document, sorted by source."""
        return self.documents_and_texts(with_texts=False)[0]

    def documents_and_texts(self, with_texts: bool = True) -> tuple[list[Document], dict[str, str]]:
        """Every committed document (sorted by source) and its cleaned text, read together in one get, so the
        texts are of exactly these revisions."""
        if self._docs is None:
            self._open_existing(check_model=True)
        if self._docs is None:
            return [], {}
        got = self._docs.get(include=["metadatas", "documents"] if with_texts else ["metadatas"])
        docs = [_doc(m) for m in got["metadatas"] or []]
        texts = dict(zip(got["ids"], got["documents"] or [], strict=True)) if with_texts else {}
        return sorted(docs, key=lambda d: d.source), texts

    def document_text(self, doc_id: str, rev: str | None = None) -> str | None:
        """The cleaned text of a document, which chunk offsets index into; None if it is gone, or is no longer
        at revision `rev`."""
        return self._texts_at({doc_id: rev} if rev else {doc_id: None}).get(doc_id)

    def document_texts(self) -> dict[str, str]:
        """All cleaned texts by doc_id."""
        return self.documents_and_texts()[1]

    def _texts_at(self, wanted: dict[str, str | None]) -> dict[str, str]:
        """Texts of these documents, each only while it is still at the given revision (None: any)."""
        if self._docs is None or not wanted:
            return {}
        got = self._docs.get(ids=sorted(wanted), include=["documents", "metadatas"])
        return {i: text for i, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [],
                                                 strict=True)
                if wanted.get(i) in (None, str(meta.get("rev")))}

    def commit_document(self, doc: Document, clean_text: str) -> None:
        """Publish a document: after this, its chunks of `doc.rev` are visible."""
        self.commit_documents([(doc, clean_text)])

    def commit_documents(self, docs: Sequence[tuple[Document, str]]) -> None:
        """Publish documents whose chunks are all stored, in one write (each is visible whole or not at all)."""
        assert self._docs is not None, "ensure_collections() first"
        if docs:
            self._docs.upsert(ids=[d.doc_id for d, _ in docs], embeddings=[[1.0]] * len(docs),
                              documents=[text for _, text in docs], metadatas=[_meta(d) for d, _ in docs])

    def set_tier(self, doc: Document, tier: int) -> Document:
        """Mark a committed document's dense vectors as upgraded (one manifest write, so atomic)."""
        return self.set_tiers([doc], tier)[0]

    def set_tiers(self, docs: Sequence[Document], tier: int) -> list[Document]:
        """Mark committed documents as upgraded in one manifest write (each entry flips whole)."""
        assert self._docs is not None, "ensure_collections() first"
        upgraded = [Document(**{**asdict(d), "tier": tier}) for d in docs]
        if upgraded:
            self._docs.update(ids=[d.doc_id for d in upgraded], metadatas=[_meta(d) for d in upgraded])
        return upgraded

    def delete_document(self, doc_id: str) -> None:
        """Unpublish a document first, then delete its chunks."""
        if self._docs is not None:
            self._docs.delete(ids=[doc_id])
        for col in (self._chunks, self._static):
            if col is not None:
                col.delete(where={"doc_id": doc_id})

    # -- chunks ------------------------------------------------------------------------------
    def max_batch(self) -> int:
        """Largest number of records Chroma accepts in one call."""
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:
            return 1000

    def _col(self, tier: int) -> Any:
        return self._static if tier == 1 else self._chunks

    def _read_col(self, tier: int) -> Any:
        """The tier's collection for a read; one another process created after this store was opened is picked
        up here, since a long-running reader (a replica) would otherwise never see a tier it started without."""
        col = self._col(tier)
        if col is None:
            self._open_existing(check_model=True)
            col = self._col(tier)
        return col

    def add_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray, tier: int = 2) -> None:
        """Write chunk vectors of one tier (not yet visible until their document is committed at that tier).

        The chunk's text is not stored again: it is `text[start:end]` of its document's committed text, and
        Chroma's full-text index over a second copy of every passage was a third of the tier-1 write time.
        """
        col = self._col(tier)
        assert col is not None, "ensure_collections() / ensure_static() first"
        step = self.max_batch()
        for lo in range(0, len(chunks), step):
            part = chunks[lo : lo + step]
            col.upsert(
                ids=[c.id for c in part],
                embeddings=embeddings[lo : lo + step],
                metadatas=[
                    {
                        "doc_id": c.doc_id,
                        "rev": c.rev,
                        "index": c.index,
                        "start": c.start,
                        "end": c.end,
                        "source": c.source,
                        "title": c.title,
                    }
                    for c in part
                ],
            )

    def chunk_count(self, tier: int = 2) -> int:
        """Chunks of one tier physically stored, visible or not."""
        col = self._col(tier)
        return 0 if col is None else int(col.count())

    def stored_chunk_ids(self, tier: int = 2, where: dict[str, Any] | None = None) -> dict[str, str]:
        """Every stored chunk id of one tier with its revision, including orphans."""
        col = self._col(tier)
        if col is None:
            return {}
        got = col.get(include=["metadatas"], where=where)
        return {cid: str(m["rev"]) for cid, m in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def collect_garbage(self, docs: Iterable[Document] | None = None) -> int:
        """Delete chunks whose document does not point at them at their tier; returns how many.

        Full-model chunks of a document still at tier 1 stay: they are a killed upgrade's work, which resumes.
        """
        docs = list(self.documents() if docs is None else docs)
        live = {d.rev for d in docs}
        static_live = {d.rev for d in docs if d.tier == 1}
        removed = 0
        step = self.max_batch()
        for tier, keep in ((2, live), (1, static_live)):
            col = self._col(tier)
            stale = [cid for cid, rev in self.stored_chunk_ids(tier).items() if rev not in keep]
            for lo in range(0, len(stale), step):
                col.delete(ids=stale[lo : lo + step])
            removed += len(stale)
        return removed

    def collect_garbage_for(self, doc: Document) -> None:
        """Delete a document's chunks from revisions other than its committed one (and its tier-1 chunks once
        it is upgraded)."""
        other = {"$and": [{"doc_id": doc.doc_id}, {"rev": {"$ne": doc.rev}}]}
        if self._chunks is not None:
            self._chunks.delete(where=other)
        if self._static is not None:
            self._static.delete(where={"doc_id": doc.doc_id} if doc.tier == 2 else other)

    def collect_upgraded(self, docs: Sequence[Document]) -> None:
        """After an upgrade: drop these documents' tier-1 chunks and any full-model chunks of other revisions,
        in one delete per collection (a stale chunk is never visible, so this only reclaims space)."""
        if not docs:
            return
        ids = [d.doc_id for d in docs]
        if self._static is not None:
            self._static.delete(where={"doc_id": {"$in": ids}})
        if self._chunks is not None:
            self._chunks.delete(where={"$and": [{"doc_id": {"$in": ids}},
                                                {"rev": {"$nin": sorted({d.rev for d in docs})}}]})

    def chunks_of(self, doc: Document, tier: int) -> list[Chunk]:
        """A document's stored chunks of its committed revision in one tier, in order ([] once it changed)."""
        col = self._col(tier)
        if col is None:
            return []
        got = col.get(where={"$and": [{"doc_id": doc.doc_id}, {"rev": doc.rev}]}, include=["documents", "metadatas"])
        texts = self._texts_at({doc.doc_id: doc.rev})
        return sorted(_chunks_from(got["ids"], got["documents"], got["metadatas"], texts, {doc.doc_id: doc.rev}),
                      key=lambda c: c.index)

    def visible_chunks(self, docs: Sequence[Document] | None = None,
                       texts: dict[str, str] | None = None) -> list[Chunk]:
        """Every chunk of the committed documents (or of `docs`, a manifest read before, with `texts`, the
        texts read with it), in document order."""
        if docs is None:
            docs, texts = self.documents_and_texts()
        revs = {d.doc_id: d.rev for d in docs}
        if texts is None:
            texts = self._texts_at(dict(revs))
        chunks: list[Chunk] = []
        for tier in (2, 1):
            live = {d.rev for d in docs if d.tier == tier}
            if not live:
                continue
            col = self._read_col(tier)
            if col is None:
                continue
            got = col.get(where={"rev": {"$in": sorted(live)}}, include=["documents", "metadatas"])
            chunks += _chunks_from(got["ids"], got["documents"], got["metadatas"], texts, revs)
        return sorted(chunks, key=lambda c: (c.source, c.index))

    def nearest(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None, revs: Sequence[str] = (),
        tier: int = 2,
    ) -> list[tuple[str, float]]:
        """Ids of the nearest chunks of one tier with cosine similarity; `revs` limits to these committed
        revisions.

        The query vector must come from that tier's model: the caller picks the tier, never mixes them.
        """
        if not revs or k <= 0:
            return []
        col = self._read_col(tier)
        if col is None:
            return []
        clause: dict[str, Any] = {"rev": {"$in": list(revs)}}
        if where:
            clause = {"$and": [clause, where]}
        res = col.query(query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k, where=clause,
                        include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]

    def query(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None, revs: Sequence[str] = (),
        tier: int = 2,
    ) -> list[tuple[Chunk, float]]:
        """The nearest chunks themselves, with their similarity (see `nearest`)."""
        hits = self.nearest(embedding, k, where, revs, tier)
        if not hits:
            return []
        got = self._col(tier).get(ids=[cid for cid, _ in hits], include=["documents", "metadatas"])
        at = {str(m["doc_id"]): str(m["rev"]) for m in got["metadatas"] or []}
        texts = self._texts_at(dict(at))
        by_id = {c.id: c for c in _chunks_from(got["ids"], got["documents"], got["metadatas"], texts, at)}
        return [(by_id[cid], sim) for cid, sim in hits if cid in by_id]


def _chunks_from(ids: list[str], stored: list[str | None] | None, metas: list[Any] | None,
                 texts: dict[str, str], revs: dict[str, str]) -> list[Chunk]:
    """Chunks of their document's revision in `revs`, with their text cut from that revision's text (stores
    written before the text moved there hold it per chunk). Any other chunk is left out: an orphan, or a reader
    that raced an update, whose next refresh sees the new revision whole."""
    out = []
    for i, cid in enumerate(ids):
        meta = (metas or [])[i]
        doc_id = str(meta["doc_id"])
        if revs.get(doc_id) != str(meta["rev"]):
            continue
        text = (stored or [None] * len(ids))[i]
        if not text:
            if doc_id not in texts:
                continue
            text = texts[doc_id][int(meta["start"]) : int(meta["end"])]
        out.append(_chunk(cid, text, meta))
    return out
