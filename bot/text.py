"""Word-level text features shared by retrieval, follow-ups, the support judge and the extractive engine."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:[-'’.][A-Za-z0-9\u00c0-\u024f]+)*")
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can cannot could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just let me more most
    my myself no nor not of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom whose why will with would you your yours yourself
    yourselves s t don didn doesn isn wasn weren won wouldn shouldn couldn hasn haven hadn ve ll re d m o y
    one ones many much tell exactly please according said says say may might must shall also yet still even
    """.split()
)
# Words that frame a question or answer, and light verbs, which carry no claim of their own.
FRAME_WORDS = frozenset(
    """article story piece text report author wrote written write writer published publish date dated
    byline mention mentioned mentions describe described state stated happen happened name named
    kind sort type thing things recently currently according
    help helped helps make makes made get gets got take takes took give gives gave go goes went come comes came
    put puts""".split()
)
NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor cannot without n't didn't doesn't don't isn't wasn't "
    "weren't won't wouldn't hasn't haven't hadn't".split()
)
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "dozen": "12",
}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")]
    )
    for m in names
}
MONTH_WORDS = frozenset(_MONTHS)
_QUESTION_WORDS = frozenset("who whom whose what when where which why how is are was were do does did can could "
                            "will would should has have had".split())


def normalise(text: str) -> str:
    """Fold quotes, dashes and accents so that comparisons ignore typography."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return text


def strip_markers(text: str) -> str:
    """Remove [n] citation markers."""
    return _MARKER.sub("", text).strip()


def words(text: str) -> list[str]:
    """Word tokens in order, typography folded, possessive 's dropped."""
    out = []
    for w in _WORD.findall(normalise(text)):
        w = w.rstrip(".")
        if w.lower().endswith("'s"):
            w = w[:-2]
        if w:
            out.append(w)
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Lower-cased Snowball stem."""
    return str(_STEMMER.stemWord(word.lower()))


def content_terms(text: str, drop_frame: bool = False) -> list[str]:
    """Stems of the meaningful words (no stopwords), in order, with repeats."""
    out = []
    for w in words(text):
        lw = w.lower()
        if lw in STOPWORDS or (drop_frame and lw in FRAME_WORDS) or len(lw) < 2 and not lw.isdigit():
            continue
        out.append(stem(lw))
    return out


def numbers(text: str) -> set[str]:
    """Numbers as canonical digit strings: '4 billion' and 'four' included, thousands separators dropped."""
    out: set[str] = set()
    t = normalise(text)
    for m in re.finditer(r"\d[\d,]*(?:\.\d+)?", t):
        raw = m.group().rstrip(",").replace(",", "")
        if raw:
            out.add(raw.rstrip("0").rstrip(".") if "." in raw else raw)
    for w in words(t):
        for part in w.lower().split("-"):  # "third-largest", "twenty-two"
            if part in _NUMBER_WORDS:
                out.add(_NUMBER_WORDS[part])
    return out


_ORDINALS = frozenset({"first", "second", "third", "fourth", "fifth"})


def quantities(text: str) -> set[str]:
    """Numbers that can answer 'how many': digits and cardinal words, but not 'one' or ordinals."""
    out = {n for n in re.findall(r"\d[\d,]*(?:\.\d+)?", normalise(text))}
    for w in words(text):
        lw = w.lower()
        if lw in _NUMBER_WORDS and lw != "one" and lw not in _ORDINALS:
            out.add(_NUMBER_WORDS[lw])
    return {n.replace(",", "") for n in out}


def years(text: str) -> set[str]:
    """Four-digit years 1800-2099."""
    return set(re.findall(r"\b(?:18|19|20)\d\d\b", text))


def has_date(text: str) -> bool:
    """Mentions a year, or a month with a day."""
    if years(text):
        return True
    ws = [w.lower() for w in words(text)]
    return any(w in MONTH_WORDS and w != "may" for w in ws) and bool(re.search(r"\b\d{1,2}\b", text))


def entities(text: str) -> list[str]:
    """Capitalised names and acronyms (lower-cased tokens), skipping a capitalised sentence opener."""
    out: list[str] = []
    sentence_start = True
    for m in re.finditer(r"\S+", normalise(text)):
        raw = m.group()
        core = raw.strip("\"'()[]{}“”‘’,;:!?.")
        opener = sentence_start
        sentence_start = raw.endswith((".", "?", "!", ":")) or raw in ("-", "–", "—")
        for w in words(core):
            lw = w.lower()
            if not w[0].isupper() or lw in MONTH_WORDS:
                continue
            if opener and (lw in STOPWORDS or lw in _QUESTION_WORDS):
                continue
            if lw in STOPWORDS:
                continue
            out.append(lw)
    return out


def negated(text: str) -> bool:
    """Does the text carry a negation cue?"""
    t = normalise(text).lower()
    return any(w in NEGATIONS for w in re.findall(r"[a-z']+", t)) or "n't" in t
