"""Two-tier ingest on a real embedded Chroma store, with deterministic fakes at the two embedding seams."""

from __future__ import annotations

import numpy as np
from helpers import HashEmbedder

from bot.config import BotConfig
from bot.retrieve import HybridRetriever
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.upgrade import index_status, upgrade
from vectorstore.lease import FileLock
from vectorstore.store import Store


class Spy(HashEmbedder):
    """A fake model that remembers what it embedded."""

    def __init__(self, name: str, dimension: int) -> None:
        super().__init__(dimension)
        self.name = name
        self.seen: list[str] = []

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.seen += list(texts)
        return super().embed(texts)


def _tier1(paths, store, full, static, **kw):
    return ingest(paths, store, lambda: full, IngestConfig(), static_factory=lambda: static, **kw)


def test_tier1_makes_documents_searchable_without_the_full_model(seeds_copy, store_config):
    full, static = Spy("full", 64), Spy("static", 32)
    store = Store.open(store_config)
    report = _tier1([seeds_copy], store, full, static)
    docs = store.documents()
    assert report.added == 2 and all(d.tier == 1 for d in docs)
    assert full.calls == 0 and static.texts_embedded == sum(d.chunks for d in docs)
    assert store.chunk_count(tier=1) == sum(d.chunks for d in docs) and store.chunk_count(tier=2) == 0
    assert len(store.visible_chunks()) == sum(d.chunks for d in docs)
    status = index_status(store)
    assert (status.pending, status.full) == (2, 0) and "citebot ingest --wait" in status.summary()
    # Re-ingest of unchanged files does no work in either tier.
    again = _tier1([seeds_copy], Store.open(store_config), full, static)
    assert (again.unchanged, again.chunks_embedded) == (2, 0) and full.calls == 0


def test_upgrade_moves_every_document_to_the_full_model_and_drops_its_static_vectors(seeds_copy, store_config,
                                                                                    tmp_path):
    full, static = Spy("full", 64), Spy("static", 32)
    store = Store.open(store_config)
    _tier1([seeds_copy], store, full, static)
    chunks = {c.id: c.text for c in store.visible_chunks()}
    seen = []
    report = upgrade(store, lambda: full, tmp_path / "lock", progress=lambda d, t: seen.append((d, t)),
                     batch_size=4)
    assert report.documents == 2 and report.chunks_embedded == len(chunks) and report.chunks_reused == 0
    assert all(d.tier == 2 for d in store.documents())
    assert store.chunk_count(tier=1) == 0 and store.chunk_count(tier=2) == len(chunks)
    assert {c.id: c.text for c in store.visible_chunks()} == chunks  # same passages, now full-model vectors
    assert seen[-1] == (len(chunks), len(chunks))
    # Batches went longest first (by token count where the model gives one, else characters).
    first = full.seen[:4]
    assert [len(t) for t in first] == sorted((len(t) for t in first), reverse=True)
    assert upgrade(store, lambda: full, tmp_path / "lock").chunks_embedded == 0
    assert "all 2 documents" in index_status(store).summary()


def test_an_interrupted_upgrade_resumes_and_keeps_the_work_done(seeds_copy, store_config, tmp_path):
    full, static = Spy("full", 64), Spy("static", 32)
    store = Store.open(store_config)
    _tier1([seeds_copy], store, full, static)
    doc = store.documents()[0]
    part = store.chunks_of(doc, tier=1)[:2]
    store.ensure_collections(full.dimension)
    store.add_chunks(part, full.embed([c.text for c in part]), tier=2)  # what a killed worker left behind
    assert store.documents()[0].tier == 1  # not flipped: retrieval still uses its static vectors
    report = upgrade(Store.open(store_config), lambda: full, tmp_path / "lock")
    assert report.chunks_reused == 2 and all(d.tier == 2 for d in store.documents())


def test_a_document_re_ingested_during_the_upgrade_is_not_flipped(seeds_copy, store_config, tmp_path):
    full, static = Spy("full", 64), Spy("static", 32)
    store = Store.open(store_config)
    _tier1([seeds_copy], store, full, static)
    target = seeds_copy / "004_3ea41cb918c3c8f6.txt"

    class Editing(Spy):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            if not target.read_text().endswith("Added later.\n"):
                target.write_text(target.read_text() + "\n\nAdded later.\n")
                _tier1([seeds_copy], Store.open(store_config), full, static)
            return super().embed(texts)

    upgrade(store, lambda: Editing("full", 64), tmp_path / "lock")
    by_source = {d.source: d for d in store.documents()}
    assert by_source[target.name].tier == 1  # its new revision waits for the next run
    assert "Added later." in store.document_text(by_source[target.name].doc_id)
    assert upgrade(store, lambda: full, tmp_path / "lock").documents == 1


def test_one_worker_at_a_time(seeds_copy, store_config, tmp_path):
    full, static = Spy("full", 64), Spy("static", 32)
    store = Store.open(store_config)
    _tier1([seeds_copy], store, full, static)
    with FileLock(tmp_path / "lock", wait=False) as held:
        assert held
        report = upgrade(store, lambda: full, tmp_path / "lock")
        assert report.locked_out and "another worker" in report.summary() and full.calls == 0
    assert upgrade(store, lambda: full, tmp_path / "lock").documents == 2


def test_retrieval_queries_each_tier_with_its_own_model(seeds_copy, store_config, tmp_path):
    full, static = Spy("full", 64), Spy("static", 32)
    store = Store.open(store_config)
    _tier1([seeds_copy], store, full, static)
    retriever = HybridRetriever(store, full, BotConfig(), static=static)
    full.seen.clear()
    hits = retriever.dense("Who is Hamidreza Azizi?", 5, [d.rev for d in store.documents()])
    assert hits and static.seen[-1] == "Who is Hamidreza Azizi?" and full.seen == []
    # Upgrade one document: now each model embeds the query once, each searching only its own documents.
    doc = store.documents()[0]
    upgrade_one = [d for d in store.documents() if d.doc_id == doc.doc_id]
    store.ensure_collections(full.dimension)
    chunks = store.chunks_of(upgrade_one[0], tier=1)
    store.add_chunks(chunks, full.embed([c.text for c in chunks]), tier=2)
    store.set_tier(upgrade_one[0], 2)
    retriever.refresh()
    full.seen.clear()
    static.seen.clear()
    hits = retriever.dense("Who is Hamidreza Azizi?", 6, [d.rev for d in store.documents()])
    assert full.seen == ["Who is Hamidreza Azizi?"] and static.seen == ["Who is Hamidreza Azizi?"]
    by_id = {c.id: c for c in store.visible_chunks()}
    assert {by_id[cid].doc_id for cid, _ in hits} == {d.doc_id for d in store.documents()}
    assert np.isfinite([s for _, s in hits]).all()


def test_a_reader_opened_before_the_upgrade_follows_it_into_the_full_model_collection(seeds_copy, store_config,
                                                                                      tmp_path):
    # A replica opens the store while only the tier-1 collection exists; another process then upgrades, which
    # creates the full-model collection. The reader must find that collection, not answer from nothing.
    full, static = Spy("full", 64), Spy("static", 32)
    _tier1([seeds_copy], Store.open(store_config), full, static)
    reader = Store.open(store_config)
    retriever = HybridRetriever(reader, full, BotConfig(), static=static)
    question = "When will Pezeshkian visit Moscow?"
    assert retriever.search(question)
    upgrade(Store.open(store_config), lambda: full, tmp_path / "lock")
    assert retriever.refresh()
    assert all(d.tier == 2 for d in retriever.corpus.docs.values())
    assert len(retriever.corpus.chunks) == sum(d.chunks for d in reader.documents())
    assert retriever.search(question)
    revs = [d.rev for d in retriever.corpus.docs.values()]
    assert retriever.dense(question, 5, revs)  # the full-model collection, created after the reader opened
