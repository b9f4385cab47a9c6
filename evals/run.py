"""Drive bot.stream over a question file (the same path as `citebot ask`) and score every answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.answer import stream
from bot.deps import Deps
from bot.models import Answer, AnswerEvent, Citation, EngineError, QuestionError, StatusEvent
from bot.retrieve import Corpus
from evals.dataset import EvalQuestion
from evals.metrics import (
    contains_alias,
    count_metric,
    latency_metric,
    mean_metric,
    overlaps,
    ratio_metric,
    score_statements,
)

# The order in which a question's first failure is reported.
BUCKETS = ("missed_abstention", "false_abstention", "invalid_citation", "wrong_answer", "uncited_statement",
           "unsupported_statement", "irrelevant_citation")
# How answer misses are reported to people: the three ways an answer goes wrong.
MISS_CLASSES = {"false_abstention": "false_abstention", "wrong_sentence": "wrong_answer",
                "answered_when_it_should_have_abstained": "missed_abstention"}
METRICS = ("answer_accuracy", "abstention_accuracy", "false_abstentions", "missed_abstentions", "citation_recall",
           "citation_precision", "evidence_recall_retrieved", "evidence_recall_cited", "invalid_citation_rate",
           "short_answer_rate", "latency_p50_ms", "latency_p95_ms")


def _ask(q: EvalQuestion, deps: Deps, engine: str | None) -> tuple[Answer, list[str], float]:
    t0 = time.perf_counter()
    retrieved: list[str] = []
    final: Answer | None = None
    for event in stream(q.question, [m.model_dump() for m in q.history], deps, engine=engine):
        if isinstance(event, StatusEvent) and event.stage == "retrieved":
            retrieved = event.chunk_ids
        elif isinstance(event, AnswerEvent):
            final = event.answer
    assert final is not None
    return final, retrieved, (time.perf_counter() - t0) * 1000


def question_analyser(deps: Deps) -> Any:
    """The question analyser on the configured spaCy pipeline; None when the pipeline is not installed (the report
    then has no types)."""
    from bot.read.analysis import QuestionAnalyser
    from bot.read.nlp import NlpUnavailableError, pipeline

    try:
        nlp = pipeline(deps.config.spacy_model)
    except NlpUnavailableError:
        return None
    return QuestionAnalyser(nlp)


def evaluate_one(q: EvalQuestion, deps: Deps, engine: str | None = None, analyser: Any = None) -> dict[str, Any]:
    """Answer one question and score it."""
    try:
        ans, retrieved, ms = _ask(q, deps, engine)
    except (QuestionError, EngineError) as exc:
        ans = Answer(question=q.question, answer=f"error: {exc}", abstained=True, engine=engine or "?")
        retrieved, ms = [], 0.0
    corpus = deps.retriever.corpus
    chunks = {c.id: c for c in corpus.chunks}
    statements = [] if ans.abstained else score_statements(ans, deps.judge)
    invalid = [c.n for c in ans.citations if not _valid(c, retrieved, corpus)]
    gold = [e.quote for e in q.evidence]
    row: dict[str, Any] = {
        "id": q.id, "question": q.question, "answerable": q.answerable, "answer": ans.answer,
        "abstained": ans.abstained, "engine": ans.engine, "latency_ms": round(ms, 2),
        "citations": [c.model_dump() for c in ans.citations],
        "statements": [
            {"text": s.text, "cited": s.cited, "supported": s.supported, "reason": s.reason,
             "citation_precision": s.precision, "irrelevant": s.irrelevant}
            for s in statements
        ],
        "answer_correct": (not ans.abstained and contains_alias(ans.answer, q.answers)) if q.answerable else None,
        "abstention_correct": ans.abstained != q.answerable,
        "evidence_retrieved": (any(overlaps(g, chunks[c].text) for g in gold for c in retrieved if c in chunks)
                               if q.answerable else None),
        "evidence_cited": (any(overlaps(g, c.quote) for g in gold for c in ans.citations)
                           if q.answerable else None),
        "invalid_citations": invalid,
    }
    row["failure"] = _bucket(row, q)
    # What the question asks for (bot.read.analysis), so misses can be read by the kind of answer expected.
    expected = analyser.analyse(q.question).expected if analyser is not None else None
    row["expected_type"] = expected.kind if expected is not None else None
    # For an answered question that asks for an entity: is there a short answer, inside the quote it cites?
    row["short_answer_inside"] = (_short_inside(ans) if expected is not None and expected.typed
                                  and not ans.abstained else None)
    return row


def _short_inside(ans: Answer) -> bool:
    s = ans.short_answer
    if s is None:
        return False
    cited = next((c for c in ans.citations if c.n == s.citation), None)
    if cited is not None and cited.kind == "metadata":
        return s.text == cited.quote  # the field's value is the answer ("Who wrote it?": the author)
    return bool(cited and cited.start is not None and cited.end is not None and s.start is not None
                and s.end is not None
                and cited.start <= s.start and s.end <= cited.end and s.text in cited.quote)


def _valid(c: Citation, retrieved: list[str], corpus: Corpus) -> bool:
    """A text citation is a verbatim span of a retrieved chunk; a metadata one is the document's field."""
    if c.kind == "metadata":
        doc = corpus.docs.get(c.doc_id)
        return doc is not None and c.field is not None and getattr(doc, c.field, None) == c.quote
    if c.start is None or c.end is None or c.chunk_id not in retrieved:
        return False
    return corpus.texts.get(c.doc_id, "")[c.start : c.end] == c.quote


def _bucket(row: dict[str, Any], q: EvalQuestion) -> str | None:
    if not q.answerable and not row["abstained"]:
        return "missed_abstention"
    if q.answerable and row["abstained"]:
        return "false_abstention"
    if row["invalid_citations"]:
        return "invalid_citation"
    if q.answerable and not row["answer_correct"]:
        return "wrong_answer"
    if any(not s["cited"] for s in row["statements"]):
        return "uncited_statement"
    if any(not s["supported"] for s in row["statements"]):
        return "unsupported_statement"
    if any(s["irrelevant"] for s in row["statements"]):
        return "irrelevant_citation"
    return None


def aggregate(rows: list[dict[str, Any]], seed: int = 0) -> dict[str, dict[str, float]]:
    """Every metric with its seeded 95% bootstrap interval."""
    answered = [r for r in rows if not r["abstained"]]
    recall = [sum(s["cited"] != [] and s["supported"] for s in r["statements"]) / len(r["statements"])
              if r["statements"] else None for r in answered]
    prec_num = [sum(sum(s["citation_precision"]) for s in r["statements"]) for r in answered]
    prec_den = [sum(len(s["citation_precision"]) for s in r["statements"]) for r in answered]
    lat = [r["latency_ms"] for r in rows]
    return {
        "answer_accuracy": mean_metric([r["answer_correct"] for r in rows], seed),
        "abstention_accuracy": mean_metric([r["abstention_correct"] for r in rows], seed),
        "false_abstentions": count_metric([int(r["answerable"] and r["abstained"]) for r in rows], seed),
        "missed_abstentions": count_metric([int(not r["answerable"] and not r["abstained"]) for r in rows], seed),
        "citation_recall": mean_metric(recall, seed),
        "citation_precision": ratio_metric(prec_num, prec_den, seed),
        "evidence_recall_retrieved": mean_metric([r["evidence_retrieved"] for r in rows], seed),
        "evidence_recall_cited": mean_metric([r["evidence_cited"] for r in rows], seed),
        "invalid_citation_rate": ratio_metric([len(r["invalid_citations"]) for r in rows],
                                              [len(r["citations"]) for r in rows], seed),
        "short_answer_rate": mean_metric([r.get("short_answer_inside") for r in rows], seed),
        "latency_p50_ms": latency_metric(lat, 50, seed),
        "latency_p95_ms": latency_metric(lat, 95, seed),
    }


def misses_by_type(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per expected answer type: how many questions, and how many of them each miss class took."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        kind = r.get("expected_type") or "unknown"
        cell = out.setdefault(kind, {"questions": 0, **{name: 0 for name in MISS_CLASSES}})
        cell["questions"] += 1
        for name, bucket in MISS_CLASSES.items():
            cell[name] += int(r["failure"] == bucket)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["questions"]))


def run_eval(
    questions: list[EvalQuestion],
    deps: Deps,
    *,
    dataset_sha256: str,
    engine: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The full report: {n, dataset_sha256, engine, config, metrics, per_question}."""
    rows = []
    analyser = question_analyser(deps)
    for i, q in enumerate(questions, start=1):
        rows.append(evaluate_one(q, deps, engine, analyser))
        if progress:
            progress(i, len(questions))
    cfg = deps.config
    misses = {name: sum(r["failure"] == bucket for r in rows) for name, bucket in MISS_CLASSES.items()}
    return {
        "n": len(rows),
        "dataset_sha256": dataset_sha256,
        "engine": engine or cfg.engine,
        "config": {"top_k": cfg.top_k, "candidate_k": cfg.candidate_k, "rrf_k": cfg.rrf_k,
                   "dense_weight": cfg.dense_weight, "lexical_weight": cfg.lexical_weight,
                   "judge": type(deps.judge).__name__, "seed": seed},
        "metrics": aggregate(rows, seed),
        "misses_by_class": misses,
        "misses_by_expected_type": misses_by_type(rows),
        "per_question": rows,
    }
