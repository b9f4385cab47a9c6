"""Helpers for tests that start real servers: a free loopback port and waiting until a URL answers."""

from __future__ import annotations

import subprocess
import time
import urllib.request

from bench.net import free_port

__all__ = ["free_port", "wait_for"]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 120, what: str = "server") -> None:  # type: ignore[type-arg]
    """Poll `url` until it answers 200; fail early if the process died."""
    deadline = time.time() + timeout
    while True:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        assert time.time() < deadline, f"{what} did not answer {url} within {timeout:.0f}s"
        time.sleep(0.3)
