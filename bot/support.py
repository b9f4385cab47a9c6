"""The one support judge: does a premise (cited passages) support a hypothesis (a statement)?

It serves three callers: verification of generated answers, the extractive engine's abstention check,
and the evaluation's ALCE citation recall and precision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.text import content_terms, entities, negated, normalise, numbers, stem, strip_markers, words
from vectorstore.sentences import sentence_spans

COVERAGE_THRESHOLD = 0.75


@dataclass(frozen=True)
class Verdict:
    """The judgement, a score in [0, 1], and the reason when unsupported."""

    supported: bool
    score: float
    reason: str = ""


class Judge(Protocol):
    """Anything that can judge support."""

    def entails(self, premise: str, hypothesis: str) -> Verdict: ...


def _squash(text: str) -> str:
    return " ".join(normalise(text).lower().split())


def _vocab(text: str) -> set[str]:
    ws = [w.lower() for w in words(text)]
    return set(ws) | {stem(w) for w in ws}


_DEMONYM = ("ians", "ian", "ans", "an", "ese", "ish", "is", "i")


def _name_root(name: str) -> str | None:
    """'iranian' -> 'iran', 'iraqi' -> 'iraq': the place behind a demonym, if the word looks like one."""
    for suffix in _DEMONYM:
        if name.endswith(suffix) and len(name) - len(suffix) >= 4:
            return name[: -len(suffix)]
    return None


def missing_entities(required: Iterable[str], premise: str) -> list[str]:
    """Names (lower-cased tokens) that the premise never mentions, counting 'Iran' as a mention of 'Iranian'."""
    vocab = _vocab(premise)
    missing = []
    for e in required:
        if e in vocab or stem(e) in vocab:
            continue
        root = _name_root(e)
        if root and any(w.startswith(root) for w in vocab):
            continue
        missing.append(e)
    return missing


def missing_numbers(required: Iterable[str], premise: str) -> list[str]:
    """Numbers that the premise does not contain."""
    have = numbers(premise)
    return [n for n in required if n not in have]


def coverage(hypothesis: str, premise: str) -> float:
    """Share of the hypothesis's content words (stemmed, frame words ignored) found in the premise."""
    terms = set(content_terms(hypothesis, drop_frame=True))
    if not terms:
        return 1.0
    vocab = set(content_terms(premise))
    return len(terms & vocab) / len(terms)


def _closest_sentence(premise: str, hypothesis: str) -> str:
    """The premise sentence sharing most content words with the hypothesis (for the negation check)."""
    terms = set(content_terms(hypothesis))
    best, best_n = premise, -1
    for a, b in sentence_spans(premise):
        n = len(terms & set(content_terms(premise[a:b])))
        if n > best_n:
            best, best_n = premise[a:b], n
    return best


class LexicalJudge:
    """Deterministic and offline: names, numbers and negation must agree; most content words must appear."""

    def __init__(self, threshold: float = COVERAGE_THRESHOLD) -> None:
        self.threshold = threshold

    def entails(self, premise: str, hypothesis: str) -> Verdict:
        """Judge one statement against its premise."""
        hyp = strip_markers(hypothesis)
        if not hyp:
            return Verdict(False, 0.0, "empty statement")
        if not premise.strip():
            return Verdict(False, 0.0, "no cited passage")
        if _squash(hyp).rstrip(".") in _squash(premise):
            return Verdict(True, 1.0)
        if miss := missing_numbers(numbers(hyp), premise):
            return Verdict(False, 0.0, f"number {miss[0]} is not in the passage")
        if miss := missing_entities(entities(hyp), premise):
            return Verdict(False, 0.0, f"name {miss[0]!r} is not in the passage")
        score = coverage(hyp, premise)
        if negated(hyp) != negated(_closest_sentence(premise, hyp)):
            return Verdict(False, score * 0.5, "negation differs from the passage")
        if score < self.threshold:
            return Verdict(False, score, f"only {score:.0%} of the statement's words are in the passage")
        return Verdict(True, score)


class NLIJudge:
    """An NLI cross-encoder loaded from a local folder; same interface as LexicalJudge."""

    def __init__(self, model_path: str, threshold: float = 0.5) -> None:
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(model_path, device="cpu")
        self.threshold = threshold
        labels = {str(v).lower(): int(k) for k, v in (self.model.config.id2label or {}).items()}
        self.entail_idx = labels.get("entailment", 1 if len(labels) <= 2 else 0)

    def entails(self, premise: str, hypothesis: str) -> Verdict:
        """Entailment probability of the statement given the premise."""
        import numpy as np

        logits = np.asarray(self.model.predict([(premise, strip_markers(hypothesis))]))[0]
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        p = float(probs[self.entail_idx]) if probs.ndim else float(logits)
        ok = p >= self.threshold
        return Verdict(ok, p, "" if ok else f"entailment probability {p:.2f}")


_DEFAULT = LexicalJudge()


def entails(premise: str, hypothesis: str, judge: Judge | None = None) -> Verdict:
    """Does `premise` support `hypothesis`? Uses the lexical judge unless another is given."""
    return (judge or _DEFAULT).entails(premise, hypothesis)
