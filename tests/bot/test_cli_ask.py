"""`citebot ask` / `ask --jsonl` / `chat` as a user runs them: real processes, the real model and store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CITEBOT = Path(sys.executable).parent / "citebot"
pytestmark = pytest.mark.integration


def _run(args, cfg, stdin=None, extra_env=None):
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(cfg.chroma_path), "CITEBOT_COLLECTION": cfg.collection,
           **(extra_env or {})}
    return subprocess.run([str(CITEBOT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=180)


def test_ask_json_has_the_documented_shape(seeded_store_factory):
    cfg = seeded_store_factory()
    out = _run(["ask", "--json", "When did Hassan Rouhani win the presidency?"], cfg)
    assert out.returncode == 0, out.stderr
    ans = json.loads(out.stdout)
    assert set(ans) == {"question", "answer", "abstained", "citations", "short_answer", "engine",
                        "timings_ms"}
    assert set(ans["timings_ms"]) == {"retrieve", "answer", "total"}
    assert ans["abstained"] is False and "2013" in ans["answer"] and ans["engine"] == "extractive"
    c = ans["citations"][0]
    assert set(c) == {"n", "kind", "field", "doc_id", "source", "title", "chunk_id", "start", "end", "quote", "site",
                      "url", "page", "comment"}
    assert c["kind"] == "text" and c["field"] is None and c["page"] is None and c["comment"] is False
    assert c["n"] == 1 and c["source"] == "000_7d831f6347d504d0.txt"


def test_ask_text_and_errors(seeded_store_factory):
    cfg = seeded_store_factory()
    out = _run(["ask", "Who is Hamidreza Azizi?"], cfg)
    assert out.returncode == 0, out.stderr
    assert "[1]" in out.stdout and "German Institute" in out.stdout
    assert "Strengthening Ties" in out.stdout  # the numbered source list names the article
    empty = _run(["ask", "  "], cfg)
    assert empty.returncode == 2 and "question is empty" in empty.stderr and "Traceback" not in empty.stderr
    engine = _run(["ask", "--engine", "bard", "Who?"], cfg)
    assert engine.returncode == 2 and "unknown engine 'bard'" in engine.stderr
    nostore = _run(["ask", "Who?"], cfg, extra_env={"CITEBOT_COLLECTION": "nothing-here"})
    assert nostore.returncode == 2 and "run `citebot ingest` first" in nostore.stderr


def test_ask_jsonl_answers_in_order_and_echoes_ids(seeded_store_factory):
    cfg = seeded_store_factory()
    lines = [
        {"id": "a", "question": "Which Iranian president is going to visit Moscow to sign the pact?"},
        {"id": 7, "question": "On what date does that visit take place?", "history": [
            {"role": "user", "content": "Which Iranian president is going to visit Moscow to sign the pact?"},
            {"role": "assistant", "content": "Masoud Pezeshkian is set to visit Moscow to sign the agreement."}]},
        {"question": "What is the capital of Peru?"},
        {"id": "bad", "question": ""},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    out = _run(["ask", "--jsonl"], cfg, stdin=stdin)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == "a" and "Pezeshkian" in rows[0]["answer"]
    assert rows[1]["id"] == 7 and "January 17" in rows[1]["answer"]
    assert "id" not in rows[2] and rows[2]["abstained"] is True
    assert rows[3] == {"id": "bad", "error": "line 4: question is empty"}
    assert rows[4]["error"].startswith("line 5:")
    assert out.returncode == 1  # some lines failed


def test_chat_repl_keeps_history(seeded_store_factory):
    cfg = seeded_store_factory()
    stdin = "What did Armin Montazeri say about nuclear weapons?\nWho is he?\n\n"
    out = _run(["chat"], cfg, stdin=stdin)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("[1]") >= 2
    assert "Hammihan Daily" in out.stdout.split("you> ")[-2]
