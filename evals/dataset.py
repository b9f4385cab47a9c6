"""Load and validate an evaluation question file (JSONL), naming the line of any problem."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from bot.models import Citation, Message, first_error


class DatasetError(ValueError):
    """The question file is malformed; the message names the line."""


class Evidence(BaseModel):
    """A verbatim quote from a named source."""

    source: str
    quote: str = Field(min_length=1)


class EvalQuestion(BaseModel):
    """One evaluation question."""

    id: str | int
    question: str = Field(min_length=1)
    history: list[Message] = Field(default_factory=list)
    answers: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    # Null in cases exported from feedback until a person decides; such a case cannot be run yet.
    answerable: bool | None
    answer_given: str | None = Field(default=None, description="Feedback cases: the answer the user rated 👎.")
    citations_given: list[Citation] = Field(default_factory=list, description="Feedback cases: its citations.")
    engine_given: str | None = Field(default=None, description="Feedback cases: the engine that answered.")
    comment: str | None = Field(default=None, description="Feedback cases: the user's comment.")
    conversation_id: str | None = Field(default=None, description="Feedback cases: where it was asked.")

    @model_validator(mode="after")
    def _consistent(self) -> EvalQuestion:
        if self.answerable is None:
            raise ValueError(
                "'answerable' is still empty: fill it in with true (and put the gold answer in 'answers', the "
                "supporting quote in 'evidence') or false (the articles do not say)"
            )
        if self.answerable and not self.answers:
            raise ValueError("an answerable question needs at least one gold answer")
        if not self.answerable and (self.answers or self.evidence):
            raise ValueError("an unanswerable question must have empty 'answers' and 'evidence'")
        return self


def load_questions(path: Path) -> tuple[list[EvalQuestion], str]:
    """The questions and the file's sha256; DatasetError with the line number on any problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text") from exc
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{path}:{lineno}: not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise DatasetError(f"{path}:{lineno}: each line must be a JSON object")
        try:
            q = EvalQuestion.model_validate(data)
        except ValidationError as exc:
            where, msg = first_error(exc.errors())
            raise DatasetError(f"{path}:{lineno}: {where + ': ' if where else ''}{msg}") from exc
        if str(q.id) in seen:
            raise DatasetError(f"{path}:{lineno}: duplicate id {q.id!r}")
        seen.add(str(q.id))
        questions.append(q)
    if not questions:
        raise DatasetError(f"{path}: no questions in the file")
    return questions, hashlib.sha256(raw).hexdigest()
