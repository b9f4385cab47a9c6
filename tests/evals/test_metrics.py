"""Each metric's definition, pinned on synthetic passages."""

from __future__ import annotations

import json

import pytest

from bot.models import Answer, Citation
from evals.calibration import judge_accuracy
from evals.dataset import DatasetError, load_questions
from evals.metrics import (
    bootstrap,
    contains_alias,
    mean_metric,
    normalise_answer,
    overlaps,
    ratio_metric,
    score_statements,
)

SUPPORT = "The harbour bridge reopened in 2021 after repairs costing 40 million dollars."
OTHER = "The city museum added a new wing for modern art."


def _answer(text: str, quotes: list[str]) -> Answer:
    cites = [Citation(n=i, doc_id="d", source="s", title="t", chunk_id=f"c{i}", start=0, end=len(q), quote=q)
             for i, q in enumerate(quotes, start=1)]
    return Answer(question="q", answer=text, abstained=False, citations=cites, engine="test")


def test_supporting_plus_irrelevant_citation_gives_recall_1_precision_half():
    [s] = score_statements(_answer("The harbour bridge reopened in 2021. [1][2]", [SUPPORT, OTHER]))
    assert s.recall == 1
    assert s.precision == [1, 0] and s.irrelevant == [2]


def test_uncited_statement_scores_recall_0():
    [s] = score_statements(_answer("The harbour bridge reopened in 2021.", [SUPPORT]))
    assert s.recall == 0 and s.precision == [] and s.reason == "no citation"


def test_unsupported_statement_scores_0_for_recall_and_every_citation():
    [s] = score_statements(_answer("The harbour bridge reopened in 2019. [1]", [SUPPORT]))
    assert s.recall == 0 and s.precision == [0]


def test_citations_that_only_support_together_are_both_relevant():
    a = "The harbour bridge reopened in 2021."
    b = "Repairs of the harbour bridge cost 40 million dollars."
    [s] = score_statements(_answer("The harbour bridge reopened in 2021 after repairs costing 40 million dollars. [1][2]",
                                   [a, b]))
    assert s.recall == 1 and s.precision == [1, 1]


def test_unknown_citation_id_scores_zero_precision():
    [s] = score_statements(_answer("The harbour bridge reopened in 2021. [1][7]", [SUPPORT]))
    assert s.recall == 1 and s.precision == [1, 0]


def test_alias_matching_normalises_case_punctuation_and_space():
    assert normalise_answer("  The  U.S.-Iran   TALKS! ") == "the u s iran talks"
    assert contains_alias("It was the Governance  and Policy think-tank.", ["governance and policy"])
    assert not contains_alias("It happened in 20130.", ["2013"])


def test_overlap_of_evidence():
    assert overlaps("two Russian deputy prime ministers", "the recent visit of two Russian deputy prime ministers, who")
    assert not overlaps("Eurasian Economic Union", "the Caspian region")


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1]
    m1, m2 = mean_metric(values, seed=3), mean_metric(values, seed=3)
    assert m1 == m2
    assert m1["ci_low"] <= m1["value"] == 0.7 <= m1["ci_high"]
    assert bootstrap(0, lambda idx: 0.0) == (0.0, 0.0)
    r = ratio_metric([1, 0, 2], [2, 1, 2])
    assert r["value"] == pytest.approx(3 / 5)


def test_malformed_question_files_name_the_line(tmp_path):
    good = {"id": "a", "question": "Q?", "answers": ["x"], "evidence": [], "answerable": True}
    cases = {
        "not json": "q.jsonl:2: not valid JSON",
        json.dumps({**good, "id": "b", "answerable": "maybe"}): "q.jsonl:2: answerable",
        json.dumps({**good, "id": "c", "answers": []}): "q.jsonl:2: an answerable question needs at least one gold answer",
        json.dumps({**good, "id": "d", "answerable": False}): "q.jsonl:2: an unanswerable question must have empty",
        json.dumps({**good, "id": "e", "history": [{"role": "bot", "content": "x"}]}): "q.jsonl:2: history.0.role",
        json.dumps(good): "q.jsonl:2: duplicate id 'a'",
        "[1, 2]": "q.jsonl:2: each line must be a JSON object",
    }
    for line, message in cases.items():
        f = tmp_path / "q.jsonl"
        f.write_text(json.dumps(good) + "\n" + line + "\n")
        with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
            load_questions(f)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DatasetError, match="no questions"):
        load_questions(empty)
    with pytest.raises(DatasetError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


def test_judge_accuracy_on_the_calibration_set_is_at_least_0_9():
    result = judge_accuracy()
    assert result["n"] >= 60
    kinds = set(result["by_kind"])
    assert {"number", "year", "name", "negation", "unstated", "paraphrase"} <= kinds
    assert result["accuracy"] >= 0.9, result["wrong"]


def test_nli_judge_needs_a_local_model_path():
    from citebot.deps import build_judge
    from citebot.settings import Settings

    with pytest.raises(ValueError, match="CITEBOT_NLI_MODEL_PATH"):
        build_judge(Settings(judge="nli", nli_model_path=None))


def test_the_nli_judge_checks_coverage_with_the_configured_lexical_settings(tmp_path):
    """Switching the claim judge to NLI must not change when the reader abstains: coverage is the configured
    lexical check, thresholds and similarity included (no model is loaded for it)."""
    from bot.judge.support import LexicalJudge, NLIJudge
    from citebot.deps import build_judge
    from citebot.settings import Settings

    settings = Settings(judge="nli", nli_model_path=str(tmp_path), target_similarity=0.77, negation_scope=3,
                        coverage_threshold=0.61)
    judge = build_judge(settings)
    assert isinstance(judge, NLIJudge) and isinstance(judge.coverage, LexicalJudge)
    assert (judge.coverage.target_threshold, judge.coverage.negation_scope, judge.coverage.threshold) == (
        0.77, 3, 0.61)
    with pytest.raises(ValueError, match="not a folder"):
        build_judge(Settings(judge="nli", nli_model_path=str(tmp_path / "missing")))
