"""Files read, cleaned and chunked on a pool of processes give the same store and report as in one process."""

from __future__ import annotations

from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.workers import MIN_FILES_FOR_POOL
from vectorstore.store import Store


def _corpus(folder, n, extra_sentences=0):
    folder.mkdir()
    for i in range(n):
        more = " ".join(f"Pier {k} of line {i} was repainted in week {k} of the works." for k in range(extra_sentences))
        (folder / f"story-{i:02d}.txt").write_text(
            f"Ferry Line {i} Resumes\n\nBy Ada Korhonen\n\nThe ferry line number {i} resumed on 3 March 2025. "
            f"Its operator said {i * 7} crossings a day are planned. Tickets went on sale at the harbour office. "
            f"{more}\n")
    (folder / "page.html").write_text(
        "<html><head><title>Dockside Market Opens</title><meta name='author' content='Ines Marlow'></head><body>"
        "<article><h1>Dockside Market Opens</h1><p>The dockside market opened on Saturday with forty stalls. "
        "Organisers expect ten thousand visitors each weekend.</p><script>alert('x')</script></article></body></html>")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)


def _snapshot(store):
    docs = store.documents()
    return sorted((d.source, d.rev, d.chunks, d.title, d.author, d.published) for d in docs), sorted(
        (c.id, c.start, c.end, c.text) for c in store.visible_chunks())


def test_a_pool_of_workers_stores_exactly_what_one_process_stores(tmp_path, hash_embedder):
    folder = tmp_path / "corpus"
    _corpus(folder, MIN_FILES_FOR_POOL + 4)
    results = {}
    for workers in (1, 2):
        store = Store.open(_cfg(tmp_path / f"store-{workers}"))
        report = ingest([folder], store, lambda: hash_embedder, IngestConfig(ingest_workers=workers))
        errors = sorted((e.path.rsplit("/", 1)[-1], e.error) for e in report.errors)
        results[workers] = (report.added, report.unchanged, errors, _snapshot(store))
        again = ingest([folder], store, lambda: hash_embedder, IngestConfig(ingest_workers=workers))
        assert again.added == 0 and again.unchanged == report.added and again.chunks_embedded == 0
    assert results[1] == results[2]
    added, _, errors, (docs, _) = results[2]
    assert added == MIN_FILES_FOR_POOL + 4 + 1 and {name for name, _ in errors} == {"empty.txt", "binary.txt"}
    assert ("page.html" in {d[0] for d in docs}) and any(d[4] == "Ines Marlow" for d in docs)


def _cfg(path):
    from vectorstore.config import StoreConfig

    return StoreConfig(chroma_path=path, collection="test-citebot")


def test_a_run_that_dies_mid_write_leaves_whole_documents_and_the_next_run_collects_its_orphans(tmp_path,
                                                                                                 hash_embedder):
    from helpers import HashEmbedder

    folder = tmp_path / "corpus"
    _corpus(folder, 30, extra_sentences=40)  # several chunks each, so a document can be half written
    cfg = _cfg(tmp_path / "store")
    store = Store.open(cfg)
    commit, calls = store.commit_documents, []

    def dying_commit(docs):  # type: ignore[no-untyped-def]
        """Dies (like a kill) on the third publish: that write's chunks are stored, its documents are not."""
        calls.extend([len(docs)] if docs else [])
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        commit(docs)

    store.commit_documents = dying_commit  # type: ignore[method-assign]
    try:
        ingest([folder], store, lambda: hash_embedder, IngestConfig(), batch_size=2,
               static_factory=lambda: hash_embedder)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the run was supposed to die")
    docs = {d.doc_id: d for d in store.documents()}
    visible = store.visible_chunks()
    stored = store.stored_chunk_ids(tier=1)
    assert all(c.doc_id in docs for c in visible) and len(stored) > len(visible)  # orphans, invisible
    for doc in docs.values():
        assert sum(c.doc_id == doc.doc_id for c in visible) == doc.chunks
    rerun = ingest([folder], Store.open(cfg), lambda: hash_embedder, IngestConfig(), static_factory=HashEmbedder)
    assert rerun.added == 31 - len(docs) and rerun.unchanged == len(docs)
    store = Store.open(cfg)
    assert len(store.stored_chunk_ids(tier=1)) == sum(d.chunks for d in store.documents())
