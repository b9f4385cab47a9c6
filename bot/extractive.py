"""The offline engine: answer with the most relevant verbatim sentences, or abstain when they don't cover it.

No relevance-score threshold can separate answerable from unanswerable questions (the best-sentence scores
overlap), so abstention is decided by coverage: the question's names, numbers and asked-for type
(a date, a count, a name) must appear in the evidence.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from bot.config import BotConfig
from bot.draft import Claim, Draft, Span
from bot.followup import Resolved
from bot.retrieve import Corpus, Passage
from bot.support import missing_entities, missing_numbers
from bot.text import content_terms, entities, has_date, numbers, quantities, words, years
from vectorstore.store import Document

_DATE_Q = re.compile(
    r"^\s*(?:when|since when|until when|by when)\b|\b(?:what|which|in what|in which|on what|on which) "
    r"(?:year|date|day|month|time)\b",
    re.I,
)
_NUMBER_Q = re.compile(
    r"\bhow (?:many|much|long|old|far|big|large|high|often)\b|\bwhat (?:is|was|are|were) the (?:number|"
    r"population|amount|percentage|share|size|value|cost|price|total|figure|count)\b|\bin (?:millions|billions|"
    r"thousands|percent)\b|\bwhat (?:percentage|proportion|number)\b",
    re.I,
)
_WHO_Q = re.compile(r"^\s*(?:who|whom|whose)\b", re.I)
_WHERE_Q = re.compile(r"^\s*where\b|\bin (?:which|what) (?:city|country|place|capital)\b", re.I)
_META_AUTHOR = re.compile(
    r"\bwho (?:wrote|authored|penned|is the author of|was the author of)\b|\bauthor of\b|\bwho is the author\b"
    r"|\bwho (?:is|was) (?:the )?(?:writer|byline)\b|\bwritten by whom\b",
    re.I,
)
_META_DATE = re.compile(
    r"\bwhen (?:was|is) (?:the|this|that)\b[^?]{0,100}?\b(?:article|story|piece|report|post)\b[^?]*\b(?:published|"
    r"written|posted|dated|released)\b|\b(?:publication|published) date\b"
    r"|\bwhat date (?:was|is) (?:the|this) (?:article|story)",
    re.I,
)
_BYLINE = re.compile(r"^By\s+\S.*$", re.M)
HEADER_CHARS = 600
CONTEXT_CHARS = 600
# Shares of the question's own words (weighted by rarity, so unknown words weigh most) that the evidence
# paragraph and the quoted sentence itself must contain.
MIN_CONTEXT_COVERAGE = 0.45
MIN_SENTENCE_COVERAGE = 0.3


def asked_type(question: str) -> str:
    """What kind of answer the question asks for: date, number, name, place or any."""
    if _DATE_Q.search(question):
        return "date"
    if _NUMBER_Q.search(question):
        return "number"
    if _WHO_Q.search(question):
        return "name"
    if _WHERE_Q.search(question):
        return "place"
    return "any"


def type_ok(kind: str, sentence: str, question: str) -> bool:
    """Does the sentence hold the kind of thing asked for?"""
    if kind == "date":
        return has_date(sentence)
    if kind == "number":
        new = quantities(sentence) - quantities(question) - years(sentence)
        return bool(new)
    if kind in ("name", "place"):
        return bool(set(entities(sentence)) - set(entities(question)))
    return True


@dataclass
class _Candidate:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    context: str
    score: float
    rank: int
    own_coverage: float = 1.0
    sentence_coverage: float = 1.0


class ExtractiveEngine:
    """Grounded extraction: no LLM, every claim a verbatim sentence of an article."""

    name = "extractive"

    def __init__(self, config: BotConfig) -> None:
        self.config = config

    def run(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Iterator[str | Draft]:
        """Yield each claim's text as it is chosen, then the Draft."""
        draft = self.draft(resolved, passages, corpus)
        for claim in draft.claims:
            yield claim.text + " "
        yield draft

    def draft(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Draft:
        """Answer from the passages, or abstain with the reason."""
        if not passages:
            return Draft(abstain_reason="No stored article matches the question.")
        if _META_AUTHOR.search(resolved.question) or _META_DATE.search(resolved.question):
            return self._about_article(resolved, passages, corpus)
        kind = asked_type(resolved.question)
        candidates = self._candidates(resolved, passages, corpus, kind)
        chosen: list[_Candidate] = []
        reason = "The articles do not say."
        for cand in candidates[:12]:
            why = self._uncovered(resolved, cand, kind)
            if why is None:
                chosen.append(cand)
                break
            reason = why if reason == "The articles do not say." else reason
        if not chosen:
            return Draft(abstain_reason=reason)
        best = chosen[0]
        for cand in candidates:
            if len(chosen) >= self.config.answer_sentences or cand.score < 0.85 * best.score:
                break
            if cand is best or any(c.doc_id == cand.doc_id and c.start == cand.start for c in chosen):
                continue
            if self._uncovered(resolved, cand, kind) is None:
                chosen.append(cand)
        claims = [Claim(c.text, [Span(c.doc_id, c.chunk_id, c.start, c.end)]) for c in chosen]
        return Draft(claims=claims)

    # -- scoring -------------------------------------------------------------------------------
    def _candidates(
        self, resolved: Resolved, passages: list[Passage], corpus: Corpus, kind: str
    ) -> list[_Candidate]:
        own = set(content_terms(resolved.question, drop_frame=True))
        carried = set(content_terms(resolved.query, drop_frame=True)) - own
        weights = {t: 0.5 * corpus.idf(t) for t in carried}
        weights.update({t: corpus.idf(t) for t in own})
        total = sum(weights.values()) or 1.0
        own_total = sum(weights[t] for t in own)
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        for rank, p in enumerate(passages, start=1):
            text = corpus.texts.get(p.chunk.doc_id, "")
            spans = corpus.sentences.get(p.chunk.doc_id, [])
            lo = bisect.bisect_left(spans, (p.chunk.start, -1))
            for i in range(lo, len(spans)):
                a, b = spans[i]
                if b > p.chunk.end:
                    break
                if (p.chunk.doc_id, a) in seen:
                    continue
                seen.add((p.chunk.doc_id, a))
                sentence = text[a:b]
                context = _paragraph(text, a, b)
                s_terms = set(content_terms(sentence))
                c_terms = _terms(context)
                lex = sum(w for t, w in weights.items() if t in s_terms) / total
                lex_ctx = sum(w for t, w in weights.items() if t in c_terms) / total
                fits = 1.0 if type_ok(kind, sentence, resolved.question) else 0.0
                short = 0.05 if len(words(sentence)) < 6 else 0.0  # headings and fragments say little
                score = 0.55 * lex + 0.2 * lex_ctx + 0.15 * fits + 0.1 / rank - short
                own_ctx = sum(weights[t] for t in own if t in c_terms) / own_total if own_total else 1.0
                own_sent = sum(weights[t] for t in own if t in s_terms) / own_total if own_total else 1.0
                out.append(_Candidate(p.chunk.doc_id, p.chunk.id, a, b, sentence, context, score, rank,
                                      own_ctx, own_sent))
        out.sort(key=lambda c: -c.score)
        return out

    def _uncovered(self, resolved: Resolved, cand: _Candidate, kind: str) -> str | None:
        """Why this evidence does not answer the question, or None if it does."""
        if miss := missing_entities(resolved.own_entities, cand.context):
            name = _as_written(miss[0], resolved.question)
            return f"The articles do not connect {name} with the rest of the question."
        if resolved.carried_entities and len(missing_entities(resolved.carried_entities, cand.context)) == len(
            set(resolved.carried_entities)
        ):
            return "The articles do not say more about that."
        if miss := missing_numbers(numbers(resolved.question), cand.context):
            return f"The articles do not mention {miss[0]} in this context."
        if not type_ok(kind, cand.text, resolved.question):
            wanted = {"date": "a date", "number": "a number", "name": "a name", "place": "a place"}[kind]
            return f"The articles do not give {wanted} for this."
        if cand.own_coverage < MIN_CONTEXT_COVERAGE or cand.sentence_coverage < MIN_SENTENCE_COVERAGE:
            return "The articles only touch on this topic; they do not answer it."
        return None

    # -- questions about the article itself ----------------------------------------------------
    def _about_article(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Draft:
        doc = _which_doc(resolved.question, passages, corpus)
        text = corpus.texts.get(doc.doc_id, "")
        header = text[:HEADER_CHARS]
        title_at = header.find(doc.title) if doc.title else -1
        title_span = (title_at, title_at + len(doc.title)) if title_at >= 0 else None
        if _META_AUTHOR.search(resolved.question):
            m = _BYLINE.search(header)
            if not m:
                return Draft(abstain_reason=f"“{doc.title}” does not name its author.")
            byline = (m.start(), m.end())
            name = m.group()[3:].strip()
            span = _join(title_span, byline)
            sentence = f"“{doc.title}” is by {name}." if span != byline else f"The article is by {name}."
        else:
            line = _dateline(header)
            if line is None:
                return Draft(abstain_reason=f"“{doc.title}” gives no publication date.")
            span = _join(title_span, line)
            when = text[line[0] : line[1]]
            sentence = f"“{doc.title}” was published on {when}." if span != line else f"It is dated {when}."
        chunk = next((c for c in corpus.chunks if c.doc_id == doc.doc_id and c.start <= span[0]
                      and span[1] <= c.end), None)
        if chunk is None:
            return Draft(abstain_reason="The article's header is not in a stored passage.")
        return Draft(claims=[Claim(sentence, [Span(doc.doc_id, chunk.id, span[0], span[1])])])


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    """Content terms of a context paragraph; neighbouring sentences share it, so it is cached."""
    return frozenset(content_terms(text))


def _as_written(word: str, question: str) -> str:
    """The word as the user typed it (e.g. 'GDP', not 'gdp')."""
    return next((w for w in words(question) if w.lower() == word), word)


def _paragraph(text: str, a: int, b: int, limit: int = CONTEXT_CHARS) -> str:
    """The paragraph around a sentence (blank-line delimited), clipped to `limit` chars on each side.

    HTML extracts often have no blank lines at all; without the clip a whole page would count as context.
    """
    lo = text.rfind("\n\n", 0, a)
    hi = text.find("\n\n", b)
    lo = 0 if lo < 0 else lo + 2
    hi = len(text) if hi < 0 else hi
    return text[max(lo, a - limit) : min(hi, b + limit)]


def _join(title: tuple[int, int] | None, other: tuple[int, int]) -> tuple[int, int]:
    """One span covering the title and a neighbouring header line, when they are adjacent."""
    if title is None:
        return other
    lo, hi = min(title[0], other[0]), max(title[1], other[1])
    return (lo, hi) if hi - lo <= (title[1] - title[0]) + (other[1] - other[0]) + 4 else other


def _dateline(header: str) -> tuple[int, int] | None:
    for m in re.finditer(r"^[^\n]{4,60}$", header, re.M):
        if has_date(m.group()) and len(words(m.group())) <= 8:
            return m.start(), m.end()
    return None


def _which_doc(question: str, passages: list[Passage], corpus: Corpus) -> Document:
    """The article the question names by its title words, else the best-retrieved one."""
    q = set(content_terms(question, drop_frame=True))
    best, best_overlap = passages[0].doc, 0.0
    for doc in corpus.docs.values():
        t = set(content_terms(doc.title))
        overlap = len(q & t) / max(len(t), 1)
        if overlap > best_overlap:
            best, best_overlap = doc, overlap
    return best if best_overlap >= 0.3 else passages[0].doc
