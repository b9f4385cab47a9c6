"""Asking inside a stored conversation: the server supplies the history and records each turn."""

from __future__ import annotations

from typing import Any

from bot.models import Answer
from chats.models import Turn
from chats.store import ChatError, ChatStore
from web.errors import ApiError


def history_for(chats: ChatStore, conversation_id: str | None, given: list[Any]) -> list[dict[str, str]]:
    """The history to answer with: the stored conversation's, or the one sent."""
    if conversation_id is None:
        return [m.model_dump() if hasattr(m, "model_dump") else m for m in given]
    if given:
        raise ApiError(422, "send either history or conversation_id, not both: with a conversation_id the server "
                       "supplies the history")
    try:
        conv = chats.get(conversation_id)
    except ChatError as exc:
        raise ApiError(404, str(exc), "conversation_not_found") from exc
    return [m.model_dump() for m in conv.history()]


def record(chats: ChatStore, conversation_id: str | None, answer: Answer) -> Turn | None:
    """Store the turn when a conversation was given."""
    if conversation_id is None:
        return None
    try:
        return chats.add_turn(conversation_id, answer)
    except ChatError as exc:  # deleted while the answer was being written
        raise ApiError(404, str(exc), "conversation_not_found") from exc
