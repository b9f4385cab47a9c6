"""Progress for long work: a bar on a terminal, a periodic plain line otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Call with (done, total); draws a tqdm bar on a TTY, else prints a line every few seconds."""

    def __init__(self, label: str, unit: str = "it", stream: TextIO | None = None, every: float = 2.0) -> None:
        self.label, self.unit, self.every = label, unit, every
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._bar: Any = None
        self._last = 0.0
        self._start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=self.label, unit=self.unit, file=self.stream, leave=False)
            self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        now = time.perf_counter()
        if done == total or now - self._last >= self.every or (done and not self._last):
            self._last = now
            rate = done / max(now - self._start, 1e-9)
            print(f"{self.label}: {done}/{total} {self.unit} ({rate:.1f}/s)", file=self.stream, flush=True)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
