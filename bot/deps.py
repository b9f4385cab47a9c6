"""Everything the bot needs, built once at start-up and passed in, so tests can swap any part."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from bot.config import BotConfig
from bot.draft import Draft
from bot.followup import Resolved
from bot.judge.support import Judge
from bot.retrieve import Corpus, HybridRetriever, Passage
from vectorstore.embeddings import Embedder
from vectorstore.store import Store


class Engine(Protocol):
    """An answer engine: given the resolved question and passages, yields text deltas, then a Draft."""

    name: str

    def run(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Iterator[str | Draft]: ...


@dataclass
class Deps:
    """The injected parts: settings, store, embedder, retriever, support judge and engines."""

    config: BotConfig
    store: Store
    embedder: Embedder
    retriever: HybridRetriever
    judge: Judge
    engines: dict[str, Callable[[], Engine]] = field(default_factory=dict)
    _built: dict[str, Engine] = field(default_factory=dict, repr=False)
    # Taken around the CPU-bound part of an answer (see BotConfig.cpu_workers).
    cpu: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.cpu = threading.BoundedSemaphore(self.config.cpu_workers)

    def engine(self, name: str) -> Engine:
        """The named engine, constructed on first use."""
        if name not in self._built:
            self._built[name] = self.engines[name]()
        return self._built[name]
