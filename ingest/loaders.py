"""Read one file into text, rejecting what is not an article with a specific reason."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt"} | MARKDOWN_SUFFIXES
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES

_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


class LoadError(ValueError):
    """A file that cannot be ingested; the message says why."""


@dataclass
class Loaded:
    """A file's decoded text plus whatever metadata the file itself declares."""

    path: Path
    raw: bytes
    text: str
    kind: str  # "text", "markdown", "html" or "pdf"
    declared: dict[str, Any] = field(default_factory=dict)


def _decode(raw: bytes, path: Path, declared_encoding: str | None) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if declared_encoding:
            try:
                return raw.decode(declared_encoding)
            except (LookupError, UnicodeDecodeError) as exc2:
                raise LoadError(f"cannot decode as declared encoding {declared_encoding!r}: {exc2}") from exc2
        raise LoadError(
            f"not valid UTF-8 (byte {exc.start}) and no encoding is declared; convert it to UTF-8 "
            "or declare one in NAME.meta.json as {\"encoding\": \"...\"}"
        ) from exc


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata from `NAME.meta.json` or `NAME.EXT.meta.json` beside the file, if present."""
    for cand in (path.with_suffix(".meta.json"), path.with_name(path.name + ".meta.json")):
        if cand.is_file():
            try:
                data = json.loads(cand.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise LoadError(f"sidecar {cand.name} is not valid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise LoadError(f"sidecar {cand.name} must hold a JSON object")
            return data
    return {}


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (`---` ... `---`) and the text after it, blanked to keep offsets honest."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return {str(k).lower(): v for k, v in data.items()}, text[m.end() :]


def load_file(path: Path, max_bytes: int) -> Loaded:
    """Read and decode a file; raise LoadError with a one-line reason when it is not usable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED))}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit (CITEBOT_MAX_FILE_MB)"
            )
        raw = path.read_bytes()
    except PermissionError as exc:
        raise LoadError(f"cannot read file: permission denied ({exc.strerror})") from exc
    except IsADirectoryError as exc:
        raise LoadError("is a directory") from exc
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise LoadError("file is empty")
    if suffix in PDF_SUFFIXES:
        if not raw.startswith(b"%PDF-"):
            raise LoadError("file is named .pdf but is not a PDF (it does not start with %PDF-)")
        # Decoded by ingest.pdf when prepared: the bytes are binary by design.
        return Loaded(path=path, raw=raw, text="", kind="pdf", declared=read_sidecar(path))
    if b"\x00" in raw[:8192]:
        raise LoadError("file is binary (contains NUL bytes), not text")
    declared = read_sidecar(path)
    encoding = declared.get("encoding")
    if suffix in HTML_SUFFIXES and not encoding:
        m = _HTML_CHARSET.search(raw[:4096])
        encoding = m.group(1).decode("ascii") if m else None
    text = _decode(raw, path, encoding)
    if not text.strip():
        raise LoadError("file has no text")
    kind = "html" if suffix in HTML_SUFFIXES else "markdown" if suffix in MARKDOWN_SUFFIXES else "text"
    return Loaded(path=path, raw=raw, text=text, kind=kind, declared=declared)
