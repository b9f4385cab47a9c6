"""Resolve a follow-up question against the chat history before retrieving."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.models import Message
from bot.read.nlp import pipeline
from bot.text import content_terms, entities, strip_markers, words

# Words that point back at something named earlier, when the parse says they are used as pointers: "there" as an
# adverb ("What happened there?"), not the expletive of "Is there a curfew?"; "that" as a demonstrative, not the
# conjunction or relative pronoun; "former"/"latter" as nouns ("the latter"), not "the former president".
_PERSONAL = frozenset("he she him her his hers it its they them their theirs".split())
_DEMONSTRATIVE = frozenset("this that these those".split())
_PLACE_TIME = frozenset({"there", "then"})
_BACK_NOUNS = frozenset({"former", "latter"})
# Words dropped from the previous question when it is carried into the query.
_ANAPHORA = _PERSONAL | _DEMONSTRATIVE | _PLACE_TIME | _BACK_NOUNS
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|also|and what about|what of|same for)\b", re.I)


@dataclass
class Resolved:
    """The question as asked, the text used for retrieval, and the terms carried over from history."""

    question: str
    query: str
    own_entities: list[str] = field(default_factory=list)
    carried_entities: list[str] = field(default_factory=list)
    carried_names: list[str] = field(default_factory=list)
    is_followup: bool = False
    outlets: list[str] = field(default_factory=list)  # stored outlets the question names (bot.read.outlets)


def _names(text: str) -> list[str]:
    """Capitalised name phrases in their original case (e.g. 'Armin Montazeri')."""
    ents = set(entities(text))
    out, run = [], []
    for w in words(text):
        if w.lower() in ents:
            run.append(w)
        elif run:
            out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    return list(dict.fromkeys(out))


def _points_back(tok: Any) -> bool:
    low = tok.lower_
    if low in _PERSONAL:
        return tok.tag_ in ("PRP", "PRP$") and tok.dep_ != "expl"
    if low in _DEMONSTRATIVE:
        return tok.tag_ == "DT"
    if low in _PLACE_TIME:
        return tok.tag_ == "RB"
    return low in _BACK_NOUNS and tok.dep_ != "amod"


def needs_history(question: str, nlp: Any = None) -> bool:
    """Pronouns and demonstratives used as pointers (by the parse), ellipsis, or too few words to stand alone."""
    doc = (nlp or pipeline())(question)
    if any(_points_back(t) for t in doc):
        return True
    if _ELLIPSIS.match(question):
        return True
    return len(content_terms(question)) <= 1 and not entities(question)


def resolve(question: str, history: Sequence[Message], nlp: Any = None) -> Resolved:
    """Carry the previous turn's names and key words into a question that leans on it."""
    own = entities(question)
    if not history or not needs_history(question, nlp):
        return Resolved(question, question, own_entities=own)
    last_user = next((m.content for m in reversed(history) if m.role == "user"), "")
    last_bot = next((strip_markers(m.content) for m in reversed(history) if m.role == "assistant"), "")
    carried_names = [n for n in _names(last_user) + _names(last_bot) if n.lower() not in question.lower()]
    carried_names = list(dict.fromkeys(carried_names))
    if own and _ELLIPSIS.match(question):
        # "What about Turkey?": keep the earlier question's intent, swap in the new name.
        query = f"{question} {last_user}"
        carried_names = []
    else:
        prev_terms = " ".join(w for w in words(last_user) if w.lower() not in _ANAPHORA)
        query = f"{question} {' '.join(carried_names)} {prev_terms}"
    carried = [e for n in carried_names for e in entities(n)]
    return Resolved(question, " ".join(query.split()), own_entities=own, carried_entities=carried,
                    carried_names=carried_names, is_followup=True)
