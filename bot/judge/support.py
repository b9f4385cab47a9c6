"""The one support judge: does a premise (cited passages) support a hypothesis (a statement)?

It serves three callers: verification of generated answers, the extractive engine's abstention check,
and the evaluation's ALCE citation recall and precision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from bot.config import BotConfig
from bot.judge.aliases import acronym, city_keys_in, fold, names_a_country, place_key, place_keys_in
from bot.judge.polarity import NEGATION_SCOPE, denies_answer
from bot.question import Analysis, common_word, is_instruction, name_phrases
from bot.text import (
    STOPWORDS,
    content_terms,
    date_keys,
    entities,
    negated,
    normalise,
    numbers,
    ordinals,
    stem,
    strip_markers,
    words,
)
from vectorstore.sentences import sentence_spans

# The judge's defaults are BotConfig's (each field's description says why it has its value).
_DEFAULTS = BotConfig()
COVERAGE_THRESHOLD = _DEFAULTS.coverage_threshold
TARGET_SIMILARITY = _DEFAULTS.target_similarity
SYNONYM_SIMILARITY = _DEFAULTS.synonym_similarity


@dataclass(frozen=True)
class Verdict:
    """The judgement, a score in [0, 1], and the reason when unsupported."""

    supported: bool
    score: float
    reason: str = ""


@dataclass
class Evidence:
    """A candidate answer: the quoted text, the sentence that answers, and where it comes from."""

    text: str
    answer_part: str = ""
    title: str = ""
    document: str = ""
    leans: bool = False
    carried: Sequence[str] = field(default_factory=list)
    # The sentences just before, when the reader found that this one names nothing that competes with the
    # question's names: news names its subject, then says "the report", "she". Only names are read from it.
    context: str = ""


class Judge(Protocol):
    """Anything that can judge support (of a statement) and coverage (of a question)."""

    def entails(self, premise: str, hypothesis: str) -> Verdict: ...

    def covers(self, evidence: Evidence, analysis: Analysis) -> Verdict: ...


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


Similarity = Callable[[str, str], float]


class NameIndex:
    """The names a text mentions, matchable by words, stems, surname, country aliases and acronyms."""

    def __init__(self, text: str) -> None:
        ws = words(text)
        self._cities: set[str] | None = None
        self.tokens = {fold(w) for w in ws} | {fold(p) for w in ws for p in w.split("-")}
        self.stems = {stem(t) for t in self.tokens}
        self.places = place_keys_in([fold(w) for w in ws]) | place_keys_in(
            [fold(p) for w in ws for p in w.split("-")]
        )
        self.acronyms = {acronym(run) for run in name_phrases(text) if len(run) >= 2}
        self._words = ws

    @property
    def cities(self) -> set[str]:
        """Countries of the cities the text names (computed on first use: the city table is large)."""
        if self._cities is None:
            self._cities = city_keys_in([fold(w) for w in self._words])
        return self._cities

    def has(self, name: Sequence[str], document: NameIndex | None = None) -> bool:
        """Is this name (a list of words as written) mentioned? With `document`: a distinctive part of a
        longer name counts ('Evra' for 'Tomas Evra') when the document names it in full."""
        folded = [fold(w) for w in name]
        if document is not None and len(folded) >= 2 and document.has(name):
            if any(t in self.tokens and not common_word(t) for t in folded):
                return True
        if all(t in self.tokens or stem(t) in self.stems for t in folded):
            return True
        parts = [fold(p) for w in name for p in w.split("-")]
        if parts != folded and all(t in self.tokens or stem(t) in self.stems for t in parts):
            return True
        key = place_key(" ".join(name))
        if key and key in self.places:
            return True
        # A country asked about is named by one of its cities; a city asked about only by itself.
        if key and names_a_country(" ".join(name)) and key in self.cities:
            return True
        if any((k := place_key(p)) and k in self.places for p in parts):
            return True
        if len(folded) == 1 and name[0].isupper() and len(name[0]) >= 2 and folded[0] in self.acronyms:
            return True
        return len(folded) >= 3 and acronym(list(name)) in self.tokens


@lru_cache(maxsize=1024)
def name_index(text: str) -> NameIndex:
    """The NameIndex of a text, kept for the texts seen last: the same candidate sentences and documents are
    indexed again by the reader's ranking and by the judge, within a question and across questions."""
    return NameIndex(text)


def _as_written(name: Sequence[str]) -> str:
    return " ".join(name)


def _opens_with_asked_subject(sentence: str, a: Analysis) -> bool:
    """The sentence's opening names nothing but what the question asks about, so the article's title
    (its setting, e.g. the event) may supply the question's other names."""
    head = re.split(r"[,;:]| (?:was|were|is|are|has|had|went|said)\b", sentence, maxsplit=1)[0]
    opening = name_phrases(head)
    asked = {fold(w) for n in a.every_name() for w in n}
    return bool(opening) and all({fold(w) for w in n} & asked for n in opening)


def _denies(ev: Evidence, a: Analysis, scope: int) -> bool:
    answer = ev.answer_part or ev.text
    leaned_on = ev.text[: max(0, len(ev.text) - len(answer))] if ev.leans else ""
    return denies_answer(answer, leaned_on, a.question, set(a.terms), quantity=a.kind == "number", scope=scope)


def _has_target(text: str, target: Sequence[str], similarity: Similarity | None, threshold: float) -> bool:
    """Every word of the asked-for thing is in the text, by stem or (with a similarity) by meaning."""
    terms = set(content_terms(text))
    cands = {w.lower() for w in words(text) if stem(w.lower()) in terms}
    for word in target:
        if stem(word.lower()) in terms:
            continue
        if similarity is None or not any(similarity(word, w) >= threshold for w in cands):
            return False
    return True


def coverage_verdict(
    ev: Evidence,
    a: Analysis,
    similarity: Similarity | None = None,
    target_threshold: float = TARGET_SIMILARITY,
    negation_scope: int = NEGATION_SCOPE,
) -> Verdict:
    """Positive evidence that the candidate does not answer the question, or a pass.

    Mismatches: planted instructions; a name, number or date of the question that is absent from the
    candidate (or that the article mentions only about another subject); no answer of the asked kind;
    a count or role asked about that the candidate does not give.
    """
    if is_instruction(ev.answer_part or ev.text):
        return Verdict(False, 0.0, "The closest passage gives instructions to an assistant; it is not evidence.")
    scope = ev.text + (f"\n{ev.title}" if ev.leans or _opens_with_asked_subject(ev.answer_part or ev.text, a)
                       else "")
    here = name_index(scope)
    doc = name_index(ev.document or scope)
    around = name_index(ev.context) if ev.context else None
    missing = [name for name in a.names if not here.has(name, doc) and not (around and around.has(name, doc))]
    # A name the articles never mention is the clearer reason, so it is reported before one they mention elsewhere.
    for name in missing:
        if not doc.has(name):
            return Verdict(False, 0.0, f"The articles do not mention {_as_written(name)}.")
    if missing:
        return Verdict(False, 0.0, f"The articles mention {_as_written(missing[0])}, but not in connection "
                       "with the rest of the question.")
    for name in a.descriptors:
        if not here.has(name) and not doc.has(name):
            return Verdict(False, 0.0, f"The articles do not mention {_as_written(name)}.")
    scope_terms = set(content_terms(scope)) if a.qualifiers else set()
    for q in a.qualifiers:
        if here.has(q.name, doc) or (around and around.has(q.name, doc)):
            continue
        if not doc.has(q.name):
            return Verdict(False, 0.0, f"The articles do not mention {_as_written(q.name)}.")
        if not any(stem(h.lower()) in scope_terms or here.has([h], doc) for h in q.heads):
            return Verdict(False, 0.0, f"The articles mention {_as_written(q.name)}, but not in connection "
                           "with the rest of the question.")
    if ev.carried and not any(doc.has(words(c)) for c in ev.carried):
        return Verdict(False, 0.0, "The articles do not say more about that.")
    have = numbers(scope)
    for n in sorted(a.numbers):
        if n not in have:
            return Verdict(False, 0.0, f"The articles do not give {n} in connection with the question.")
    dates = date_keys(scope)
    for d in sorted(a.dates):
        if not any(have_d == d or have_d.startswith(d + "d") for have_d in dates):
            return Verdict(False, 0.0, "The articles do not mention that date in connection with the question.")
    if (a.kind != "any" or a.target) and _denies(ev, a, negation_scope):
        return Verdict(False, 0.0, "The closest passages say what did not happen, not what the question asks.")
    hard_target = a.role or (a.target_words if a.kind == "number" and a.counted else [])
    if hard_target and not _has_target(ev.text, hard_target, similarity, target_threshold):
        return Verdict(False, 0.0, "The articles do not give that figure or role for this subject.")
    return Verdict(True, 1.0)


class LexicalJudge:
    """Deterministic and offline: names, numbers, negation and roles must agree; most content words must appear.

    With a `similarity` function (the loaded MiniLM), a missing word may be matched by meaning.
    """

    def __init__(
        self,
        threshold: float = COVERAGE_THRESHOLD,
        similarity: Similarity | None = None,
        target_threshold: float = TARGET_SIMILARITY,
        synonym_similarity: float = SYNONYM_SIMILARITY,
        negation_scope: int = NEGATION_SCOPE,
    ) -> None:
        self.threshold = threshold
        self.similarity = similarity
        self.target_threshold = target_threshold
        self.synonym_similarity = synonym_similarity
        self.negation_scope = negation_scope

    def covers(self, evidence: Evidence, analysis: Analysis) -> Verdict:
        """Does the candidate evidence answer the analysed question (no positive mismatch)?"""
        return coverage_verdict(evidence, analysis, self.similarity, self.target_threshold, self.negation_scope)

    def _substituted(self, hypothesis: str, premise: str, whole: str = "") -> str | None:
        """A hypothesis word standing where the premise has another word ('fell' for 'rose', 'accelerated'
        for 'stalled'): unsupported unless the two mean the same (similarity at least synonym_similarity)."""
        hyp = [w.lower() for w in words(hypothesis)]
        prem = [w.lower() for w in words(premise)]
        prem_set, hyp_set = set(prem) | {w.lower() for w in words(whole)}, set(hyp)
        after = {prem[i - 1]: w for i, w in enumerate(prem) if i and w not in hyp_set}
        for i, w in enumerate(hyp):
            if i == 0 or w in prem_set or w in STOPWORDS or len(w) < 3:
                continue
            other = after.get(hyp[i - 1])
            if other is None or other in STOPWORDS or stem(other) == stem(w):
                continue
            if self.similarity is not None and self.similarity(w, other) >= self.synonym_similarity:
                continue
            return w
        return None

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
        if miss := sorted(ordinals(hyp) - ordinals(premise)):
            return Verdict(False, 0.0, f"rank {miss[0]} is not in the passage")
        if miss := missing_entities(entities(hyp), premise):
            return Verdict(False, 0.0, f"name {miss[0]!r} is not in the passage")
        score = coverage(hyp, premise)
        closest = _closest_sentence(premise, hyp)
        if negated(hyp) != negated(closest):
            return Verdict(False, score * 0.5, "negation differs from the passage")
        if word := _opposite_word(hyp, closest):
            return Verdict(False, score * 0.5, f"{word!r} contradicts the passage")
        if word := self._substituted(hyp, closest, premise):
            return Verdict(False, score * 0.5, f"{word!r} replaces a different word of the passage")
        if _roles_swapped(hyp, closest):
            return Verdict(False, score * 0.5, "who did what to whom differs from the passage")
        if score < self.threshold:
            return Verdict(False, score, f"only {score:.0%} of the statement's words are in the passage")
        return Verdict(True, score)


_NEG_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "de", "mis")


def _opposite_word(hypothesis: str, premise: str) -> str | None:
    """A hypothesis word whose prefixed opposite the premise uses ('likely' vs 'unlikely'), or vice versa."""
    hyp = {w.lower() for w in words(hypothesis)}
    prem = {w.lower() for w in words(premise)}
    for w in hyp - prem:
        for p in _NEG_PREFIXES:
            if (p + w) in prem or (w.startswith(p) and len(w) - len(p) >= 4 and w[len(p):] in prem):
                return w
    return None


_PASSIVE = re.compile(r"\b(?:was|were|is|are|been|being|be)\s+(\w+(?:ed|en|wn|ht))\s+by\b", re.I)


def _active_roles(sentence: str) -> list[tuple[str, str, str]]:
    """(agent, verb stem, patient) of 'A <verb> B' and 'B was <verb> by A' between two named entities."""
    low = [w.lower() for w in words(sentence)]
    names = set(entities(sentence))
    idx = [i for i, w in enumerate(low) if w in names]
    out = []
    for i in idx:
        for j in idx:
            if j <= i + 1 or j - i > 8:
                continue
            between = [w for w in low[i + 1 : j] if w not in names]
            verbs = [w for w in between if len(w) > 3 and w not in STOPWORDS]
            if not verbs:
                continue
            passive = bool(_PASSIVE.search(" ".join(low[i : j + 1])))
            agent, patient = (low[j], low[i]) if passive else (low[i], low[j])
            out.append((agent, stem(verbs[-1]), patient))
    return out


def _roles_swapped(hypothesis: str, premise: str) -> bool:
    """'A supported B' against a premise saying 'B supported A' (active or passive)."""
    prem = {(a, v, p) for a, v, p in _active_roles(premise)}
    for a, v, p in _active_roles(hypothesis):
        if a != p and (p, v, a) in prem and (a, v, p) not in prem:
            return True
    return False


class NLIJudge:
    """An NLI cross-encoder loaded from a local folder for `entails`; coverage (does a passage answer the
    question?) needs no model and is the configured lexical judge's, so switching judges changes only how
    claims are checked, never when the reader abstains."""

    def __init__(self, model_path: str, threshold: float = 0.5, coverage: LexicalJudge | None = None) -> None:
        self.model_path = model_path
        self.threshold = threshold
        self.coverage = coverage or LexicalJudge()
        self._model: Any = None

    @property
    def similarity(self) -> Similarity | None:
        """The coverage judge's word similarity (the reader shares it)."""
        return self.coverage.similarity

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(self.model_path, device="cpu")
            labels = {str(v).lower(): int(k) for k, v in (self._model.config.id2label or {}).items()}
            self.entail_idx = labels.get("entailment", 1 if len(labels) <= 2 else 0)
        return self._model

    def covers(self, evidence: Evidence, analysis: Analysis) -> Verdict:
        """The configured lexical judge's coverage check."""
        return self.coverage.covers(evidence, analysis)

    def entails(self, premise: str, hypothesis: str) -> Verdict:
        """Entailment probability of the statement given the premise."""
        import numpy as np

        logits = np.asarray(self._load().predict([(premise, strip_markers(hypothesis))]))[0]
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        p = float(probs[self.entail_idx]) if probs.ndim else float(logits)
        ok = p >= self.threshold
        return Verdict(ok, p, "" if ok else f"entailment probability {p:.2f}")


_DEFAULT = LexicalJudge()


def entails(premise: str, hypothesis: str, judge: Judge | None = None) -> Verdict:
    """Does `premise` support `hypothesis`? Uses the lexical judge unless another is given."""
    return (judge or _DEFAULT).entails(premise, hypothesis)
