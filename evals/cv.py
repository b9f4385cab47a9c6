"""Cross-validation across articles: the honest figure for a setting chosen on the dev questions.

Each candidate setting is evaluated once on every question. The questions are grouped by the article they ask
about and the articles split into folds; for each fold the setting that scores best on the *other* folds is
chosen, and scored on this one. The mean over held-out questions is the out-of-fold accuracy, which predicts how
the chosen setting does on articles it was not chosen on; the in-sample figure (best setting on all questions)
is printed beside it and is always at least as high.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evals.dataset import EvalQuestion


def parse_grid(specs: Sequence[str]) -> list[dict[str, str]]:
    """["a=1,2", "b=x"] -> every combination [{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]."""
    axes: list[tuple[str, list[str]]] = []
    for spec in specs:
        name, eq, values = spec.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not eq or not name.strip() or not vals:
            raise ValueError(f"--cv takes NAME=V1,V2,... (a BotConfig field and its values), not {spec!r}")
        axes.append((name.strip(), vals))
    return [dict(zip([n for n, _ in axes], combo, strict=True)) for combo in itertools.product(*[v for _, v in axes])]


def articles(questions: Sequence[EvalQuestion]) -> list[str]:
    """The article each question is about: its first evidence source. A question without evidence (an
    unanswerable near-miss, a metadata question) belongs to the article of the question before it, since the
    dev files list each article's questions together."""
    out: list[str] = []
    last = "?"
    for q in questions:
        last = q.evidence[0].source if q.evidence else last
        out.append(last)
    return out


def fold_of(article: str, k: int) -> int:
    """A stable fold for an article (hash of its name), so runs and machines agree."""
    return int(hashlib.sha256(article.encode()).hexdigest(), 16) % k


def correct(row: dict[str, Any]) -> bool:
    """Answered correctly, or rightly abstained on an unanswerable question."""
    return bool(row["answer_correct"]) if row["answerable"] else bool(row["abstention_correct"])


@dataclass
class CvResult:
    """Out-of-fold and in-sample accuracy of choosing a setting among `settings`."""

    settings: list[dict[str, str]]
    in_sample: float
    in_sample_setting: dict[str, str]
    out_of_fold: float
    chosen_per_fold: list[dict[str, str]]
    folds: int


def cross_validate(questions: Sequence[EvalQuestion], rows_per_setting: list[list[dict[str, Any]]],
                   settings: list[dict[str, str]], k: int = 5) -> CvResult:
    """Choose a setting on k-1 folds of articles, score it on the held-out fold, for every fold."""
    folds = [fold_of(a, k) for a in articles(questions)]
    hits = [[correct(r) for r in rows] for rows in rows_per_setting]

    def score(s: int, held_out: int | None = None) -> float:
        """Accuracy of setting s on every question outside fold `held_out` (all of them for None)."""
        idx = [i for i, f in enumerate(folds) if f != held_out]
        return sum(hits[s][i] for i in idx) / len(idx) if idx else 0.0

    held_out_hits = 0
    chosen: list[dict[str, str]] = []
    used = sorted(set(folds))
    for f in used:
        # Ties go to the first setting listed, so the default should be listed first.
        best = max(range(len(settings)), key=lambda s: (score(s, f), -s))  # noqa: B023 - used at once
        chosen.append(settings[best])
        held_out_hits += sum(hits[best][i] for i, g in enumerate(folds) if g == f)
    overall = [score(s) for s in range(len(settings))]
    best_all = max(range(len(settings)), key=lambda s: (overall[s], -s))
    return CvResult(settings=settings, in_sample=overall[best_all], in_sample_setting=settings[best_all],
                    out_of_fold=held_out_hits / max(len(folds), 1), chosen_per_fold=chosen, folds=len(used))
