"""`citebot ask` with CITEBOT_SERVER_URL: real processes, a real `citebot serve` on loopback, the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_port, wait_for

pytestmark = pytest.mark.integration
CITEBOT = Path(sys.executable).parent / "citebot"


@pytest.fixture(scope="module")
def server(seeded_store_factory):
    cfg = seeded_store_factory()
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(cfg.chroma_path), "CITEBOT_COLLECTION": cfg.collection,
           "GRADIO_ANALYTICS_ENABLED": "False"}
    port = free_port()
    proc = subprocess.Popen([str(CITEBOT), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/readyz", proc, what="citebot serve")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def _ask(args: list[str], url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # No store settings at all: the client must not need the store or the model.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
    env["CITEBOT_SERVER_URL"] = url
    env["CITEBOT_CHROMA_PATH"] = "/nonexistent/store"
    return subprocess.run([str(CITEBOT), "ask", *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=120)


def test_ask_goes_to_the_server_and_prints_the_same_shape(server):
    out = _ask(["--json", "In which year was Hassan Rouhani elected?"], server)
    assert out.returncode == 0, out.stderr
    ans = json.loads(out.stdout)
    assert set(ans) == {"question", "answer", "abstained", "citations", "short_answer", "engine", "timings_ms"}
    assert "2013" in ans["answer"] and ans["citations"][0]["kind"] == "text"
    text = _ask(["Who is Hamidreza Azizi?"], server)
    assert text.returncode == 0, text.stderr
    assert "Hamidreza Azizi" in text.stdout and "[1] " in text.stdout and ".txt)" in text.stdout


def test_jsonl_and_filters_go_to_the_server(server):
    lines = "\n".join(json.dumps(x) for x in [
        {"id": "a", "question": "In which year was Hassan Rouhani elected?"},
        {"id": "b", "question": ""},
    ])
    out = _ask(["--jsonl"], server, stdin=lines + "\n")
    assert out.returncode == 1  # one line failed
    first, second = (json.loads(x) for x in out.stdout.splitlines())
    assert first["id"] == "a" and "2013" in first["answer"]
    assert second["id"] == "b" and "HTTP 422" in second["error"]
    bad = _ask(["--published-from", "yesterday", "Who is Hamidreza Azizi?"], server)
    assert bad.returncode == 2 and "HTTP 422" in bad.stderr


def test_no_server_says_what_to_do():
    out = _ask(["Who is Hamidreza Azizi?"], f"http://127.0.0.1:{free_port()}")
    assert out.returncode == 2
    assert "no citebot server at" in out.stderr and "citebot serve" in out.stderr
