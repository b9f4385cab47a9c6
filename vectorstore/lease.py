"""One ingest at a time per store, across processes and replicas, and a plain file lock.

Two ingests at once would embed the same files twice, and one run's clean-up of "chunks of a run that died"
would delete the other's chunks before they are committed. So an ingest holds a lock on the store:

* embedded store: the store's ownership (vectorstore.owner), since only one process may write to it at all;
* Chroma server: a lease record (the metadata of a small collection beside the chunks) naming its holder and
  an expiry that the holder renews; a crashed holder's lease simply expires.

A second run waits, saying who holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

# A lease is renewed every third of its life, so a live holder never loses it to a slow round trip.
_RENEW_FRACTION = 3


def holder_name() -> str:
    """Who is ingesting: host, process and a random suffix (two runs in one process differ too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class FileLock:
    """An exclusive `flock` on a file, naming its holder inside it.

    `with FileLock(path) as held:` waits for the lock (telling `on_wait` who holds it); with `wait=False`,
    `held` is False at once when another process has it.
    """

    def __init__(self, path: Path, wait: bool = True, on_wait: Callable[[str], None] | None = None,
                 holder: str | None = None) -> None:
        self.path, self.wait = Path(path), wait
        self.on_wait = on_wait or (lambda _msg: None)
        self.holder = holder or holder_name()
        self._fd: int | None = None

    def __enter__(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self.wait:
                os.close(fd)
                return False
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            self.on_wait(f"another process holds {self.path.name} ({holder}); waiting for it to finish …")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, self.holder.encode(), 0)
        self._fd = fd
        return True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class IngestLock:
    """`with IngestLock(client, ..., on_wait=print):` blocks until this run may write to the Chroma server."""

    def __init__(self, client: Any, chroma_path: Path, collection: str, server: bool = True,
                 on_wait: Callable[[str], None] | None = None, lease_seconds: float = 30.0,
                 poll_seconds: float = 0.5) -> None:
        assert server, "an embedded store is guarded by its ownership (Store.writing)"
        self.client = client
        self.lease_name = f"{collection}-ingest-lease"
        self.on_wait = on_wait or (lambda _msg: None)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.me = holder_name()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # -- server: a lease record -----------------------------------------------------------------
    def _lease(self) -> Any:
        # Never get_or_create with metadata: on an existing collection that would overwrite the holder's lease.
        try:
            return self.client.get_collection(self.lease_name)
        except Exception:
            try:
                return self.client.create_collection(self.lease_name, metadata={"holder": "", "expires": 0.0})
            except Exception:  # another run created it first
                return self.client.get_collection(self.lease_name)

    def _read(self) -> tuple[str, float]:
        meta = self._lease().metadata or {}
        return str(meta.get("holder", "")), float(meta.get("expires", 0.0))

    def _write(self, holder: str, expires: float) -> None:
        self._lease().modify(metadata={"holder": holder, "expires": expires})

    def _take_lease(self) -> None:
        told = ""
        while True:
            holder, expires = self._read()
            if not holder or expires < time.time() or holder == self.me:
                self._write(self.me, time.time() + self.lease_seconds)
                # Chroma has no compare-and-set: after writing, wait a beat and read again; of two runs that
                # wrote at once, only the last writer sees its own name and goes ahead.
                time.sleep(self.poll_seconds)
                if self._read()[0] == self.me:
                    break
                continue
            if holder != told:
                self.on_wait(f"another ingest holds this store's lease ({holder}, expires in "
                             f"{max(0.0, expires - time.time()):.0f} s); waiting …")
                told = holder
            time.sleep(self.poll_seconds)
        self._renewer = threading.Thread(target=self._renew, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_seconds / _RENEW_FRACTION):
            try:
                self._write(self.me, time.time() + self.lease_seconds)
            except Exception:  # the server is briefly unreachable: the next round tries again
                continue

    # -- context manager ------------------------------------------------------------------------
    def __enter__(self) -> IngestLock:
        self._take_lease()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._renewer is not None:
            self._stop.set()
            self._renewer.join(timeout=5)
            try:
                if self._read()[0] == self.me:
                    self._write("", 0.0)
            except Exception:  # the lease expires by itself
                pass
