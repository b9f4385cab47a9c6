"""Hybrid retrieval: rank fusion, both retrievers contributing, filters, de-duplication, store sync."""

from __future__ import annotations

import pytest

from bot.config import BotConfig
from bot.retrieve import Filters, HybridRetriever, rrf_fuse
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.store import Store


def test_rrf_rewards_agreement_between_rankers():
    fused = rrf_fuse([(["a", "b", "c"], 1.0), (["d", "b", "e"], 1.0)], k=60)
    ids = [cid for cid, _ in fused]
    # b is second in both lists, so it beats a and d, each first in one list only.
    assert ids[0] == "b"
    assert set(ids) == {"a", "b", "c", "d", "e"}
    assert fused[0][1] == pytest.approx(2 / 62)


def test_rrf_weights_shift_the_order():
    dense_only = rrf_fuse([(["x", "y"], 1.0), (["y", "x"], 0.0)], k=60)
    lexical_only = rrf_fuse([(["x", "y"], 0.0), (["y", "x"], 1.0)], k=60)
    assert dense_only[0][0] == "x"
    assert lexical_only[0][0] == "y"


def test_rrf_of_nothing_is_empty():
    assert rrf_fuse([([], 1.0), ([], 1.0)]) == []


@pytest.fixture
def tiny_store(tmp_path, store_config, hash_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(
        "Alpha Report\n\nBy Ann Writer\n\nThe quokka colony on Rottnest Island grew to 12,000 animals in 2020. "
        "Rangers counted them by drone.\n\nTourists must not feed the quokkas.\n"
    )
    (docs / "b.txt").write_text(
        "Beta News\n\nMarch 3, 2021\n\nThe harbour bridge reopened after repairs costing 40 million dollars. "
        "Engineers replaced the cables.\n"
    )
    store = Store.open(store_config)
    report = ingest([docs], store, lambda: hash_embedder, IngestConfig())
    assert report.added == 2
    return store, docs


def test_dense_and_lexical_both_find_the_passage(tiny_store, hash_embedder):
    store, _ = tiny_store
    r = HybridRetriever(store, hash_embedder, BotConfig(top_k=3))
    passages = r.search("quokka colony Rottnest")
    assert passages[0].chunk.source == "a.txt"
    assert passages[0].dense_rank == 1 and passages[0].lexical_rank == 1


def test_lexical_only_and_dense_only_configs(tiny_store, hash_embedder):
    store, _ = tiny_store
    lex = HybridRetriever(store, hash_embedder, BotConfig(dense_weight=0.0)).search("harbour bridge cables")
    assert lex[0].chunk.source == "b.txt" and lex[0].dense_rank is None
    dense = HybridRetriever(store, hash_embedder, BotConfig(lexical_weight=0.0)).search("harbour bridge cables")
    assert dense[0].chunk.source == "b.txt" and dense[0].lexical_rank is None


def test_filters_by_source_and_date(tiny_store, hash_embedder):
    store, _ = tiny_store
    r = HybridRetriever(store, hash_embedder, BotConfig())
    only_a = r.search("bridge repairs", filters=Filters(sources=["a.txt"]))
    assert only_a and {p.chunk.source for p in only_a} == {"a.txt"}
    dated = r.search("quokka", filters=Filters(published_from="2021-01-01", published_to="2021-12-31"))
    assert dated and {p.doc.source for p in dated} == {"b.txt"}
    assert r.search("quokka", filters=Filters(published_to="2020-01-01")) == []


def test_search_never_returns_overlapping_copies(seeded_deps):
    passages = seeded_deps.retriever.search("Iran Russia cooperation agreement", k=8)
    for i, a in enumerate(passages):
        for b in passages[i + 1 :]:
            if a.chunk.doc_id == b.chunk.doc_id:
                inter = min(a.chunk.end, b.chunk.end) - max(a.chunk.start, b.chunk.start)
                shorter = min(a.chunk.end - a.chunk.start, b.chunk.end - b.chunk.start)
                assert inter / shorter <= seeded_deps.config.max_overlap


def test_retriever_follows_the_store(tiny_store, hash_embedder):
    store, docs = tiny_store
    r = HybridRetriever(store, hash_embedder, BotConfig())
    assert not r.refresh()
    (docs / "c.txt").write_text("Gamma Daily\n\nThe zebra crossing on Main Street was repainted in yellow.\n")
    ingest([docs], store, lambda: hash_embedder, IngestConfig())
    assert r.refresh()
    assert r.search("zebra crossing repainted")[0].chunk.source == "c.txt"


def test_langchain_style_real_model_ranks_the_gold_passage_first(seeded_deps):
    passages = seeded_deps.retriever.search("Which think tank was co-founded by Seyed Emamian?")
    assert "Governance and Policy think tank" in passages[0].chunk.text


def test_a_refresh_reads_only_what_changed_and_matches_a_full_reload(tmp_path, store_config, hash_embedder):
    from cachetools import LRUCache

    from bot.retrieve import Corpus

    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(6):
        (folder / f"a{i}.txt").write_text(f"Report {i}\n\nThe ferry from Oskarby to Tull carried {100 + i} cars "
                                          f"on day {i}. Pilots from harbour {i} guided it.\n")
    store = Store.open(store_config)
    ingest([folder], store, lambda: hash_embedder, IngestConfig())
    cache: LRUCache[tuple[str, str], str] = LRUCache(maxsize=100)
    old = Corpus.build(store, cache)
    (folder / "a1.txt").write_text("Report 1\n\nThe tram to Velsk was cancelled after a storm felled cables.\n")
    (folder / "a2.txt").unlink()
    (folder / "a9.txt").write_text("Report 9\n\nA lighthouse keeper on Skarn counted 40 seals at dawn.\n")
    ingest([folder], store, lambda: hash_embedder, IngestConfig(), prune=True)
    got = old.caught_up(store, cache)
    assert got.changed and got.corpus is not None
    new = got.corpus
    full = Corpus.build(store, LRUCache(maxsize=100))
    assert new.docs == full.docs and dict(new.texts) == dict(full.texts)
    assert sorted(c.id for c in new.chunks) == sorted(c.id for c in full.chunks)
    words = ["tram", "ferri", "seal", "report", "pilot", "harbour", "oskarbi"]
    assert [new.lexical.doc_freq(w) for w in words] == [full.lexical.doc_freq(w) for w in words]
    assert [round(new.idf(w), 6) for w in words] == [round(full.idf(w), 6) for w in words]
    retriever = HybridRetriever.__new__(HybridRetriever)
    for corpus in (new, full):
        retriever.corpus = corpus
        hits = HybridRetriever.lexical(retriever, "seals lighthouse Skarn", 3)
        assert any(cid.startswith(next(d.doc_id for d in corpus.docs.values() if d.source == "a9.txt"))
                   for cid, _ in hits)
        # The same BM25 scores whether the index was changed in place or built from everything.
        scores = dict(HybridRetriever.lexical(retriever, "ferry harbour pilots cars", 10))
        if corpus is new:
            first = scores
    assert first.keys() == scores.keys()
    assert all(abs(first[k] - scores[k]) < 1e-4 for k in scores)
    # Only the tier changed (an upgrade round): the lexical index is the same object, nothing was re-read.
    store.set_tiers(store.documents(), 1)
    flipped = full.caught_up(store, cache)
    assert flipped.changed and flipped.corpus is not None and flipped.corpus.lexical is full.lexical
    assert {d.tier for d in flipped.corpus.docs.values()} == {1} and flipped.reread == len(full.docs)


def _ingested(tmp_path, store_config, hash_embedder, texts: dict[str, str]) -> Store:
    """A store holding these made-up articles (file name -> text)."""
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text)
    store = Store.open(store_config)
    ingest([folder], store, lambda: hash_embedder, IngestConfig())
    return store


def test_catching_up_reads_only_the_entries_written_since_and_finds_removals_by_count(
        tmp_path, store_config, hash_embedder, monkeypatch):
    from cachetools import LRUCache

    from bot.retrieve import Corpus
    from bot.retrieve.corpus import manifest_delta
    from vectorstore.store import _meta

    store = _ingested(tmp_path, store_config, hash_embedder, {
        f"n{i}.txt": f"Notice {i}\n\nThe quarry at Brenlow shipped {20 + i} tonnes of slate.\n" for i in range(5)})
    cache: LRUCache[tuple[str, str], str] = LRUCache(maxsize=100)
    corpus = Corpus.build(store, cache)
    # Stamped as written an hour before: a reader that read the manifest since does not read these again.
    hour = 3600 * 1_000_000
    store._docs.update(ids=list(corpus.docs), metadatas=[_meta(d, corpus.since - hour) for d in corpus.docs.values()])

    def whole_manifest():
        raise AssertionError("the whole manifest was read")

    monkeypatch.setattr(store, "documents", whole_manifest)
    idle = corpus.caught_up(store, cache)
    assert idle.reread == 0 and not idle.changed
    assert idle.corpus is corpus  # kept, not rebuilt: a replica of a Chroma server asks twice a second
    # A removal leaves no entry to read: the count differs, the ids tell which.
    gone = next(d for d in corpus.docs.values() if d.source == "n3.txt")
    text = corpus.texts[gone.doc_id]
    store.delete_document(gone.doc_id)
    got = corpus.caught_up(store, cache)
    assert got.changed and got.corpus is not None and gone.doc_id not in got.corpus.docs
    assert len(got.corpus.docs) == 4 and got.reread == 0
    assert not any(c.doc_id == gone.doc_id for c in got.corpus.chunks)
    # An entry written without a stamp (by an older version of citebot) is found by the count and read by id.
    store._docs.upsert(ids=[gone.doc_id], embeddings=[[1.0]], documents=[text], metadatas=[_meta(gone)])
    delta = manifest_delta(store, got.corpus.docs, got.corpus.since)
    assert [d.doc_id for d in delta.entries] == [gone.doc_id] and not delta.removed
    assert delta.since >= got.corpus.since
    back = got.corpus.caught_up(store, cache)
    assert back.changed and back.corpus is None  # its chunks were deleted with it: the corpus is read again


def test_a_corpus_read_without_a_time_reads_the_whole_manifest(tmp_path, store_config, hash_embedder):
    from dataclasses import replace

    from cachetools import LRUCache

    from bot.retrieve import Corpus

    store = _ingested(tmp_path, store_config, hash_embedder, {"a.txt": "Bulletin\n\nThe ferry to Holm sails at nine.\n"})
    cache: LRUCache[tuple[str, str], str] = LRUCache(maxsize=10)
    legacy = replace(Corpus.build(store, cache), since=0)  # a copy saved by a version without stamps
    got = legacy.caught_up(store, cache)
    assert got.reread == 1 and not got.changed and got.corpus is not None and got.corpus.since > 0


def test_a_saved_copy_is_saved_again_only_when_documents_changed(tmp_path, store_config, hash_embedder):
    from dataclasses import replace

    from cachetools import LRUCache

    from bot.retrieve import Corpus, Snapshot

    store = _ingested(tmp_path, store_config, hash_embedder, {
        f"s{i}.txt": f"Shipping note {i}\n\nThe barge Orla carried {40 + i} tonnes of grain.\n" for i in range(3)})
    folder = tmp_path / "articles"
    cache: LRUCache[tuple[str, str], str] = LRUCache(maxsize=10)
    snap = Snapshot(tmp_path / "lexical", "test-store")
    # Saved with a time before the last writes (as a copy saved right after a bulk ingest is): they are read
    # again at the next start, found unchanged, and the copy is not written again for that.
    snap.save(replace(Corpus.build(store, cache), since=1), token=None)
    corpus, current = snap.load(store, cache)
    assert current and corpus is not None and len(corpus.docs) == 3
    (folder / "s3.txt").write_text("Shipping note 3\n\nThe barge Orla was laid up for repairs.\n")
    ingest([folder], store, lambda: hash_embedder, IngestConfig())
    corpus, current = snap.load(store, cache)
    assert not current and corpus is not None and len(corpus.docs) == 4
