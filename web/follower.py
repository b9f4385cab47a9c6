"""Keep a server's retrieval index in step with a store that other processes write to.

Several `citebot serve` replicas share one Chroma server, and `citebot ingest` may write to it too. Each replica
holds its own BM25 index and document table, rebuilt from the store's manifest when it changes. Looking from a
background thread means an article stored anywhere is answerable here within about CITEBOT_REFRESH_SECONDS, even
when no question arrives in between, and the question that comes next does not pay for the re-index.
"""

from __future__ import annotations

import logging
import threading

from bot.retrieve import HybridRetriever

log = logging.getLogger("citebot.follower")


class IndexFollower:
    """A daemon thread that calls `retriever.refresh()` every `interval` seconds until stopped."""

    def __init__(self, retriever: HybridRetriever, interval: float) -> None:
        self.retriever = retriever
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="citebot-index-follower", daemon=True)
        self._failing = False

    def start(self) -> IndexFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.retriever.refresh(max_age=self.interval)
            except Exception as exc:  # the store is unreachable for now: keep answering from the current index
                if not self._failing:
                    log.warning("cannot re-read the store (%s); answering from the index loaded before, and "
                                "retrying every %.1fs", exc, self.interval)
                self._failing = True
            else:
                if self._failing:
                    log.warning("the store answers again; the index follows it")
                self._failing = False
