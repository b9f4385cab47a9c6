"""Sentence-aware chunks with exact offsets."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingest.chunk import chunk_text
from ingest.config import IngestConfig
from ingest.loaders import load_file
from ingest.pipeline import prepare
from vectorstore.sentences import sentence_spans

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.mark.parametrize("name", ["000_7d831f6347d504d0.txt", "004_3ea41cb918c3c8f6.txt"])
def test_offsets_invariant_for_every_seed_chunk(name):
    p = prepare(load_file(SEEDS / name, 1 << 30), SEEDS, IngestConfig())
    assert p.chunks
    for c in p.chunks:
        assert p.clean_text[c.start : c.end] == c.text
    covered = "".join(p.clean_text[c.start : c.end] for c in p.chunks)
    assert all(p.clean_text[a:b] in covered for a, b in sentence_spans(p.clean_text))


def _synthetic(seed: int) -> str:
    rng = random.Random(seed)
    words = "the bridge council voted on a plan to repair old roads near river port town by spring".split()
    paras = []
    for _ in range(rng.randint(1, 8)):
        sents = []
        for _ in range(rng.randint(1, 6)):
            n = rng.randint(3, 60)
            s = " ".join(rng.choice(words) for _ in range(n))
            sents.append(s[0].upper() + s[1:] + rng.choice([".", "!", "?", '."']))
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize(("size", "overlap"), [(100, 0), (300, 80), (800, 150), (2000, 600)])
def test_offsets_size_and_overlap_on_varied_text(seed, size, overlap):
    text = _synthetic(seed)
    pieces = chunk_text(text, size, overlap)
    starts = {a for a, _ in sentence_spans(text)}
    for i, p in enumerate(pieces):
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip()
        assert len(p.text) <= size or " " not in p.text  # only an unbreakable word may exceed
        if i:
            prev = pieces[i - 1]
            assert p.start > prev.start  # always moves forward
            assert prev.end - p.start <= max(overlap, 0) or p.start >= prev.end
    # chunks start at sentence boundaries unless a sentence itself had to be cut
    if all(b - a <= size for a, b in sentence_spans(text)):
        assert all(p.start in starts for p in pieces)
    assert pieces[-1].end == max(b for _, b in sentence_spans(text))


def test_overlap_repeats_whole_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    pieces = chunk_text(text, 200, 60)
    assert len(pieces) > 3
    assert pieces[1].start < pieces[0].end  # overlapping
    assert text[pieces[1].start :].startswith("Sentence number")


def test_a_sentence_longer_than_the_chunk_is_split_at_spaces():
    text = "word " * 500 + "end."
    pieces = chunk_text(text.strip(), 300, 50)
    assert all(len(p.text) <= 300 for p in pieces)
    assert all(text.strip()[p.start : p.end] == p.text for p in pieces)
