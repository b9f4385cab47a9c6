"""Cross-validation across articles (evals.cv), on made-up rows: the choice is made without the held-out fold."""

from __future__ import annotations

import pytest

from evals.cv import articles, cross_validate, fold_of, parse_grid
from evals.dataset import EvalQuestion


def q(i: int, source: str | None, answerable: bool = True) -> EvalQuestion:
    evidence = [{"source": source, "quote": "x"}] if source else []
    return EvalQuestion(id=i, question=f"q{i}?", answers=["a"] if answerable else [], evidence=evidence,
                        answerable=answerable)


def row(ok: bool, answerable: bool = True) -> dict:
    return {"answerable": answerable, "answer_correct": ok if answerable else None,
            "abstention_correct": ok if not answerable else True}


def test_grid_is_every_combination_and_bad_specs_are_refused():
    assert parse_grid(["a=1,2", "b=x"]) == [{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]
    for bad in ("a", "=1", "a="):
        with pytest.raises(ValueError, match="NAME=V1,V2"):
            parse_grid([bad])


def test_a_question_without_evidence_belongs_to_the_article_before_it():
    qs = [q(1, "mill.html"), q(2, None, answerable=False), q(3, "pier.html"), q(4, None)]
    assert articles(qs) == ["mill.html", "mill.html", "pier.html", "pier.html"]
    assert fold_of("mill.html", 5) == fold_of("mill.html", 5)


def test_out_of_fold_is_below_in_sample_when_the_best_setting_only_fits_some_articles():
    # Ten articles with two questions each; setting B is right on exactly one article, A on the other nine
    # minus one question each. In sample B-or-A is picked on all data; out of fold, the article where B shines
    # is held out when B would need to be chosen, so the honest figure is lower.
    names = [f"art{i}.html" for i in range(10)]
    qs = [q(2 * i + j, names[i]) for i in range(10) for j in range(2)]
    a_rows = [row(j == 0) for i in range(10) for j in range(2)]  # half right everywhere
    b_rows = [row(i == 0) for i in range(10) for _ in range(2)]  # right only on art0
    res = cross_validate(qs, [a_rows, b_rows], [{"w": "a"}, {"w": "b"}], k=5)
    assert res.in_sample == pytest.approx(0.5) and res.in_sample_setting == {"w": "a"}
    assert res.out_of_fold <= res.in_sample
    assert len(res.chosen_per_fold) == res.folds


def test_a_setting_better_everywhere_is_chosen_in_every_fold():
    qs = [q(i, f"art{i}.html") for i in range(12)]
    good, bad = [row(True) for _ in qs], [row(i % 2 == 0) for i in range(12)]
    res = cross_validate(qs, [bad, good], [{"w": "bad"}, {"w": "good"}], k=4)
    assert res.out_of_fold == 1.0 and all(c == {"w": "good"} for c in res.chosen_per_fold)
