"""/api: asking (one-shot and streamed), the stored documents, and adding and removing articles."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.answer import answer, stream, validate
from bot.models import AnswerEvent, EngineError, QuestionError, TokenEvent
from ingest.pipeline import IngestReport
from ingest.uploads import NotFoundError, Upload, UploadError
from vectorstore.errors import StoreUnavailableError
from web.auth import Guard
from web.conversing import history_for, record
from web.errors import ApiError
from web.schemas import (
    AskRequest,
    AskResponse,
    Deleted,
    DocumentInfo,
    IngestPathsRequest,
    IngestResult,
    PasteRequest,
    UrlsRequest,
)
from web.services import Services

_ASK_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Body is not valid JSON."}, 401: {"description": "Read token missing or wrong."},
    404: {"description": "Unknown conversation_id."}, 413: {"description": "Body too large."},
    422: {"description": "Missing, empty or over-long question; bad history; unknown engine."},
}
_WRITE_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Admin token missing or wrong."},
    403: {"description": "Writes disabled (no CITEBOT_ADMIN_TOKEN), or only the read token was sent."},
    413: {"description": "Request body too large."},
}


def _sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


def api_router(services: Services, guard: Guard) -> APIRouter:
    """The /api routes."""
    deps, chats, library = services.bot, services.chats, services.library
    read, admin = [Depends(guard.read)], [Depends(guard.admin)]
    router = APIRouter(prefix="/api")

    @router.post("/ask", dependencies=read, responses={**_ASK_ERRORS, 502: {"description": "LLM endpoint failed."}})
    async def ask(req: AskRequest) -> AskResponse:
        """Answer a question with cited passages (the `citebot ask --json` shape)."""
        history = history_for(chats, req.conversation_id, req.history)
        ans = await run_in_threadpool(answer, req.question, history, deps, engine=req.engine, filters=req.filters())
        turn = await run_in_threadpool(record, chats, req.conversation_id, ans)
        return AskResponse(**ans.model_dump(), conversation_id=req.conversation_id, turn_id=turn.id if turn else None)

    @router.post("/chat/stream", dependencies=read, responses=_ASK_ERRORS, response_class=StreamingResponse)
    async def chat_stream(req: AskRequest) -> StreamingResponse:
        """Server-sent events: `token` deltas, then one `answer` event with the full answer JSON."""
        history = history_for(chats, req.conversation_id, req.history)
        validate(req.question, history, deps, req.engine)
        filters = req.filters()

        def events() -> Iterator[str]:
            try:
                for event in stream(req.question, history, deps, engine=req.engine, filters=filters):
                    if isinstance(event, TokenEvent):
                        yield _sse("token", json.dumps({"text": event.text}))
                    elif isinstance(event, AnswerEvent):
                        turn = record(chats, req.conversation_id, event.answer)
                        final = AskResponse(**event.answer.model_dump(), conversation_id=req.conversation_id,
                                            turn_id=turn.id if turn else None)
                        yield _sse("answer", final.model_dump_json())
            except (QuestionError, EngineError, ApiError, StoreUnavailableError) as exc:
                yield _sse("error", json.dumps({"error": str(exc)}))

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/documents", dependencies=read, responses={401: {"description": "Read token missing or wrong."}})
    def documents() -> list[DocumentInfo]:
        """The stored documents (the `citebot documents --json` shape)."""
        return [DocumentInfo.of(d) for d in deps.store.documents()]

    def _reported(report: IngestReport) -> JSONResponse:
        body = report.to_json()
        deps.retriever.refresh()  # answerable from the next question on
        if report.errors and not (report.added or report.updated or report.unchanged):
            reasons = "; ".join(f"{e.path}: {e.error}" for e in report.errors)
            return JSONResponse({"error": f"nothing was ingested: {reasons}", **body}, status_code=422)
        return JSONResponse(IngestResult.model_validate(body).model_dump())

    @router.post("/documents", dependencies=admin, response_model=IngestResult,
                 responses={**_WRITE_ERRORS, 422: {"description": "No file could be ingested; `errors` says why."}})
    async def upload(
        files: Annotated[list[UploadFile], File(min_length=1, description="One or more .txt, .md or .html files.")],
    ) -> JSONResponse:
        """Add (or replace) articles: the same checks and limits as `citebot ingest`; per-file errors in `errors`."""
        # Never more than one byte over the limit in memory: enough to know the file is too large.
        uploads = [Upload(f.filename or "", await f.read(library.max_bytes + 1), f.size) for f in files]
        try:
            report = await run_in_threadpool(library.add, uploads)
        except UploadError as exc:
            raise ApiError(422, str(exc)) from exc
        return _reported(report)

    @router.post("/ingest", dependencies=admin, response_model=IngestResult,
                 responses={**_WRITE_ERRORS, 422: {"description": "A path is not absolute, or nothing could be "
                                                   "ingested; `errors` says why."}})
    async def ingest_paths(req: IngestPathsRequest, request: Request) -> JSONResponse:
        """Ingest files or folders of the server's own machine, as `citebot ingest PATH…` does: what that
        command sends while this server owns the embedded store. Accepted from loopback clients only."""
        host = request.client.host if request.client else ""
        server = (request.scope.get("server") or ("", 0))[0]
        try:
            # Loopback, or this machine's own address when the server is bound to one (`--host 192.0.2.7`).
            local = ipaddress.ip_address(host).is_loopback or host == server
        except ValueError:
            local = False
        if not local:
            raise ApiError(403, "paths on the server are only ingested for clients on its own machine; upload "
                           "the files with POST /api/documents instead")
        paths = [Path(p) for p in req.paths]
        relative = [str(p) for p in paths if not p.is_absolute()]
        if relative:
            raise ApiError(422, f"paths must be absolute (the server's working folder is not yours): {relative[0]}")
        report = await run_in_threadpool(library.ingest_paths, paths, req.prune)
        return _reported(report)

    @router.post("/documents/urls", dependencies=admin, response_model=IngestResult,
                 responses={**_WRITE_ERRORS, 422: {"description": "No URL given, or none could be fetched and "
                                                   "ingested; `errors` says why for each."}})
    async def add_urls(req: UrlsRequest) -> JSONResponse:
        """Fetch article pages (HTML, text or PDF) and the new or changed entries of RSS/Atom feeds, and ingest
        them with each URL as its document's source. Private, loopback and link-local addresses are refused unless
        the server allows them (CITEBOT_FETCH_ALLOW_PRIVATE); errors are per URL."""
        try:
            report = await run_in_threadpool(library.add_sources, req.urls, req.feeds)
        except UploadError as exc:
            raise ApiError(422, str(exc)) from exc
        return _reported(report)

    @router.post("/documents/text", dependencies=admin, response_model=IngestResult,
                 responses={**_WRITE_ERRORS, 422: {"description": "Empty title or text, or the text is unusable."}})
    async def paste(req: PasteRequest) -> JSONResponse:
        """Add pasted text as an article with the given title."""
        try:
            report = await run_in_threadpool(library.add_text, req.title, req.text)
        except UploadError as exc:
            raise ApiError(422, str(exc)) from exc
        return _reported(report)

    @router.delete("/documents/{doc_id}", dependencies=admin,
                   responses={**_WRITE_ERRORS, 404: {"description": "No such document."}})
    async def delete(doc_id: str) -> Deleted:
        """Remove a document (and its file, when it was uploaded)."""
        try:
            source = await run_in_threadpool(library.delete, doc_id)
        except NotFoundError as exc:
            raise ApiError(404, str(exc)) from exc
        deps.retriever.refresh()
        return Deleted(deleted=doc_id, source=source)

    return router
