"""What retrieval and the readers hold of the store: the manifest, the lexical index, and texts fetched on demand.

No process holds the archive's texts: a question reads the texts of the few documents it retrieved, by id, and a
bounded cache keeps the recent ones. The lexical index is saved in the process's data folder and loaded
memory-mapped at start; only what changed in the store since it was saved is read (bot.retrieve.lexical).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from bot.retrieve.lexical import LexicalIndex
from bot.text import content_terms
from vectorstore.sentences import sentence_spans
from vectorstore.store import Chunk, Document, Store, now_us

log = logging.getLogger("citebot.retrieve")

# Up to this many changed documents (or a twentieth of the archive), a refresh reads only those.
_FEW_CHANGED = 200
# Manifest entries are stamped by their writer's clock when written (Store.documents_changed). A reader reads
# again what was stamped from this long before it last read: a write stamped just before that read may not have
# been visible to it yet, and a writer on another host may run a little behind.
_CLOCK_MARGIN_US = 30 * 1_000_000


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    # Interned: the same stemmed word is one object across chunks.
    return [[sys.intern(t) for t in content_terms(text)] or ["\x00empty"] for text in texts]


class Texts(Mapping[str, str]):
    """doc_id -> the cleaned text of the committed revision, read from the store when first asked for and kept in
    a bounded cache shared by successive corpora (keyed by revision, so an updated document is read again)."""

    def __init__(self, store: Store, docs: Mapping[str, Document], cache: LRUCache[tuple[str, str], str]) -> None:
        self._store, self._docs, self._cache = store, docs, cache
        self._lock = threading.Lock()

    def prefetch(self, doc_ids: Iterable[str]) -> None:
        """Read the texts of these documents that are not cached, in one request."""
        wanted = {i: self._docs[i].rev for i in set(doc_ids) if i in self._docs}
        with self._lock:
            wanted = {i: r for i, r in wanted.items() if (i, r) not in self._cache}
        if not wanted:
            return
        got = self._store.texts_at(dict(wanted))
        with self._lock:
            for i, text in got.items():
                self._cache[(i, wanted[i])] = text

    def __getitem__(self, doc_id: str) -> str:
        doc = self._docs.get(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        with self._lock:
            text = self._cache.get((doc_id, doc.rev))
        if text is None:
            self.prefetch([doc_id])
            with self._lock:
                text = self._cache.get((doc_id, doc.rev))
        if text is None:
            raise KeyError(doc_id)  # changed or removed since this corpus was loaded
        return text

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and doc_id in self._docs

    def __iter__(self) -> Any:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)


class SentenceSpans:
    """Each document's sentence offsets, split when first asked for and kept in a bounded cache: a question reads
    the sentences of the few documents it retrieved."""

    def __init__(self, texts: Mapping[str, str], size: int = 4096) -> None:
        self._texts = texts
        self._cache: LRUCache[str, list[tuple[int, int]]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, doc_id: str, default: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
        with self._lock:
            spans = self._cache.get(doc_id)
        if spans is None:
            text = self._texts.get(doc_id)
            if text is None:
                return default if default is not None else []
            spans = sentence_spans(text)
            with self._lock:
                self._cache[doc_id] = spans
        return spans


@dataclass
class Corpus:
    """The committed documents, their lexical index and a view of their texts, replaced when the store changes."""

    docs: dict[str, Document]
    texts: Mapping[str, str]
    sentences: SentenceSpans | dict[str, list[tuple[int, int]]]
    lexical: LexicalIndex = field(default_factory=LexicalIndex)
    # Manifest entries written from this time on (µs, see Store.documents_changed) may be missing from `docs`;
    # 0: unknown, the whole manifest must be read.
    since: int = 0

    def __post_init__(self) -> None:
        # What every question would otherwise recompute from all documents: the stored outlets, and the
        # committed revisions by tier.
        self.sites = frozenset(d.site for d in self.docs.values() if d.site)
        by_tier: dict[int, set[str]] = {}
        for d in self.docs.values():
            by_tier.setdefault(d.tier, set()).add(d.rev)
        self.revs_by_tier = {tier: frozenset(revs) for tier, revs in by_tier.items()}

    @property
    def chunks(self) -> list[Chunk]:
        """Every indexed chunk, without its text (cut it from `texts`)."""
        return self.lexical.chunks()

    def idf(self, term: str) -> float:
        """Smoothed inverse chunk frequency of a stemmed term (high for rare words)."""
        return self.lexical.idf(term)

    def prefetch(self, doc_ids: Iterable[str]) -> None:
        """Read the texts of these documents in one request, if `texts` reads on demand."""
        if isinstance(self.texts, Texts):
            self.texts.prefetch(doc_ids)

    @classmethod
    def build(cls, store: Store, cache: LRUCache[tuple[str, str], str]) -> Corpus:
        """Read every committed document and chunk and index them (a first start, or a store changed wholesale)."""
        since = now_us() - _CLOCK_MARGIN_US
        manifest, texts = store.documents_and_texts()
        docs = {d.doc_id: d for d in manifest}
        # The chunks of this very manifest, so the index describes exactly `docs`.
        chunks = store.visible_chunks(manifest, texts)
        lexical = LexicalIndex.build(chunks, _tokens([c.text for c in chunks]))
        return cls._of(store, docs, lexical, cache, since)

    @classmethod
    def _of(cls, store: Store, docs: dict[str, Document], lexical: LexicalIndex,
            cache: LRUCache[tuple[str, str], str], since: int) -> Corpus:
        texts = Texts(store, docs, cache)
        return cls(docs=docs, texts=texts, sentences=SentenceSpans(texts), lexical=lexical, since=since)

    def caught_up(self, store: Store, cache: LRUCache[tuple[str, str], str]) -> Catchup:
        """This corpus brought up to the store's manifest as it is now, reading only the entries written since it
        was read (see `manifest_delta`) and the chunks of the documents that changed: nothing here walks the
        whole manifest unless it was read whole. `corpus` is None when so many changed that reading everything
        is cheaper."""
        delta = manifest_delta(store, self.docs, self.since)
        if delta.whole:
            docs = {d.doc_id: d for d in delta.entries}
            removed = self.docs.keys() - docs.keys()
        else:
            removed = delta.removed
        new = [d for d in delta.entries if self.docs.get(d.doc_id) != d]
        if not new and not removed:
            # Nothing changed: this corpus, now known to be current up to the later time. Kept, not rebuilt, since
            # a replica of a Chroma server asks twice a second (only refreshes read `since`, one at a time).
            self.since = delta.since
            return Catchup(self, False, len(delta.entries))
        if not delta.whole:
            docs = {i: d for i, d in self.docs.items() if i not in removed}
            docs.update((d.doc_id, d) for d in new)
        changed = [d for d in new if (old := self.docs.get(d.doc_id)) is None or old.rev != d.rev]
        if len(changed) > max(_FEW_CHANGED, len(docs) // 20):
            return Catchup(None, True, len(delta.entries))
        fresh = [c for d in changed for c in store.chunks_of(d, d.tier)]
        if {c.doc_id for c in fresh} != {d.doc_id for d in changed if d.chunks}:
            return Catchup(None, True, len(delta.entries))  # changed again while being read: read everything
        gone = set(removed) | {d.doc_id for d in changed}
        lexical = self.lexical.changed(gone, fresh, _tokens([c.text for c in fresh])) if gone or fresh else self.lexical
        return Catchup(Corpus._of(store, docs, lexical, cache, delta.since), True, len(delta.entries))


@dataclass
class Catchup:
    """What `Corpus.caught_up` found: the corpus now (None: too much changed, build it again), whether any
    document changed, and how many manifest entries it had to read."""

    corpus: Corpus | None
    changed: bool
    reread: int


@dataclass
class ManifestDelta:
    """What changed in the manifest since a time: the entries read (`whole`: the entire manifest, so any
    document not among them is gone), the documents removed, and the time to read from next."""

    entries: list[Document]
    removed: set[str]
    since: int
    whole: bool = False


def manifest_delta(store: Store, docs: Mapping[str, Document], since: int) -> ManifestDelta:
    """The manifest's changes relative to `docs`, as read at `since`: only the entries written since then are
    read, and the ids alone when the count shows that documents went (or were written without a stamp, by an
    older version). With no `since`, the whole manifest."""
    read_at = now_us() - _CLOCK_MARGIN_US
    if not since:
        return ManifestDelta(store.documents(), set(), read_at, whole=True)
    entries = store.documents_changed(since)
    known = len(docs) + sum(1 for d in entries if d.doc_id not in docs)
    removed: set[str] = set()
    if known != store.document_count():
        ids = store.document_ids()
        removed = {i for i in docs if i not in ids}
        seen = {d.doc_id for d in entries}
        if missing := [i for i in ids if i not in docs and i not in seen]:
            entries += store.documents_by_id(missing).values()
    return ManifestDelta(entries, removed, read_at)


class Snapshot:
    """The corpus saved in a folder of the process's own (a replica keeps its own copy), so a restart loads it
    instead of re-reading and re-indexing the archive. Saved on a background thread, at most every `every_s`."""

    def __init__(self, folder: Path, location: str, every_s: float = 30.0) -> None:
        self.folder, self.location, self.every_s = folder, location, every_s
        self._pending: Corpus | None = None
        self._token: tuple[int, ...] | None = None
        self._saved_at = 0.0
        self._lock = threading.Lock()
        self._saving = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self, store: Store, cache: LRUCache[tuple[str, str], str]) -> tuple[Corpus | None, bool]:
        """The saved corpus brought up to date with the store (None when there is none for this store), and
        whether it was already current."""
        got = LexicalIndex.load(self.folder)
        if got is None:
            return None, False
        lexical, extra = got
        saved_docs = extra.get("docs") if isinstance(extra, dict) else None
        if extra.get("location") != self.location or not isinstance(saved_docs, dict):
            return None, False  # another store's copy, or not one this code wrote: built again
        since = extra.get("since")
        corpus = Corpus._of(store, saved_docs, lexical, cache, since if isinstance(since, int) else 0)
        token = store.change_token()
        if token is not None and token == extra.get("token"):
            return corpus, True  # nothing written since: the manifest is not even read
        caught = corpus.caught_up(store, cache)
        # Saved again only when documents changed. Entries read again without a change (those written in the
        # last moments before the copy was saved: a few thousand after a bulk ingest) cost a start well under a
        # second; saving 100,000 documents' index on the start's own CPU cost it four.
        return caught.corpus, not caught.changed

    def current(self, store: Store, cache: LRUCache[tuple[str, str], str]) -> tuple[Corpus, bool]:
        """The corpus of the store as it is now, from the saved copy when there is a usable one, and whether that
        copy was already current (else it should be saved again)."""
        corpus, current = self.load(store, cache)
        return (corpus, current) if corpus is not None else (Corpus.build(store, cache), False)

    def save_later(self, corpus: Corpus, token: tuple[int, ...] | None) -> None:
        """Save this corpus soon, on the saver thread (a newer one replaces it if it waits)."""
        with self._lock:
            self._pending, self._token = corpus, token
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="citebot-snapshot", daemon=True)
                self._thread.start()
        self._wake.set()

    def save(self, corpus: Corpus, token: tuple[int, ...] | None) -> None:
        with self._saving:
            self._save(corpus, token)

    def _save(self, corpus: Corpus, token: tuple[int, ...] | None) -> None:
        corpus.lexical.save(self.folder, {"location": self.location, "docs": corpus.docs, "token": token,
                                          "since": corpus.since})

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(max(0.0, self._saved_at + self.every_s - time.monotonic()))
            with self._lock:
                corpus, token, self._pending = self._pending, self._token, None
            if corpus is None:
                continue
            try:
                self.save(corpus, token)
            except OSError:
                log.exception("could not save the lexical index to %s; the next start re-reads the store",
                              self.folder)
            self._saved_at = time.monotonic()
