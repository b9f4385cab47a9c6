"""/api/conversations and /api/feedback: stored chats, renaming and deleting them, and 👍/👎 on answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool

from chats.models import Conversation, ConversationSummary, FeedbackItem, Turn
from chats.store import ChatError
from web.auth import Guard
from web.errors import ApiError
from web.schemas import FeedbackRequest, NewConversation, Rename
from web.services import Services

T = TypeVar("T")
_NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "No such conversation (or turn)."},
                                               401: {"description": "Read token missing or wrong."}}


def chats_router(services: Services, guard: Guard) -> APIRouter:
    """The conversation and feedback routes. Knowing a conversation's random id is what grants access to it."""
    chats = services.chats
    read, admin = [Depends(guard.read)], [Depends(guard.admin)]
    router = APIRouter(prefix="/api")

    async def call(fn: Callable[..., T], *args: Any) -> T:
        try:
            return await run_in_threadpool(fn, *args)
        except ChatError as exc:
            raise ApiError(404, str(exc), "conversation_not_found") from exc
        except ValueError as exc:
            raise ApiError(422, str(exc)) from exc

    @router.post("/conversations", dependencies=read, status_code=201)
    async def create(req: NewConversation | None = None) -> ConversationSummary:
        """Start a conversation; pass its id as `conversation_id` to /api/ask or /api/chat/stream."""
        return await call(chats.create, req.title if req else None)

    @router.get("/conversations", dependencies=admin,
                responses={403: {"description": "Writes disabled or read token only."}})
    async def list_all() -> list[ConversationSummary]:
        """Every stored conversation, most recent first (admin: it reveals everyone's ids)."""
        return await call(chats.summaries)

    @router.get("/conversations/{conversation_id}", dependencies=read, responses=_NOT_FOUND)
    async def get(conversation_id: str) -> Conversation:
        """A conversation with every turn: question, answer, citations, engine and feedback."""
        return await call(chats.get, conversation_id)

    @router.patch("/conversations/{conversation_id}", dependencies=read, responses=_NOT_FOUND)
    async def rename(conversation_id: str, req: Rename) -> ConversationSummary:
        """Rename a conversation."""
        return await call(chats.rename, conversation_id, req.title)

    @router.delete("/conversations/{conversation_id}", dependencies=read, status_code=204, responses=_NOT_FOUND)
    async def delete(conversation_id: str) -> None:
        """Delete a conversation with its turns and feedback."""
        await call(chats.delete, conversation_id)

    @router.post("/conversations/{conversation_id}/turns/{turn_id}/feedback", dependencies=read,
                 responses=_NOT_FOUND)
    async def feedback(conversation_id: str, turn_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
                       req: FeedbackRequest) -> Turn:
        """Rate an answer 👍 (up) or 👎 (down), with an optional comment; a later rating replaces it."""
        return await call(chats.rate, conversation_id, turn_id, req.rating, req.comment)

    @router.get("/feedback", dependencies=admin, responses={401: {"description": "Admin token missing or wrong."},
                                                            403: {"description": "Writes disabled or read token."}})
    async def list_feedback(rating: Literal["up", "down"] | None = None) -> list[FeedbackItem]:
        """Every rated answer with its conversation history (only `rating` when given)."""
        return await call(chats.feedback, rating)

    return router
