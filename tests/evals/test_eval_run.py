"""The evaluation on the dev set with the default engine, in-process, gated like CI; and the CLI's gates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from citebot.deps import build_deps
from citebot.settings import Settings
from evals.dataset import load_questions
from evals.report import markdown
from evals.run import METRICS, run_eval

DEV = Path(__file__).resolve().parents[2] / "evals" / "data" / "dev_questions.jsonl"


@pytest.fixture(scope="module")
def report(seeded_store_factory, real_embedder):
    cfg = seeded_store_factory()
    deps = build_deps(Settings(chroma_path=cfg.chroma_path, collection=cfg.collection), embedder=real_embedder)
    questions, sha = load_questions(DEV)
    return run_eval(questions, deps, dataset_sha256=sha)


def test_report_has_the_fixed_shape(report):
    assert set(report) == {"n", "dataset_sha256", "engine", "config", "metrics", "misses_by_class",
                           "misses_by_expected_type", "per_question"}
    assert report["n"] == 12 and report["engine"] == "extractive" and len(report["dataset_sha256"]) == 64
    assert set(report["metrics"]) == set(METRICS)
    for m in report["metrics"].values():
        assert {"value", "ci_low", "ci_high"} <= set(m)
    row = report["per_question"][0]
    assert {"question", "answer", "abstained", "statements", "failure", "expected_type"} <= set(row)
    by_type = report["misses_by_expected_type"]
    assert sum(cell["questions"] for cell in by_type.values()) == report["n"]
    assert sum(cell["false_abstention"] for cell in by_type.values()) == report["misses_by_class"]["false_abstention"]
    assert {"text", "cited", "supported"} <= set(row["statements"][0])


def test_dev_set_passes_the_ci_gates(report):
    m = {k: v["value"] for k, v in report["metrics"].items()}
    assert m["answer_accuracy"] >= 0.9
    assert m["abstention_accuracy"] == 1.0
    assert m["citation_precision"] >= 0.95
    assert m["citation_recall"] >= 0.9
    assert m["invalid_citation_rate"] == 0
    assert m["evidence_recall_cited"] >= 0.9


def test_markdown_has_the_table_and_failure_sections(report):
    failing = json.loads(json.dumps(report))
    row = failing["per_question"][0]
    row["failure"] = "wrong_answer"
    text = markdown(failing)
    assert "| answer_accuracy |" in text
    assert "### wrong_answer (1)" in text and row["question"] in text


@pytest.mark.integration
def test_cli_gates_set_the_exit_code(seeded_store_factory, tmp_path):
    cfg = seeded_store_factory()
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(cfg.chroma_path), "CITEBOT_COLLECTION": cfg.collection}
    citebot = str(Path(sys.executable).parent / "citebot")
    out = subprocess.run([citebot, "eval", str(DEV), "--out", str(tmp_path / "r.json"), "--markdown",
                          str(tmp_path / "r.md"), "--min-answer_accuracy", "0.9", "--max-invalid_citation_rate", "0",
                          "--min-citation-recall", "1.01"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "gate failed: citation_recall = 1.000 is below 1.01" in out.stderr
    assert json.loads((tmp_path / "r.json").read_text())["n"] == 12
    assert (tmp_path / "r.md").read_text().startswith("# citebot evaluation")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    out = subprocess.run([citebot, "eval", str(bad)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "bad.jsonl:1: question: Field required" in out.stderr
