"""The support judge's accuracy on a labelled set of statement/passage pairs from the seed articles."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from bot.judge.support import Judge, LexicalJudge

CALIBRATION = Path(__file__).resolve().parent / "data" / "calibration.jsonl"


def load_pairs(path: Path = CALIBRATION) -> list[dict[str, Any]]:
    """The labelled pairs: premise, hypothesis, label (supported?), kind."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def judge_accuracy(path: Path = CALIBRATION, judge: Judge | None = None) -> dict[str, Any]:
    """Overall accuracy, accuracy per kind, and the pairs the judge gets wrong."""
    judge = judge or LexicalJudge()
    pairs = load_pairs(path)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong = []
    for p in pairs:
        verdict = judge.entails(p["premise"], p["hypothesis"])
        total[p["kind"]] += 1
        if verdict.supported == p["label"]:
            right[p["kind"]] += 1
        else:
            wrong.append({"id": p["id"], "hypothesis": p["hypothesis"], "label": p["label"], "reason": verdict.reason})
    n = len(pairs)
    return {
        "n": n,
        "accuracy": sum(right.values()) / n if n else 0.0,
        "by_kind": {k: right[k] / total[k] for k in sorted(total)},
        "wrong": wrong,
    }
