"""Typed reading: which entities of a candidate answer the question, and which one is the short answer.

A question that asks for a kind of thing (a date, a person, a sum of money, a named telescope) is answered by an
entity of that kind that the question does not already name. For figures and dates, which NER finds reliably, the
reader ranks sentences holding one first and abstains, saying what is missing, when no candidate holds one; for
names the entity only gives the short answer (bot.read.extractive).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.read.analysis import Analysis, Expected
from bot.read.entities import Entity
from bot.text import STOPWORDS

# What the abstention says is missing, per expected kind.
KIND_WORDS = {
    "person": "a name", "organisation": "an organisation", "place": "a place", "date": "a date or time",
    "money": "a sum of money", "percent": "a percentage", "quantity": "a figure", "count": "a number",
    "named": "a name",
}


_NUMERIC = frozenset({"DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL"})
# The units a span of time is counted in (OntoNotes types "two years" and "a six-month review" as DATE, "90
# minutes" as TIME): English's calendar and clock units.
_TIME_UNITS = frozenset("second minute hour day night week fortnight month year decade century".split())
# How news writes an age: "Ana Ruiz, 34, said", "the 34-year-old", "34 years old", "aged 34".
_AGE = re.compile(r"\b\d+(?:\s*|-)years?(?:\s*|-)old\b|\baged\s+\d+|\b\d+-year-old\b", re.I)


def measures(e: Entity, sentence: str, measure: str | None) -> bool:
    """Does the entity measure what the question's degree word asks: an age for "how old", a span of time (a
    count of time units) or a length for "how long"? Any figure for the rest."""
    if measure == "age":
        if _AGE.search(e.text) or _AGE.search(sentence[e.start : e.end + 10]):
            return True
        # The appositive age of news style: a bare number set off by commas or brackets right after a name.
        return e.label in ("CARDINAL", "DATE") and e.text.isdigit() and sentence[max(0, e.start - 2) : e.start] in (
            ", ", " (") and sentence[e.end : e.end + 1] in (",", ")")
    if measure == "duration":
        if e.label == "QUANTITY":
            return True  # "how long is the tunnel": a length
        units = {w.casefold().rstrip("s") for w in re.split(r"[\s\-]+", e.text)}
        return e.label in ("DATE", "TIME") and bool(units & _TIME_UNITS)
    return True


def _pronoun_one(e: Entity, sentence: str) -> bool:
    """"one of the largest…", "the one that…": the numeral standing for a thing, not counting anything."""
    return e.text.casefold() == "one" and bool(re.match(r"\s+(?:of|that|who|which)\b|\s*[,.;:!?]", sentence[e.end :]))


def _specific(text: str) -> bool:
    """Does a date or time pin a moment: a figure, or a proper name of a month, day or season ("June", "Friday")?"""
    return any(ch.isdigit() for ch in text) or any(w[:1].isupper() for w in text.split())


def _fold(text: str) -> str:
    # The NER's span of a possessive holds the "'s" ("Saltmarsh Bay's"): the name is without it.
    return re.sub(r"[^\w]+", " ", re.sub(r"['’]s\b", "", text.casefold())).strip()


def answer_entities(entities: Sequence[Entity], expected: Expected, question: Analysis, sentence: str = ""
                    ) -> list[Entity]:
    """The entities of `sentence` of the expected type that the question does not already name."""
    labels = expected.labels
    if not labels:
        return []
    asked = _fold(question.question)
    out = []
    unit = (expected.head or "").split()[-1:] if expected.kind in ("count", "quantity") else []
    for e in entities:
        # "How many weeks…" is answered by "eleven weeks", which the schema types as a DATE: a figure of any
        # numeric type that counts the asked noun answers a count.
        counts_unit = bool(unit) and e.label in _NUMERIC and any(w.startswith(unit[0]) for w in _fold(e.text).split())
        if e.label not in labels and not counts_unit and not (expected.kind == "percent" and _part_of(e, sentence)):
            continue
        if expected.kind == "date" and not _specific(e.text):
            continue  # "recently", "the last several years" do not say when
        if sentence and expected.kind in ("quantity", "count") and (
                _pronoun_one(e, sentence) or not measures(e, sentence, expected.measure)):
            continue
        key = _fold(e.text)
        # "Apple" answers nothing in "What did Apple buy?"; "the 2024 Olympics" names what "2024" is about.
        if key and f" {key} " in f" {asked} ":
            continue
        out.append(e)
    return out


# After a figure, the words of English's partitive: "a third of voters", "one in five children", "half the help".
_PARTITIVE = re.compile(r"\s+(?:of|in|the)\b", re.I)


def _part_of(e: Entity, sentence: str) -> bool:
    """Is a CARDINAL a share of a whole ("a third of voters", "one in five", "only half the help")? The NER types
    fractions as CARDINAL; a share question is answered by one as by a PERCENT."""
    return e.label == "CARDINAL" and bool(sentence) and bool(_PARTITIVE.match(sentence, e.end))


def short_answer(answers: Sequence[Entity], sentence: str, terms: Sequence[str]) -> Entity | None:
    """The answering entity nearest to the words the sentence shares with the question (the first one when it
    shares none): in "X said on Monday that Y won the vote on Friday", "when was the vote" is answered by Friday."""
    if not answers:
        return None
    low = sentence.casefold()
    anchors = [(m.start(), m.end()) for t in terms if len(t) > 2 and t.casefold() not in STOPWORDS
               for m in re.finditer(rf"\b{re.escape(t.casefold())}\w*", low)]
    if not anchors:
        return answers[0]

    def gap(e: Entity) -> int:  # characters between the entity and the nearest shared word
        return min(max(a - e.end, e.start - b, 0) for a, b in anchors)

    return min(answers, key=lambda e: (gap(e), e.start))


def missing_reason(analysis: Analysis, focus: str) -> str:
    """The abstention for a typed question no candidate answers: what kind of answer is missing, about what."""
    exp = analysis.expected
    if exp.measure:
        kind = {"age": "an age", "duration": "a length of time"}[exp.measure]
        return f"The articles don't give {kind}" + (f" for {focus}." if focus else " for this.")
    if exp.kind == "named" and exp.head:
        what = f"the {exp.head}"
        return f"The articles don't name {what}" + (f" for {focus}." if focus else ".")
    kind = KIND_WORDS.get(exp.kind, "an answer")
    return f"The articles don't give {kind}" + (f" for {focus}." if focus else " for this.")


# English's definite determiners: a noun phrase opening with one refers to something already introduced.
DEFINITE = frozenset("the this that these those".split())


def unnamed_mention(doc: Any, cls: str) -> bool:
    """Does the parsed sentence speak of a thing of the class `cls` (a noun's lemma) without naming it ("left
    college", "founded a small firm", "a new drug")? A mention with a name attached ("the company Brightwell",
    "Brandon, a small university", "Brightwell is a company") names it; a definite one ("the company") refers back
    to one named before."""
    for t in doc:
        if t.lemma_.lower() != cls or t.pos_ != "NOUN" or t.ent_type_:
            continue
        if any(c.dep_ in ("compound", "appos", "nmod") and (c.pos_ == "PROPN" or c.ent_type_) for c in t.children):
            continue
        if t.dep_ == "appos" and (t.head.pos_ == "PROPN" or t.head.ent_type_):
            continue
        if t.dep_ == "attr" and any(c.dep_ == "nsubj" and (c.pos_ == "PROPN" or c.ent_type_) for c in t.head.children):
            continue
        if any(c.dep_ == "det" and c.lower_ in DEFINITE for c in t.children):
            continue
        return True
    return False
