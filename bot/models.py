"""What crosses the bot's boundary: questions, citations, answers and streamed events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field


class QuestionError(ValueError):
    """The question, history or engine choice is not acceptable; the message says why."""


class EngineError(RuntimeError):
    """An answer engine failed (endpoint unreachable, model missing); the message says what to do."""


class Message(BaseModel):
    """One chat turn."""

    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """A numbered piece of evidence. `kind="text"`: a verbatim span, `quote == clean_text[start:end]`.

    `kind="metadata"`: a field of the page's metadata (author, published date, outlet, the page's description); it
    is not article text, so it has no offsets and `quote` is the field's value.
    """

    n: int = Field(description="The number used in the answer's [n] markers.")
    kind: Literal["text", "metadata"] = Field(default="text", description="Article text, or page metadata.")
    field: Literal["author", "published", "site", "description"] | None = Field(
        default=None, description="For kind=metadata: which metadata field is cited."
    )
    doc_id: str
    source: str
    title: str
    chunk_id: str | None = Field(default=None, description="For kind=text: the chunk holding the span.")
    start: int | None = Field(default=None, description="For kind=text: offset of the quote in the clean text.")
    end: int | None = Field(default=None, description="For kind=text: end offset of the quote.")
    quote: str
    site: str | None = Field(default=None, description="The outlet of the cited document (its site name or host).")
    url: str | None = Field(default=None, description="The cited page's canonical address, when known.")
    page: int | None = Field(default=None, description="For a PDF: the page the quote starts on (1-based).")
    comment: bool = Field(default=False, description="The quote is from the readers' comments under the article "
                          "(kept with CITEBOT_HTML_COMMENTS), not from the article.")

    def evidence(self) -> str:
        """What the citation asserts, as text a support judge can read."""
        if self.kind == "metadata":
            if self.field == "description":
                return self.quote  # the page's own summary, which the claim quotes
            label = {"author": "is by", "published": "was published on", "site": "was published by"}[self.field or ""]
            return f"“{self.title}” {label} {self.quote}."
        return self.quote


class ShortAnswer(BaseModel):
    """The answer itself, as a span inside one cited quote: the entity of the asked type ("4 March 2025")."""

    text: str = Field(description="The short answer, verbatim from the article (or the cited metadata field's "
                      "value: an author, a date, an outlet).")
    citation: int = Field(description="The [n] of the citation whose quote holds it.")
    start: int | None = Field(default=None, description="Offset of the short answer in the document's clean text "
                              "(None when it is a metadata field, which has no offsets).")
    end: int | None = Field(default=None, description="End offset in the document's clean text (None for metadata).")


class Timings(BaseModel):
    """Milliseconds spent in each stage."""

    retrieve: float = 0.0
    answer: float = 0.0
    total: float = 0.0


class Answer(BaseModel):
    """The bot's reply. An abstention has `abstained=True` and no citations."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    short_answer: ShortAnswer | None = Field(
        default=None, description="For a question asking for a typed answer (a date, a name, a sum): the entity "
        "that answers it, inside the quote of citation `citation`.")
    engine: str
    timings_ms: Timings = Field(default_factory=Timings)


class TokenEvent(BaseModel):
    """A piece of the answer text as it is written (unverified for generative engines)."""

    type: Literal["token"] = "token"
    text: str


class StatusEvent(BaseModel):
    """Progress of the pipeline, e.g. the resolved question and how many passages were found."""

    type: Literal["status"] = "status"
    stage: Literal["resolved", "retrieved"]
    detail: str = ""
    chunk_ids: list[str] = Field(default_factory=list, description="For 'retrieved': the passages, best first.")


class AnswerEvent(BaseModel):
    """The final, verified answer; always the last event."""

    type: Literal["answer"] = "answer"
    answer: Answer


Event = TokenEvent | StatusEvent | AnswerEvent


def first_error(errors: Sequence[Any], skip: tuple[str, ...] = ("body", "path", "query", "header")) -> tuple[str, str]:
    """Where the first validation error is (dotted, request-part prefixes dropped) and what is wrong with it."""
    err = errors[0]
    loc = [str(p) for p in err.get("loc", ())]
    if loc and loc[0] in skip:
        loc = loc[1:]
    return ".".join(loc), str(err.get("msg", "is invalid")).removeprefix("Value error, ")
