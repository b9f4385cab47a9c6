"""Server benchmarks: time to ready, concurrent clients, a warm `citebot ask` via the server, a cold one."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.config import StoreConfig

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "eval" / "dev_questions.jsonl"
Log = Callable[[str], None]


def fig(value: float, unit: str) -> dict[str, Any]:
    """A figure with its unit."""
    return {"value": round(float(value), 4), "unit": unit}


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _dev() -> list[dict[str, Any]]:
    return [json.loads(x) for x in DEV.read_text().splitlines() if x.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict[str, Any], timeout: float = 30) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        r.read()
        return int(r.status)


def bench_server(store_cfg: StoreConfig, clients: list[int], per_client: int, time_limit: float,
                 log: Log) -> dict[str, Any]:
    """Concurrent clients against POST /api/ask of a real `citebot serve`; also time to ready."""
    import psutil

    port = _free_port()
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(store_cfg.chroma_path), "CITEBOT_COLLECTION": store_cfg.collection,
           "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "citebot"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    ready_s = None
    while time.perf_counter() - t0 < 120:
        try:
            if urllib.request.urlopen(f"{base}/readyz", timeout=1).status == 200:
                ready_s = time.perf_counter() - t0
                break
        except OSError:
            time.sleep(0.1)
    out: dict[str, Any] = {"serve_ready_seconds": fig(ready_s or float("nan"), "s")}
    if ready_s is not None:
        out["warm_ask"] = bench_warm_ask(base, 3)
        log(f"serve ready in {ready_s:.1f}s; warm `citebot ask` via CITEBOT_SERVER_URL: "
            f"{out['warm_ask']['median_seconds']['value']:.2f}s")
    questions = [q["question"] for q in _dev() if not q.get("history")]
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        p = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], p.memory_info().rss + sum(c.memory_info().rss for c in p.children(True)))
            except psutil.Error:
                break
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        for n in clients:
            lat: list[float] = []
            errors = [0]
            lock = threading.Lock()
            deadline = time.perf_counter() + time_limit

            def client(i: int, lat: list[float] = lat, errors: list[int] = errors, deadline: float = deadline,
                       lock: threading.Lock = lock) -> None:
                for j in range(per_client):
                    if time.perf_counter() > deadline:
                        return
                    q = questions[(i + j) % len(questions)]
                    t = time.perf_counter()
                    try:
                        ok = _post(f"{base}/api/ask", {"question": q}) == 200
                    except OSError:
                        ok = False
                    with lock:
                        lat.append((time.perf_counter() - t) * 1000)
                        errors[0] += 0 if ok else 1

            t = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t
            out[f"clients_{n}"] = {"requests": len(lat), "errors": errors[0],
                                   "throughput_rps": fig(len(lat) / wall, "req/s"),
                                   "p50_ms": fig(_pct(lat, 50), "ms"), "p95_ms": fig(_pct(lat, 95), "ms")}
            log(f"{n} clients: {len(lat)} requests, p50 {_pct(lat, 50):.0f} ms, p95 {_pct(lat, 95):.0f} ms, "
                f"{errors[0]} errors")
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
    out["server_peak_rss_mb"] = fig(peak[0] / 1e6, "MB")
    return out


def bench_warm_ask(base_url: str, runs: int) -> dict[str, Any]:
    """`citebot ask` from a fresh process that sends the question to a running server (CITEBOT_SERVER_URL)."""
    env = {**os.environ, "CITEBOT_SERVER_URL": base_url}
    cmd = [str(Path(sys.executable).parent / "citebot"), "ask", "--json", "Who is Hamidreza Azizi?"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # the server's first answer warms its caches
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return {"runs": runs, "median_seconds": fig(statistics.median(times), "s")}


def bench_cold_ask(store_cfg: StoreConfig, runs: int) -> dict[str, Any]:
    """`citebot ask` from a fresh process."""
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(store_cfg.chroma_path), "CITEBOT_COLLECTION": store_cfg.collection}
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "citebot"), "ask", "--json", "Who is Hamidreza Azizi?"],
                       env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return {"runs": runs, "median_seconds": fig(statistics.median(times), "s")}


