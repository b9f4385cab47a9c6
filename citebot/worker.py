"""The tier-2 worker inside `citebot serve`: upgrades documents that are on the static model, in the background.

It polls the manifest, so documents added by any process (the CLI, another replica) are picked up; the file
lock keeps it to one worker per store.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ingest.upgrade import index_status, upgrade
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

log = logging.getLogger("citebot.worker")


class UpgradeWorker:
    """A daemon thread that runs `ingest.upgrade.upgrade` whenever documents wait for it."""

    def __init__(self, store: Store, embedder: Embedder, lock_path: Path, batch_size: int,
                 every_s: float = 5.0) -> None:
        self.store, self.embedder, self.lock_path = store, embedder, lock_path
        self.batch_size, self.every_s = batch_size, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="citebot-upgrade", daemon=True)

    def start(self) -> UpgradeWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if index_status(self.store).pending:
                    report = upgrade(self.store, lambda: self.embedder, self.lock_path, batch_size=self.batch_size)
                    if report.documents:
                        log.warning(report.summary())
            except Exception:  # keep serving; the next round retries
                log.exception("background upgrade failed; retrying in %.0fs", self.every_s)
            self._stop.wait(self.every_s)
