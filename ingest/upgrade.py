"""Tier 2: give tier-1 documents full-model vectors in place, resumably, one worker at a time.

For each document still at tier 1, the chunks missing from the full-model collection are embedded (those a
killed worker already wrote are kept), and then one manifest write flips the document to tier 2. Until that
write, retrieval keeps using the document's static vectors, so a kill at any point leaves a consistent store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vectorstore.lease import FileLock
from vectorstore.store import WRITE_BATCH, Chunk, Document, Store

ProgressFn = Callable[[int, int], None]
# Documents are upgraded in rounds of about this many batches: big enough for length-sorted batches to pad
# little, small enough that documents flip to the full index steadily.
ROUND_BATCHES = 8


@dataclass
class IndexStatus:
    """How far the full index is: documents (and their chunks) on each tier."""

    documents: int
    full: int
    pending: int
    pending_chunks: int

    def to_json(self) -> dict[str, int]:
        return {"documents": self.documents, "full": self.full, "pending": self.pending,
                "pending_chunks": self.pending_chunks}

    def summary(self) -> str:
        if not self.pending:
            return f"full index: all {self.documents} documents on the full embedding model"
        return (f"full index: {self.full}/{self.documents} documents upgraded; {self.pending} "
                f"({self.pending_chunks} chunks) searchable with the static model until the background upgrade "
                "reaches them (`citebot ingest --wait` or `citebot upgrade` finishes it now)")


def index_status(store: Store) -> IndexStatus:
    total = store.document_count()
    pending = store.documents(where={"tier": 1})
    return IndexStatus(total, total - len(pending), len(pending), sum(d.chunks for d in pending))


@dataclass
class UpgradeReport:
    """What one worker run did."""

    documents: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    locked_out: bool = False

    def summary(self) -> str:
        if self.locked_out:
            return "another worker is upgrading this store; it will finish the job"
        return (f"upgraded {self.documents} documents to the full model: {self.chunks_embedded} chunks embedded, "
                f"{self.chunks_reused} kept from an interrupted run, in {self.seconds:.1f}s")


def upgrade(
    store: Store,
    embedder_factory: Callable[[], Any],
    lock_path: Path,
    *,
    progress: ProgressFn | None = None,
    batch_size: int = WRITE_BATCH,
    wait_for_lock: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> UpgradeReport:
    """Upgrade every tier-1 document; returns at once (locked_out) when another worker holds the lock."""
    t0 = time.perf_counter()
    report = UpgradeReport()
    # The store's ownership first (a waiting CLI upgrade lets an ingest finish), then the worker lock, which
    # keeps the owner's own threads to one upgrade at a time.
    with store.writing("upgrade", on_wait=on_wait), FileLock(lock_path, wait=wait_for_lock) as held:
        if not held:
            report.locked_out = True
            return report
        pending = store.documents(where={"tier": 1})
        if not pending:
            return report
        embedder = embedder_factory()
        store.ensure_collections(embedder.dimension)
        total = sum(d.chunks for d in pending)
        done = 0
        if progress:
            progress(0, total)
        for group in _rounds(pending, batch_size * ROUND_BATCHES):
            todo: list[Chunk] = []
            have = set(store.stored_chunk_ids(tier=2, where={"rev": {"$in": sorted({d.rev for d in group})}}))
            for doc in group:
                chunks = store.chunks_of(doc, tier=1)
                missing = [c for c in chunks if c.id not in have]
                report.chunks_reused += len(chunks) - len(missing)
                done += len(chunks) - len(missing)
                todo += missing
            todo = _by_token_length(embedder, todo)
            for lo in range(0, len(todo), batch_size):
                batch = todo[lo : lo + batch_size]
                store.add_chunks(batch, embedder.embed([c.text for c in batch]), tier=2)
                report.chunks_embedded += len(batch)
                done += len(batch)
                if progress:
                    progress(done, total)
            report.documents += _publish(store, group)
    report.seconds = time.perf_counter() - t0
    return report


def _by_token_length(embedder: Any, chunks: list[Chunk]) -> list[Chunk]:
    """Longest first, by the model's own token count where it offers one, so each batch pads little."""
    counter = getattr(embedder, "token_lengths", None)
    keys = counter([c.text for c in chunks]) if counter else [len(c.text) for c in chunks]
    order = sorted(range(len(chunks)), key=lambda i: keys[i], reverse=True)
    return [chunks[i] for i in order]


def _rounds(docs: list[Document], chunks_per_round: int) -> list[list[Document]]:
    out: list[list[Document]] = [[]]
    size = 0
    for doc in docs:
        if size >= chunks_per_round and out[-1]:
            out.append([])
            size = 0
        out[-1].append(doc)
        size += doc.chunks
    return out


def _publish(store: Store, group: list[Document]) -> int:
    """Flip each document whose full-model chunks are all stored, unless it changed meanwhile (one write)."""
    current = store.documents_by_id(d.doc_id for d in group)
    stored = store.stored_chunk_ids(tier=2, where={"rev": {"$in": sorted({d.rev for d in group})}})
    ready = []
    for doc in group:
        now = current.get(doc.doc_id)
        if now is None or now.rev != doc.rev or now.tier != 1:
            continue  # removed or re-ingested during the upgrade: the next run handles its new revision
        if sum(cid.startswith(f"{doc.doc_id}-{doc.rev}-") for cid in stored) < doc.chunks:
            continue
        ready.append(now)
    store.collect_upgraded(store.set_tiers(ready, 2))
    return len(ready)
