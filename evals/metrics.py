"""ALCE-style metrics. Support is always decided by bot.judge.support, the judge the bot itself uses at runtime.

A citation's "passage" here is its quote: the verbatim span the user is shown as evidence.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.generate.verify import split_sentences
from bot.judge.support import Judge, LexicalJudge
from bot.models import Answer

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’–—…]")


def normalise_answer(text: str) -> str:
    """Lower-case, punctuation to spaces, whitespace collapsed."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def contains_alias(answer: str, aliases: Sequence[str]) -> bool:
    """Does the answer contain any gold alias after normalisation?"""
    norm = f" {normalise_answer(answer)} "
    return any(f" {normalise_answer(a)} " in norm for a in aliases if normalise_answer(a))


def _squash(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("“", '"').replace("”", '"').split()).lower()


def overlaps(gold: str, text: str, min_share: float = 0.6) -> bool:
    """Gold evidence and a passage overlap: one contains the other, or they share a long common run."""
    g, t = _squash(gold), _squash(text)
    if not g or not t:
        return False
    if g in t or t in g:
        return True
    m = difflib.SequenceMatcher(None, g, t, autojunk=False).find_longest_match(0, len(g), 0, len(t))
    return m.size >= min_share * min(len(g), len(t))


@dataclass
class StatementScore:
    """One answer sentence: its citations, whether they support it, and each citation's precision."""

    text: str
    cited: list[int]
    supported: bool
    reason: str
    precision: list[int] = field(default_factory=list)
    irrelevant: list[int] = field(default_factory=list)

    @property
    def recall(self) -> int:
        return int(bool(self.cited) and self.supported)


def score_statements(answer: Answer, judge: Judge | None = None) -> list[StatementScore]:
    """ALCE recall and precision for every statement (sentence) of an answer."""
    judge = judge or LexicalJudge()
    quotes = {c.n: c.evidence() for c in answer.citations}
    out: list[StatementScore] = []
    for sentence in split_sentences(answer.answer):
        text = sentence.text.replace(" (unverified)", "")
        ids = list(dict.fromkeys(sentence.ids))
        known = [i for i in ids if i in quotes]
        if not ids:
            out.append(StatementScore(text, [], False, "no citation"))
            continue
        verdict = judge.entails("\n".join(quotes[i] for i in known), text) if known else None
        supported = bool(verdict and verdict.supported)
        reason = "" if supported else (verdict.reason if verdict else "cites only unknown ids")
        score = StatementScore(text, ids, supported, reason)
        for i in ids:
            if i not in quotes or not supported:
                score.precision.append(0)
                continue
            alone = judge.entails(quotes[i], text).supported
            rest = [j for j in known if j != i]
            rest_ok = bool(rest) and judge.entails("\n".join(quotes[j] for j in rest), text).supported
            if not alone and rest_ok:
                score.irrelevant.append(i)
                score.precision.append(0)
            else:
                score.precision.append(1)
        out.append(score)
    return out


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The q-th percentile (0-100), or 0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0


def bootstrap(
    n: int, statistic: Callable[[np.ndarray], float], seed: int = 0, rounds: int = 1000
) -> tuple[float, float]:
    """A seeded 95% percentile-bootstrap interval of statistic(indices) over n items."""
    if n == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    stats = [statistic(rng.integers(0, n, n)) for _ in range(rounds)]
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def mean_metric(values: Sequence[float | None], seed: int = 0) -> dict[str, float]:
    """Mean of the applicable values with its bootstrap interval."""
    vals = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(vals):
        return {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0, "n": 0}
    lo, hi = bootstrap(len(vals), lambda idx: float(vals[idx].mean()), seed)
    return {"value": float(vals.mean()), "ci_low": lo, "ci_high": hi, "n": int(len(vals))}


def ratio_metric(num: Sequence[float], den: Sequence[float], seed: int = 0) -> dict[str, float]:
    """sum(num)/sum(den) over questions (micro average) with its bootstrap interval."""
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if b.sum() == 0:
        return {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0, "n": 0}

    def stat(idx: np.ndarray) -> float:
        d = b[idx].sum()
        return float(a[idx].sum() / d) if d else 0.0

    lo, hi = bootstrap(len(a), stat, seed)
    return {"value": float(a.sum() / b.sum()), "ci_low": lo, "ci_high": hi, "n": int(b.sum())}


def count_metric(values: Sequence[int], seed: int = 0) -> dict[str, float]:
    """A count with a bootstrap interval of the count."""
    arr = np.asarray(values, dtype=float)
    lo, hi = bootstrap(len(arr), lambda idx: float(arr[idx].sum()), seed)
    return {"value": float(arr.sum()), "ci_low": lo, "ci_high": hi, "n": int(len(arr))}


def latency_metric(values: Sequence[float], q: float, seed: int = 0) -> dict[str, float]:
    """A latency percentile (ms) with its bootstrap interval."""
    arr = np.asarray(values, dtype=float)
    lo, hi = bootstrap(len(arr), lambda idx: percentile(arr[idx], q), seed)
    return {"value": percentile(arr, q), "ci_low": lo, "ci_high": hi, "n": int(len(arr))}
