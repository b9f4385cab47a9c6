"""Settings section for ingest."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from vectorstore.store import WRITE_BATCH

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


class IngestConfig(BaseModel):
    """How files are read and cut into chunks."""

    chunk_size: int = Field(default=800, ge=100, le=8000, description="Target chunk length in characters.")
    # No overlap by default: the extractive engine reads neighbouring sentences from the document text, so
    # repeating them in chunks only made the full-model tier embed more (both dev sets unchanged without it).
    chunk_overlap: int = Field(
        default=0, ge=0, le=4000, description="Characters of whole sentences repeated between neighbouring chunks."
    )
    ingest_workers: int = Field(
        default=0, ge=0, le=64,
        description="Processes that read, clean and chunk files in parallel (0: one per CPU core; 1: no pool). "
        "HTML extraction is most of the time a document takes to become searchable.",
    )
    write_batch: int = Field(
        default=WRITE_BATCH, ge=1, le=5000,
        description="Chunks per write to the store, and how often new documents are published while a folder is "
        "ingested. Larger is faster; a killed run redoes at most this many chunks.",
    )
    max_file_mb: float = Field(default=20.0, gt=0, description="Files larger than this many MB are rejected.")
    seeds_dir: Path = Field(
        default=SEEDS_DIR, description="Folder that `citebot ingest` (no paths) and `serve --ingest-if-empty` use."
    )
    html_comments: bool = Field(
        default=False,
        description="Also keep the reader comments that trafilatura finds on HTML pages, after the article text. "
        "Off by default: comments are not the article, and readers and extraction benchmarks treat them apart.",
    )
    upload_dir: Path | None = Field(
        default=None,
        description="Where articles added from the page or the API are kept (`citebot ingest DIR --prune` "
        "re-ingests them); default: uploads/ in CITEBOT_DATA_DIR.",
    )
    background_upgrade: bool = Field(
        default=True,
        description="After `citebot ingest`, start a background `citebot upgrade` that gives new documents their "
        "full-model vectors (off: run `citebot upgrade` or `ingest --wait` yourself).",
    )
