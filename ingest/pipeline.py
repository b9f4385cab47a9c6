"""load → clean → chunk → embed → upsert, incrementally: unchanged files embed nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.chunk import chunk_text
from ingest.clean import clean_text, normalise_paragraph
from ingest.config import IngestConfig
from ingest.html import COMMENTS_HEADING, extract_html
from ingest.loaders import SUPPORTED, Loaded, LoadError, read_sidecar, split_front_matter
from ingest.markdown import markdown_text
from ingest.metadata import Metadata, guess, merge
from ingest.pdf import PdfText, read_pdf
from ingest.workers import Job, Unchanged, run_jobs, start_pool_early
from vectorstore.store import Chunk, Document, Store, chunk_id

# Bump when cleaning or chunking changes meaning, so stored documents are rebuilt.
# 2: Markdown is stored as the text a reader sees, without `#`, `**` or link markup.
# 3: documents carry their outlet (site) and canonical URL.
# 4: an HTML page's description meta is no longer added to its text; only the opening paragraphs' repeats go.
# 5: an HTML page's description is kept as a metadata field and a searchable header line (cited as metadata).
PIPELINE_VERSION = "5"

ProgressFn = Callable[[int, int], None]
# Up to this many files, an ingest reads only their own manifest entries (see _ingest_locked).
_FEW_FILES = 200


@dataclass
class FileError:
    """One file that could not be ingested."""

    path: str
    error: str


@dataclass
class Prepared:
    """A cleaned, chunked document ready to embed."""

    doc: Document
    clean_text: str
    chunks: list[Chunk]
    # The cleaned page text without the metadata header we built (what extraction is scored on).
    page_text: str = ""


@dataclass
class IngestReport:
    """What an ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    errors: list[FileError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `citebot ingest --json` shape."""
        return {
            "documents": {
                "added": self.added,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "removed": self.removed,
                "failed": len(self.errors),
            },
            "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 3),
            "errors": [{"path": e.path, "error": e.error} for e in self.errors],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestReport:
        """The report back from its `to_json` shape (what a server's ingest answers)."""
        counts = data.get("documents") or {}
        return cls(added=int(counts.get("added", 0)), updated=int(counts.get("updated", 0)),
                   unchanged=int(counts.get("unchanged", 0)), removed=int(counts.get("removed", 0)),
                   chunks_embedded=int(data.get("chunks_embedded", 0)), seconds=float(data.get("seconds", 0.0)),
                   errors=[FileError(str(e.get("path", "")), str(e.get("error", ""))) for e in data.get("errors", [])])

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
            f"{len(self.errors)} failed; {self.chunks_embedded} chunks embedded in {self.seconds:.1f}s"
        )


def discover(paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[FileError]]:
    """Expand files and folders (recursively) into (file, root) pairs; sidecars and hidden files are skipped."""
    found: list[tuple[Path, Path]] = []
    errors: list[FileError] = []
    for given in paths:
        if not given.exists():
            errors.append(FileError(str(given), "no such file or directory"))
        elif given.is_dir():
            for f in sorted(given.rglob("*")):
                rel = f.relative_to(given)
                if any(part.startswith(".") for part in rel.parts) or f.name.endswith((".meta.json", ".part")):
                    continue
                if f.is_file() or f.is_symlink():
                    found.append((f, given))
        else:
            found.append((given, given.parent))
    return found, errors


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def source_of(path: Path, root: Path) -> str:
    """The path relative to the ingested root, or the `source` its sidecar declares (a fetched page's URL)."""
    if (declared := _declared_source(path)) is not None:
        return declared
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def _declared_source(path: Path) -> str | None:
    try:
        source = read_sidecar(path).get("source")
    except LoadError:
        return None  # the loader reports the bad sidecar
    return str(source) if source else None


def doc_id_of(source: str) -> str:
    """Stable id of a document: it follows the source path, not the content."""
    return _hash("doc", source)[:16]


def input_key(loaded: Loaded, config: IngestConfig) -> str:
    """Everything that decides a document's stored form; unchanged key means nothing to redo."""
    declared = json.dumps(loaded.declared, sort_keys=True, default=str)
    return _hash("in", hashlib.sha256(loaded.raw).hexdigest(), declared, PIPELINE_VERSION,
                 str(config.chunk_size), str(config.chunk_overlap), _html_options(config))[:32]


def _html_options(config: IngestConfig) -> str:
    return f"comments={config.html_comments}"


def prepare(loaded: Loaded, root: Path, config: IngestConfig) -> Prepared:
    """Clean, describe and chunk one loaded file."""
    source = str(loaded.declared.get("source") or source_of(loaded.path, root))
    declared = dict(loaded.declared)
    pdf: PdfText | None = None
    if loaded.kind == "pdf":
        pdf = read_pdf(loaded.raw)
        declared = {**{k: v for k, v in (("title", pdf.title), ("author", pdf.author)) if v}, **declared}
        text = "\n\n".join(p for _, p in pdf.paragraphs)
        page_text = ""
    elif loaded.kind == "html":
        page = extract_html(loaded.text, comments=config.html_comments)
        if page is None:
            raise LoadError("HTML page has no extractable article text")
        declared = {**page.meta, **declared}
        page_text = clean_text(page.body).text
        text = "\n\n".join([*page.header, page.body])
    else:
        front, text = split_front_matter(loaded.text)
        declared = {**front, **declared}
        page_text = ""
        if loaded.kind == "markdown":
            text = markdown_text(text)
    cleaned = clean_text(text)
    if not cleaned.paragraphs:
        raise LoadError("no article text left after removing boilerplate")
    meta: Metadata = merge(guess(cleaned.paragraphs, loaded.path.stem, cleaned.avatar_names), declared)
    if meta.published is None and declared.get("feed_published"):
        meta.published = str(declared["feed_published"])  # the feed entry's date, when the page gives none
    body = cleaned.text
    pages = page_starts(pdf.paragraphs, cleaned.paragraphs) if pdf is not None else ""
    comments_at = -1
    if loaded.kind == "html" and config.html_comments and COMMENTS_HEADING in cleaned.paragraphs:
        i = len(cleaned.paragraphs) - 1 - cleaned.paragraphs[::-1].index(COMMENTS_HEADING)
        comments_at = sum(len(p) + 2 for p in cleaned.paragraphs[:i])
    sha = hashlib.sha256(loaded.raw).hexdigest()
    doc_id = doc_id_of(source)
    rev = _hash("rev", sha, PIPELINE_VERSION, str(config.chunk_size), str(config.chunk_overlap),
                meta.title, meta.author or "", meta.published or "")[:16]
    pieces = chunk_text(body, config.chunk_size, config.chunk_overlap)
    chunks = [
        Chunk(id=chunk_id(doc_id, rev, i), doc_id=doc_id, rev=rev, index=i, start=p.start, end=p.end,
              text=p.text, source=source, title=meta.title)
        for i, p in enumerate(pieces)
    ]
    doc = Document(
        doc_id=doc_id, source=source, path=str(loaded.path.resolve()), title=meta.title, author=meta.author,
        published=meta.published, site=meta.site, url=meta.url, sha256=sha, rev=rev,
        ingested_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), chunks=len(chunks),
        input_key=input_key(loaded, config), pages=pages, description=meta.description, comments_at=comments_at,
    )
    return Prepared(doc=doc, clean_text=body, chunks=chunks, page_text=page_text or body)


def page_starts(pages: list[tuple[int, str]], kept: list[str]) -> str:
    """Where each page begins in the cleaned text, as "page:offset" pairs ("1:0,2:1830"): the cleaned paragraphs
    are the PDF's paragraphs in order, less the ones cleaning dropped."""
    out: list[str] = []
    offset, i, last = 0, 0, None
    for par in kept:
        j = i
        while j < len(pages) and normalise_paragraph(pages[j][1]) != par:
            j += 1
        page = pages[j][0] if j < len(pages) else (last or 1)
        i = j + 1 if j < len(pages) else i
        if page != last:
            out.append(f"{page}:{offset}")
            last = page
        offset += len(par) + 2
    return ",".join(out)


def ingest(
    paths: Iterable[Path],
    store: Store,
    embedder_factory: Callable[[], Any],
    config: IngestConfig,
    *,
    prune: bool = False,
    reindex: bool = False,
    progress: ProgressFn | None = None,
    batch_size: int | None = None,
    static_factory: Callable[[], Any] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> IngestReport:
    """Bring the store in line with the files; embed only what changed.

    With `static_factory`, new chunks get tier-1 vectors from the static model and their documents are
    searchable at once; `ingest.upgrade.upgrade` later gives them full-model vectors. Without it, documents are
    embedded with the full model straight away. One ingest writes to a store at a time: another run waits for
    the store's ingest lock (`on_wait` hears who holds it), then finds the files it would have embedded unchanged.
    """
    with store.ingest_lock(on_wait):
        # Another run may have created the collections or committed documents while this one waited.
        store.reload(check_model=not reindex)
        return _ingest_locked(paths, store, embedder_factory, config, prune=prune, reindex=reindex,
                              progress=progress, batch_size=batch_size or config.write_batch,
                              static_factory=static_factory)


def _ingest_locked(
    paths: Iterable[Path],
    store: Store,
    embedder_factory: Callable[[], Any],
    config: IngestConfig,
    *,
    prune: bool,
    reindex: bool,
    progress: ProgressFn | None,
    batch_size: int,
    static_factory: Callable[[], Any] | None,
) -> IngestReport:
    t0 = time.perf_counter()
    report = IngestReport()
    files, report.errors = discover(paths)
    start_pool_early(len(files), config)
    if reindex:
        store.reset()
    max_bytes = int(config.max_file_mb * 1024 * 1024)
    if prune or len(files) > _FEW_FILES:
        existing = {d.doc_id: d for d in store.documents()}
        if store.chunk_count() or store.chunk_count(tier=1):
            # Chunks of a run that died before committing their document (also on a store with none committed
            # yet), so a new document's own commit has nothing older to clean up.
            store.collect_garbage(existing.values())
    else:
        # A few files (an upload, a fetched page) into a large archive: only their own entries are read, and
        # the store-wide clean-up of a killed run's chunks (invisible, only disk) waits for a larger ingest.
        existing = store.documents_by_id(doc_id_of(source_of(path, root)) for path, root in files)
    seen: dict[str, str] = {}
    jobs = []
    for path, root in files:
        old = existing.get(doc_id_of(source_of(path, root)))
        jobs.append(Job(path, root, old.input_key if old is not None else None))
    # Tier 1 is cheap per chunk, so documents are embedded and published while later files are still being read
    # (progress counts files); the full model instead waits for every chunk, to batch them by length.
    streaming = static_factory is not None
    todo: list[Prepared] = []
    pending_chunks = 0

    def flush() -> None:
        nonlocal todo, pending_chunks
        if todo:
            replacing = {p.doc.doc_id for p in todo} & set(existing)
            # Tier 1 writes what it has in one call: each Chroma write has a high fixed cost, and the static
            # model needs no batching.
            report.chunks_embedded += _embed_and_commit(todo, store, static_factory or embedder_factory,
                                                        None if streaming else progress,
                                                        max(batch_size, pending_chunks) if streaming else batch_size,
                                                        tier=1 if streaming else 2, replacing=replacing)
            report.updated += len(replacing)
            report.added += len(todo) - len(replacing)
        todo, pending_chunks = [], 0

    if streaming and progress:
        progress(0, len(jobs))
    for i, (job, result) in enumerate(zip(jobs, run_jobs(jobs, config, max_bytes), strict=True), 1):
        if isinstance(result, Prepared):
            doc = result.doc
            if doc.doc_id in seen:
                report.errors.append(FileError(str(job.path), f"same source name {doc.source!r} as "
                                               f"{seen[doc.doc_id]}"))
            else:
                seen[doc.doc_id] = str(job.path)
                old = existing.get(doc.doc_id)
                if old is not None and old.rev == doc.rev:
                    report.unchanged += 1
                else:
                    todo.append(result)
                    pending_chunks += len(result.chunks)
        elif isinstance(result, Unchanged):
            doc_id = doc_id_of(source_of(job.path, job.root))
            if doc_id in seen:
                report.errors.append(FileError(str(job.path), f"same source name {existing[doc_id].source!r} as "
                                               f"{seen[doc_id]}"))
            else:  # same bytes, same metadata, same settings: nothing was parsed or chunked
                seen[doc_id] = str(job.path)
                report.unchanged += 1
        else:
            report.errors.append(FileError(str(job.path), str(result)))
        if streaming and pending_chunks >= batch_size:
            flush()
        if streaming and progress:
            progress(i, len(jobs))
    flush()

    if prune:
        for doc in existing.values():
            if doc.doc_id not in seen and doc.path and not Path(doc.path).exists():
                store.delete_document(doc.doc_id)
                report.removed += 1
    report.seconds = time.perf_counter() - t0
    return report


def _embed_and_commit(
    todo: list[Prepared],
    store: Store,
    embedder_factory: Callable[[], Any],
    progress: ProgressFn | None,
    batch_size: int,
    tier: int = 2,
    replacing: set[str] | frozenset[str] = frozenset(),
) -> int:
    """Embed all new chunks in length-sorted batches; publish each document once its last chunk is stored."""
    embedder = embedder_factory()
    if tier == 1:
        store.ensure_static(embedder.dimension)
        store.ensure_docs()
        for p in todo:
            p.doc.tier = 1
    else:
        store.ensure_collections(embedder.dimension)
    chunks = [c for p in todo for c in p.chunks]
    remaining = {p.doc.doc_id: len(p.chunks) for p in todo}
    by_id = {p.doc.doc_id: p for p in todo}
    _publish(store, [p for p in todo if not p.chunks], replacing)
    order = sorted(range(len(chunks)), key=lambda i: len(chunks[i].text), reverse=True)
    done = 0
    if progress:
        progress(0, len(chunks))
    for lo in range(0, len(order), batch_size):
        batch = [chunks[i] for i in order[lo : lo + batch_size]]
        vectors = embedder.embed([c.text for c in batch])
        store.add_chunks(batch, vectors, tier=tier)
        complete = []
        for c in batch:
            remaining[c.doc_id] -= 1
            if remaining[c.doc_id] == 0:
                complete.append(by_id[c.doc_id])
        _publish(store, complete, replacing)
        done += len(batch)
        if progress:
            progress(done, len(chunks))
    return len(chunks)


def _publish(store: Store, prepared: list[Prepared], replacing: set[str] | frozenset[str]) -> None:
    """Make documents visible (one manifest write), then drop what their earlier revisions left behind."""
    store.commit_documents([(p.doc, p.clean_text) for p in prepared])
    for p in prepared:
        if p.doc.doc_id in replacing:  # a new document has nothing older to collect
            store.collect_garbage_for(p.doc)


def supported_suffixes() -> list[str]:
    """File types ingest accepts."""
    return sorted(SUPPORTED)
