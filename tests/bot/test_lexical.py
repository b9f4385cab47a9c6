"""The segmented BM25 index (bot.retrieve.lexical) against bm25s, the maintained implementation it replaces, on
made-up text; its changes, merges and saved copies; and a server start that loads the saved copy."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import bm25s
import numpy as np
import pytest
from cachetools import LRUCache

from bot.config import BotConfig
from bot.retrieve import HybridRetriever, Snapshot
from bot.retrieve.lexical import LexicalIndex
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.store import Chunk, Store, chunk_id

WORDS = ("ferry harbour pilot storm tram cable council budget mayor levee flood pump river bridge school teacher "
         "strike vote court judge ruling museum painting theft police village festival orchard frost harvest").split()


def _corpus(n: int, seed: int) -> tuple[list[Chunk], list[list[str]]]:
    rng = random.Random(seed)
    chunks, tokens = [], []
    for i in range(n):
        toks = [rng.choice(WORDS) for _ in range(rng.randint(3, 30))]
        chunks.append(Chunk(chunk_id(f"d{i // 3}", "r", i % 3), f"d{i // 3}", "r", i % 3, 0, 1, " ".join(toks)))
        tokens.append(toks)
    return chunks, tokens


def _bm25s_scores(tokens: list[list[str]], query: list[str]) -> np.ndarray:
    ref = bm25s.BM25()
    ref.index(tokens, show_progress=False)
    return np.asarray(ref.get_scores(query))


def _scores(index: LexicalIndex, query: list[str]) -> dict[str, float]:
    scores, starts = index.scores(query)
    out = {}
    for start, seg in starts:
        for r in range(len(seg)):
            if seg.live[r]:
                out[seg.chunk(r).id] = float(scores[start + r])
    return out


@pytest.mark.parametrize("query", [["ferry", "storm"], ["frost", "orchard", "orchard"], ["judge"], ["nowhere"]])
def test_scores_equal_bm25s_on_one_build(query):
    chunks, tokens = _corpus(120, seed=1)
    got = _scores(LexicalIndex.build(chunks, tokens), query)
    want = _bm25s_scores(tokens, query)
    assert np.allclose([got[c.id] for c in chunks], want, atol=1e-4)


def test_a_changed_index_scores_like_one_built_from_what_is_left():
    chunks, tokens = _corpus(150, seed=2)
    index = LexicalIndex.build(chunks[:90], tokens[:90])
    # Documents removed and replaced, others added, in several small steps (uploads): one segment each.
    index = index.changed({"d3", "d10"}, chunks[90:120], tokens[90:120])
    index = index.changed({"d31"}, chunks[120:150], tokens[120:150])
    index = index.changed({"d40"}, [], [])
    left = [(c, t) for c, t in zip(chunks, tokens, strict=True) if c.doc_id not in {"d3", "d10", "d31", "d40"}]
    rebuilt = LexicalIndex.build([c for c, _ in left], [t for _, t in left])
    for query in (["ferry", "pilot"], ["mayor", "budget", "vote"]):
        assert _scores(index, query) == pytest.approx(_scores(rebuilt, query), abs=1e-4)
        want = _bm25s_scores([t for _, t in left], query)
        assert [_scores(index, query)[c.id] for c, _ in left] == pytest.approx(list(want), abs=1e-4)
    assert index.n_live == len(left) and sorted(c.id for c in index.chunks()) == sorted(c.id for c, _ in left)
    assert index.doc_freq("ferry") == sum("ferry" in t for _, t in left)


def test_many_small_changes_merge_into_one_segment_with_the_same_ranking():
    chunks, tokens = _corpus(200, seed=3)
    index = LexicalIndex.build(chunks[:20], tokens[:20])
    for lo in range(20, 200, 15):
        index = index.changed({f"d{lo // 3 - 1}"}, chunks[lo : lo + 15], tokens[lo : lo + 15])
        assert len(index.segments) <= 8
    top = [c.id for c, _ in index.top(["harvest", "frost"], 10)]
    merged = index.merged()
    assert len(merged.segments) == 1 and [c.id for c, _ in merged.top(["harvest", "frost"], 10)] == top


def test_top_honours_a_filter_beyond_the_first_few(tmp_path):
    chunks, tokens = _corpus(300, seed=4)
    index = LexicalIndex.build(chunks, tokens)
    allowed = {"d99"}
    hits = index.top(["storm"], 2, allowed)
    assert hits and all(c.doc_id == "d99" for c, _ in hits)


def test_a_saved_index_loads_memory_mapped_and_ranks_the_same(tmp_path):
    chunks, tokens = _corpus(90, seed=5)
    index = LexicalIndex.build(chunks[:60], tokens[:60]).changed({"d2"}, chunks[60:], tokens[60:])
    index.save(tmp_path / "lex", {"note": "made up"})
    loaded, extra = LexicalIndex.load(tmp_path / "lex")  # type: ignore[misc]
    assert extra == {"note": "made up"}
    data = loaded.segments[0].counts.data  # a view of the file, not a copy
    assert not data.flags.owndata and isinstance(data.base, np.memmap | np.ndarray) and not data.flags.writeable
    for query in (["court", "ruling"], ["museum", "theft", "police"]):
        assert [(c.id, round(s, 4)) for c, s in loaded.top(query, 8)] == [
            (c.id, round(s, 4)) for c, s in index.top(query, 8)]
    # The loaded index changes like any other (its mapped arrays are never written).
    grown = loaded.changed({"d5"}, [Chunk(chunk_id("n", "r", 0), "n", "r", 0, 0, 1, "")], [["lighthouse", "storm"]])
    assert grown.top(["lighthouse"], 1)[0][0].id == chunk_id("n", "r", 0)
    assert LexicalIndex.load(tmp_path / "missing") is None


def test_a_second_start_loads_the_saved_index_and_reads_only_what_changed(tmp_path, store_config, hash_embedder,
                                                                          monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(5):
        (folder / f"a{i}.txt").write_text(f"Report {i}\n\nThe ferry from Oskarby carried {100 + i} cars on day {i}.\n")
    store = Store.open(store_config)
    ingest([folder], store, lambda: hash_embedder, IngestConfig())
    snap = Snapshot(tmp_path / "lexical", "test-store", every_s=0)
    first = HybridRetriever(store, hash_embedder, BotConfig())
    snap.save(first.corpus, store.change_token())
    (folder / "a9.txt").write_text("Report 9\n\nA lighthouse keeper on Skarn counted 40 seals at dawn.\n")
    ingest([folder], store, lambda: hash_embedder, IngestConfig())

    # The next start reads no chunks of the unchanged documents: the saved index has them.
    read: list[str] = []
    real = Store.chunks_of
    monkeypatch.setattr(Store, "visible_chunks", lambda *a, **k: pytest.fail("read every chunk"))
    monkeypatch.setattr(Store, "chunks_of", lambda self, d, tier: read.append(d.source) or real(self, d, tier))
    second = HybridRetriever(store, hash_embedder, BotConfig(), snapshot=Snapshot(tmp_path / "lexical", "test-store"))
    assert read == ["a9.txt"]
    hit = second.search("seals lighthouse Skarn", k=1)[0]
    assert hit.doc.source == "a9.txt" and "40 seals" in hit.chunk.text
    # The text is read by id for the passage, not held for the archive.
    assert list(second._texts) == [(hit.doc.doc_id, hit.doc.rev)]
    # A damaged copy is ignored: the index is built from the store again.
    monkeypatch.undo()
    broken = tmp_path / "broken"
    version = os.readlink(tmp_path / "lexical" / "current")  # (the second start may be saving a newer one now)
    shutil.copytree(tmp_path / "lexical" / version, broken / version)
    (broken / "current").symlink_to(version)
    (broken / version / "extra.pkl").write_bytes(b"not a pickle")
    third = HybridRetriever(store, hash_embedder, BotConfig(), snapshot=Snapshot(broken, "test-store"))
    assert third.search("seals lighthouse Skarn", k=1)[0].doc.source == "a9.txt"
    # Another store's saved index is never used for this one.
    other = Snapshot(tmp_path / "lexical", "another-store")
    assert other.load(store, LRUCache(maxsize=10)) == (None, False)


def test_a_chunk_is_found_by_its_id_only_while_its_revision_is_live():
    chunks, tokens = _corpus(30, seed=5)
    index = LexicalIndex.build(chunks, tokens)
    want = chunks[7]
    assert index.chunk(want.id) == Chunk(want.id, want.doc_id, "r", want.index, 0, 1, "")
    assert index.chunk(chunk_id(want.doc_id, "other-rev", want.index)) is None
    assert index.chunk(chunk_id(want.doc_id, "r", 9)) is None and index.chunk("not a chunk id") is None
    gone = index.changed({want.doc_id}, [], [])
    assert gone.chunk(want.id) is None and index.chunk(want.id) is not None  # indexes are immutable
    # Its new revision, added later, is found under the new id; rows of both live in different segments.
    again = gone.changed((), [Chunk(chunk_id(want.doc_id, "r2", 0), want.doc_id, "r2", 0, 5, 9, "")], [["quay"]])
    assert again.chunk(chunk_id(want.doc_id, "r2", 0)).start == 5 and again.chunk(want.id) is None
    assert again.merged().chunk(chunk_id(want.doc_id, "r2", 0)).end == 9


def _load_while_saved(folder: str, seconds: float) -> tuple[int, int]:
    """In another process: load the saved index over and over; (loads that found one, loads that found none)."""
    import time as _time

    found = missing = 0
    end = _time.monotonic() + seconds
    while _time.monotonic() < end:
        got = LexicalIndex.load(Path(folder))
        if got is None:
            missing += 1
        else:
            assert got[1]["n"] >= 0  # a whole version: its extra with its arrays
            found += 1
    return found, missing


def test_a_save_swaps_versions_atomically_for_readers_in_other_processes(tmp_path):
    import multiprocessing

    chunks, tokens = _corpus(60, seed=3)
    index = LexicalIndex.build(chunks, tokens)
    folder = tmp_path / "lex"
    index.save(folder, {"n": 0})
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        reader = pool.apply_async(_load_while_saved, (str(folder), 3.0))
        n = 0
        while not reader.ready():
            n += 1
            index.save(folder, {"n": n})
        found, missing = reader.get()
    assert n > 5 and found > 5 and missing == 0
    # Versions are kept for two minutes after they were written, and the newest two always; older ones, and what
    # the layout before versions left in the folder, are removed by the next save.
    (folder / "meta.json").write_text("{}")
    for version in folder.glob("v-*"):
        os.utime(version, (0, 0))
    os.utime(folder / "meta.json", (0, 0))
    index.save(folder, {"n": n + 1})
    assert len(list(folder.glob("v-*"))) == 2 and not (folder / "meta.json").exists()
    assert LexicalIndex.load(folder)[1] == {"n": n + 1}  # type: ignore[index]
