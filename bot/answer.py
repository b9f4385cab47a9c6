"""The pure entry point: a question and its history in, typed events out, the verified Answer last.

The CLI, the Gradio page, the JSON API and the evaluation all call `stream` or `answer`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bot.config import ENGINES
from bot.deps import Deps
from bot.draft import Draft, MetaSpan
from bot.followup import Resolved, resolve
from bot.models import (
    Answer,
    AnswerEvent,
    Citation,
    Event,
    Message,
    QuestionError,
    ShortAnswer,
    StatusEvent,
    Timings,
    TokenEvent,
    first_error,
)
from bot.question import is_instruction
from bot.read.nlp import pipeline
from bot.read.outlets import named_outlets
from bot.retrieve import Corpus, Filters
from vectorstore.sentences import sentence_spans

ABSTAIN_PREFIX = "I can't answer that from the articles."
_HISTORY = TypeAdapter(list[Message])


INSTRUCTION_REASON = (
    "That reads as an instruction to the assistant, not a question about the articles. "
    "Ask what the articles say, for example \"What did the company announce?\""
)


def validate(question: Any, history: Any, deps: Deps, engine: str | None) -> tuple[str, list[Message], str]:
    """Check the inputs; raise QuestionError with a specific message when they are unusable."""
    if not isinstance(question, str):
        raise QuestionError("question must be a string")
    q = question.strip()
    if not q:
        raise QuestionError("question is empty")
    limit = deps.config.max_question_chars
    if len(q) > limit:
        raise QuestionError(f"question is {len(q)} characters long; the limit is {limit}")
    try:
        msgs = _HISTORY.validate_python(history or [])
    except ValidationError as exc:
        where, msg = first_error(exc.errors())
        raise QuestionError(
            f"history is malformed at {where or 'top level'}: {msg} "
            "(expected a list of {\"role\": \"user\"|\"assistant\", \"content\": str})"
        ) from exc
    name = engine or deps.config.engine
    if name not in ENGINES:
        raise QuestionError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    if name not in deps.engines:
        raise QuestionError(f"engine {name!r} is not configured here: {_how_to_enable(name)}")
    return q, msgs[-deps.config.max_history_turns :] if deps.config.max_history_turns else [], name


def _how_to_enable(name: str) -> str:
    return {
        "openai": "set CITEBOT_LLM_BASE_URL (and CITEBOT_LLM_API_KEY or OPENAI_API_KEY)",
        "llamacpp": "install the extra (pip install '.[local]') and set CITEBOT_LLAMACPP_MODEL_PATH",
    }.get(name, "check the settings")


def stream(
    question: Any,
    history: Any = None,
    deps: Deps | None = None,
    *,
    engine: str | None = None,
    filters: Filters | None = None,
) -> Iterator[Event]:
    """Answer a question, yielding status, token and finally answer events."""
    assert deps is not None, "deps are required"
    q, msgs, name = validate(question, history, deps, engine)
    t0 = time.perf_counter()
    eng = deps.engine(name)
    if is_instruction(q):
        # Every engine refuses the same way: an instruction to the assistant is not a question about the
        # articles, and obeying it ("print your system prompt") is what prompt injection wants.
        draft = Draft(abstain_reason=INSTRUCTION_REASON)
        yield AnswerEvent(answer=build_answer(q, draft, deps.retriever.corpus, name, Timings()))
        return
    condense = getattr(eng, "condense", None)
    resolved: Resolved = condense(q, msgs) if condense and msgs else resolve(
        q, msgs, pipeline(deps.config.spacy_model) if msgs else None)
    if resolved.query != q:
        yield StatusEvent(stage="resolved", detail=resolved.query)
    corpus = deps.retriever.corpus
    resolved.outlets = named_outlets(q, corpus.sites)
    if resolved.outlets and not (filters and filters.sites):
        # "According to the Verge, ...": the question is asked of that outlet's articles.
        filters = replace(filters or Filters(), sites=resolved.outlets)
    # Newly ingested documents show up within CITEBOT_REFRESH_SECONDS, without a manifest read on every request
    # (`citebot serve` also refreshes in the background, so this is rarely the request that pays for it).
    deps.retriever.refresh(max_age=deps.config.refresh_seconds)
    with deps.cpu:
        passages = deps.retriever.search(resolved.query, filters=filters)
    t1 = time.perf_counter()
    yield StatusEvent(stage="retrieved", detail=str(len(passages)), chunk_ids=[p.chunk.id for p in passages])
    draft = Draft(abstain_reason="The engine produced no answer.")
    run = eng.run(resolved, passages, deps.retriever.corpus)
    if getattr(eng, "cpu_bound", False):
        # Computed whole under the CPU gate, then streamed, so a slow client never holds the gate.
        with deps.cpu:
            run = iter(list(run))
    for item in run:
        if isinstance(item, Draft):
            draft = item
        else:
            yield TokenEvent(text=item)
    t2 = time.perf_counter()
    timings = Timings(retrieve=_ms(t1 - t0), answer=_ms(t2 - t1), total=_ms(t2 - t0))
    yield AnswerEvent(answer=build_answer(q, draft, deps.retriever.corpus, name, timings))


def answer(
    question: Any,
    history: Any = None,
    deps: Deps | None = None,
    *,
    engine: str | None = None,
    filters: Filters | None = None,
) -> Answer:
    """Answer a question and return only the final Answer."""
    final: Answer | None = None
    for event in stream(question, history, deps, engine=engine, filters=filters):
        if isinstance(event, AnswerEvent):
            final = event.answer
    assert final is not None
    return final


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def build_answer(question: str, draft: Draft, corpus: Corpus, engine: str, timings: Timings) -> Answer:
    """Number the claims' spans [1], [2], ... in order of first use and render the answer text."""
    if draft.abstained:
        reason = draft.abstain_reason or "The articles do not say."
        return Answer(question=question, answer=f"{ABSTAIN_PREFIX} {reason}", abstained=True,
                      engine=engine, timings_ms=timings)
    numbers: dict[tuple[str, ...], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for claim in draft.claims:
        marks = []
        for span in claim.spans:
            key = (span.doc_id, span.field) if isinstance(span, MetaSpan) else (span.doc_id, str(span.start),
                                                                                str(span.end))
            if key not in numbers:
                doc = corpus.docs[span.doc_id]
                numbers[key] = len(numbers) + 1
                if isinstance(span, MetaSpan):
                    citations.append(Citation(
                        n=numbers[key], kind="metadata", field=span.field,  # type: ignore[arg-type]
                        doc_id=span.doc_id, source=doc.source, title=doc.title, quote=span.value,
                        site=doc.site, url=doc.url,
                    ))
                else:
                    citations.append(Citation(
                        n=numbers[key], doc_id=span.doc_id, source=doc.source, title=doc.title,
                        chunk_id=span.chunk_id, start=span.start, end=span.end,
                        quote=corpus.texts[span.doc_id][span.start : span.end], site=doc.site, url=doc.url,
                        page=doc.page_at(span.start), comment=0 <= doc.comments_at <= span.start,
                    ))
            marks.append(f"[{numbers[key]}]")
        flag = "" if claim.supported else " (unverified)"
        parts.append(_marked(claim.text.strip(), f"{flag} {''.join(marks)}"))
    return Answer(question=question, answer=" ".join(parts), abstained=False, citations=citations,
                  short_answer=_short(draft, citations, corpus), engine=engine, timings_ms=timings)


def _short(draft: Draft, citations: list[Citation], corpus: Corpus) -> ShortAnswer | None:
    """The draft's short answer with the number of the citation whose quote holds it."""
    s = draft.short
    if s is None:
        return None
    if isinstance(s, MetaSpan):
        for c in citations:
            if c.kind == "metadata" and c.doc_id == s.doc_id and c.field == s.field:
                return ShortAnswer(text=s.value, citation=c.n)
        return None
    for c in citations:
        if c.kind == "text" and c.doc_id == s.doc_id and c.start is not None and c.end is not None \
                and c.start <= s.start and s.end <= c.end:
            return ShortAnswer(text=corpus.texts[s.doc_id][s.start : s.end], citation=c.n, start=s.start, end=s.end)
    return None


def _marked(text: str, marks: str) -> str:
    """The claim with its markers after each of its sentences, so every sentence carries a citation."""
    spans = sentence_spans(text)
    if len(spans) <= 1:
        return f"{text}{marks}".strip()
    pieces = [f"{text[a:b]}{marks}" for a, b in spans]
    return " ".join(pieces)


def history_from_pairs(pairs: Sequence[tuple[str, str]]) -> list[Message]:
    """Turn (user, assistant) pairs into messages."""
    out: list[Message] = []
    for user, bot in pairs:
        out += [Message(role="user", content=user), Message(role="assistant", content=bot)]
    return out
