"""The offline engine: answer with the most relevant verbatim sentences, or abstain on evidence of a mismatch.

Candidates are ranked by meaning (MiniLM similarity of question and sentence), word overlap weighted by
rarity, and whether the sentence holds the kind of thing asked for. A candidate is quoted only when the
judge's coverage check finds no mismatch: the question's names, numbers and dates must belong to the
sentence (or the sentence it leans on), and it must hold an answer of the asked kind. Low overlap alone
never causes an abstention: paraphrase is normal.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.config import BotConfig
from bot.draft import Claim, Draft, MetaSpan, Span
from bot.followup import Resolved
from bot.judge.aliases import fold
from bot.judge.support import Evidence, Judge, LexicalJudge, Verdict, name_index
from bot.question import Analysis, Kind, Qualifier, analyse, name_phrases
from bot.read.analysis import NAME_LABELS, QuestionAnalyser
from bot.read.analysis import Analysis as Parsed
from bot.read.entities import Entity, EntityTagger
from bot.read.nlp import pipeline
from bot.read.outlets import forms, outlet_words
from bot.read.similarity import WordSimilarity
from bot.read.typed import DEFINITE, answer_entities, missing_reason, short_answer, unnamed_mention
from bot.read.vectors import VectorCache
from bot.retrieve import Corpus, Passage
from bot.text import STOPWORDS, content_terms, stem, words
from vectorstore.articletext import parse_byline
from vectorstore.embeddings import Embedder
from vectorstore.store import Document

_LEANING_OPENERS = frozenset(
    "it its they their them he his him she her this these that those such both".split()
)
# A question that attributes its claim to a source ("according to X", "X reported").
_ATTRIBUTED = re.compile(r"\baccording to\b|\breport(?:ed|s)?\b", re.I)


def leans_on_previous(sentence: str) -> bool:
    """Does the sentence refer back ('It ...', 'The city, ...', 'These ...') rather than name its subject?"""
    ws = words(sentence.lstrip("\"“'‘( "))
    if not ws:
        return False
    first = ws[0]
    if first[0].islower():
        return True  # a fragment: the sentence splitter cut after an abbreviation
    lf = first.lower()
    if lf in _LEANING_OPENERS:
        return True
    if lf in DEFINITE and len(ws) > 1 and ws[1][0].islower():
        return True
    # "Despite the rain, they finished ...": the subject pronoun follows an opening phrase.
    head, comma, rest = sentence.partition(",")
    return bool(comma) and len(words(head)) <= 8 and words(rest)[:1] in (["it"], ["they"], ["he"], ["she"])


@dataclass
class _Candidate:
    doc_id: str
    chunk_id: str
    start: int  # of the quoted text (the previous sentence too, when this one leans on it)
    end: int
    sentence_start: int
    text: str
    rank: int
    lexical: float = 0.0
    semantic: float = 0.0
    target: float = 0.0
    soft: float = 0.0
    phrase: float = 0.0
    score: float = 0.0
    answers: list[Entity] | None = None  # entities of the expected type (offsets in `text`); None: not typed
    competes: bool = True  # names another entity of a type the question names (or was not tagged)
    metadata: str | None = None  # "description": a sentence of the page's summary, cited as metadata


@dataclass
class Reader:
    """The NLP parts of the reader: the question's parse and the candidates' entities (bot.read)."""

    analyser: QuestionAnalyser
    tagger: EntityTagger

    @classmethod
    def load(cls, config: BotConfig) -> Reader:
        nlp = pipeline(config.spacy_model)
        return cls(QuestionAnalyser(nlp), EntityTagger(nlp, config.entity_cache_size))


_FIGURE_KINDS = frozenset({"date", "money", "percent", "quantity", "count"})
# The coarse kinds the judge's checks read, from the parsed expected type.
_KINDS: dict[str, Kind] = {"date": "date", "count": "number", "quantity": "number", "money": "number",
                           "percent": "number", "person": "person", "organisation": "person", "place": "place",
                           "named": "named"}


def analyse_question(question: str, analyser: QuestionAnalyser) -> tuple[Analysis, Parsed]:
    """The judge's analysis (names, numbers, dates the evidence must hold) with its kind from spaCy's parse, and
    the parse itself (expected answer type, entities). Whether a capitalised everyday word opening the question
    is a name ("Apple", "Heron" as a film's title) is the tagger's call in context."""
    parsed = analyser.analyse(question)
    analysis = analyse(question, lambda w: w in parsed.proper)
    analysis.kind = _KINDS.get(parsed.expected.kind, "any")
    # A name that only qualifies a noun may stand anywhere in the article when the answering sentence holds the
    # noun ("the Tarnby elder Lida Sorn" is "Sorn" there, "the Harvik Trust engineer" "the engineer"), but
    # only when another name of the question identifies its subject: when none does, the qualified noun phrase is
    # the subject, and its names must be where the answer is.
    qualifying = [n for n in analysis.names if set(n) <= parsed.qualifiers.keys()]
    if len(qualifying) < len(analysis.names):
        analysis.names = [n for n in analysis.names if n not in qualifying]
        analysis.qualifiers = [Qualifier(n, parsed.qualifiers[n[-1]]) for n in qualifying]
    return analysis, parsed


class ExtractiveEngine:
    """Grounded extraction: no LLM, every claim a verbatim sentence of an article."""

    name = "extractive"
    # All Python on this process's CPU: run under Deps.cpu (bot.answer), not beside other answers.
    cpu_bound = True

    def __init__(
        self,
        config: BotConfig,
        judge: Judge | None = None,
        embedder: Embedder | None = None,
        similarity: WordSimilarity | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.config = config
        self._reader = reader
        self.judge: Judge = judge or LexicalJudge()
        self.embedder = embedder
        self.similarity = similarity or (WordSimilarity(embedder) if embedder is not None else None)
        self._cache = VectorCache(config.sentence_cache_size)

    def run(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Iterator[str | Draft]:
        """Yield each claim's text as it is chosen, then the Draft."""
        draft = self.draft(resolved, passages, corpus)
        for claim in draft.claims:
            yield claim.text + " "
        yield draft

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = Reader.load(self.config)
        return self._reader

    def analyse(self, question: str, corpus: Corpus) -> tuple[Analysis, Parsed]:
        """The question's analysis and parse."""
        return analyse_question(question, self.reader.analyser)

    def draft(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Draft:
        """Answer from the passages, or abstain with the reason."""
        if not passages:
            return Draft(abstain_reason="No stored article matches the question.")
        analysis, parsed = self.analyse(resolved.question, corpus)
        analysis.meta = parsed.meta or (parsed.meta_if_outlet if resolved.outlets else None)
        if analysis.meta:
            return about_article(analysis, resolved, passages, corpus)
        if parsed.outlets:
            return which_outlets(resolved, passages, corpus, every=parsed.outlets > 1)
        if resolved.outlets:
            # The outlet named is satisfied by where the article comes from, not by its text repeating it.
            outlet = outlet_words(resolved.outlets)
            analysis.names = [n for n in analysis.names if not {fold(w) for w in n} <= outlet]
        candidates = self._ranked(resolved, analysis, passages, corpus)
        # Figures and dates are found reliably by the small NER model, so a question asking for one requires a
        # sentence holding one. Names it misses often (unusual names), so a "which X" question requires a name of
        # any type, or a sentence that speaks of an X and names it (bot.read.typed.unnamed_mention).
        # (A bonus for names of the asked type was measured, 0 against 0.3: a tie over both news sets, so none.)
        typed = parsed.expected.kind in _FIGURE_KINDS
        candidates = self._typed(candidates, parsed, analysis.names, self.config.typed_weight)
        chosen: list[_Candidate] = []
        reason = ""
        typed_on_topic = False
        cls = parsed.expected.noun if parsed.expected.kind == "named" else None
        for cand in candidates[: self.config.max_checked_candidates]:
            if not self._on_topic(cand, analysis, parsed.type_words):
                reason = reason or "The articles mention the names asked about, but not what the question asks."
                continue
            typed_on_topic |= bool(cand.answers)
            verdict = self.judge.covers(self._evidence(cand, corpus, resolved), analysis)
            if verdict.supported and cls and not self._may_name(cand, cls):
                verdict = Verdict(False, 0.0, missing_reason(parsed, parsed.focus))
            if verdict.supported and typed and not cand.answers:
                # On topic, but no entity of the asked kind: the sentence is about the subject, not the answer.
                verdict = Verdict(False, 0.0, missing_reason(parsed, parsed.focus))
            if verdict.supported:
                chosen.append(cand)
                break
            reason = reason or verdict.reason
        if typed and not chosen and not typed_on_topic and not reason.startswith("The articles do not mention"):
            reason = missing_reason(parsed, parsed.focus)  # what is missing is the answer itself
        if not chosen:
            if _ATTRIBUTED.search(resolved.question) and not resolved.outlets and reason.startswith(
                    "The articles do not mention"):
                sites = sorted(corpus.sites)
                reason += f" The outlets stored are: {', '.join(sites)}." if sites else ""
            return Draft(abstain_reason=_abstain_sentence(reason))
        best = chosen[0]
        for cand in candidates:
            if len(chosen) >= self.config.answer_sentences:
                break
            if cand.score < self.config.second_sentence_ratio * best.score:
                break
            if any(c.doc_id == cand.doc_id and c.start < cand.end and cand.start < c.end for c in chosen):
                continue
            if typed and not cand.answers:
                continue
            if self.judge.covers(self._evidence(cand, corpus, resolved), analysis).supported:
                chosen.append(cand)
        chosen.sort(key=lambda c: (c.doc_id != best.doc_id, c.doc_id, c.start))
        short = None
        entity = short_answer(best.answers or [], best.text, words(resolved.question))
        if entity is not None and best.metadata is None:
            short = Span(best.doc_id, best.chunk_id, best.start + entity.start, best.start + entity.end)
        return Draft(claims=[Claim(c.text, [self._span(c, corpus)]) for c in chosen], short=short)

    def _may_name(self, cand: _Candidate, cls: str) -> bool:
        """For a "which X" question: may the quoted text name the X? Not when it holds no name the question lacks
        and does not speak of an X; not when it speaks of an X without naming it ("left college"), unless a
        name carrying the word X answers. Parsed only when it holds the word X."""
        key = stem(cls)
        if key not in set(content_terms(cand.text)):
            return bool(cand.answers)
        if any(key in {stem(w.lower()) for w in words(e.text)} for e in cand.answers or []):
            return True
        return not unnamed_mention(self.reader.analyser.nlp(cand.text), cls)

    @staticmethod
    def _span(c: _Candidate, corpus: Corpus) -> Span | MetaSpan:
        if c.metadata == "description":
            return MetaSpan(c.doc_id, "description", corpus.docs[c.doc_id].description or c.text)
        return Span(c.doc_id, c.chunk_id, c.start, c.end)

    def _typed(self, candidates: list[_Candidate], parsed: Parsed, names: list[list[str]], bonus: float
               ) -> list[_Candidate]:
        """Find each candidate's entities of the expected type (those compared by meaning: the rest are checked
        last anyway). Those holding a figure or date of the asked kind get `bonus` added to their score; for a
        "which X" question, those holding a name that carries the class noun X ("Columbia University" for "which
        university", "the Kestrel Telescope" for "which telescope"): English names many things by their class,
        while a name without it may be of anything."""
        head = candidates[: self.config.semantic_candidates]
        # The types of the question's names; a name the NER did not type could be of any name type.
        typed_text = " ".join(t for t, _ in parsed.entities).casefold()
        untyped = any(" ".join(n).casefold() not in typed_text for n in names)
        asked = {label for _, label in parsed.entities} | (set(NAME_LABELS) if untyped else set())
        # "which university": a name carrying the class noun ("Halvard University") is of the asked class.
        named = parsed.expected.kind == "named"
        cls = stem(parsed.expected.head.split()[-1].lower()) if named and parsed.expected.head else None
        rewarded = []
        for cand, ents in zip(head, self.reader.tagger.tag([c.text for c in head]), strict=True):
            cand.answers = answer_entities(ents, parsed.expected, parsed, cand.text) if parsed.expected.labels else None
            # Another name of a type the question names ("Delta Cars" when it asks about "Korvan Motors"): the
            # sentence may be about someone else, so the question's names must be in it.
            # An entity that answers is no competitor, unless any name answers ("which award": then every name
            # of the question's types is one).
            answering = [] if named else cand.answers or []
            cand.competes = any(e.label in asked and e.text.casefold() not in parsed.question.casefold()
                                and e not in answering for e in ents)
            of_class = cls is not None and any(cls in {stem(w.lower()) for w in words(e.text)}
                                               for e in cand.answers or [])
            if of_class or (parsed.expected.kind in _FIGURE_KINDS and cand.answers):
                rewarded.append(cand)
        if not bonus or not rewarded:
            return candidates
        for cand in rewarded:
            cand.score += bonus
        head.sort(key=lambda c: -c.score)
        return head + candidates[self.config.semantic_candidates :]

    # -- candidates ----------------------------------------------------------------------------
    def _ranked(
        self, resolved: Resolved, analysis: Analysis, passages: list[Passage], corpus: Corpus
    ) -> list[_Candidate]:
        """Every sentence of the passages, scored; the best few re-scored by meaning."""
        cfg = self.config
        own = set(analysis.terms)
        carried = set(content_terms(resolved.query, drop_frame=True)) - own
        weights = {t: cfg.carried_term_weight * corpus.idf(t) for t in carried}
        weights.update({t: corpus.idf(t) for t in own})
        total = sum(weights.values()) or 1.0
        target = set(analysis.target)
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        for rank, p in enumerate(passages, start=1):
            doc = p.doc
            text = corpus.texts.get(doc.doc_id, "")
            spans = corpus.sentences.get(doc.doc_id, [])
            lo = bisect.bisect_left(spans, (p.chunk.start, -1))
            summary = _description_span(text, doc)
            for i in range(lo, len(spans)):
                a, b = spans[i]
                if b > p.chunk.end:
                    break
                if (doc.doc_id, a) in seen:
                    continue
                if summary[0] <= a and b <= summary[1]:
                    seen.add((doc.doc_id, a))
                    out.append(_Candidate(doc.doc_id, p.chunk.id, a, b, a, text[a:b], rank, metadata="description"))
                    continue
                if is_header_line(text[a:b], doc):
                    continue
                seen.add((doc.doc_id, a))
                start = a
                if i > 0 and leans_on_previous(text[a:b]):
                    pa, pb = spans[i - 1]
                    if a - pb <= cfg.max_join_gap and not is_header_line(text[pa:pb], doc):
                        start = pa
                quoted = text[start:b]
                terms = set(content_terms(quoted))
                lexical = sum(w for t, w in weights.items() if t in terms) / total
                has_target = 1.0 if target and target & terms else 0.0
                out.append(_Candidate(doc.doc_id, p.chunk.id, start, b, a, quoted, rank, lexical,
                                      target=has_target))
        for c in out:
            c.score = cfg.lexical_weight_answer * c.lexical + cfg.rank_weight / c.rank + cfg.target_weight * c.target
        out.sort(key=lambda c: -c.score)
        top = out[: cfg.semantic_candidates]
        if self.embedder is not None and top:
            # A follow-up is compared with its own words plus the names it refers back to, not the whole
            # earlier question, which would favour the sentence that answered that one.
            query = " ".join([resolved.question, *resolved.carried_names])
            vecs = self._cache.vectors([query] + [c.text for c in top], self.embedder.embed)
            for c, sim in zip(top, vecs[1:] @ vecs[0], strict=True):
                c.semantic = float(sim)
        phrases = _bigrams(resolved.question)
        soft = self._soft_matcher(resolved.question, top, weights)
        for c in top:
            c.phrase = len(phrases & _bigrams(c.text)) / len(phrases) if phrases else 0.0
            c.soft = soft(c.text) if soft else c.lexical
            c.score = (cfg.semantic_weight * c.semantic + cfg.lexical_weight_answer * c.soft
                       + cfg.phrase_weight * c.phrase + cfg.target_weight * c.target + cfg.rank_weight / c.rank)
        for c in out[cfg.semantic_candidates :]:
            c.score = -1.0  # not compared by meaning: checked only after every scored candidate
        out.sort(key=lambda c: -c.score)
        # The page's summary is the publisher's, not the article: quoted only when no scored sentence of an
        # article answers, right after them.
        scored = [c for c in out if c.score > -1.0]
        return ([c for c in scored if c.metadata is None] + [c for c in scored if c.metadata is not None]
                + [c for c in out if c.score <= -1.0])

    def _on_topic(self, cand: _Candidate, analysis: Analysis, type_words: frozenset[str] = frozenset()) -> bool:
        """For a when / how-many question: does the sentence share one of its words besides the names and the
        words of the asked type ("cost", "year": the entity answers those), by stem or by meaning? A date or number
        in a sentence that only repeats the names is about another event."""
        if analysis.kind not in ("date", "time", "number"):
            return True  # "which security company": the asked-for thing, not the sentence, carries the words
        skip = {stem(w.lower()) for n in analysis.every_name() for w in n} | {stem(w.lower()) for w in type_words}
        asked = {t: w for w in words(analysis.question) if (t := stem(w.lower())) in set(analysis.terms) - skip}
        if not asked:
            return True
        terms = set(content_terms(cand.text))
        if asked.keys() & terms:
            return True
        if self.similarity is None:
            return False
        cand_words = [w for w in words(cand.text) if w.lower() not in STOPWORDS and len(w) > 2]
        floor = self.config.soft_match_similarity
        return any(self.similarity.best(w, cand_words) >= floor for w in asked.values())

    def _soft_matcher(
        self, question: str, top: list[_Candidate], weights: dict[str, float]
    ) -> Callable[[str], float] | None:
        """Rarity-weighted overlap where a question word absent from the sentence may be matched by meaning
        ('bought' ~ 'purchased', 'began' ~ 'started'), at its similarity, above `soft_match_similarity`."""
        sim = self.similarity
        if sim is None:
            return None
        own = {stem(w.lower()): w for w in words(question) if stem(w.lower()) in weights}
        sentence_words = {c.text: [w for w in words(c.text) if w.lower() not in STOPWORDS and len(w) > 2]
                          for c in top}
        sim.prefetch([*own.values(), *(w for ws in sentence_words.values() for w in ws)])
        total = sum(weights.values()) or 1.0
        floor = self.config.soft_match_similarity

        names = analysis_names(question)

        def score(text: str) -> float:
            terms = set(content_terms(text))
            index = name_index(text)
            for name in names:
                if index.has(name):  # an acronym in the sentence matches the spelled-out name in the question
                    terms |= {stem(w.lower()) for w in name}
            got = 0.0
            for t, w in weights.items():
                if t in terms:
                    got += w
                elif t in own:
                    best = sim.best(own[t], sentence_words.get(text, []))
                    got += w * best if best >= floor else 0.0
            return got / total

        return score

    def _evidence(self, cand: _Candidate, corpus: Corpus, resolved: Resolved) -> Evidence:
        doc = corpus.docs[cand.doc_id]
        text = corpus.texts.get(cand.doc_id, "")
        context = ""
        n = self.config.context_sentences
        if n and not cand.competes:
            spans = corpus.sentences.get(cand.doc_id, [])
            i = bisect.bisect_left(spans, (cand.start, -1))
            if i > 0:
                context = text[spans[max(0, i - n)][0] : spans[i - 1][1]]
        return Evidence(
            context=context,
            text=cand.text,
            answer_part=text[cand.sentence_start : cand.end],
            title=doc.title,
            document=text,
            leans=cand.start != cand.sentence_start,
            carried=resolved.carried_names,
        )


def analysis_names(question: str) -> list[list[str]]:
    """The question's name phrases (for name-aware overlap scoring)."""
    return name_phrases(question)


def _bigrams(text: str) -> set[tuple[str, str]]:
    """Adjacent word pairs, not both stopwords: shared phrasing ('opened the new bridge') marks the answer."""
    ws = [w.lower() for w in words(text)]
    return {(a, b) for a, b in zip(ws, ws[1:], strict=False) if not (a in STOPWORDS and b in STOPWORDS)}


def _abstain_sentence(reason: str) -> str:
    return reason or "The articles do not say."


def _description_span(text: str, doc: Document) -> tuple[int, int]:
    """Where the page's description stands in the stored text (a header line before the body), or (-1, -1)."""
    if not doc.description:
        return (-1, -1)
    at = text.find(doc.description, 0, 4 * len(doc.description) + 2000)
    return (at, at + len(doc.description)) if at >= 0 else (-1, -1)


def is_header_line(sentence: str, doc: Document) -> bool:
    """The title, byline or dateline: page metadata, answered by metadata citations, never quoted as text."""
    s = sentence.strip()
    label, colon, value = s.partition(":")
    if colon and len(label.split()) <= 2 and value.strip() in {doc.title, doc.author, doc.published} - {None}:
        return True  # "Date: 2031-04-02", "Author: …": a header line the metadata was read from
    if doc.title and s == doc.title.strip():
        return True
    if doc.author and parse_byline(s) == doc.author:
        return True
    return bool(doc.published and s == doc.published)


# -- questions about the article itself --------------------------------------------------------
_FIELD_WORDS = {"author": "is by", "published": "was published on"}


def about_article(analysis: Analysis, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Draft:
    """Who wrote it / when was it published: answered from the stored Document's metadata, cited as such."""
    doc = which_doc(resolved.question, passages, corpus)
    field = analysis.meta or "author"
    value = doc.author if field == "author" else doc.published
    if not value:
        what = "name its author" if field == "author" else "give a publication date"
        return Draft(abstain_reason=f"“{doc.title}” does not {what}.")
    sentence = f"“{doc.title}” {_FIELD_WORDS[field]} {value}."
    span = MetaSpan(doc.doc_id, field, value)
    return Draft(claims=[Claim(sentence, [span])], short=span)


def which_outlets(resolved: Resolved, passages: list[Passage], corpus: Corpus, every: bool) -> Draft:
    """"Which newspaper published the story on X?": the outlet (site metadata) of the article the question
    describes; "which outlets reported X?": of every retrieved article about X, one claim per outlet."""
    docs = [which_doc(resolved.question, passages, corpus)]
    if every:
        # The retrieved articles that share as many of the question's words (title and retrieved passages) as the
        # best one does, give or take half: the others reporting the same story.
        q = set(content_terms(resolved.question, drop_frame=True))
        seen: dict[str, set[str]] = {}
        for p in passages:
            seen.setdefault(p.doc.doc_id, set(content_terms(p.doc.title))).update(content_terms(p.chunk.text))
        overlap = {d: len(q & t) for d, t in seen.items()}
        top = max(overlap.values(), default=0)
        docs += [corpus.docs[d] for d, n in overlap.items() if top and n * 2 >= top and d in corpus.docs]
    claims: list[Claim] = []
    sites: set[str] = set()
    for doc in docs:
        if doc.site and doc.site not in sites:
            sites.add(doc.site)
            claims.append(Claim(f"“{doc.title}” was published by {doc.site}.",
                                [MetaSpan(doc.doc_id, "site", doc.site)]))
    if not claims:
        return Draft(abstain_reason=f"“{docs[0].title}” does not name its outlet.")
    # "Which newspaper…" asks for one outlet: that is the short answer; "which outlets" has no single one.
    short = claims[0].spans[0] if not every else None
    return Draft(claims=claims, short=short)


def which_doc(question: str, passages: list[Passage], corpus: Corpus) -> Document:
    """Of the retrieved articles (already restricted to an outlet the question names), the one whose title and
    outlet share the most of the question's words; ties go to the better-retrieved. (A file's name says nothing a
    user can rely on; the outlet is the stored site name.)"""
    q = set(content_terms(question, drop_frame=True))
    docs = list({p.doc.doc_id: p.doc for p in passages}.values())

    def shared(doc: Document) -> int:
        site = " ".join(forms(doc.site)) if doc.site else ""
        return len(q & (set(content_terms(doc.title)) | set(content_terms(site))))

    return max(docs, key=shared)  # max keeps the first of equals: the better-retrieved
