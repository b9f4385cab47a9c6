"""Settings section for ingest."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from ingest.sources.fetch import FetchLimits
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
    fetched_dir: Path | None = Field(
        default=None,
        description="Where pages fetched from URLs and feeds are kept, one file per URL with a sidecar naming the URL "
        "as the document's source; default: fetched/ in CITEBOT_DATA_DIR.",
    )
    fetch_allow_private: bool = Field(
        default=False,
        description="Also fetch URLs whose host resolves to a private, loopback or link-local address. Off by "
        "default: a server that fetches what clients name must not read its own network (SSRF).",
    )
    fetch_allowed_networks: list[str] = Field(
        default_factory=list,
        description="Private networks that may be fetched all the same (JSON list of CIDRs, e.g. "
        "[\"10.20.0.0/16\"] for an intranet CMS), when CITEBOT_FETCH_ALLOW_PRIVATE is off.",
    )
    fetch_timeout_s: float = Field(default=20.0, gt=0, le=300, description="Seconds one URL fetch may take to "
                                   "connect, and between bytes.")
    fetch_max_redirects: int = Field(default=5, ge=0, le=20, description="Redirects followed per URL (each hop is "
                                     "checked like the first).")
    fetch_user_agent: str = Field(default="citebot/1 (news archive ingest; +https://github.com/citebot)",
                                  description="User-Agent sent when fetching pages and feeds.")
    background_upgrade: bool = Field(
        default=True,
        description="Give documents their full-model vectors in the background: after `citebot ingest` (a "
        "background `citebot upgrade`) and inside `citebot serve` (a worker thread). Off: documents stay on the "
        "static model until you run `citebot upgrade` or `ingest --wait`.",
    )

    def fetch_limits(self) -> FetchLimits:
        """The limits of one URL fetch, from these settings (the size limit is the file limit)."""
        return FetchLimits(timeout_s=self.fetch_timeout_s, max_bytes=int(self.max_file_mb * 1024 * 1024),
                           max_redirects=self.fetch_max_redirects, user_agent=self.fetch_user_agent,
                           allow_private=self.fetch_allow_private,
                           allowed_networks=tuple(self.fetch_allowed_networks))
