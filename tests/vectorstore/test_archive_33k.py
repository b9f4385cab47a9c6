"""33,000 articles in one store, served: a limit that grows with the archive (such as SQLite's count of variables,
which once kept `citebot serve` from starting at 20,000 articles, and kept a store of more than 32,766 documents
from being read at all) cannot come back unnoticed. The size is just above SQLite's default limit of variables.

The archive comes from the bench's generator (real paragraphs of the seeds, planted facts), is ingested at tier 1
by `citebot ingest` and served by `citebot serve`, as a user would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from helpers import free_port, wait_for

from bench.archive import generate, paragraphs_from

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
ARTICLES = 33_000


def test_a_store_of_33000_articles_is_served_and_answers(tmp_path):
    pool = paragraphs_from(p.read_text("utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    needles = generate(tmp_path / "archive", ARTICLES, pool, seed=3, needles=5, paragraphs=(1, 2))
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp_path / "store" / "chroma"),
           "CITEBOT_DATA_DIR": str(tmp_path / "data"), "CITEBOT_BACKGROUND_UPGRADE": "false",
           "CITEBOT_ADMIN_TOKEN": "scale-admin", "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([str(BIN / "citebot"), "ingest", "--json", str(tmp_path / "archive")], env=env,
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1])["documents"]["added"] == ARTICLES
    # The ingest left the lexical index saved, so `serve` loads it instead of indexing every text.
    assert f"search index of {ARTICLES} documents saved" in out.stderr
    assert len(list((tmp_path / "data" / "lexical").glob("*/current/meta.json"))) == 1
    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/readyz", proc, timeout=300, what=f"citebot serve over {ARTICLES} articles")
        docs = httpx.get(f"{url}/api/documents", timeout=120).json()
        assert len(docs) == ARTICLES
        for needle in needles:
            r = httpx.post(f"{url}/api/ask", json={"question": needle.question}, timeout=120)
            assert r.status_code == 200, r.text
            body = r.json()
            assert any(c["source"] == needle.source for c in body["citations"]), (needle, body["answer"])
            assert needle.answer in body["answer"]
        # A new article is answerable on the running server.
        r = httpx.post(f"{url}/api/documents/text", headers={"Authorization": "Bearer scale-admin"}, timeout=120,
                       json={"title": "Harbour Names Its First Pilot", "text": "The port of Qualmster appointed "
                             "Ilse Varnow as its first harbour pilot on 2 March 2031, the port authority said."})
        assert r.status_code == 200, r.text
        ans = httpx.post(f"{url}/api/ask", json={"question": "Who is the first harbour pilot of Qualmster?"},
                         timeout=120).json()
        assert "Varnow" in ans["answer"]
        # Killed with -9 (its saved index may or may not have the upload yet) and started again: it reads what
        # its saved copy lacks, and the upload is still answered.
        proc.kill()
        proc.wait(timeout=60)
        proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env, stdout=log,
                                stderr=log)
        wait_for(f"{url}/readyz", proc, timeout=300, what="citebot serve, started again")
        ans = httpx.post(f"{url}/api/ask", json={"question": "Who is the first harbour pilot of Qualmster?"},
                         timeout=120).json()
        assert "Varnow" in ans["answer"]
        r = httpx.post(f"{url}/api/ask", json={"question": needles[0].question}, timeout=120)
        assert any(c["source"] == needles[0].source for c in r.json()["citations"])
    finally:
        proc.terminate()
        proc.wait(timeout=60)
