"""The bounded vector cache behind the reader's sentence vectors and the word similarity: a full cache keeps
answering (it once raised KeyError when a batch's own vectors were evicted while it was being read)."""

from __future__ import annotations

import threading

import numpy as np
from helpers import HashEmbedder

from bot.read.similarity import WordSimilarity
from bot.read.vectors import VectorCache


def test_a_batch_larger_than_the_cache_still_gets_every_vector_and_the_cache_stays_bounded():
    emb = HashEmbedder()
    cache = VectorCache(size=3)
    texts = [f"word{i}" for i in range(10)]
    vecs = cache.vectors(texts, emb.embed)
    assert vecs.shape == (10, emb.dimension) and np.allclose(vecs, emb.embed(texts))
    assert len(cache) == 3


def test_cached_vectors_are_not_embedded_again():
    emb = HashEmbedder()
    cache = VectorCache(size=100)
    cache.vectors(["a b", "c d"], emb.embed)
    cache.vectors(["c d", "a b", "e f"], emb.embed)
    assert emb.texts_embedded == 3


def test_word_similarity_with_a_full_cache_answers_from_many_threads():
    sim = WordSimilarity(HashEmbedder(), cache_size=4)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(200):
                assert 0.0 <= sim.best(f"harbour{k}", [f"port{i}", f"quay{i % 7}", "harbour"]) <= 1.0 + 1e-6
                assert abs(sim(f"ferry{i}", f"ferry{i}") - 1.0) < 1e-5
        except BaseException as exc:  # noqa: BLE001 - collected for the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
