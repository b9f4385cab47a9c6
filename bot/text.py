"""Word-level text features shared by retrieval, follow-ups, the support judge and the extractive engine."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from vectorstore.articletext import MONTH_WORDS, MONTHS, WEEKDAY_WORDS

__all__ = ["MONTHS", "MONTH_WORDS", "WEEKDAY_WORDS"]  # re-exported: the bot reads them from here

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:[-'’.][A-Za-z0-9\u00c0-\u024f]+)*")
# The one [n] citation marker pattern: "[2]" or a group "[1, 3]", with the space before it.
MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can cannot could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just let me more most
    my myself no nor not of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom whose why will with would you your yours yourself
    yourselves s t didn doesn isn wasn weren wouldn shouldn couldn hasn haven hadn ve ll re d m o y
    one ones many much tell please according said says say may might must shall also yet still even
    """.split()
)
# Words that frame a question or answer, and light verbs, which carry no claim of their own.
FRAME_WORDS = frozenset(
    """article story piece text report author wrote written write writer published publish date dated
    byline mention mentioned mentions describe described state stated happen happened name named
    kind sort type thing things according
    help helped helps make makes made get gets got take takes took give gives gave go goes went come comes came
    put puts""".split()
)
NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor cannot without n't didn't doesn't don't isn't wasn't "
    "weren't won't wouldn't hasn't haven't hadn't".split()
)
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
    return MARKERS.sub("", text).strip()


def marker_numbers(text: str) -> list[int]:
    """The citation numbers of every [n] (or [n, m]) marker, in order."""
    return [int(n) for m in MARKERS.finditer(text) for n in m.group(1).split(",")]


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


def _digits(text: str) -> str:
    """The text with spelled numbers as digits ('twenty-two' -> '22', 'four' -> '4'), via text2num."""
    from text_to_num import alpha2digit

    spaced = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " ", normalise(text))
    return str(alpha2digit(spaced, "en", threshold=0))


_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\d)(?!st\b|nd\b|rd\b|th\b)")


@lru_cache(maxsize=16384)
def _numbers(text: str) -> frozenset[str]:
    out: set[str] = set()
    for m in _NUMBER.finditer(_digits(text)):
        raw = m.group().rstrip(",").replace(",", "")
        if raw:
            out.add(raw.rstrip("0").rstrip(".") if "." in raw else raw)
    return frozenset(out)


def numbers(text: str) -> set[str]:
    """Cardinal numbers as canonical digit strings ('104,000' -> '104000', 'four' -> '4'); ranks excluded."""
    return set(_numbers(text))


def ordinals(text: str) -> set[str]:
    """Ranks as digits ('second-largest' -> '2', '3rd' -> '3')."""
    return set(re.findall(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b", _digits(text)))


def years(text: str) -> set[str]:
    """Four-digit years 1800-2099."""
    return set(re.findall(r"\b(?:18|19|20)\d\d\b", text))


_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+([A-Za-z]{3,9})\.?\b")
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!\s*[:.]\d)")
_ISO_DATE = re.compile(r"\b((?:18|19|20)\d\d)-(\d\d)-(\d\d)\b")
def date_keys(text: str) -> set[str]:
    """Dates mentioned, as comparable keys: 'y2019' for a year, 'm8d21' for 21 August (either order)."""
    t = normalise(text)
    keys = {f"y{y}" for y in years(t)}
    for m in _ISO_DATE.finditer(t):
        keys.add(f"m{int(m.group(2))}d{int(m.group(3))}")
    for m in _DAY_MONTH.finditer(t):
        if (month := MONTHS.get(m.group(2).lower())) and 1 <= int(m.group(1)) <= 31:
            keys.add(f"m{month}d{int(m.group(1))}")
    for w in words(t):
        # A month on its own ("by August"): the key "m8" is met by any date in August.
        if w[0].isupper() and w.lower() in MONTHS and len(w) > 3 and w.lower() != "may":
            keys.add(f"m{MONTHS[w.lower()]}")
    for m in _MONTH_DAY.finditer(t):
        word = m.group(1)
        month = MONTHS.get(word.lower())
        # "may 12" is a date only when written as a month ("May 12"), not "it may 12 ..."
        if month and 1 <= int(m.group(2)) <= 31 and (word.lower() != "may" or word[0].isupper()):
            keys.add(f"m{month}d{int(m.group(2))}")
    return keys


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
