"""Server benchmarks: time to ready, concurrent clients, a warm `citebot ask` via the server, a cold one."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.net import start_serve
from bench.overload import overload
from bench.stats import fig, percentile
from vectorstore.config import StoreConfig

DEV = Path(__file__).resolve().parent.parent / "evals" / "data" / "dev_questions.jsonl"
Log = Callable[[str], None]
_pct = percentile


def _dev() -> list[dict[str, Any]]:
    return [json.loads(x) for x in DEV.read_text().splitlines() if x.strip()]


def _post(url: str, body: dict[str, Any], timeout: float = 30) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _serve_env(store_cfg: StoreConfig, onnx_dir: Path | None, runtime: str = "onnx") -> dict[str, str]:
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(store_cfg.chroma_path), "CITEBOT_COLLECTION": store_cfg.collection,
           "GRADIO_ANALYTICS_ENABLED": "False", "CITEBOT_EMBEDDING_RUNTIME": runtime}
    if onnx_dir is not None:
        env["CITEBOT_ONNX_MODEL_DIR"] = str(onnx_dir)
    return env


def serve_ready_torch(store_cfg: StoreConfig) -> float | None:
    """Seconds to ready with questions encoded by torch (sentence-transformers), the lever's baseline."""
    proc, _, ready_s = start_serve(_serve_env(store_cfg, None, runtime="torch"))
    proc.terminate()
    proc.wait(timeout=30)
    return ready_s


def bench_server(store_cfg: StoreConfig, clients: list[int], per_client: int, time_limit: float,
                 log: Log, overload_clients: int = 64, overload_seconds: float = 30,
                 onnx_dir: Path | None = None) -> dict[str, Any]:
    """Concurrent clients against POST /api/ask of a real `citebot serve`; also time to ready (ONNX encoder from
    `onnx_dir`, the state after an ingest's upgrade), beside the same start with the torch encoder."""
    import psutil

    torch_s = serve_ready_torch(store_cfg)
    proc, base, ready_s = start_serve(_serve_env(store_cfg, onnx_dir))
    out: dict[str, Any] = {"serve_ready_seconds": fig(ready_s or float("nan"), "s"),
                           "serve_ready_torch_encoder_seconds": fig(torch_s or float("nan"), "s")}
    if ready_s is not None:
        out["warm_ask"] = bench_warm_ask(base, 3)
        log(f"serve ready in {ready_s:.1f}s (torch encoder: {torch_s or float('nan'):.1f}s); warm `citebot ask` "
            f"via CITEBOT_SERVER_URL: {out['warm_ask']['median_seconds']['value']:.2f}s")
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
                        # Load shedding (429/503 with Retry-After) is the server working as designed.
                        ok = _post(f"{base}/api/ask", {"question": q}) in (200, 429, 503)
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
        if ready_s is not None:
            o = out["overload"] = overload(base, proc.pid, overload_clients, overload_seconds, questions)
            log(f"overload, {overload_clients} clients for {overload_seconds:g} s: {o['admitted']} admitted "
                f"(p95 {o['admitted_p95_ms']['value']:.0f} ms), {o['rejected_503']} x 503, {o['rejected_429']} x 429, "
                f"{o['other_statuses']} other, {o['connection_errors']} connection errors; /healthz max "
                f"{o['healthz_max_ms']['value']:.0f} ms; RSS {o['peak_rss_mb']['value']:.0f} MB")
            # The same number of clients that retry at once and ignore Retry-After: the edge budget turns them
            # away before their requests cost the event loop anything.
            f = out["flood"] = overload(base, proc.pid, overload_clients, overload_seconds, questions,
                                        honour_retry_after=False)
            log(f"flood (Retry-After ignored), {overload_clients} clients: {f['requests']} requests, {f['admitted']} "
                f"admitted, {f['rejected_429']} x 429, {f['rejected_503']} x 503, {f['other_statuses']} other; "
                f"/healthz max {f['healthz_max_ms']['value']:.0f} ms")
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


def bench_cold_ask(store_cfg: StoreConfig, runs: int, onnx_dir: Path | None = None) -> dict[str, Any]:
    """`citebot ask` from a fresh process, with the ONNX encoder and with torch's."""
    out: dict[str, Any] = {"runs": runs}
    for runtime, key in (("onnx", "median_seconds"), ("torch", "torch_encoder_median_seconds")):
        env = _serve_env(store_cfg, onnx_dir, runtime)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "citebot"), "ask", "--json", "Who is Hamidreza Azizi?"],
                           env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
        out[key] = fig(statistics.median(times), "s")
    return out
