"""What a question asks for: the expected answer type, from the wh-word and the head of the wh-phrase in the
dependency parse, plus the entities the answer must agree with.

No word lists of questions: the parse says which token is the wh-word and what it modifies. A "which X" question
asks for a named thing of the class X ("which telescope", "what share of"); what type of entity answers it is
left to the candidates (the entity that X attaches to in a sentence), since X alone does not say: MiniLM's
similarity of a class noun to descriptions of the entity types was measured and is too weak to decide it
("official" came out nearer "a date" than "a person").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What an answer of each kind is, in the NER model's (OntoNotes) labels. The schema's own grouping, not data.
KIND_LABELS: dict[str, frozenset[str]] = {
    "person": frozenset({"PERSON", "ORG", "NORP"}),  # "who" is answered by people and by bodies of people
    "organisation": frozenset({"ORG"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "date": frozenset({"DATE", "TIME"}),
    "money": frozenset({"MONEY"}),
    "percent": frozenset({"PERCENT"}),
    "quantity": frozenset({"QUANTITY", "CARDINAL", "MONEY", "PERCENT", "DATE", "TIME"}),
    "count": frozenset({"CARDINAL", "QUANTITY"}),
}
_WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
# Kinds whose answer is a span of text rather than an entity.
OPEN_KINDS = frozenset({"reason", "manner", "yesno", "description"})


@dataclass(frozen=True)
class Expected:
    """The kind of answer asked for; `labels` are the entity types that carry one, `head` the class noun of a
    "which X" question."""

    kind: str
    labels: frozenset[str] = frozenset()
    head: str | None = None

    @property
    def typed(self) -> bool:
        """True when an answer is an entity of some type (a candidate without one cannot answer it)."""
        return bool(self.labels) or self.kind == "named"


@dataclass
class Analysis:
    """A parsed question: what it asks for and the entities (text, label) it names."""

    question: str
    expected: Expected
    entities: list[tuple[str, str]] = field(default_factory=list)


class QuestionAnalyser:
    """`analyse(question)` on a spaCy pipeline (bot.read.nlp)."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp

    def analyse(self, question: str) -> Analysis:
        doc = self.nlp(question)
        ents = [(e.text, e.label_) for e in doc.ents]
        return Analysis(question=question, expected=self._expected(doc), entities=ents)

    def _expected(self, doc: Any) -> Expected:
        wh = next((t for t in doc if t.tag_ in _WH_TAGS), None)
        if wh is None:
            # No wh-word: a question that opens with an auxiliary ("Is there…", "Did the court…") asks yes or no.
            first = next((t for t in doc if not t.is_punct), None)
            return Expected("yesno" if first is not None and first.pos_ == "AUX" else "description")
        if wh.tag_ in ("WP", "WP$") and wh.lower_ in ("who", "whom", "whose"):
            return Expected("person", KIND_LABELS["person"])
        if wh.tag_ == "WRB":
            return self._adverb(wh)
        # "which/what" + noun: the noun names the class of the answer ("which telescope", "what share of").
        if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN"):
            return self._class(wh.head)
        if wh.tag_ == "WDT":
            # The small model's parser sometimes hangs "which" after a preposition on the preposition ("In which
            # town did…"): the tagger still calls it a determiner, so its noun is the first one after it.
            noun = next((t for t in doc[wh.i + 1 :] if t.pos_ in ("NOUN", "PROPN") and t.dep_ != "compound"), None)
            if noun is not None and all(t.dep_ in ("compound", "amod") for t in doc[wh.i + 1 : noun.i]):
                return self._class(noun)
        return Expected("description")

    def _adverb(self, wh: Any) -> Expected:
        lemma = wh.lower_
        if lemma == "when":
            return Expected("date", KIND_LABELS["date"])
        if lemma == "where":
            return Expected("place", KIND_LABELS["place"])
        if lemma == "why":
            return Expected("reason")
        # "how" modifying an adjective or adverb asks for a degree: "how many" a count, "how much" an amount,
        # "how long/far/old" a measure; "how" on a verb asks for the manner.
        head = wh.head
        if head.pos_ in ("ADJ", "ADV") and head.i == wh.i + 1:
            # English marks counting with "many" (count nouns) and every other degree with another word.
            if head.lower_ == "many":
                return Expected("count", KIND_LABELS["count"])
            return Expected("quantity", KIND_LABELS["quantity"], head=head.head.lemma_ if head.dep_ == "amod" else None)
        return Expected("manner")

    def _class(self, noun: Any) -> Expected:
        words = " ".join(t.text for t in noun.children if t.dep_ == "compound")
        return Expected("named", head=f"{words} {noun.lemma_}".strip().lower())
