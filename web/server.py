"""FastAPI: the JSON API, the OpenAI-compatible API, health checks, and the Gradio page mounted at /.

Thin over bot.answer, the ingest library and the conversation store; routes live in web/api*.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from web.api import api_router
from web.api_chats import chats_router
from web.auth import Guard
from web.config import WebConfig
from web.conformance import MethodNotAllowed, document_middleware_errors
from web.edge import EdgeLimit
from web.errors import BodyLimit, install_handlers
from web.follower import IndexFollower
from web.limits import Admission, AnswerSlots, RateLimit
from web.openai_api import openai_router
from web.services import Services

# The routes that compute answers: bounded by the answer slots and the rate limit.
ANSWER_PATHS = frozenset({"/api/ask", "/api/chat/stream", "/v1/chat/completions"})
# Multipart framing and form fields around the files of one upload.
_UPLOAD_OVERHEAD = 1024 * 1024


def create_app(services: Services, config: WebConfig | None = None, *, ui: bool = True) -> FastAPI:
    """The API app; with `ui`, the Gradio page is mounted at /."""
    config = config or WebConfig()
    deps = services.bot
    guard = Guard(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Articles that another replica or `citebot ingest` stores become answerable here without a restart.
        follower = IndexFollower(deps.retriever, deps.config.refresh_seconds).start()
        try:
            yield
        finally:
            follower.stop()

    app = FastAPI(title="citebot", description="Cited answers about stored news articles.", version="0.1.0",
                  lifespan=lifespan)
    upload_limit = services.library.max_bytes * config.max_upload_files + _UPLOAD_OVERHEAD
    # Pasted text is one article: the file limit applies, not the (smaller) JSON question limit.
    paste_limit = services.library.max_bytes + _UPLOAD_OVERHEAD
    app.add_middleware(BodyLimit, default=config.max_request_kb * 1024,
                       overrides={"/api/documents": upload_limit, "/api/documents/text": paste_limit})
    install_handlers(app)
    app.add_middleware(
        Admission, paths=ANSWER_PATHS, slots=AnswerSlots(config.max_concurrent, config.max_queue, config.queue_wait),
        rate=RateLimit(config.rate_limit, config.rate_limit_storage), time_limit=config.answer_time_limit,
    )
    app.include_router(api_router(services, guard))
    app.include_router(chats_router(services, guard))
    app.include_router(openai_router(services, guard))
    document_middleware_errors(app, ANSWER_PATHS, engines=sorted(deps.engines))
    app.add_middleware(MethodNotAllowed, schema=app.openapi)
    # Outermost: a client over its budget is turned away before anything else looks at its request.
    app.add_middleware(EdgeLimit, rate=config.client_rate, burst=config.client_burst)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready when the store answers, the model is loaded, documents exist and the engine is configured."""
        try:
            n = deps.store.document_count()
        except Exception as exc:
            return JSONResponse({"ready": False, "reason": f"store unreachable: {exc}"}, status_code=503,
                                headers={"Retry-After": "2"})
        if deps.store.failure:
            # The last read failed even after the store was reopened; the next request reopens it again.
            return JSONResponse({"ready": False, "reason": f"store failing: {deps.store.failure}"},
                                status_code=503, headers={"Retry-After": "2"})
        if not getattr(deps.embedder, "loaded", True):
            return JSONResponse({"ready": False, "reason": "embedding model not loaded"}, status_code=503)
        if n == 0:
            return JSONResponse({"ready": False, "reason": "no documents stored; run `citebot ingest`"},
                                status_code=503)
        if deps.config.engine not in deps.engines:
            return JSONResponse({"ready": False, "reason": f"engine {deps.config.engine!r} is not configured"},
                                status_code=503)
        # indexed_documents: what this process answers from; it catches up with `documents` (the store, which
        # other replicas may have just written) within CITEBOT_REFRESH_SECONDS.
        return JSONResponse({"ready": True, "documents": n, "indexed_documents": len(deps.retriever.corpus.docs),
                             "engine": deps.config.engine})

    if ui:
        import gradio as gr

        from web.render import CSS, HEAD
        from web.ui import build_ui

        auth = None
        if config.read_token:
            def auth(_user: str, password: str) -> bool:
                return guard.can_read(password)

        page = build_ui(services, guard)
        # The page's own queue gets the same bounds as the API: a full queue tells the browser to retry.
        page.queue(default_concurrency_limit=config.max_concurrent, max_size=config.max_queue or None)
        app = gr.mount_gradio_app(app, page, path="/", css=CSS, head=HEAD, footer_links=[],
                                  auth=auth, auth_message="This citebot needs its read token: any user name, "
                                  "and CITEBOT_READ_TOKEN as the password.")
    return app
