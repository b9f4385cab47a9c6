"""Articles added from the page or the API: checked in a staging folder, kept under the upload folder, ingested.

Client file names never become paths: a name is accepted only as a plain file name, and a file is moved
into the upload folder only after it passed every check `citebot ingest` applies. A rejected file
changes nothing that is stored.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingest.config import IngestConfig
from ingest.loaders import SUPPORTED, LoadError, load_file
from ingest.pipeline import FileError, IngestReport, ProgressFn, doc_id_of, ingest, prepare
from ingest.sources.run import ingest_sources
from vectorstore.store import Store

MAX_NAME_CHARS = 120
_SLUG = re.compile(r"[^a-z0-9]+")


class UploadError(ValueError):
    """A request the library refuses as a whole (unknown document, nothing to add); the message says why."""


class NotFoundError(UploadError):
    """No stored document has this id."""


@dataclass
class Upload:
    """One file as the client sent it."""

    name: str
    data: bytes
    size: int | None = None  # the full size when `data` was cut short at the limit


def checked_name(name: str) -> str:
    """The client's file name if it is a plain, safe file name; LoadError saying what is wrong otherwise."""
    if not name or not name.strip():
        raise LoadError("file name is empty")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise LoadError("file name contains a path; send a plain file name such as article.txt")
    if name.startswith("."):
        raise LoadError("file name starts with '.'; hidden files are not ingested")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise LoadError("file name contains control characters")
    if len(name) > MAX_NAME_CHARS:
        raise LoadError(f"file name is {len(name)} characters long; the limit is {MAX_NAME_CHARS}")
    if name.lower().endswith(".meta.json"):
        raise LoadError("metadata sidecars cannot be uploaded; give the metadata as front matter")
    return unicodedata.normalize("NFC", name)


def _plain_name(name: str) -> str | None:
    try:
        return checked_name(name)
    except LoadError:
        return None


def slug(title: str) -> str:
    """A file-name stem from a title: lower-case ASCII words joined by '-'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return _SLUG.sub("-", ascii_title).strip("-")[:60] or "pasted"


class Library:
    """The upload folder and the store, changed one request at a time."""

    def __init__(self, upload_dir: Path, store: Store, embedder_factory: Callable[[], Any],
                 config: IngestConfig, static_factory: Callable[[], Any] | None = None) -> None:
        self.upload_dir = upload_dir.resolve()
        self.store = store
        self.embedder_factory = embedder_factory
        self.config = config
        # Uploads, fetched pages and folders sent by `citebot ingest` get tier-1 vectors (searchable at once); the
        # owner's upgrade worker gives them the full model's.
        self.static_factory = static_factory
        # Chroma and the upload folder are shared; two requests must not interleave their writes.
        self._lock = threading.Lock()

    @property
    def max_bytes(self) -> int:
        """Largest accepted file, the same limit `citebot ingest` applies."""
        return int(self.config.max_file_mb * 1024 * 1024)

    def add(self, uploads: Sequence[Upload], progress: ProgressFn | None = None) -> IngestReport:
        """Check every file, keep the good ones under the upload folder and ingest them; the report names the bad."""
        if not uploads:
            raise UploadError("no files given")
        with self._lock:
            self.upload_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.upload_dir))
            try:
                accepted, errors = self._stage(uploads, staging)
                # Tier 1 when the owner has a static model: answerable within a second or two, whatever the size
                # of the archive; its upgrade worker gives them the full model's vectors behind.
                report = ingest(accepted, self.store, self.embedder_factory, self.config, progress=progress,
                                static_factory=self.static_factory) if accepted else IngestReport()
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        report.errors = errors + [FileError(Path(e.path).name, e.error) for e in report.errors]
        return report

    def ingest_paths(self, paths: Sequence[Path], prune: bool = False,
                     progress: ProgressFn | None = None) -> IngestReport:
        """Ingest files or folders of this machine exactly as `citebot ingest` would (same sources, incremental,
        `prune`): what `citebot ingest` sends while this process owns the store."""
        with self._lock:
            return ingest(paths, self.store, self.embedder_factory, self.config, prune=prune, progress=progress,
                          static_factory=self.static_factory)

    def add_sources(self, urls: Sequence[str], feeds: Sequence[str] = (), progress: ProgressFn | None = None,
                    say: Callable[[str], None] | None = None) -> IngestReport:
        """Fetch pages (and feeds' entries) into the fetched folder and ingest them, with the URL as each document's
        source; per-URL errors in the report."""
        if not urls and not feeds:
            raise UploadError("no URL given")
        folder = self.config.fetched_dir or self.upload_dir.parent / "fetched"
        with self._lock:
            return ingest_sources(
                urls, feeds, folder, self.config.fetch_limits(),
                lambda paths: ingest(paths, self.store, self.embedder_factory, self.config, progress=progress,
                                     static_factory=self.static_factory),
                say)

    def add_text(self, title: str, text: str, progress: ProgressFn | None = None) -> IngestReport:
        """Store pasted text as a Markdown file named after its title, then ingest it."""
        title = " ".join(title.split())
        if not title:
            raise UploadError("title is empty")
        if not text.strip():
            raise UploadError("text is empty")
        body = "---\n" + yaml.safe_dump({"title": title}, allow_unicode=True) + "---\n\n" + text.strip() + "\n"
        return self.add([Upload(f"{slug(title)}.md", body.encode("utf-8"))], progress)

    def _stage(self, uploads: Sequence[Upload], staging: Path) -> tuple[list[Path], list[FileError]]:
        """Write each file to staging and run the loader's checks there; move the good ones into place."""
        accepted: list[Path] = []
        errors: list[FileError] = []
        seen: set[str] = set()
        existing = self.store.documents_by_id(doc_id_of(checked) for up in uploads
                                              if (checked := _plain_name(up.name)) is not None)
        for up in uploads:
            shown = up.name
            try:
                name = checked_name(up.name)
                if Path(name).suffix.lower() not in SUPPORTED:
                    load_file(Path(name), self.max_bytes)  # raises the CLI's "unsupported file type" error
                size = max(up.size or 0, len(up.data))
                if size > self.max_bytes:
                    raise LoadError(f"file is {size / 1e6:.1f} MB, over the {self.max_bytes / 1e6:.0f} MB "
                                    "limit (CITEBOT_MAX_FILE_MB)")
                if name in seen:
                    raise LoadError("the same file name appears twice in this upload")
                seen.add(name)
                target = self.upload_dir / name
                other = existing.get(doc_id_of(name))
                if other is not None and Path(other.path) != target.resolve():
                    raise LoadError(f"a stored document already has the source name {name!r} (from {other.path}); "
                                    "rename the file")
                staged = staging / name
                staged.write_bytes(up.data)
                prepare(load_file(staged, self.max_bytes), staging, self.config)  # every check ingest makes
            except LoadError as exc:
                errors.append(FileError(shown, str(exc)))
                continue
            staged.replace(target)
            accepted.append(target)
        return accepted, errors

    def delete(self, doc_id: str) -> str:
        """Remove a document from the store, and its file when it was uploaded; returns its source."""
        with self._lock:
            doc = self.store.documents_by_id([doc_id]).get(doc_id)
            if doc is None:
                raise NotFoundError(f"no stored document with id {doc_id!r}")
            with self.store.writing("script"):
                self.store.delete_document(doc_id)
            path = Path(doc.path) if doc.path else None
            # Only files in the upload folder are ours to delete; an article ingested from elsewhere stays on disk.
            if path is not None and path.parent == self.upload_dir.resolve() and path.is_file():
                path.unlink()
            return doc.source
