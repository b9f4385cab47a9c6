"""/v1: citebot as an OpenAI-compatible chat model. The model names are the engines (`citebot-extractive`, ...).

The message list is the history and its last user message the question. The content is the verified answer
with its [n] markers; the citations (the `citebot ask --json` objects) travel in a `citations` field beside
`choices`, and in the last chunk of a stream.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bot.answer import answer, validate
from bot.models import Answer, Citation, EngineError, QuestionError, ShortAnswer
from vectorstore.errors import StoreUnavailableError
from web.auth import Guard
from web.errors import ApiError
from web.services import Services

PREFIX = "citebot-"
_WORDS_PER_CHUNK = 3


class ContentPart(BaseModel):
    """One part of a multi-part message; only text parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """An OpenAI chat message. System and tool messages are accepted and ignored: citebot has its own rules."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text."""
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """Body of POST /v1/chat/completions. Sampling options (temperature, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="citebot-extractive, citebot-openai or citebot-llamacpp (see /v1/models).")
    messages: list[ChatMessage] = Field(min_length=1, description="The chat so far; the last user message is "
                                        "the question.")
    stream: bool = Field(default=False, description="Server-sent chunks, the last one carrying `citations`.")


class ResponseMessage(BaseModel):
    """The assistant's reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The single choice citebot returns."""

    index: int = 0
    message: ResponseMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Word counts standing in for tokens: citebot's extractive engine has no tokenizer."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """An OpenAI chat completion plus `citations` and `abstained`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="The evidence behind the [n] markers of the content.")
    short_answer: ShortAnswer | None = Field(
        default=None, description="The entity that answers a typed question, inside citation `citation`'s quote "
        "(also in bold in the content).")
    abstained: bool = Field(description="True when the articles do not answer the question.")


class ModelCard(BaseModel):
    """One engine, as an OpenAI model."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "citebot"


class ModelList(BaseModel):
    """GET /v1/models."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, which must be the user's) and the user/assistant turns before it."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise ApiError(400, "the last user or assistant message must be the user's question", "invalid_messages")
    history = [{"role": m.role, "content": m.text()} for m in turns[:-1]]
    return turns[-1].text(), history


def _words(ans: Answer) -> int:
    return len(ans.answer.split())


def content(ans: Answer) -> str:
    """The message text: the answer with its short answer in bold (Markdown), where it first appears."""
    short = ans.short_answer
    if short is None or short.text not in ans.answer:
        return ans.answer
    return ans.answer.replace(short.text, f"**{short.text}**", 1)


def openai_router(services: Services, guard: Guard) -> APIRouter:
    """The /v1 routes."""
    deps = services.bot
    router = APIRouter(prefix="/v1", dependencies=[Depends(guard.read)])

    def engine_of(model: str) -> str:
        name = model.removeprefix(PREFIX)
        if not model.startswith(PREFIX) or name not in deps.engines:
            known = ", ".join(PREFIX + n for n in deps.engines)
            raise ApiError(404, f"model {model!r} does not exist here; available: {known}", "model_not_found")
        return name

    @router.get("/models")
    def models() -> ModelList:
        """The configured engines as models."""
        return ModelList(data=[ModelCard(id=PREFIX + name) for name in deps.engines])

    @router.post("/chat/completions", response_model=ChatCompletion,
                 responses={400: {"description": "Malformed request (OpenAI error shape)."},
                            401: {"description": "Missing or wrong API key (CITEBOT_READ_TOKEN)."},
                            404: {"description": "Unknown model."}, 502: {"description": "LLM endpoint failed."}})
    async def completions(req: ChatCompletionRequest) -> Any:
        """Answer the last user message with the earlier messages as history."""
        engine = engine_of(req.model)
        question, history = split_messages(req.messages)
        try:
            validate(question, history, deps, engine)
        except QuestionError as exc:
            raise ApiError(400, str(exc), "invalid_question") from exc
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            return StreamingResponse(_chunks(cid, created, req.model, question, history, engine),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        ans = await run_in_threadpool(answer, question, history, deps, engine=engine)
        prompt = sum(len(m["content"].split()) for m in history) + len(question.split())
        return ChatCompletion(
            id=cid, created=created, model=req.model, choices=[Choice(message=ResponseMessage(content=content(ans)))],
            usage=Usage(prompt_tokens=prompt, completion_tokens=_words(ans), total_tokens=prompt + _words(ans)),
            citations=ans.citations, short_answer=ans.short_answer, abstained=ans.abstained,
        )

    def _chunks(cid: str, created: int, model: str, question: str, history: list[dict[str, str]],
                engine: str) -> Iterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        try:
            ans = answer(question, history, deps, engine=engine)
        except (QuestionError, EngineError, StoreUnavailableError) as exc:
            err = {"message": str(exc), "type": "api_error", "param": None, "code": None}
            yield f"data: {json.dumps({'error': err})}\n\n"
            return
        # Only verified text is streamed: a generative draft can lose sentences in verification, and
        # the streamed content must equal the final answer with its markers.
        words = content(ans).split(" ")
        for i in range(0, len(words), _WORDS_PER_CHUNK):
            piece = " ".join(words[i : i + _WORDS_PER_CHUNK])
            yield chunk({"content": piece if i == 0 else " " + piece})
        yield chunk({}, "stop", citations=[c.model_dump() for c in ans.citations], abstained=ans.abstained,
                    short_answer=ans.short_answer.model_dump() if ans.short_answer else None)
        yield "data: [DONE]\n\n"

    return router
