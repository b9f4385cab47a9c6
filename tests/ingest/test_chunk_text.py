"""Chunk passages are cut from their document's committed text, not stored twice; old stores still read."""

from __future__ import annotations

import subprocess
import sys

from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.store import Chunk, Store


def _ingest(seeds_copy, store_config, emb) -> Store:
    store = Store.open(store_config)
    ingest([seeds_copy], store, lambda: emb, IngestConfig())
    return store


def test_chunks_hold_no_second_copy_of_their_text(seeds_copy, store_config, hash_embedder):
    store = _ingest(seeds_copy, store_config, hash_embedder)
    got = store._chunks.get(include=["documents"])
    assert got["ids"] and not any(got["documents"] or [])
    docs, texts = store.documents_and_texts()
    visible = store.visible_chunks()
    assert len(visible) == sum(d.chunks for d in docs)
    for c in visible:
        assert c.text and c.text == texts[c.doc_id][c.start : c.end]
    (doc_hit, _), *_ = store.query(hash_embedder.embed([visible[3].text])[0], 2, revs=[d.rev for d in docs])
    assert doc_hit.text == texts[doc_hit.doc_id][doc_hit.start : doc_hit.end]
    assert store.chunks_of(docs[0], tier=2)[0].text == texts[docs[0].doc_id][: len(store.chunks_of(docs[0], 2)[0].text)]


def test_a_store_written_with_chunk_texts_still_reads(seeds_copy, store_config, hash_embedder):
    store = _ingest(seeds_copy, store_config, hash_embedder)
    before = {c.id: c.text for c in store.visible_chunks()}
    got = store._chunks.get(include=["embeddings", "metadatas"])
    # The layout before this change: each chunk carried its text.
    store._chunks.upsert(ids=got["ids"], embeddings=got["embeddings"], metadatas=got["metadatas"],
                         documents=[before[i] for i in got["ids"]])
    assert all(store._chunks.get(include=["documents"])["documents"])
    assert {c.id: c.text for c in Store.open(store_config).visible_chunks()} == before


def test_chunks_of_another_revision_are_never_shown(seeds_copy, store_config, hash_embedder):
    store = _ingest(seeds_copy, store_config, hash_embedder)
    docs = store.documents()
    a, b = docs
    # An orphan of document A that carries B's live revision, and a manifest read before A changed.
    orphan = Chunk(id=f"{a.doc_id}-{b.rev}-00000", doc_id=a.doc_id, rev=b.rev, index=0, start=0, end=5,
                   text="ignored", source=a.source)
    store.add_chunks([orphan], hash_embedder.embed(["x"]))
    ids = {c.id for c in store.visible_chunks()}
    assert orphan.id not in ids and len(ids) == a.chunks + b.chunks
    stale = [type(a)(**{**a.__dict__, "rev": "0" * 16}), b]
    assert {c.doc_id for c in store.visible_chunks(stale)} == {b.doc_id}  # A's text is not at that revision
    assert store.document_text(a.doc_id, rev="0" * 16) is None
    assert store.document_text(a.doc_id, rev=a.rev)


def test_the_pool_preload_imports_in_a_fresh_interpreter():
    # The fork server ignores a preload that fails to import; every worker would then pay for it again.
    out = subprocess.run([sys.executable, "-c", "import ingest.preload"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
