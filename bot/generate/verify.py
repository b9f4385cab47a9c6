"""Check a generated answer before the user sees it: valid [n] ids, and support from the cited passages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.draft import Claim, MetaSpan, Span
from bot.judge.support import Judge
from bot.retrieve import Corpus, Passage
from bot.text import content_terms, marker_numbers, strip_markers
from vectorstore.sentences import sentence_spans

# A "sentence" such as "HACKED" can be a verbatim echo of planted text without stating anything.
MIN_CLAIM_WORDS = 2



@dataclass
class Sentence:
    """A generated sentence and the passage numbers it cites."""

    text: str
    ids: list[int]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their [n] markers; markers standing alone after a full stop join the sentence before."""
    out: list[Sentence] = []
    for a, b in sentence_spans(text):
        piece = text[a:b]
        ids = marker_numbers(piece)
        if ids and not strip_markers(piece).strip(" .!?") and out:
            out[-1].ids.extend(ids)
            continue
        out.append(Sentence(strip_markers(piece), ids))
    return out


def best_span(claim: str, passage: Passage, corpus: Corpus) -> Span:
    """The sentence of the passage that shares most words with the claim, as a verbatim span."""
    chunk = passage.chunk
    terms = set(content_terms(claim))
    text = corpus.texts[chunk.doc_id]
    best, best_n = (chunk.start, chunk.end), -1
    for a, b in corpus.sentences.get(chunk.doc_id, []):
        if a < chunk.start or b > chunk.end:
            continue
        n = len(terms & set(content_terms(text[a:b])))
        if n > best_n:
            best, best_n = (a, b), n
    return Span(chunk.doc_id, chunk.id, best[0], best[1])


def verify(sentence: Sentence, passages: Sequence[Passage], corpus: Corpus, judge: Judge) -> Claim:
    """A Claim for the sentence: supported only if it cites real passages that, together, support it."""
    valid = [i for i in dict.fromkeys(sentence.ids) if 1 <= i <= len(passages)]
    invalid = [i for i in sentence.ids if not 1 <= i <= len(passages)]
    if not valid:
        note = f"cites [{invalid[0]}], which was not retrieved" if invalid else "has no citation"
        return Claim(sentence.text, [], supported=False, note=note)
    if len(set(content_terms(sentence.text))) < MIN_CLAIM_WORDS:
        return Claim(sentence.text, [], supported=False, note="too short to be a checkable statement")
    premise = "\n\n".join(passages[i - 1].chunk.text for i in valid)
    verdict = judge.entails(premise, sentence.text)
    spans: list[Span | MetaSpan] = [best_span(sentence.text, passages[i - 1], corpus) for i in valid]
    return Claim(sentence.text, spans, supported=verdict.supported, note=verdict.reason)
