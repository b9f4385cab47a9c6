"""A fetched page becomes a file in the fetched folder, with a sidecar naming its URL as the document's source, so
the file pipeline ingests it like a saved one (same cleaning, same incremental skip by content hash) and
`citebot ingest --prune` never mistakes it for a deleted file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest.sources.fetch import Fetched, FetchError

# What a response's Content-Type says the body is, as the file type the loaders read.
_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt", "text/markdown": ".md",
          "application/pdf": ".pdf"}
_HOST = re.compile(r"[^a-z0-9.-]+")


def suffix_for(fetched: Fetched) -> str:
    """The file type of a fetched body: its declared Content-Type, else what the bytes look like."""
    mime = fetched.content_type.split(";", 1)[0].strip().lower()
    if mime in _TYPES:
        return _TYPES[mime]
    head = fetched.body[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return ".pdf"
    if head.startswith((b"<!doctype html", b"<html")):
        return ".html"
    raise FetchError(f"{fetched.final_url} is {mime or 'of no declared type'}, not a web page, text or PDF")


def path_for(folder: Path, url: str, suffix: str) -> Path:
    """Where a URL's body is kept: one file per URL, named by the host and a hash of the address."""
    host = _HOST.sub("-", (urlsplit(url).hostname or "unknown").lower())
    return folder / host / f"{hashlib.sha256(url.encode()).hexdigest()[:20]}{suffix}"


def save(fetched: Fetched, folder: Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the body and its sidecar (source = the URL asked for; url = where it ended up); atomically, so a killed
    run leaves either the old pair or the new."""
    suffix = suffix_for(fetched)
    path = path_for(folder, fetched.url, suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    for other in path.parent.glob(f"{path.stem}.*"):
        # The same URL saved earlier as another type (a page that became a PDF): one document per URL.
        if other.name not in (path.name, f"{path.name}.meta.json") and not other.name.endswith(".part"):
            other.unlink()
    meta = {"source": fetched.url, "url": fetched.final_url, **(extra or {})}
    _write(path.with_name(path.name + ".meta.json"), json.dumps(meta, ensure_ascii=False, indent=1).encode())
    _write(path, fetched.body)
    return path


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
