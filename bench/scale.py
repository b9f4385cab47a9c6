"""How serving grows with the archive: synthetic archives of several sizes (bench/archive.py), each ingested at
tier 1 by `citebot ingest` and served by `citebot serve`, measured the way a user meets them.

Per size: tier-1 ingest time and throughput, `serve` to ready, warm answer p50/p95 over 200 questions through the
API, the server's RSS after them, how long a new upload takes to be answered, needle recall (the planted fact's
article cited), and then (up to 10k articles) how long `citebot upgrade` takes to give the whole archive its tier-2
vectors. Across sizes: the slope of log(answer p50) against log(articles), which is below 1 when the cost per
question grows slower than the archive. With 10k in the sizes, the same archive is also served from a Chroma server
by two replicas (`bench_replicas`).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.archive import Needle, generate, paragraphs_from
from bench.net import free_port, start_serve, stop_all
from bench.stats import fig, percentile

Log = Callable[[str], None]
BIN = Path(sys.executable).parent
TOKEN = "bench-scale-admin"
_GENERAL = ["What did the officials say about the budget?", "Who criticised the decision?",
            "When will the new rules take effect?", "How many people were affected?"]


def _post(url: str, body: dict[str, Any], timeout: float = 120) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return int(r.status), json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), {}


def _rss_mb(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return (p.memory_info().rss + sum(c.memory_info().rss for c in p.children(True))) / 1e6


def _cites(answer: dict[str, Any], source: str) -> bool:
    return any(c.get("source") == source for c in answer.get("citations", []))


def _env(work: Path, n: int) -> dict[str, str]:
    """A store of its own for the archive of `n` articles, tier 1 only, with the project's model files (`make
    install` builds them), as a user's second store would find them cached."""
    from vectorstore.config import StoreConfig
    from vectorstore.onnx_encoder import onnx_cache_dir
    from vectorstore.static import static_cache_dir

    models = StoreConfig()
    return {**os.environ, "CITEBOT_CHROMA_PATH": str(work / f"store-{n}" / "chroma"),
            "CITEBOT_STATIC_MODEL_DIR": str(static_cache_dir(models)),
            "CITEBOT_ONNX_MODEL_DIR": str(onnx_cache_dir(models)),
            "CITEBOT_DATA_DIR": str(work / f"data-{n}"), "CITEBOT_BACKGROUND_UPGRADE": "false",
            "CITEBOT_ADMIN_TOKEN": TOKEN, "GRADIO_ANALYTICS_ENABLED": "False"}


def bench_size(n: int, pool: list[str], work: Path, log: Log, questions: int = 200, tier2: bool = True
               ) -> dict[str, Any]:
    """One archive of `n` articles, from generation to a served upload."""
    folder = work / f"archive-{n}"
    needles: list[Needle] = generate(folder, n, pool, seed=7, needles=20)
    env = _env(work, n)
    t0 = time.perf_counter()
    out = subprocess.run([str(BIN / "citebot"), "ingest", "--json", str(folder)], env=env, capture_output=True,
                         text=True)
    ingest_s = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"ingest of {n} articles failed: {out.stderr[-2000:]}")
    chunks = json.loads(out.stdout.strip().splitlines()[-1])["chunks_embedded"]
    log(f"scale {n}: tier-1 ingest {ingest_s:.1f} s ({chunks} chunks, {chunks / ingest_s:.0f}/s)")
    return {"articles": n, "chunks": chunks, "tier1_ingest_seconds": fig(ingest_s, "s"),
            "tier1_chunks_per_second": fig(chunks / ingest_s, "chunks/s"),
            **serve_archive(n, needles, env, log, questions, tier2)}


def _ask(bases: list[str], needles: list[Needle], questions: int) -> tuple[list[float], int]:
    """`questions` questions (the needles' and a few general ones, round robin over `bases` as a load balancer
    would send them) after a warm-up of 5: latencies in ms, and how many needle questions cited their article."""
    asked = [q.question for q in needles] + _GENERAL
    for i, q in enumerate(asked[:5]):
        _post(f"{bases[i % len(bases)]}/api/ask", {"question": q})  # warm-up: not counted
    lat: list[float] = []
    found = 0
    for i in range(questions):
        q = asked[i % len(asked)]
        t = time.perf_counter()
        status, ans = _post(f"{bases[i % len(bases)]}/api/ask", {"question": q})
        lat.append((time.perf_counter() - t) * 1000)
        if i < len(needles) and status == 200 and _cites(ans, needles[i].source):
            found += 1
    return lat, found


_UPLOAD = ("Harbour Names Its First Pilot\n\nBy Bench Desk\n\nThe port of Qualmster appointed Ilse Varnow as its "
           "first harbour pilot on 2 March 2031, the port authority said.\n")


def _upload_answerable(via: str, on: str) -> float | None:
    """Seconds from uploading an article through `via` until `on` answers from it (None: not within 60 s)."""
    t = time.perf_counter()
    _post(f"{via}/api/documents/text", {"title": "Harbour Names Its First Pilot", "text": _UPLOAD})
    while time.perf_counter() - t < 60:
        status, ans = _post(f"{on}/api/ask", {"question": "Who is the first harbour pilot of Qualmster?"})
        if status == 200 and "Varnow" in ans.get("answer", ""):
            return time.perf_counter() - t
        time.sleep(0.1)
    return None


def serve_archive(n: int, needles: list[Needle], env: dict[str, str], log: Log, questions: int = 200,
                  tier2: bool = True) -> dict[str, Any]:
    """An ingested archive served: start-up, answers, memory, an upload, needles, then tier 2 (when asked)."""
    proc, base, ready_s = start_serve(env, limit_s=600)
    try:
        if ready_s is None:
            return {"serve_ready_seconds": None, "error": "serve did not start"}
        log(f"scale {n}: serve ready in {ready_s:.1f} s")
        lat, found = _ask([base], needles, questions)
        rss = _rss_mb(proc.pid)
        answerable_s = _upload_answerable(base, base)
    finally:
        stop_all(proc)
    # Tier 2 (the full model's vectors) for the whole archive, in the foreground: how long an archive of this
    # size waits for it.
    tier2_s = None
    if tier2:
        t = time.perf_counter()
        up = subprocess.run([str(BIN / "citebot"), "upgrade"], env=env, capture_output=True, text=True)
        tier2_s = time.perf_counter() - t
        if up.returncode != 0:
            raise RuntimeError(f"upgrade of {n} articles failed: {up.stderr[-2000:]}")
        log(f"scale {n}: tier 2 finished in {tier2_s:.0f} s")
    log(f"scale {n}: p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms, RSS {rss:.0f} MB, "
        f"needles cited {found}/{len(needles)}, upload answerable in {answerable_s or float('nan'):.1f} s")
    return {
        "tier2_finish_seconds": fig(tier2_s, "s") if tier2_s is not None else None,
        "serve_ready_seconds": fig(ready_s, "s"),
        "answer_p50_ms": fig(percentile(lat, 50), "ms"), "answer_p95_ms": fig(percentile(lat, 95), "ms"),
        f"rss_after_{questions}_questions_mb": fig(rss, "MB"),
        "upload_answerable_seconds": fig(answerable_s, "s") if answerable_s is not None else None,
        "needle_cited": fig(found / max(len(needles), 1), "share"),
    }


def bench_replicas(n: int, pool: list[str], work: Path, log: Log, questions: int = 200) -> dict[str, Any]:
    """The archive on a Chroma server (`chroma run`) served by two replicas, each with its own data folder (its
    own saved lexical index): both starts, answers sent round robin, each process's memory, and an upload
    through one replica until the other answers from it."""
    folder = work / f"archive-{n}"
    needles = generate(folder, n, pool, seed=7, needles=20)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    chroma = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(work / f"chroma-server-{n}"), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    procs: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or chroma.poll() is not None:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.2)
        env = {**_env(work, n), "CITEBOT_CHROMA_URL": url}
        data = {name: str(work / f"replica-{name}-{n}") for name in "ab"}
        t0 = time.perf_counter()
        out = subprocess.run([str(BIN / "citebot"), "ingest", "--json", str(folder)],
                             env={**env, "CITEBOT_DATA_DIR": data["a"]}, capture_output=True, text=True)
        ingest_s = time.perf_counter() - t0
        if out.returncode != 0:
            raise RuntimeError(f"ingest of {n} articles into the Chroma server failed: {out.stderr[-2000:]}")
        chunks = json.loads(out.stdout.strip().splitlines()[-1])["chunks_embedded"]
        log(f"replicas {n}: tier-1 ingest into the Chroma server {ingest_s:.1f} s ({chunks / ingest_s:.0f} chunks/s)")
        # A saved the index at ingest (same data folder); B starts with none and builds its own copy.
        started = {}
        for name in "ab":
            proc, base, ready_s = start_serve({**env, "CITEBOT_DATA_DIR": data[name]}, limit_s=600)
            procs.append(proc)
            if ready_s is None:
                return {"error": f"replica {name} did not start"}
            started[name] = (base, ready_s)
        log(f"replicas {n}: ready in {started['a'][1]:.1f} s (A, its saved index) and {started['b'][1]:.1f} s "
            "(B, building its own)")
        bases = [started["a"][0], started["b"][0]]
        lat, found = _ask(bases, needles, questions)
        rss = {name: _rss_mb(p.pid) for name, p in zip("ab", procs, strict=True)}
        chroma_rss = _rss_mb(chroma.pid)
        answerable_s = _upload_answerable(bases[0], bases[1])
        # B again, now that it has a saved copy of its own (saved in the background a moment after it built it).
        stop_all(procs.pop())
        proc, base, restart_s = start_serve({**env, "CITEBOT_DATA_DIR": data["b"]}, limit_s=600)
        procs.append(proc)
        log(f"replicas {n}: p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms, RSS A {rss['a']:.0f} "
            f"MB, B {rss['b']:.0f} MB, Chroma server {chroma_rss:.0f} MB, needles cited {found}/{len(needles)}, "
            f"upload through A answerable on B in {answerable_s or float('nan'):.1f} s, B restarted in "
            f"{restart_s or float('nan'):.1f} s")
        return {
            "articles": n, "chunks": chunks, "tier1_ingest_seconds": fig(ingest_s, "s"),
            "serve_ready_seconds": fig(started["a"][1], "s"),
            "replica_first_start_seconds": fig(started["b"][1], "s"),
            "replica_restart_seconds": fig(restart_s, "s") if restart_s is not None else None,
            "answer_p50_ms": fig(percentile(lat, 50), "ms"), "answer_p95_ms": fig(percentile(lat, 95), "ms"),
            f"rss_after_{questions}_questions_mb": fig(max(rss.values()), "MB"),
            "chroma_server_rss_mb": fig(chroma_rss, "MB"),
            "upload_answerable_seconds": fig(answerable_s, "s") if answerable_s is not None else None,
            "needle_cited": fig(found / max(len(needles), 1), "share"),
        }
    finally:
        stop_all(*procs, chroma)


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(value) against log(size): 1 is linear growth, 0 none."""
    pts = [(math.log(n), math.log(v)) for n, v in points if n > 0 and v > 0]
    if len(pts) < 2:
        return None
    mx, my = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else None


def bench_scale(sizes: list[int], texts: list[str], log: Log, questions: int = 200, tier2_up_to: int = 10_000
                ) -> dict[str, Any]:
    """Every size in one run; the per-question cost slope across them. Tier 2 is timed for archives of up to
    `tier2_up_to` articles (at 100k it is hours of CPU on two cores)."""
    pool = paragraphs_from(texts)
    log(f"scale: {len(pool)} real paragraphs to build archives of {sizes} articles from")
    with tempfile.TemporaryDirectory(prefix="citebot-scale-") as tmp:
        by_size = {str(n): bench_size(n, pool, Path(tmp), log, questions, tier2=n <= tier2_up_to) for n in sizes}
        if 10_000 in sizes:
            by_size["replicas-10000"] = bench_replicas(10_000, pool, Path(tmp), log, questions)
    points = [(int(k), v["answer_p50_ms"]["value"]) for k, v in by_size.items()
              if k.isdigit() and v.get("answer_p50_ms")]
    s = slope(points)
    return {**by_size, "answer_p50_slope_vs_articles": fig(s, "log-log") if s is not None else None}
