"""One tier-2 worker at a time: an exclusive lock on a file beside the store.

The kernel drops the lock when its holder dies (even by kill -9), so a crashed worker never blocks the next.
Replicas must share the folder (a volume) for the lock to cover them.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class WorkerLock:
    """`with WorkerLock(path) as held:` — `held` is False when another process holds it (and wait is False)."""

    def __init__(self, path: Path, wait: bool = False) -> None:
        self.path, self.wait = path, wait
        self._fd: int | None = None

    def __enter__(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
