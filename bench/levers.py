"""What each tier-2 lever is worth, measured in one run on the same sample of the bench corpus.

Full-model encoding dominates the time to the full index, so each lever is timed as the encode of a fixed set of
documents: with the old chunk overlap (150 characters) against none, with batches in document order against
batches sorted by token length (what `ingest.upgrade` does), and with the old encode batch of 64 against the
configured one (`CITEBOT_EMBEDDING_BATCH_SIZE`). The sample is every k-th file, so it spans the
corpus without encoding all of it three times.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.stats import fig
from ingest.config import IngestConfig
from ingest.loaders import load_file
from ingest.pipeline import discover, prepare

OLD_OVERLAP = 150  # the default before the extractive engine read neighbours from the document text
BATCH = 64  # the encode batch before it became a setting with a smaller default


def _chunks(folders: Sequence[Path], overlap: int, every: int) -> list[str]:
    files, _ = discover(folders)
    config = IngestConfig(chunk_overlap=overlap)
    texts: list[str] = []
    for path, root in files[::every]:
        try:
            texts += [c.text for c in prepare(load_file(path, 1 << 30), root, config).chunks]
        except ValueError:
            continue
    return texts


def _in_order(embedder: Any, texts: list[str]) -> None:
    # Batches as the chunks come; sentence-transformers still sorts inside each batch, as it always does.
    for lo in range(0, len(texts), BATCH):
        embedder._model.encode(texts[lo : lo + BATCH], batch_size=BATCH, normalize_embeddings=True,
                               show_progress_bar=False)


def _sorted(embedder: Any, texts: list[str], batch: int) -> None:
    lengths = embedder.token_lengths(texts)
    order = sorted(range(len(texts)), key=lambda i: lengths[i], reverse=True)
    configured = embedder.batch_size
    embedder.batch_size = batch
    try:
        embedder.embed([texts[i] for i in order])
    finally:
        embedder.batch_size = configured


def _median_seconds(run: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_levers(folders: Sequence[Path], embedder: Any, log: Callable[[str], None], every: int = 8,
                 repeats: int = 3) -> dict[str, Any]:
    """Encode seconds of the sample as each lever is added in turn, and each lever's saving."""
    old, new = _chunks(folders, OLD_OVERLAP, every), _chunks(folders, 0, every)
    batch = embedder.batch_size
    embedder.embed(new[:BATCH])  # warm: the first batch pays for torch's lazy set-up
    before = _median_seconds(lambda: _in_order(embedder, old), repeats)  # overlap 150, document order
    overlap_only = _median_seconds(lambda: _in_order(embedder, new), repeats)
    sorted_64 = _median_seconds(lambda: _sorted(embedder, new, BATCH), repeats)
    after = _median_seconds(lambda: _sorted(embedder, new, batch), repeats)  # every lever
    log(f"levers on every {every}th file: {len(old)} chunks with overlap {OLD_OVERLAP} in document order "
        f"{before:.1f}s; {len(new)} without overlap {overlap_only:.1f}s; length-sorted {sorted_64:.1f}s; "
        f"in batches of {batch} instead of {BATCH} {after:.1f}s")
    return {
        "sample_every_kth_file": every,
        "repeats": repeats,
        "chunks_overlap_150": len(old),
        "chunks_overlap_0": len(new),
        "encode_overlap_150_in_order_seconds": fig(before, "s"),
        "encode_overlap_0_in_order_seconds": fig(overlap_only, "s"),
        "encode_overlap_0_sorted_seconds": fig(sorted_64, "s"),
        "encode_batch": batch,
        "encode_overlap_0_sorted_configured_batch_seconds": fig(after, "s"),
        "no_overlap_saving": fig(1 - overlap_only / before, "share"),
        "length_sorted_saving": fig(1 - sorted_64 / overlap_only, "share"),
        "configured_batch_saving": fig(1 - after / sorted_64, "share"),
        "all_saving": fig(1 - after / before, "share"),
    }
