"""What is visible is decided without listing every live revision to Chroma: SQLite refuses more than 32,766
variables (a store of 20,000 articles could not be opened) and the list's cost grew with the archive. Hidden
chunks (a running ingest's, a killed run's, an upgrade's not yet flipped) must stay hidden all the same."""

from __future__ import annotations

import numpy as np

from vectorstore.store import Chunk, Document, Store

N = 1300  # above the size of one `$in` list (500), so the Python-filtered paths run


def _doc(i: int, tier: int = 2, rev: str | None = None) -> Document:
    return Document(doc_id=f"d{i:04d}", source=f"{i:04d}.txt", path="", title=f"Title {i}", author=None,
                    published=None, sha256="s", rev=rev or f"r{i:04d}", ingested_at="", chunks=1, tier=tier)


def _chunk(doc: Document) -> Chunk:
    return Chunk(id=f"{doc.doc_id}-{doc.rev}-00000", doc_id=doc.doc_id, rev=doc.rev, index=0, start=0, end=20,
                 text="", source=doc.source, title=doc.title)


def _vec(i: int) -> np.ndarray:
    v = np.zeros(16, dtype=np.float32)
    v[i % 16] = 1.0
    v[(i * 7 + 3) % 16] += 0.5
    return v / np.linalg.norm(v)


def test_visible_chunks_and_search_at_many_revisions(store_config):
    store = Store.open(store_config)
    store.ensure_collections(16)
    store.ensure_docs()
    docs = [_doc(i) for i in range(N)]
    store.add_chunks([_chunk(d) for d in docs], np.stack([_vec(i) for i in range(N)]))
    store.commit_documents([(d, f"Sentence number {d.doc_id}.") for d in docs])
    # Hidden: a new revision of d0001 written but not committed, and an orphan of a document never committed.
    pending = _doc(1, rev="r-new")
    orphan = _doc(9999)
    store.add_chunks([_chunk(pending), _chunk(orphan)], np.stack([_vec(1), _vec(1)]))

    visible = store.visible_chunks()
    assert len(visible) == N
    assert {c.rev for c in visible if c.doc_id == "d0001"} == {"r0001"}
    assert not any(c.doc_id == "d9999" for c in visible)
    assert visible[5].text == "Sentence number d0005."[:20]

    revs = frozenset(d.rev for d in docs)
    hits = store.nearest(_vec(1), 10, revs=revs)
    assert len(hits) == 10
    ids = {cid for cid, _ in hits}
    assert "d0001-r-new-00000" not in ids and "d9999-r9999-00000" not in ids
    # A filter that allows fewer (but still many) revisions finds only its documents, asking Chroma for more hits
    # until it has enough.
    some = frozenset(f"r{i:04d}" for i in range(700, N))
    narrow = store.nearest(_vec(1), 5, revs=some)
    assert len(narrow) == 5 and all(int(cid[1:5]) >= 700 for cid, _ in narrow)
    # And a short list goes to Chroma as a filter.
    few = frozenset(f"r{i:04d}" for i in range(1200, N))
    assert all(int(cid[1:5]) >= 1200 for cid, _ in store.nearest(_vec(1), 5, revs=few))


def test_the_change_token_moves_only_on_writes(store_config):
    store = Store.open(store_config)
    store.ensure_collections(16)
    store.ensure_docs()
    d = _doc(1)
    store.add_chunks([_chunk(d)], np.stack([_vec(1)]))
    store.commit_documents([(d, "Text.")])
    before = store.change_token()
    store.documents()
    store.visible_chunks()
    assert store.change_token() == before  # reading changes nothing
    store.commit_documents([(_doc(2), "More text.")])
    assert store.change_token() != before
