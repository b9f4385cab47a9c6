"""Resolve a follow-up question against the chat history before retrieving."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.models import Message
from bot.text import content_terms, entities, strip_markers, words

_ANAPHORA = frozenset(
    "he she him her his hers it its they them their theirs this that these those there then such the former "
    "latter".split()
)
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


def needs_history(question: str) -> bool:
    """Pronouns, demonstratives, ellipsis, or too few words of its own to stand alone."""
    toks = [w.lower() for w in words(question)]
    if any(t in _ANAPHORA for t in toks if t != "the"):
        return True
    if _ELLIPSIS.match(question):
        return True
    return len(content_terms(question)) <= 1 and not entities(question)


def resolve(question: str, history: Sequence[Message]) -> Resolved:
    """Carry the previous turn's names and key words into a question that leans on it."""
    own = entities(question)
    if not history or not needs_history(question):
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
