"""What the conversation store hands out: plain pydantic values, never ORM rows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from bot.models import Citation, Message

Rating = Literal["up", "down"]


class Turn(BaseModel):
    """One question and the answer shown for it, with any feedback given on it."""

    id: int = Field(description="Turn id, unique across conversations.")
    question: str
    answer: str
    abstained: bool
    engine: str = Field(description="The engine that answered.")
    citations: list[Citation] = Field(default_factory=list)
    created_at: dt.datetime
    rating: Rating | None = Field(default=None, description="Feedback: up (👍) or down (👎).")
    comment: str | None = Field(default=None, description="Optional comment given with the rating.")


class ConversationSummary(BaseModel):
    """A conversation in a list: no turns."""

    id: str = Field(description="Random conversation id (the key the page keeps in local storage).")
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime
    turns: int = Field(description="Number of questions asked.")


class Conversation(BaseModel):
    """A conversation with all its turns, oldest first."""

    id: str
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime
    turns: list[Turn] = Field(default_factory=list)

    def history(self) -> list[Message]:
        """The turns as chat messages, oldest first."""
        out: list[Message] = []
        for t in self.turns:
            out += [Message(role="user", content=t.question), Message(role="assistant", content=t.answer)]
        return out


class FeedbackItem(BaseModel):
    """A rated answer with the conversation that led to it."""

    conversation_id: str
    turn_id: int
    rating: Rating
    comment: str | None
    rated_at: dt.datetime
    question: str
    answer: str
    abstained: bool
    engine: str
    citations: list[Citation]
    history: list[Message] = Field(description="The turns before the rated one, oldest first.")
