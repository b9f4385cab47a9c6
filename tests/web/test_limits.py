"""Overload bounds over real HTTP on loopback: answer slots with a short queue (503 + Retry-After), per-client
rate limits (429 + Retry-After), and streams that stop when the client leaves or the time limit passes.

A scripted engine at the engine seam makes each answer take a known time; everything else is real.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from bench.net import free_port
from bot.draft import Draft
from citebot.deps import build_deps, build_services
from citebot.settings import Settings
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from vectorstore.config import StoreConfig
from vectorstore.store import Store
from web.config import WebConfig
from web.server import create_app

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


class SlowEngine:
    """Yields `tokens` tokens, `delay` seconds apart, counting how many it produced."""

    name = "extractive"

    def __init__(self, tokens: int, delay: float) -> None:
        self.tokens, self.delay, self.produced = tokens, delay, 0

    def run(self, resolved, passages, corpus) -> Iterator[str | Draft]:  # type: ignore[no-untyped-def]
        for i in range(self.tokens):
            time.sleep(self.delay)
            self.produced += 1
            yield f"t{i} "
        yield Draft(abstain_reason="scripted")


@pytest.fixture
def serve(tmp_path, hash_embedder):  # type: ignore[no-untyped-def]
    """Start a real server with a scripted engine and the given WebConfig; yields (base_url, engine)."""
    cfg = StoreConfig(chroma_path=tmp_path / "chroma", collection="limits")
    ingest([SEEDS], Store.open(cfg), lambda: hash_embedder, IngestConfig())
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection, data_dir=tmp_path / "data")
    servers: list[uvicorn.Server] = []

    def start(engine: SlowEngine, **web: object) -> str:
        deps = build_deps(settings, embedder=hash_embedder)
        deps.engines["extractive"] = lambda: engine
        app = create_app(build_services(settings, deps), WebConfig(**web), ui=False)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for s in servers:
        s.should_exit = True


def test_past_the_slots_and_queue_clients_get_503_with_retry_after(serve):
    url = serve(SlowEngine(tokens=1, delay=1.5), max_concurrent=1, max_queue=1, queue_wait=0.3)

    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{url}/api/ask", json={"question": "What did Iran sign?"}, timeout=30)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(ask, range(6)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 1, codes
    assert set(codes) == {200, 503}, codes
    for r in responses:
        if r.status_code == 503:
            assert int(r.headers["Retry-After"]) >= 1
            assert "capacity" in r.json()["error"]
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200


def test_a_client_over_its_rate_gets_429_and_others_are_unaffected(serve):
    url = serve(SlowEngine(tokens=1, delay=0.0), rate_limit="2/minute")
    me = {"Authorization": "Bearer client-a"}
    codes = [httpx.post(f"{url}/api/ask", json={"question": "Q?"}, headers=me, timeout=30).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    over = httpx.post(f"{url}/api/ask", json={"question": "Q?"}, headers=me, timeout=30)
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert "rate limit" in over.json()["error"]
    other = httpx.post(f"{url}/api/ask", json={"question": "Q?"}, headers={"Authorization": "Bearer client-b"},
                       timeout=30)
    assert other.status_code == 200
    v1 = httpx.post(f"{url}/v1/chat/completions", headers=me, timeout=30,
                    json={"model": "citebot-extractive", "messages": [{"role": "user", "content": "Q?"}]})
    assert v1.status_code == 429 and v1.json()["error"]["code"] == "rate_limited"  # OpenAI's error shape


def test_a_stream_past_its_time_limit_ends_with_an_error_event_and_stops(serve):
    engine = SlowEngine(tokens=40, delay=0.1)
    url = serve(engine, answer_time_limit=1.0)
    with httpx.stream("POST", f"{url}/api/chat/stream", json={"question": "Q?"}, timeout=30) as r:
        body = "".join(r.iter_text())
    assert "event: error" in body and "limit" in body
    assert "event: answer" not in body
    produced = engine.produced
    time.sleep(0.6)
    assert engine.produced <= produced + 2 < 40  # the answer's work stopped with the stream


def test_a_stream_whose_client_leaves_stops_its_work_and_frees_its_slot(serve):
    engine = SlowEngine(tokens=40, delay=0.1)
    url = serve(engine, max_concurrent=1, max_queue=0, queue_wait=0.2)
    with httpx.stream("POST", f"{url}/api/chat/stream", json={"question": "Q?"}, timeout=30) as r:
        for line in r.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("text"):
                break  # the client goes away after the first token
    deadline = time.monotonic() + 5
    produced = engine.produced
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if engine.produced == produced:
            break
        produced = engine.produced
    assert engine.produced < 40
    # The slot was given back: a new request is admitted instead of getting 503.
    engine.tokens = 1
    assert httpx.post(f"{url}/api/ask", json={"question": "Q?"}, timeout=30).status_code == 200


def test_token_buckets_refill_at_their_rate_and_save_up_at_most_the_burst():
    from web.edge import TokenBuckets

    now = [100.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # empty: the next token comes in 1/rate s
    assert buckets.take("b") == 0.0  # another client has its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    now[0] += 3600  # idle for an hour: still only `burst` saved up
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_a_flood_that_ignores_retry_after_gets_only_429_and_503_while_healthz_answers(serve):
    """64 clients that retry the moment they are turned away: every answer is 200, 429 or 503, /healthz keeps
    answering, and a client with its own token is not starved by the flood from this address."""
    base = serve(SlowEngine(tokens=2, delay=0.05), client_rate=20, client_burst=10, max_concurrent=2, max_queue=2)
    stop = threading.Event()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def flood() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                code = http.post(f"{base}/api/ask", json={"question": "What happened?"}).status_code
                with lock:
                    statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(64)]
    for t in threads:
        t.start()
    health = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 4:
        health.append(httpx.get(f"{base}/healthz", timeout=10).status_code)
        time.sleep(0.1)
    own = httpx.post(f"{base}/api/ask", json={"question": "What happened?"}, timeout=30,
                     headers={"Authorization": "Bearer another-client"})
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert set(statuses) <= {200, 429, 503}, statuses
    assert statuses.get(429, 0) > statuses.get(200, 0) > 0
    assert set(health) == {200}
    assert own.status_code in (200, 503)  # its own budget: never 429
    limited = httpx.post(f"{base}/api/ask", json={"question": "x"}, timeout=30)
    if limited.status_code == 429:
        assert int(limited.headers["Retry-After"]) >= 1 and "too many requests" in limited.json()["error"]
