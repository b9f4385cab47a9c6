"""Overload: many clients against a real `citebot serve` for a fixed time, while /healthz is probed.

What an operator needs to know: every response is 2xx, 429 or 503 (no 500s, no dropped connections), the
requests that were admitted stay fast, memory stays bounded, and the health check answers throughout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import httpx

from bench.stats import fig, percentile

# How often /healthz is probed during the run.
_PROBE_INTERVAL = 0.25
# The probe process: GET /healthz every interval for the run's length; prints {"ms": [...], "failures": n}.
_PROBE = """
import json, sys, time, httpx
base, seconds, every = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
ms, failures, end = [], 0, time.monotonic() + seconds
with httpx.Client(timeout=5) as http:
    while time.monotonic() < end:
        t = time.perf_counter()
        try:
            ok = http.get(base + "/healthz").status_code == 200
        except httpx.HTTPError:
            ok = False
        ms.append((time.perf_counter() - t) * 1000)
        failures += 0 if ok else 1
        time.sleep(every)
print(json.dumps({"ms": ms, "failures": failures}))
"""


def overload(base: str, pid: int, clients: int, seconds: float, questions: list[str],
             honour_retry_after: bool = True) -> dict[str, Any]:
    """Run `clients` closed-loop clients for `seconds` against POST /api/ask; probe /healthz and RSS.

    With `honour_retry_after=False` the clients are a flood: a rejected request is retried at once."""
    import psutil

    stop = threading.Event()
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    conn_errors = [0]
    admitted: list[float] = []
    health: list[float] = []
    health_failures = [0]
    peak = [0]

    def client(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            j = 0
            while not stop.is_set():
                q = questions[(i + j) % len(questions)]
                j += 1
                t = time.perf_counter()
                try:
                    r = http.post(f"{base}/api/ask", json={"question": q})
                except httpx.HTTPError:
                    with lock:
                        conn_errors[0] += 1
                    continue
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code == 200:
                        admitted.append(ms)
                if r.status_code in (429, 503) and honour_retry_after:
                    # A well-behaved client honours Retry-After (capped so the run keeps its pressure).
                    stop.wait(min(float(r.headers.get("Retry-After", "1")), 1.0))

    def sample_rss() -> None:
        proc = psutil.Process(pid)
        while not stop.is_set():
            try:
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True))
                peak[0] = max(peak[0], rss)
            except psutil.Error:
                pass
            stop.wait(_PROBE_INTERVAL)

    # /healthz is timed from a process of its own: a probe thread here would also time this process's 64
    # client threads taking turns on its interpreter lock, not only the server.
    prober = subprocess.Popen([sys.executable, "-c", _PROBE, base, str(seconds), str(_PROBE_INTERVAL)],
                              stdout=subprocess.PIPE, text=True)
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    threads.append(threading.Thread(target=sample_rss, daemon=True))
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    stop.wait(seconds)
    stop.set()
    for th in threads:
        th.join(timeout=60)
    wall = time.perf_counter() - t0
    try:
        probed = json.loads(prober.communicate(timeout=60)[0] or "{}")
    except (subprocess.TimeoutExpired, ValueError):
        prober.kill()
        probed = {}
    health.extend(probed.get("ms", []))
    health_failures[0] += int(probed.get("failures", 0))
    total = sum(statuses.values())
    bad = sum(n for code, n in statuses.items() if not (200 <= code < 300 or code in (429, 503)))
    return {
        "clients": clients,
        "honour_retry_after": honour_retry_after,
        "seconds": fig(wall, "s"),
        "requests": total,
        "admitted": statuses.get(200, 0),
        "rejected_429": statuses.get(429, 0),
        "rejected_503": statuses.get(503, 0),
        "other_statuses": bad,
        "connection_errors": conn_errors[0],
        "admitted_rps": fig(statuses.get(200, 0) / wall, "req/s"),
        "admitted_p50_ms": fig(percentile(admitted, 50), "ms"),
        "admitted_p95_ms": fig(percentile(admitted, 95), "ms"),
        "healthz_p95_ms": fig(percentile(health, 95), "ms"),
        "healthz_max_ms": fig(max(health, default=float("nan")), "ms"),
        "healthz_failures": health_failures[0],
        "peak_rss_mb": fig(peak[0] / 1e6, "MB"),
    }
