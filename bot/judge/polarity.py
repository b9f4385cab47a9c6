"""Polarity: does a passage say that the asked-for thing did not happen?

"Which film won the prize?" is not answered by "Several favourites were not nominated for the prize",
even though every name and date agrees: the passage names things for which the question's predicate
does *not* hold. A negation that only says something is unknown or undisclosed ("had not explained
why") is different: that is itself the answer, so it never counts as a denial.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.config import BotConfig
from bot.read.nlp import import_spacy
from bot.text import NEGATIONS, STOPWORDS, content_terms, normalise, words

# Negation cues that say the facts are not known or not public: an honest answer, not a denial.
# Lemmas, so every inflection counts ("disclosed", "explaining", "said").
_EPISTEMIC = frozenset(
    """know disclose reveal confirm explain explanation say comment announce specify identify determine
    decide respond reply release publish report detail clear clarify certain sure unclear public
    immediately yet verify""".split()
)
_DO_AUX = frozenset("do does did will would can could should may might must".split())
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014]|\s-\s|(?<=[.!?])\s+(?=[A-Z\"'])|\b(?:but|while|whereas|although|though|however)\b", re.I
)
_ZERO = frozenset("no none nobody nothing neither".split())
NEGATION_SCOPE = BotConfig().negation_scope  # how far after a negation cue its object may sit


@lru_cache(maxsize=16384)
def _lemmas(word: str) -> dict[str, tuple[str, ...]]:
    # lemminflect imports spaCy when it is installed: through bot.read.nlp, so thinc does not load torch.
    import_spacy()
    from lemminflect import getAllLemmas

    return dict(getAllLemmas(word.lower()))


def verb_lemma(word: str) -> str | None:
    """The word's verb lemma when it can be a verb ('won' -> 'win'), else None."""
    verbs = _lemmas(word).get("VERB")
    return verbs[0] if verbs else None


def _content(word: str, first: bool) -> bool:
    """A word that may carry the claim: not a name, a digit or a function word ('won' is, though
    the stopword list holds it for "won't")."""
    lw = word.lower()
    if (not first and word[:1].isupper()) or lw.isdigit():
        return False
    if lw in STOPWORDS:
        lemma = verb_lemma(lw)
        return lemma is not None and lemma != lw and lemma not in STOPWORDS
    return True


def question_predicates(question: str) -> set[str]:
    """Verb lemmas that carry the question's claim.

    Words that can only be verbs ('won', 'bought'); and after a do-auxiliary, the verbs that follow the
    subject ('did the ferry stop', 'did Smith win').
    """
    toks = words(normalise(question))
    out: set[str] = set()
    i = 0
    while i < len(toks):
        lw = toks[i].lower()
        if lw in _DO_AUX:
            run: list[str] = []
            j = i + 1
            while j < len(toks) and (toks[j].lower() in STOPWORDS or not _content(toks[j], False)) and not run:
                j += 1  # the subject's determiner or name
            while j < len(toks) and _content(toks[j], False):
                run.append(toks[j].lower())
                j += 1
            for w in run if len(run) == 1 else run[1:]:
                if lemma := verb_lemma(w):
                    out.add(lemma)
            i = j
            continue
        if _content(toks[i], i == 0):
            lemmas = _lemmas(lw)
            if "VERB" in lemmas and "NOUN" not in lemmas:
                out.add(lemmas["VERB"][0])
        i += 1
    return out


def is_negative_question(question: str) -> bool:
    """Does the question itself ask about something that did not happen ('which films were not picked')?"""
    low = normalise(question).lower()
    return "n't" in low or any(w in NEGATIONS for w in re.findall(r"[a-z']+", low))


def clauses(text: str) -> list[str]:
    """The text split at clause breaks (punctuation and contrastive conjunctions)."""
    return [c for c in _CLAUSE_BREAK.split(normalise(text)) if c.strip()]


def _epistemic(word: str) -> bool:
    return word in _EPISTEMIC or verb_lemma(word) in _EPISTEMIC or _noun_lemma(word) in _EPISTEMIC


def _noun_lemma(word: str) -> str | None:
    nouns = _lemmas(word).get("NOUN")
    return nouns[0] if nouns else None


def _denial(clause: str, quantity: bool = False, scope: int = NEGATION_SCOPE) -> bool:
    """Does the clause carry a negation that denies an event, rather than saying it is unknown?

    For a how-many question "no one" and "none" are a quantity (zero), not a denial.
    """
    toks = [w.lower() for w in re.findall(r"[A-Za-z']+", clause)]
    for i, t in enumerate(toks):
        if not (t in NEGATIONS or t.endswith("n't")) or (quantity and t in _ZERO):
            continue
        if not any(_epistemic(s) for s in toks[i + 1 : i + 1 + scope]):
            return True
    return False


def _affirms(clause: str, predicates: set[str], quantity: bool, scope: int) -> bool:
    return not _denial(clause, quantity, scope) and any(verb_lemma(w) in predicates for w in words(clause))


def denies_answer(
    answer_part: str,
    leaned_on: str,
    question: str,
    terms: set[str],
    quantity: bool = False,
    scope: int = NEGATION_SCOPE,
) -> bool:
    """Does the candidate say the question's predicate did not hold, instead of answering it?

    True when the clause sharing most of the question's words, in the answering sentence or the sentence
    it leans on ("Those left out include ..."), carries a denial, and no clause of the answering sentence
    affirms the question's verb.
    """
    if is_negative_question(question):
        return False
    predicates = question_predicates(question)
    own = clauses(answer_part)
    if predicates and any(_affirms(c, predicates, quantity, scope) for c in own):
        return False

    def overlap(clause: str) -> int:
        return len(terms & set(content_terms(clause))) + sum(verb_lemma(w) in predicates for w in words(clause))

    # The clause that says most about the question's own words decides: a passing "never" elsewhere
    # ("he had never seen smoke like that") does not deny what the other clause states.
    scored = [c for c in own + (clauses(leaned_on) if leaned_on else []) if overlap(c)]
    if not scored:
        return False
    top = max(overlap(c) for c in scored)
    return any(_denial(c, quantity, scope) for c in scored if overlap(c) == top)
