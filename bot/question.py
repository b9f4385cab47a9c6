"""Question analysis, in one place: what kind of answer is asked for, and what the evidence must mention.

The extractive engine, the support judge's coverage check and the generative engines all read the same
`Analysis`, so a question is understood the same way wherever it is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from bot.text import (
    MONTH_WORDS,
    STOPWORDS,
    WEEKDAY_WORDS,
    content_terms,
    date_keys,
    normalise,
    numbers,
    stem,
    words,
)

# The coarse kind of answer the judge's checks read; the reader sets it from spaCy's parse (bot.read.analysis).
Kind = Literal["date", "time", "number", "person", "place", "named", "any"]
MetaField = Literal["author", "published"]

_AUX = frozenset(
    "is are was were be been being do does did has have had can could will would should may might must "
    "shall".split()
)
_WH = frozenset("who whom whose what which when where why how".split())
_PREPS = frozenset("of in on at by for from to with about after before during into over under since".split())
# A sentence that addresses an assistant or a model is an instruction planted in the text, never a fact.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:(?:all|any|the|these|those|of)\s+){0,3}"
    r"(?:your|my|previous|prior|above|earlier|preceding|foregoing|original|system|existing)\b[^.]{0,30}"
    r"\b(?:instructions?|prompts?|rules|guidelines|context|messages?)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:everything|all)\s+(?:above|before|previous|prior|you were told)\b"
    r"|\byour (?:system|initial|hidden|original) (?:prompt|instructions|message)\b"
    r"|\byou are now\b|\bfrom now on,? (?:you|answer|reply|respond)\b"
    r"|\b(?:you are|you're|act as|pretend (?:to be|you are)|as an) (?:an? )?(?:ai|assistant|chatbot|language model"
    r"|llm|bot)\b"
    r"|\b(?:assistant|chatbot|ai model|language model|llm|system prompt)s?\b[^.]{0,80}\b(?:must|should|shall|"
    r"will|needs? to|has to|always|never|reply|respond|answer|say|tell|state|output)\b"
    r"|^\s*[\"“']?(?:say|reply|respond|answer|tell (?:the )?(?:user|reader)s?|output|print|write|repeat|state)"
    r"\b[^.]{0,40}\b(?:that|with|only|exactly|the following)\b",
    re.I,
)


@dataclass
class Qualifier:
    """A name that qualifies a noun of the question ("Harvik" in "the Harvik Trust engineer"), with the head words of
    that noun phrase ("engineer"; for "the Texas senator Mara Quill": "senator", "Quill")."""

    name: list[str]
    heads: tuple[str, ...]


@dataclass
class Analysis:
    """What a question asks for and what the evidence must mention to answer it."""

    question: str
    kind: Kind = "any"
    meta: MetaField | None = None
    names: list[list[str]] = field(default_factory=list)  # subject names, each a list of words as written
    descriptors: list[list[str]] = field(default_factory=list)  # names qualifying the answer ("which US agency")
    qualifiers: list[Qualifier] = field(default_factory=list)  # names qualifying a noun ("the Harvik Trust engineer")
    numbers: set[str] = field(default_factory=set)  # quantities the evidence must contain
    dates: set[str] = field(default_factory=set)  # date keys ("y2019", "m8d21") the evidence must contain
    count: int | None = None  # "which three firms": how many answers, not a quantity to find
    target: list[str] = field(default_factory=list)  # stems of the asked-for thing ("observatory")
    target_words: list[str] = field(default_factory=list)  # the same, as written
    counted: bool = False  # the target is what "how many" counts ("how many comets")
    role: list[str] = field(default_factory=list)  # "who is the chief scientist of X": the role's stems
    terms: list[str] = field(default_factory=list)  # content stems, framing words dropped

    def every_name(self) -> list[list[str]]:
        """The subject names, the descriptors and the qualifying names."""
        return [*self.names, *self.descriptors, *(q.name for q in self.qualifiers)]

    @property
    def has_anchors(self) -> bool:
        """Does the question name anything specific (a name, a number, a date)?"""
        return bool(self.names or self.numbers or self.dates)


def is_instruction(sentence: str) -> bool:
    """Does the sentence address an assistant ('ignore previous instructions', 'say that ...')?"""
    return bool(_INSTRUCTION.search(normalise(sentence)))


@lru_cache(maxsize=8192)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def common_word(word: str) -> bool:
    """Is this an everyday English word (so a capital at the start of a question does not make it a name)?"""
    return _zipf(word.lower()) >= 3.0


def _is_capitalised(w: str) -> bool:
    return w[:1].isupper() or (len(w) > 1 and any(c.isupper() for c in w[1:]) and w[:1].isalpha())


_CAPS_RUN = re.compile(r"\b[A-Z]{2,}(?:[\s,]+[A-Z]{2,})+\b")


def unshout(text: str) -> str:
    """Lower-case shouted runs ('IGNORE THE ARTICLES'): a run of capitals holding a stopword is emphasis, not
    an acronym or a name, so 'ARTICLES' is never reported as something the articles do not mention."""

    def fix(m: re.Match[str]) -> str:
        run = m.group()
        return run.lower() if any(w.lower() in STOPWORDS for w in re.findall(r"[A-Z]+", run)) else run

    return _CAPS_RUN.sub(fix, text)


def name_phrases(text: str, is_name: Callable[[str], bool] | None = None) -> list[list[str]]:
    """Runs of capitalised words (names, acronyms), skipping a sentence-opening everyday word unless `is_name`
    says it is one.

    'Overall, which ...' and 'Roughly how many ...' do not name anything; 'Apple' opening a question does when
    the tagger reads it as a name there.
    """
    out: list[list[str]] = []
    run: list[str] = []
    opener = True
    for m in re.finditer(r"\S+", unshout(normalise(text))):
        raw = m.group()
        core = raw.strip("\"'()[]{},;:!?")
        toks = words(core)
        is_opener = opener
        opener = raw.endswith((".", "?", "!", ":")) and not re.fullmatch(r"(?:[A-Za-z]\.)+", raw)
        for w in toks:
            lw = w.lower()
            name_like = _is_capitalised(w) and lw not in MONTH_WORDS and lw not in WEEKDAY_WORDS
            if name_like and (lw in STOPWORDS or lw in _WH or lw in _AUX or lw == "i"):
                name_like = False
            if name_like and is_opener and common_word(lw):
                name_like = bool(is_name and is_name(w))
            is_opener = False
            if name_like:
                run.append(w)
            elif run:
                out.append(run)
                run = []
        if raw.endswith((",", ";", ":", "?", "!", ".", ")")) or raw.startswith("(") or raw[-1:] in "\"”":
            if run:
                out.append(run)
                run = []
    if run:
        out.append(run)
    return out


_ROLE_Q = re.compile(
    r"\b(?:who|whom) (?:is|was|are|were|has been|had been) (?:the|a|an|its|their) ([a-z][a-z\s-]{1,40}?) "
    r"(?:of|at|for|in|on|behind|to)\b",
    re.I,
)


_IRREGULAR_PLURALS = frozenset("people children men women police staff data media".split())


def _plural(word: str) -> bool:
    return word in _IRREGULAR_PLURALS or (word.endswith("s") and not word.endswith("ss") and len(word) > 3)


def _wh_phrase(question: str) -> tuple[list[str], int | None, bool]:
    """The words naming the asked-for thing after which/what/how many, a count word before them, and
    whether 'how many/much' counts them."""
    toks = words(question)
    low = [t.lower() for t in toks]
    for i, t in enumerate(low):
        start = None
        counted = False
        if t in ("which", "what") and i + 1 < len(low) and low[i + 1] not in _AUX:
            start = i + 1
        elif t == "how" and i + 1 < len(low) and low[i + 1] in ("many", "much"):
            start, counted = i + 2, True
        if start is None:
            continue
        phrase: list[str] = []
        count = None
        for w in toks[start : start + 5]:
            lw = w.lower()
            if lw in _AUX or lw in _PREPS or lw in _WH or lw in ("the", "a", "an"):
                break
            nums = numbers(lw)
            if nums and not phrase and count is None and lw.isalpha():
                count = int(next(iter(nums)))
                continue
            if phrase and lw.endswith("ed"):
                break  # a past-tense verb ends the noun phrase ("which film premiered")
            phrase.append(w)
            if _plural(lw) and not _is_capitalised(w):
                break  # the head noun of "how many Zephyr users lost ..." is its first plural
        return phrase, count, counted
    return [], None, False


def analyse(question: str, is_name: Callable[[str], bool] | None = None) -> Analysis:
    """Analyse a question: answer kind, subject names, required numbers and dates, the asked-for thing."""
    q = normalise(question)
    a = Analysis(question=question)
    phrase, a.count, a.counted = _wh_phrase(q)
    a.target_words = [w for w in phrase if w.lower() not in STOPWORDS and not _is_capitalised(w)]
    a.target = [stem(w) for w in a.target_words]
    if m := _ROLE_Q.search(q):
        a.role = [w for w in words(m.group(1)) if w.lower() not in STOPWORDS]
    # In "which US agency", "US" describes the answer, which need not repeat it; "how many" counts things
    # named in full, so there every name is a subject.
    descriptor_words = set() if a.counted else {w for w in phrase if _is_capitalised(w)}
    for name in name_phrases(q, is_name):
        if set(name) <= descriptor_words:
            a.descriptors.append(name)
        else:
            a.names.append(name)
    count_word = {str(a.count)} if a.count is not None else set()
    # Only numbers the question writes as figures constrain the answer: a spelled one ("one economist", "two
    # streets") mostly counts the subject, and articles count it in other words; a word holding digits
    # ("Harbour00", "A380") is a name, which the name check covers.
    a.numbers = numbers(re.sub(r"[^\s]*[A-Za-z][^\s]*", " ", q)) - count_word
    a.dates = date_keys(q)
    a.numbers -= {k[1:] for k in a.dates if k.startswith("y")}
    a.numbers -= _day_numbers(a.dates)
    a.terms = content_terms(q, drop_frame=True)
    return a


def _day_numbers(dates: set[str]) -> set[str]:
    return {k.split("d", 1)[1] for k in dates if k.startswith("m") and "d" in k}
