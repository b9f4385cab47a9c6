"""Chroma storage: chunk vectors plus a document manifest that makes each document visible atomically.

A document's chunks are written first and its manifest entry last. Readers only see chunks whose
revision matches the manifest, so a crash mid-write leaves nothing half-indexed in view, and the
next ingest garbage-collects the orphans and finishes the job.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from vectorstore.config import StoreConfig
from vectorstore.embeddings import canonical_name
from vectorstore.errors import StoreError, StoreUnavailableError
from vectorstore.lease import IngestLock
from vectorstore.owner import Ownership, generation, stop_detached_upgrade
from vectorstore.static import static_name

__all__ = ["Chunk", "Document", "Store", "StoreError", "StoreMismatchError", "StoreUnavailableError"]
log = logging.getLogger("citebot.store")
_T = TypeVar("_T")

SCHEMA_VERSION = 1
# Chunks per write: each Chroma call has a high fixed cost, and a killed run redoes at most this many chunks.
WRITE_BATCH = 128
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")


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


def chunk_id(doc_id: str, rev: str, index: int) -> str:
    """The id of a document revision's `index`-th chunk (the store's ids are made this way)."""
    return f"{doc_id}-{rev}-{index:05d}"


def split_chunk_id(cid: str) -> tuple[str, str, int] | None:
    """(doc_id, rev, index) of a chunk id made by `chunk_id`; None for any other string."""
    parts = cid.rsplit("-", 2)
    if len(parts) != 3 or not all(parts) or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


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
    site: str | None = None  # the outlet (a page's site name or host, or as declared)
    url: str | None = None  # the page's canonical address
    description: str | None = None  # the page's own summary (description meta): metadata, searchable, not quoted
    comments_at: int = -1  # where readers' comments begin in the clean text (kept with CITEBOT_HTML_COMMENTS); -1: none
    pages: str = ""  # a PDF's page starts in the clean text, "page:offset,…" ("1:0,2:1830"); empty for other types

    def page_at(self, offset: int) -> int | None:
        """The PDF page an offset of the clean text is on (None for a document without pages)."""
        page = None
        for pair in self.pages.split(",") if self.pages else ():
            number, _, start = pair.partition(":")
            if int(start) > offset:
                break
            page = int(number)
        return page


def _meta(doc: Document, written: int | None = None) -> dict[str, Any]:
    # Chroma metadata cannot hold None. `changed` stamps a manifest write (see Store.documents_changed).
    out: dict[str, Any] = {k: ("" if v is None else v) for k, v in asdict(doc).items()}
    if written is not None:
        out["changed"] = written
    return out


def now_us() -> int:
    """The wall clock in microseconds: what manifest writes are stamped with."""
    return time.time_ns() // 1000


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
        site=str(meta.get("site") or "") or None,
        url=str(meta.get("url") or "") or None,
        pages=str(meta.get("pages") or ""),
        description=str(meta.get("description") or "") or None,
        comments_at=int(meta.get("comments_at", -1)),
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


# One Chroma client per embedded folder in this process, as Chroma itself shares one system per folder; a reopen
# replaces it for every Store of the folder, each of which adopts the new one on its next call.
_shared: dict[str, tuple[int, Any]] = {}
_shared_lock = threading.Lock()
_next_generation = [0]
# What the folder's database files looked like when this process last knew its client to be current.
_stamps: dict[str, tuple[int, ...]] = {}


def _stamp(folder: Path) -> tuple[int, ...]:
    """Changes whenever any process writes to the embedded store (Chroma writes its SQLite log first)."""
    out: list[int] = []
    for name in ("chroma.sqlite3", "chroma.sqlite3-wal"):
        try:
            st = (folder / name).stat()
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [0, 0]
    return tuple(out)


def _shared_client(config: StoreConfig, key: str, replace: int | None = None) -> tuple[int, Any]:
    """The folder's current client; with `replace`, a new one instead of that generation (unless another thread
    replaced it already)."""
    with _shared_lock:
        cur = _shared.get(key)
        if cur is not None and (replace is None or cur[0] != replace):
            return cur
        if cur is not None:
            _drop_client(cur[1])
        _next_generation[0] += 1
        _stamps[key] = _stamp(Path(config.chroma_path))
        _shared[key] = (_next_generation[0], make_client(config))
        return _shared[key]


def _drop_client(client: Any) -> None:
    """Forget an embedded client's shared system, so the next client of that folder loads the store from disk
    (Chroma otherwise hands out the same in-memory one), and stop it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    ident = getattr(client, "_identifier", None)
    system = SharedSystemClient._identifier_to_system.pop(ident, None) if ident is not None else None
    if ident is not None:
        SharedSystemClient._identifier_to_refcount.pop(ident, None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # a broken system is what we are replacing
            log.debug("stopping the old Chroma system failed", exc_info=True)


def _is_internal(exc: BaseException) -> bool:
    """Chroma's errors that mean its in-memory state is off (not a bad request of ours)."""
    try:
        from chromadb.errors import InternalError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, InternalError)


def _read(method: Callable[..., _T]) -> Callable[..., _T]:
    """A read that survives a broken handle: on an internal Chroma error the store reopens its client and tries
    once more; a second failure is StoreUnavailableError (servers answer 503 and /readyz says why)."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> _T:
        opened = self._client_generation
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:
            if not _is_internal(exc):
                raise
            log.warning("Chroma failed in %s (%s); reopening the store and trying once more", method.__name__, exc)
            try:
                self.reopen(unless_since=opened)
                result = method(self, *args, **kwargs)
            except Exception as again:
                if not (_is_internal(again) or isinstance(again, StoreError)):
                    raise
                self.failures[method.__name__] = str(again)
                raise StoreUnavailableError(
                    f"the store at {self.location} failed twice ({again}); it is reopened on the next request"
                ) from again
        if self.failures:
            self.failures.pop(method.__name__, None)
        return result

    return wrapper


class _Collection:
    """A Store's handle on one collection, brought up to date with the folder's shared client on every use."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, store: Store, owner: type | None = None) -> Any:
        store._sync()
        return store._cols.get(self.key)

    def __set__(self, store: Store, col: Any) -> None:
        store._cols[self.key] = col


class Store:
    """The chunk collection and its document manifest in one Chroma database."""

    def __init__(self, client: Any, config: StoreConfig, check_model: bool = True) -> None:
        if not _NAME_RE.match(config.collection):
            raise StoreError(
                f"CITEBOT_COLLECTION={config.collection!r} is not a valid name: use 3-63 characters "
                "of letters, digits, '.', '_' or '-', starting and ending with a letter or digit."
            )
        self.config = config
        self.model_name = canonical_name(config.embedding_model)
        self.static_model_name = static_name(config)
        self._key = str(Path(config.chroma_path).resolve())
        self._cols: dict[str, Any] = {}
        # Which client generation this Store's collections belong to (0: a client of its own).
        self._client_generation = 0
        self.client = client
        if self.embedded and client is None:
            self._client_generation, self.client = _shared_client(config, self._key)
        # Reads that failed even after a reopen, by method (each cleared by its next good call), for /readyz.
        self.failures: dict[str, str] = {}
        self._open_existing(check_model)

    # The collections, re-got when another Store of this folder in this process reopened the shared client.
    _chunks = _Collection("chunks")
    _static = _Collection("static")
    _docs = _Collection("docs")

    def _sync(self) -> None:
        if self._client_generation and _shared.get(self._key, (self._client_generation,))[0] != \
                self._client_generation:
            self._adopt(_shared_client(self.config, self._key))

    def _adopt(self, current: tuple[int, Any]) -> None:
        self._client_generation, self.client = current
        self._cols = {}
        self._open_existing(check_model=False)

    @property
    def embedded(self) -> bool:
        """On disk in this process (not a Chroma server)."""
        return not self.config.chroma_url

    @property
    def folder(self) -> Path:
        return Path(self.config.chroma_path)

    @property
    def owned(self) -> bool:
        """Does this process own the embedded store (its in-memory index then sees every write)?"""
        return self.embedded and generation(self.folder) is not None

    def reopen(self, unless_since: int | None = None) -> None:
        """A new client that loads the store from disk, and the collections again: after another process wrote
        (a reader), after taking the store anew (an owner), or when Chroma failed. With `unless_since`, a client
        that another thread made since that generation is adopted instead of making one more."""
        if not self.embedded:
            self.client = make_client(self.config)
            self._client_generation += 1
            self._cols = {}
            self._open_existing(check_model=False)
            return
        replace = self._client_generation if unless_since is None else unless_since
        self._adopt(_shared_client(self.config, self._key, replace=replace))

    @property
    def failure(self) -> str | None:
        """What failed last even after a reopen, while it still fails (None when the store is well)."""
        return "; ".join(f"{k}: {v}" for k, v in self.failures.items()) or None

    def change_token(self) -> tuple[int, ...] | None:
        """Changes whenever any process writes the embedded store (its SQLite files' sizes and times), and is read
        without asking Chroma anything, so a reader can skip re-reading the manifest when nothing was written;
        None for a Chroma server, whose manifest must be read to know."""
        return _stamp(self.folder) if self.embedded else None

    def follow_writes(self) -> None:
        """Called when the manifest changed: a process that does not own the embedded store reopens it, since
        its in-memory vector index does not have the owner's new vectors (Chroma would fail to find them)."""
        if self.embedded and not self.owned:
            self.reopen()

    @contextmanager
    def writing(self, role: str = "script", on_wait: Callable[[str], None] | None = None,
                exclusive: bool = False) -> Iterator[None]:
        """Own the embedded store for the block (see vectorstore.owner); when another process wrote since this
        one's client was current, it is reopened first. `exclusive` also keeps other threads of this process
        out (one ingest at a time). A Chroma server needs no owner."""
        if not self.embedded:
            yield
            return
        with Ownership(self.folder, role, on_wait=on_wait, give_way=stop_detached_upgrade) as claim:
            if claim.fresh and _stamps.get(self._key) != _stamp(self.folder):
                self.reopen()
            try:
                if not exclusive:
                    yield
                    return
                mutex = _ingest_mutex(self.folder)
                if not mutex.acquire(blocking=False):
                    if on_wait is not None:
                        on_wait("another ingest in this process is writing to the store; waiting for it …")
                    mutex.acquire()
                try:
                    yield
                finally:
                    mutex.release()
            finally:
                if claim.fresh:
                    _stamps[self._key] = _stamp(self.folder)

    def reload(self, check_model: bool = True) -> None:
        """Pick up collections another process created since this store was opened (after waiting for it)."""
        self._open_existing(check_model)

    def ingest_lock(self, on_wait: Callable[[str], None] | None = None) -> Any:
        """What one ingest holds while it writes: the store's ownership here (one ingest of this process at a
        time), a lease record on a Chroma server."""
        if self.embedded:
            return self.writing("ingest", on_wait, exclusive=True)
        return IngestLock(self.client, self.folder, self.config.collection, server=True, on_wait=on_wait)

    @classmethod
    def open(cls, config: StoreConfig, check_model: bool = True) -> Store:
        """Open the configured store; `check_model=False` only for a re-index that will drop it."""
        return cls(None if not config.chroma_url else make_client(config), config, check_model)

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
        self._cols = {}

    # -- manifest ----------------------------------------------------------------------------
    def documents(self, where: dict[str, Any] | None = None) -> list[Document]:
        """Every committed document (or those whose entry matches `where`, e.g. {"tier": 1}), sorted by source."""
        return self.documents_and_texts(with_texts=False, where=where)[0]

    @_read
    @_read
    def document_count(self) -> int:
        """How many documents are committed, without reading them (a readiness probe's question)."""
        if self._docs is None:
            self._open_existing(check_model=True)
        return 0 if self._docs is None else int(self._docs.count())

    @_read
    def documents_changed(self, since_us: int) -> list[Document]:
        """The committed documents whose manifest entry was written (committed, or its tier flipped) at or after
        `since_us` (µs since the epoch, by the writer's clock): what a reader that read the manifest then must
        read again. Removed documents are not among them; `document_count` and `document_ids` tell those."""
        if self._docs is None:
            self._open_existing(check_model=True)
        if self._docs is None:
            return []
        got = _paged(self._docs, ["metadatas"], where={"changed": {"$gte": since_us}})
        return [_doc(m) for m in got["metadatas"]]

    @_read
    def document_ids(self) -> set[str]:
        """The ids of every committed document, without their entries."""
        if self._docs is None:
            self._open_existing(check_model=True)
        return set() if self._docs is None else set(_paged(self._docs, [])["ids"])

    @_read
    def documents_by_id(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The committed documents among these ids: what a small ingest or an upload needs, without reading the
        whole manifest (whose size grows with the archive)."""
        if self._docs is None:
            self._open_existing(check_model=True)
        ids = sorted(set(doc_ids))
        if self._docs is None or not ids:
            return {}
        out: dict[str, Document] = {}
        for lo in range(0, len(ids), _IN_LIMIT):
            got = self._docs.get(ids=ids[lo : lo + _IN_LIMIT], include=["metadatas"])
            out.update({i: _doc(m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)})
        return out

    def documents_and_texts(self, with_texts: bool = True, where: dict[str, Any] | None = None
                            ) -> tuple[list[Document], dict[str, str]]:
        """Every committed document (sorted by source) and its cleaned text, read together in one get, so the
        texts are of exactly these revisions."""
        if self._docs is None:
            self._open_existing(check_model=True)
        if self._docs is None:
            return [], {}
        got = _paged(self._docs, ["metadatas", "documents"] if with_texts else ["metadatas"], where)
        docs = list({i: _doc(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)}.values())
        texts = dict(zip(got["ids"], got["documents"], strict=True)) if with_texts else {}
        return sorted(docs, key=lambda d: d.source), texts

    def document_text(self, doc_id: str, rev: str | None = None) -> str | None:
        """The cleaned text of a document, which chunk offsets index into; None if it is gone, or is no longer
        at revision `rev`."""
        return self._texts_at({doc_id: rev} if rev else {doc_id: None}).get(doc_id)

    def document_texts(self) -> dict[str, str]:
        """All cleaned texts by doc_id."""
        return self.documents_and_texts()[1]

    def texts_at(self, wanted: dict[str, str | None]) -> dict[str, str]:
        """Texts of these documents, each only while it is still at the given revision (None: any)."""
        return self._texts_at(wanted)

    @_read
    def _texts_at(self, wanted: dict[str, str | None]) -> dict[str, str]:
        """Texts of these documents, each only while it is still at the given revision (None: any)."""
        if self._docs is None or not wanted:
            return {}
        ids, out = sorted(wanted), {}
        for lo in range(0, len(ids), _IN_LIMIT):  # a list of ids is a list of SQL variables: bounded
            got = self._docs.get(ids=ids[lo : lo + _IN_LIMIT], include=["documents", "metadatas"])
            out.update({i: text for i, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [],
                                                         strict=True)
                        if wanted.get(i) in (None, str(meta.get("rev")))})
        return out

    def commit_document(self, doc: Document, clean_text: str) -> None:
        """Publish a document: after this, its chunks of `doc.rev` are visible."""
        self.commit_documents([(doc, clean_text)])

    def commit_documents(self, docs: Sequence[tuple[Document, str]]) -> None:
        """Publish documents whose chunks are all stored, in one write (each is visible whole or not at all)."""
        assert self._docs is not None, "ensure_collections() first"
        if docs:
            written = now_us()
            self._docs.upsert(ids=[d.doc_id for d, _ in docs], embeddings=[[1.0]] * len(docs),
                              documents=[text for _, text in docs], metadatas=[_meta(d, written) for d, _ in docs])

    def set_tier(self, doc: Document, tier: int) -> Document:
        """Mark a committed document's dense vectors as upgraded (one manifest write, so atomic)."""
        return self.set_tiers([doc], tier)[0]

    def set_tiers(self, docs: Sequence[Document], tier: int) -> list[Document]:
        """Mark committed documents as upgraded in one manifest write (each entry flips whole)."""
        assert self._docs is not None, "ensure_collections() first"
        upgraded = [Document(**{**asdict(d), "tier": tier}) for d in docs]
        if upgraded:
            written = now_us()
            self._docs.update(ids=[d.doc_id for d in upgraded], metadatas=[_meta(d, written) for d in upgraded])
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

    @_read
    def chunk_count(self, tier: int = 2) -> int:
        """Chunks of one tier physically stored, visible or not."""
        col = self._col(tier)
        return 0 if col is None else int(col.count())

    @_read
    def stored_chunk_ids(self, tier: int = 2, where: dict[str, Any] | None = None) -> dict[str, str]:
        """Every stored chunk id of one tier with its revision, including orphans."""
        col = self._col(tier)
        if col is None:
            return {}
        got = _paged(col, ["metadatas"], where)
        return {cid: str(m["rev"]) for cid, m in zip(got["ids"], got["metadatas"], strict=True)}

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

    @_read
    def chunks_of(self, doc: Document, tier: int) -> list[Chunk]:
        """A document's stored chunks of its committed revision in one tier, in order ([] once it changed)."""
        col = self._col(tier)
        if col is None:
            return []
        got = col.get(where={"$and": [{"doc_id": doc.doc_id}, {"rev": doc.rev}]}, include=["documents", "metadatas"])
        texts = self._texts_at({doc.doc_id: doc.rev})
        return sorted(_chunks_from(got["ids"], got["documents"], got["metadatas"], texts, {doc.doc_id: doc.rev}),
                      key=lambda c: c.index)

    @_read
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
            at_tier = {d.doc_id: d.rev for d in docs if d.tier == tier}
            if not at_tier:
                continue
            col = self._read_col(tier)
            if col is None:
                continue
            # Every stored chunk of the tier, page by page, kept when its document is committed at this tier and
            # revision. Never a filter listing every live revision: SQLite refuses that many variables (a store
            # of 20,000 articles could not be opened), and its cost grew with the archive anyway. What is not
            # visible (a running ingest's or upgrade's chunks, a killed run's orphans) is few and dropped here.
            total = int(col.count())
            for offset in range(0, total, _PAGE):
                got = col.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
                chunks += _chunks_from(got["ids"], got["documents"], got["metadatas"], texts, at_tier)
        return sorted(chunks, key=lambda c: (c.source, c.index))

    @_read
    def nearest(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None, revs: Collection[str] = (),
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
        query = [np.asarray(embedding, dtype=np.float32)]
        if len(revs) <= _IN_LIMIT:
            clause: dict[str, Any] = {"rev": {"$in": list(revs)}}
            res = col.query(query_embeddings=query, n_results=k, where={"$and": [clause, where]} if where else clause,
                            include=["distances"])
            return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]
        # Many revisions (most of an archive): search without listing them and keep the hits of these revisions,
        # asking for more when too few were (the collection also holds chunks not yet, or no longer, visible).
        wanted = revs if isinstance(revs, set | frozenset) else set(revs)
        stored = int(col.count())
        fetch = k
        while True:
            res = col.query(query_embeddings=query, n_results=min(fetch, stored), where=where or None,
                            include=["distances", "metadatas"])
            hits = [(cid, 1.0 - float(dist)) for cid, dist, meta in
                    zip(res["ids"][0], res["distances"][0], res["metadatas"][0] or [], strict=True)
                    if str(meta.get("rev")) in wanted]
            if len(hits) >= k or fetch >= stored:
                return hits[:k]
            fetch *= 4

    @_read
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


# Revisions listed in one `$in` filter at most (SQLite's limit on variables is 32,766, and a long list makes the
# query slow); above it, searches filter in Python.
_IN_LIMIT = 500
_PAGE = 5000  # records per read when loading a whole collection


def _paged(col: Any, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list[Any]]:
    """Every record of a collection (matching `where`), read a page at a time. One unbounded get fails above
    32,766 records: Chroma fetches the records it found by listing their ids, and SQLite refuses more variables
    (a store of 100,000 articles could not be read)."""
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = col.get(include=include, where=where, limit=_PAGE, offset=offset)
        out["ids"] += got["ids"]
        for k in include:
            out[k] += got.get(k) or [None] * len(got["ids"])
        if len(got["ids"]) < _PAGE:
            return out
        offset += _PAGE

_mutexes: dict[str, threading.Lock] = {}
_mutexes_guard = threading.Lock()


def _ingest_mutex(folder: Path) -> threading.Lock:
    with _mutexes_guard:
        return _mutexes.setdefault(str(folder.resolve()), threading.Lock())


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
