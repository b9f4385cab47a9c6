"""What crosses the bot's boundary: questions, citations, answers and streamed events."""

from __future__ import annotations

from typing import Literal

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
    """A numbered, verbatim span of a stored article: `quote == clean_text[start:end]`."""

    n: int = Field(description="The number used in the answer's [n] markers.")
    doc_id: str
    source: str
    title: str
    chunk_id: str
    start: int
    end: int
    quote: str


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
    engine: str
    timings_ms: Timings = Field(default_factory=Timings)


class TokenEvent(BaseModel):
    """A piece of the answer text as it is written (unverified for generative engines)."""

    type: Literal["token"] = "token"
    text: str


class StatusEvent(BaseModel):
    """Progress of the pipeline, e.g. the resolved question and how many passages were found."""

    type: Literal["status"] = "status"
    stage: Literal["resolved", "retrieved", "verifying"]
    detail: str = ""
    chunk_ids: list[str] = Field(default_factory=list, description="For 'retrieved': the passages, best first.")


class AnswerEvent(BaseModel):
    """The final, verified answer; always the last event."""

    type: Literal["answer"] = "answer"
    answer: Answer


Event = TokenEvent | StatusEvent | AnswerEvent
