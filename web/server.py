"""FastAPI: the JSON API, health checks, and the Gradio page mounted at /. Thin over bot.answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from bot.answer import answer, stream, validate
from bot.deps import Deps
from bot.models import Answer, AnswerEvent, EngineError, Message, QuestionError, TokenEvent
from bot.retrieve import Filters
from web.config import WebConfig

log = logging.getLogger("citebot.web")


class AskRequest(BaseModel):
    """Body of POST /api/ask and /api/chat/stream."""

    question: str = Field(description="The question, at most 8000 characters.")
    history: list[Message] = Field(default_factory=list, description="Earlier turns, oldest first.")
    engine: str | None = Field(default=None, description="extractive, openai or llamacpp (default: configured).")
    sources: list[str] = Field(default_factory=list, description="Only retrieve from these sources.")
    published_from: str | None = Field(default=None, description="Only articles published on/after (YYYY-MM-DD).")
    published_to: str | None = Field(default=None, description="Only articles published on/before (YYYY-MM-DD).")

    def filters(self) -> Filters | None:
        """The retrieval filters, or None; QuestionError for a bad date."""
        if not (self.sources or self.published_from or self.published_to):
            return None
        try:
            return Filters.checked(self.sources, self.published_from, self.published_to)
        except ValueError as exc:
            raise QuestionError(str(exc)) from exc


class ApiError(Exception):
    """A client error with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _parse(request: Request, limit: int) -> AskRequest:
    """Read, size-check, decode and validate the body, with a specific message for each failure."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is over the {limit // 1024} KiB limit")
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise ApiError(413, f"request body is over the {limit // 1024} KiB limit")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(422, "body must be a JSON object with a 'question'")
    try:
        return AskRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise ApiError(422, f"{where}: {err['msg']}") from exc


def create_app(deps: Deps, config: WebConfig | None = None, *, ui: bool = True) -> FastAPI:
    """The API app; with `ui`, the Gradio page is mounted at /."""
    config = config or WebConfig()
    limit = config.max_request_kb * 1024
    app = FastAPI(title="citebot", description="Cited answers about stored news articles.", version="0.1.0")

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, str(exc))

    @app.exception_handler(QuestionError)
    async def question_error(_: Request, exc: QuestionError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(EngineError)
    async def engine_error(_: Request, exc: EngineError) -> JSONResponse:
        return _error(502, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _error(500, "internal error; see the server log")

    @app.post("/api/ask", response_model=Answer, responses={400: {}, 413: {}, 422: {}, 502: {}})
    async def ask(request: Request) -> Answer:
        """Answer a question with cited passages (the `citebot ask --json` shape)."""
        req = await _parse(request, limit)
        return await run_in_threadpool(
            answer, req.question, [m.model_dump() for m in req.history], deps, engine=req.engine,
            filters=req.filters(),
        )

    @app.post("/api/chat/stream", responses={400: {}, 413: {}, 422: {}})
    async def chat_stream(request: Request) -> StreamingResponse:
        """Server-sent events: `token` deltas, then one `answer` event with the full answer JSON."""
        req = await _parse(request, limit)
        history = [m.model_dump() for m in req.history]
        validate(req.question, history, deps, req.engine)
        filters = req.filters()

        def events() -> Iterator[str]:
            try:
                for event in stream(req.question, history, deps, engine=req.engine, filters=filters):
                    if isinstance(event, TokenEvent):
                        yield f"event: token\ndata: {json.dumps({'text': event.text})}\n\n"
                    elif isinstance(event, AnswerEvent):
                        yield f"event: answer\ndata: {event.answer.model_dump_json()}\n\n"
            except (QuestionError, EngineError) as exc:
                yield f"event: error\ndata: {json.dumps({'error': str(exc)})}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/documents")
    def documents() -> list[dict[str, Any]]:
        """The stored documents (the `citebot documents --json` shape)."""
        return [
            {"doc_id": d.doc_id, "source": d.source, "title": d.title, "author": d.author,
             "published": d.published, "chunks": d.chunks, "index": "full" if d.tier == 2 else "static"}
            for d in deps.store.documents()
        ]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready when the store answers, the model is loaded, documents exist and the engine is configured."""
        try:
            n = len(deps.store.documents())
        except Exception as exc:
            return JSONResponse({"ready": False, "reason": f"store unreachable: {exc}"}, status_code=503)
        if getattr(deps.embedder, "_model", True) is None:
            return JSONResponse({"ready": False, "reason": "embedding model not loaded"}, status_code=503)
        if n == 0:
            return JSONResponse({"ready": False, "reason": "no documents stored; run `citebot ingest`"},
                                status_code=503)
        if deps.config.engine not in deps.engines:
            return JSONResponse({"ready": False, "reason": f"engine {deps.config.engine!r} is not configured"},
                                status_code=503)
        return JSONResponse({"ready": True, "documents": n, "engine": deps.config.engine})

    if ui:
        import gradio as gr

        from web.render import CSS
        from web.ui import build_ui

        app = gr.mount_gradio_app(app, build_ui(deps), path="/", css=CSS, footer_links=[])
    return app
