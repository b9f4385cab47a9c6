"""Two `citebot serve` replicas sharing state, all real processes on loopback: one `chroma run` server for the
articles, one Postgres server (Debian's package, a temporary cluster) for the conversations, and each replica with
its own data folder, so that nothing else is shared. A conversation started on one replica continues on the other;
an article added or removed through one is answered (or no longer cited) by the other within 2 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import free_port, stop_all, wait_for
from pg_cluster import temporary_postgres

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
ADMIN = {"Authorization": "Bearer replica-admin"}
FRESHNESS_S = 2.0  # the bound: ingested through one replica, answerable from the other
ARTICLE = (
    "Kelderwick Observatory Reopens\n\nBy Ansel Marrow\n\n"
    "The Kelderwick Observatory reopened on 12 May 2025 after a two-year renovation. "
    "Its new director, Oriane Vasquez-Lund, said the restored telescope will be open to schoolchildren "
    "every Thursday evening.\n"
)
QUESTION = "Who is the director of the Kelderwick Observatory?"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                             "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/api/v2/heartbeat", proc, timeout=60, what="chroma run")
    yield url
    proc.kill()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, chroma_url) -> Iterator[tuple[str, str]]:
    """Seeds ingested with the `citebot ingest` command into the Chroma server, then replicas A and B."""
    with temporary_postgres() as database_url:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
        # The distilled static model is a cache every process may share (distilling it again takes minutes
        # on a loaded machine), and the upgrade worker is left to the replicas.
        for shared_model in ("CITEBOT_STATIC_MODEL_DIR", "CITEBOT_ONNX_MODEL_DIR"):
            if os.environ.get(shared_model):
                base[shared_model] = os.environ[shared_model]
        shared = {**base, "CITEBOT_CHROMA_URL": chroma_url, "CITEBOT_COLLECTION": "replicas",
                  "CITEBOT_DATABASE_URL": database_url, "CITEBOT_ADMIN_TOKEN": "replica-admin",
                  "GRADIO_ANALYTICS_ENABLED": "False"}
        seeded = subprocess.run([str(BIN / "citebot"), "ingest", "--json"], capture_output=True, text=True,
                                env={**shared, "CITEBOT_DATA_DIR": str(tmp_path_factory.mktemp("ingest-data"))},
                                timeout=600)
        assert seeded.returncode == 0, seeded.stderr
        assert json.loads(seeded.stdout)["documents"]["added"] == 2
        procs: list[subprocess.Popen[str]] = []
        urls: list[str] = []
        for name in ("a", "b"):
            port = free_port()
            # Each replica has its own data folder: an empty SQLite default and upload folder it must not use.
            env = {**shared, "CITEBOT_DATA_DIR": str(tmp_path_factory.mktemp(f"replica-{name}"))}
            procs.append(subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            urls.append(f"http://127.0.0.1:{port}")
        try:
            for url, proc, name in zip(urls, procs, "AB", strict=True):
                wait_for(f"{url}/readyz", proc, timeout=240, what=f"replica {name}")
                # Ready means the store answers; wait until this replica also answers from both seeds.
                deadline = time.monotonic() + 120
                while httpx.get(f"{url}/readyz", timeout=10).json().get("indexed_documents", 0) < 2:
                    assert time.monotonic() < deadline, f"replica {name} did not index the seeds"
                    time.sleep(0.5)
            yield urls[0], urls[1]
        finally:
            stop_all(*procs)


def _ask(url: str, question: str, **body: object) -> dict:
    r = httpx.post(f"{url}/api/ask", json={"question": question, **body}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_conversation_started_on_one_replica_continues_on_the_other(replicas):
    a, b = replicas
    conv = httpx.post(f"{a}/api/conversations", json={}, timeout=30).json()
    first = _ask(a, "Which Iranian president is going to visit Moscow to sign the pact?", conversation_id=conv["id"])
    assert "Pezeshkian" in first["answer"] and first["citations"]
    # B knows this conversation only through the shared database: "that visit" needs A's turn as history.
    follow = _ask(b, "When exactly is that visit?", conversation_id=conv["id"])
    assert "January 17" in follow["answer"], follow
    rated = httpx.post(f"{b}/api/conversations/{conv['id']}/turns/{first['turn_id']}/feedback",
                       json={"rating": "up"}, timeout=30)
    assert rated.status_code == 200, rated.text
    on_a = httpx.get(f"{a}/api/conversations/{conv['id']}", timeout=30).json()
    assert [t["id"] for t in on_a["turns"]] == [first["turn_id"], follow["turn_id"]]
    assert on_a["turns"][0]["rating"] == "up" and on_a["turns"][1]["answer"] == follow["answer"]
    # Neither replica wrote conversations to its own SQLite file.
    for url in (a, b):
        listed = httpx.get(f"{url}/api/conversations", headers=ADMIN, timeout=30).json()
        assert conv["id"] in [c["id"] for c in listed]


def _indexed(url: str, documents: int, since: float) -> float | None:
    """Seconds from `since` until the replica's index holds `documents` articles (its /readyz says what it answers
    from), or None when that took longer than the bound."""
    while time.monotonic() < since + FRESHNESS_S:
        ready = httpx.get(f"{url}/readyz", timeout=10).json()
        if ready["indexed_documents"] == documents:
            return time.monotonic() - since
        time.sleep(0.05)
    return None


def _sources(ans: dict) -> set[str]:
    return {c["source"] for c in ans["citations"]}


def test_an_article_added_through_one_replica_is_answered_by_the_other_within_2s(replicas):
    a, b = replicas
    n = _count(a)
    assert "kelderwick.txt" not in _sources(_ask(b, QUESTION))
    up = httpx.post(f"{a}/api/documents", files={"files": ("kelderwick.txt", ARTICLE.encode())}, headers=ADMIN,
                    timeout=300)
    stored = time.monotonic()
    assert up.status_code == 200, up.text
    assert up.json()["documents"]["added"] == 1
    took = _indexed(b, n + 1, stored)
    assert took is not None, f"replica B did not index the article stored through A within {FRESHNESS_S}s"
    print(f"replica B indexed the article {took:.2f}s after A stored it")
    ans = _ask(b, QUESTION)  # asked right then: B answers from it
    assert "kelderwick.txt" in _sources(ans) and "Vasquez-Lund" in ans["answer"], ans

    doc_id = next(d["doc_id"] for d in httpx.get(f"{b}/api/documents", timeout=30).json()
                  if d["source"] == "kelderwick.txt")
    gone = httpx.delete(f"{b}/api/documents/{doc_id}", headers=ADMIN, timeout=60)
    assert gone.status_code == 200, gone.text
    removed = time.monotonic()
    took = _indexed(a, n, removed)
    assert took is not None, f"replica A still answered from the article B deleted {FRESHNESS_S}s later"
    assert "kelderwick.txt" not in _sources(_ask(a, QUESTION))


def _count(url: str) -> int:
    return len(httpx.get(f"{url}/api/documents", timeout=30).json())


def test_an_article_stored_by_citebot_ingest_reaches_both_replicas_within_2s(replicas, chroma_url, tmp_path):
    a, b = replicas
    n = _count(a)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "kelderwick-cli.txt").write_text(ARTICLE)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")},
           "CITEBOT_CHROMA_URL": chroma_url, "CITEBOT_COLLECTION": "replicas",
           "CITEBOT_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([str(BIN / "citebot"), "ingest", "--json", str(folder)], capture_output=True, text=True,
                         env=env, timeout=600)
    stored = time.monotonic()
    assert out.returncode == 0, out.stderr
    for url in (a, b):
        took = _indexed(url, n + 1, stored)
        assert took is not None, f"{url} did not index the article `citebot ingest` stored within {FRESHNESS_S}s"
        assert "kelderwick-cli.txt" in _sources(_ask(url, QUESTION))
