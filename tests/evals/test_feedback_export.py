"""👎 in a stored conversation → `citebot feedback export` → labelled by a person → `citebot eval` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.models import Answer, Citation
from chats.store import ChatStore
from evals.dataset import DatasetError, load_questions

CITEBOT = str(Path(sys.executable).parent / "citebot")


def _seed_feedback(db: Path) -> str:
    store = ChatStore(f"sqlite:///{db}")
    conv = store.create()
    store.add_turn(conv.id, Answer(question="Which Iranian president is going to visit Moscow to sign the pact?",
                                   answer="Masoud Pezeshkian [1].", abstained=False, engine="extractive"))
    bad = store.add_turn(conv.id, Answer(
        question="When exactly is that visit?", answer="In 2012 [1].", abstained=False, engine="extractive",
        citations=[Citation(n=1, doc_id="d", source="000_7d831f6347d504d0.txt", title="T", chunk_id="c", start=0,
                            end=4, quote="2012")]))
    good = store.add_turn(conv.id, Answer(question="Who is Armin Montazeri?", answer="A journalist [1].",
                                          abstained=False, engine="extractive"))
    store.rate(conv.id, bad.id, "down", "Wrong date: the article says January 17.")
    store.rate(conv.id, good.id, "up")
    store.close()
    return conv.id


@pytest.mark.integration
def test_export_then_label_then_eval(seeded_store_factory, tmp_path):
    cfg = seeded_store_factory()
    data = tmp_path / "data"
    data.mkdir()
    conv_id = _seed_feedback(data / "citebot.db")
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(cfg.chroma_path), "CITEBOT_COLLECTION": cfg.collection,
           "CITEBOT_DATA_DIR": str(data)}
    cases = tmp_path / "cases.jsonl"
    out = subprocess.run([CITEBOT, "feedback", "export", "--out", str(cases)], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "wrote 1 case(s)" in out.stderr
    [case] = [json.loads(line) for line in cases.read_text().splitlines()]
    assert case["question"] == "When exactly is that visit?" and case["answerable"] is None
    assert case["history"][0]["content"].startswith("Which Iranian president")
    assert case["answer_given"] == "In 2012 [1]." and case["comment"].startswith("Wrong date")
    assert case["citations_given"][0]["quote"] == "2012" and case["conversation_id"] == conv_id

    # Not labelled yet: eval refuses and names the field to fill in.
    with pytest.raises(DatasetError, match="'answerable' is still empty: fill it in with true"):
        load_questions(cases)
    refused = subprocess.run([CITEBOT, "eval", str(cases)], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "cases.jsonl:1: 'answerable' is still empty" in refused.stderr

    # A person marks the gold answer; the case now runs, with the history, and the fixed bot passes it.
    case.update(answerable=True, answers=["January 17"],
                evidence=[{"source": "000_7d831f6347d504d0.txt", "quote": "January 17"}])
    cases.write_text(json.dumps(case) + "\n")
    report = tmp_path / "r.json"
    ran = subprocess.run([CITEBOT, "eval", str(cases), "--out", str(report), "--min-answer-accuracy", "1"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    row = json.loads(report.read_text())["per_question"][0]
    assert row["id"] == case["id"] and "January 17" in row["answer"]
