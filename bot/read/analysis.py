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

from bot.question import MetaField

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
# A "which X" question whose X names a proper thing (a telescope, a ship, an official) is answered by a name.
NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                         "LANGUAGE"})
# Class nouns that name one of the schema's value types rather than a proper thing: "which year" is a date,
# "what share" a percentage. These are the types' own English names (OntoNotes' definitions), not question data.
_VALUE_CLASSES: dict[str, frozenset[str]] = {
    "date": frozenset("year date day month week decade century night morning evening afternoon weekend season "
                      "time hour minute era".split()),
    "percent": frozenset("percentage percent share proportion fraction".split()),
    "money": frozenset("price cost fee fine salary wage fare sum payment budget".split()),
    "count": frozenset("number population total".split()),
    "place": frozenset("city town village country state province region county district place location "
                       "island continent capital".split()),
}
# "Which newspaper published the story…", "Which outlets reported…": asked of the documents' `site` metadata. The
# class nouns of news outlets, the verbs of publishing and the nouns for a published piece: the metadata field's
# own vocabulary, not question data.
_OUTLET_CLASSES = frozenset("outlet publication newspaper paper site website magazine broadcaster network channel "
                            "publisher".split())
_PUBLISHING_VERBS = frozenset("publish report run carry cover print post air broadcast break".split())
_PIECE_NOUNS = frozenset("article story piece report essay review column interview editorial feature coverage "
                         "analysis op-ed post investigation".split())
# "Who wrote the article on X?", "When did <outlet> publish its review?": asked of the author and date metadata.
_WRITING = frozenset("write author pen report file byline author writer reporter".split())
_DATING = frozenset("publish post date".split())
# Verbs that ask for a name when their object is the wh-word: "What is the area called?"
_NAMING_VERBS = frozenset("call name dub title term nickname".split())
_WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
# "how long / old / soon / often / late / early": degrees measured in time.
_TIME_DEGREES = frozenset("long old soon often late early".split())
# "How much does it cost / did they pay / is it worth", "how big is the fee": an amount that is a sum of money. The
# money class nouns above plus English's verbs and adjective of price (lexicon, not question data).
_MONEY_PREDICATES = frozenset("cost pay charge spend earn owe fetch worth".split())
# Kinds whose answer is a span of text rather than an entity.
OPEN_KINDS = frozenset({"reason", "manner", "yesno", "description"})


@dataclass(frozen=True)
class Expected:
    """The kind of answer asked for; `labels` are the entity types that carry one, `head` the class noun of a
    "which X" question."""

    kind: str
    labels: frozenset[str] = frozenset()
    head: str | None = None
    # What a figure measures when the degree word says so: "age" (how old), "duration" (how long); see bot.read.typed.
    measure: str | None = None
    # The class noun itself, as a lemma ("company" in "the name of the company Margaret Hamilton founded").
    noun: str | None = None

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
    focus: str = ""  # what the question is about, for an abstention's wording ("the duvet")
    outlets: int = 0  # asks which outlet published something: 1 for one ("which newspaper"), 2 for all ("which sites")
    proper: frozenset[str] = frozenset()  # the words the tagger reads as (parts of) names in this question
    # Words of names that only qualify a common noun ("the Harvik Trust engineer", "Orvik's tablet", "the Danish
    # regulator"): an article introduces the qualified thing once and then refers to it by the noun alone.
    qualifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Words that name the asked type itself ("cost", "price" for a sum of money; "year" for a date): an entity of
    # the type answers them, so a sentence need not repeat them ("Corvin lamp ($45)").
    type_words: frozenset[str] = frozenset()
    # Asks for the author or publication date of a piece: `meta` when the question names a piece ("the article"),
    # `meta_if_outlet` when only an outlet it names would make it one ("Who wrote the Verge's hands-on?").
    meta: MetaField | None = None
    meta_if_outlet: MetaField | None = None


class QuestionAnalyser:
    """`analyse(question)` on a spaCy pipeline (bot.read.nlp)."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp

    def analyse(self, question: str) -> Analysis:
        doc = self.nlp(question)
        ents = [(e.text, e.label_) for e in doc.ents]
        expected = self._expected(doc)
        field = _meta_field(doc, expected)
        piece = any(t.lemma_.lower() in _PIECE_NOUNS and t.pos_ == "NOUN" for t in doc)
        return Analysis(question=question, expected=expected, entities=ents, focus=_focus(doc),
                        meta=field if piece else None, meta_if_outlet=field,
                        outlets=_asks_outlets(doc),
                        proper=frozenset(t.text for t in doc if t.pos_ == "PROPN" or t.ent_type_ in NAME_LABELS),
                        qualifiers=_qualifiers(doc), type_words=_type_words(doc, expected))

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
        if wh.lower_ == "what" and wh.dep_ in ("attr", "nsubj") and wh.head.lemma_ == "be":
            copular = self._copular(wh.head, wh)
            if copular is not None:
                return copular
        verb = wh.head.head if wh.head.dep_ in ("aux", "auxpass") else wh.head
        if wh.lower_ == "what" and _names(verb) and any(t.dep_ == "auxpass" for t in verb.children):
            # "What was the ship called?": the passive of a naming verb asks for the name.
            subj = next((t for t in verb.children if t.dep_ in ("nsubjpass", "nsubj")), None)
            return Expected("named", NAME_LABELS, head=_phrase(subj) if subj is not None else None,
                            noun=subj.lemma_.lower() if subj is not None and subj.pos_ == "NOUN" else None)
        # "which/what" + noun: the noun names the class of the answer ("which telescope", "what share of").
        # A determiner wh-word stands right before its noun phrase; the small parser sometimes makes the "What" of
        # "What did the crew serve?" the determiner of a later noun, across the auxiliary.
        between = doc[wh.i + 1 : wh.head.i]
        if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN") and wh.head.i > wh.i and not any(
                t.pos_ in ("AUX", "VERB") for t in between):
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
            # English marks counting with "many" (count nouns), an amount with "much", and a span of time with
            # the degree words of time (OntoNotes types durations and ages as DATE, clock times as TIME).
            noun = head.head.lemma_ if head.dep_ == "amod" else None
            if head.lower_ == "many":
                return Expected("count", KIND_LABELS["count"], head=noun)
            if head.lower_ not in _TIME_DEGREES and _asks_price(wh.doc, head):
                return Expected("money", KIND_LABELS["money"], head=noun)
            if head.lower_ == "much":
                return Expected("quantity", frozenset({"MONEY", "QUANTITY", "CARDINAL", "PERCENT"}), head=noun)
            if head.lower_ in _TIME_DEGREES:
                # An age or a span of time is what "old" and "long" measure; "soon/often/late" ask for a date.
                measure = {"old": "age", "long": "duration"}.get(head.lower_)
                return Expected("quantity", frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL"}), head=noun,
                                measure=measure)
            return Expected("quantity", frozenset({"QUANTITY", "CARDINAL", "PERCENT", "MONEY"}), head=noun)
        return Expected("manner")

    def _copular(self, be: Any, wh: Any) -> Expected | None:
        """"What is the X called?" asks for a name; "What is the price / name / year of Y?" for a value of the
        type its subject noun names. Any other "what is X" asks for a description."""
        subj = next((t for t in be.children if t.dep_ in ("nsubj", "nsubjpass") and t.i != wh.i
                     and t.pos_ in ("NOUN", "PROPN")), None)
        if subj is None:
            return None
        if subj.lemma_ == "name":
            of = [t for p in subj.children if p.dep_ == "prep" for t in p.children if t.dep_ == "pobj"]
            return Expected("named", NAME_LABELS, head=_phrase(of[0]) if of else None,
                            noun=of[0].lemma_.lower() if of and of[0].pos_ == "NOUN" else None)
        if any(_names(t) for t in [*subj.children, *be.children]):
            return Expected("named", NAME_LABELS, head=_phrase(subj), noun=subj.lemma_.lower())
        if any(subj.lemma_.lower() in nouns for nouns in _VALUE_CLASSES.values()):
            return self._class(subj)
        return None

    def _class(self, noun: Any) -> Expected:
        words = " ".join(t.text for t in noun.children if t.dep_ == "compound")
        head = f"{words} {noun.lemma_}".strip().lower()
        for kind, nouns in _VALUE_CLASSES.items():
            if noun.lemma_.lower() in nouns:
                return Expected(kind, KIND_LABELS[kind], head=head)
        return Expected("named", NAME_LABELS, head=head, noun=noun.lemma_.lower())


def _qualifiers(doc: Any) -> dict[str, tuple[str, ...]]:
    """The words of names that modify a common noun, each with the head of the noun phrase it qualifies (and that
    head's apposition): a compound, adjective or possessive of a NOUN ("the Harvik Trust engineer", "the Danish
    regulator", "Orvik's new tablet", "the Tarnby elder Lida Sorn": elder, then Sorn)."""
    out: dict[str, tuple[str, ...]] = {}
    for tok in doc:
        if tok.dep_ not in ("compound", "amod", "poss", "nmod") or tok.head.pos_ != "NOUN":
            continue
        if tok.pos_ != "PROPN" and tok.ent_type_ not in NAME_LABELS:
            continue
        root = tok.head
        while root.dep_ in ("compound", "flat") and root.head.i != root.i:
            root = root.head
        if root.dep_ == "ROOT":
            # A question's root is its verb: a noun there means the small parser read the verb as a noun ("did
            # the Kenyan runner win": "runner" a compound of "win"), so what the name qualifies is unknown.
            continue
        heads = [root, *(c for c in root.children if c.dep_ == "appos")]
        if root.dep_ == "appos":
            heads.append(root.head)
        for t in tok.subtree:
            if t.pos_ == "PROPN" or t.ent_type_ in NAME_LABELS:
                out[t.text] = tuple(h.text for h in heads)
    return out


def _type_words(doc: Any, expected: Expected) -> frozenset[str]:
    """The question's words that name the kind of value asked for: the class nouns of that kind ("year", "price"),
    and for a sum of money the verbs and adjective of price ("cost", "pay", "worth")."""
    nouns = _VALUE_CLASSES.get(expected.kind, frozenset())
    return frozenset(t.text for t in doc if t.lemma_.lower() in nouns
                     or (expected.kind == "money" and t.lemma_.lower() in _MONEY_PREDICATES))


def _asks_price(doc: Any, degree: Any) -> bool:
    """Is the amount asked a sum of money: a price word is the predicate or a noun of the question ("How much
    will it cost?", "How big is the fee?", "How much did they pay?")? Not for a part ("How much of the budget…"),
    which a share answers."""
    if any(c.dep_ == "prep" and c.lower_ == "of" for c in degree.children):
        return False
    money = _VALUE_CLASSES["money"]
    return any(t.lemma_.lower() in _MONEY_PREDICATES or t.lower_ in _MONEY_PREDICATES
               or (t.pos_ == "NOUN" and t.lemma_.lower() in money) for t in doc)


def _names(tok: Any) -> bool:
    """Is the token a verb of naming ("called", "dubbed", "known as")?"""
    return bool(tok.lemma_ in _NAMING_VERBS or (tok.lemma_ == "know" and any(c.lower_ == "as" for c in tok.children)))


def _phrase(noun: Any) -> str:
    """The noun with its modifiers, without its determiner or a clause hanging on it ("old mill")."""
    clause = {w.i for c in noun.children if c.dep_ in ("acl", "relcl") for w in c.subtree}
    return " ".join(w.text for w in noun.subtree if w.dep_ != "det" and w.i not in clause).lower()


def _focus(doc: Any) -> str:
    """The question's last noun phrase that is not the wh-phrase or a pronoun: what an abstention is about."""
    chunks = [c for c in doc.noun_chunks
              if not any(t.tag_ in _WH_TAGS for t in c) and c.root.pos_ != "PRON"]
    return chunks[-1].text if chunks else ""


def _asks_outlets(doc: Any) -> int:
    """"Which newspaper published the story on X?" (1) or "Which outlets reported X?" (2): the wh-phrase is the
    subject of a verb of publishing, and names an outlet or publishes a piece; 0 for anything else ("Which website
    employs X?" asks about the text)."""
    wh = next((t for t in doc if t.tag_ in _WH_TAGS), None)
    if wh is None or wh.dep_ != "det" or wh.head.dep_ != "nsubj":
        return 0
    noun, verb = wh.head, wh.head.head
    if verb.lemma_.lower() not in _PUBLISHING_VERBS:
        return 0
    piece = any(c.dep_ == "dobj" and c.lemma_.lower() in _PIECE_NOUNS for c in verb.children)
    if noun.lemma_.lower() not in _OUTLET_CLASSES and not piece:
        return 0
    return 2 if noun.tag_ in ("NNS", "NNPS") else 1


def _meta_field(doc: Any, expected: Expected) -> MetaField | None:
    """"author" for a who-question about writing ("Who wrote…", "Who is the author of…"), "published" for a
    date question about publishing ("When was … published?"); whether it is asked of a piece is decided by the
    caller."""
    lemmas = {t.lemma_.lower() for t in doc}
    if expected.kind == "person" and lemmas & _WRITING:
        return "author"
    if expected.kind == "date" and lemmas & _DATING:
        return "published"
    return None
