"""Loopback plumbing shared by the benchmark and the tests that start real servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(env: dict[str, str], limit_s: float = 120) -> tuple[subprocess.Popen[bytes], str, float | None]:
    """Start `citebot serve` on a free port: the process, its URL and the seconds until /readyz said 200 (None:
    not within `limit_s`, or the process ended)."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "citebot"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    while time.perf_counter() - t0 < limit_s and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{base}/readyz", timeout=1).status == 200:
                return proc, base, time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
    return proc, base, None


def stop_all(*procs: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Terminate the processes, then wait for each (killed if it takes over 30 s)."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
