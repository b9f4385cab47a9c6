"""Typing candidate sentences: the named entities (OntoNotes types) in each, found by spaCy's NER at question time.

Sentences are tagged in one batch per question and kept in a bounded LRU keyed by the sentence's text, so a
sentence asked about again costs nothing and memory does not grow with the archive. Only the NER component runs
(en_core_web_sm's NER has its own token-to-vector layer): the parser, tagger and lemmatizer are not needed to say
which spans are dates, people or sums of money.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache


@dataclass(frozen=True)
class Entity:
    """A named entity in a sentence: its text, OntoNotes label and offsets in that sentence."""

    text: str
    label: str
    start: int
    end: int


class EntityTagger:
    """`tag(sentences)` -> the entities of each sentence, from spaCy's NER, cached."""

    def __init__(self, nlp: Any, cache_size: int = 20000) -> None:
        self.nlp = nlp
        self._cache: LRUCache[str, tuple[Entity, ...]] = LRUCache(maxsize=max(cache_size, 1))
        self._lock = threading.Lock()
        # Every component the NER does not listen to is switched off for candidate sentences.
        self._off = [name for name in nlp.pipe_names if name != "ner"]

    def tag(self, sentences: Sequence[str]) -> list[tuple[Entity, ...]]:
        """The entities of each sentence, in order (one NER batch for the sentences not cached)."""
        with self._lock:
            found = {s: self._cache.get(s) for s in set(sentences)}
        missing = [s for s, ents in found.items() if ents is None]
        if missing:
            for text, doc in zip(missing, self.nlp.pipe(missing, disable=self._off), strict=True):
                found[text] = tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
            with self._lock:
                for text in missing:
                    self._cache[text] = found[text]  # type: ignore[assignment]
        return [found[s] or () for s in sentences]
