"""Client errors and their two JSON shapes: `{"error": "..."}` under /api, OpenAI's under /v1."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.models import EngineError, QuestionError, first_error
from vectorstore.errors import StoreUnavailableError

# Seconds a client is told to wait when the store failed even after it was reopened.
STORE_RETRY_AFTER_S = 2

log = logging.getLogger("citebot.web")

# OpenAI's error `type` for each status, so OpenAI clients raise the matching exception class.
_OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
                 422: "invalid_request_error", 429: "rate_limit_error", 502: "api_error", 500: "api_error",
                 503: "overloaded_error"}


class ApiError(Exception):
    """A client error with its HTTP status (and, for OpenAI clients, an error code)."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers


def describe_validation(errors: Sequence[Any]) -> tuple[int, str]:
    """One line for the first validation error: where it is and what is wrong (400 for unreadable JSON)."""
    err = errors[0]
    if err.get("type") == "json_invalid":
        return 400, f"body is not valid JSON: {err.get('ctx', {}).get('error', err.get('msg'))}"
    where, msg = first_error(errors)
    if not where and err.get("type") == "missing":
        return 422, "body is required: send a JSON object"
    if not where and err.get("type") in ("model_attributes_type", "dict_type", "model_type"):
        return 422, "body must be a JSON object"
    return 422, f"{where or 'body'}: {msg}"


def error_response(request: Request, status: int, message: str, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The error in the shape the caller's API family uses."""
    if request.url.path.startswith("/v1/"):
        # OpenAI reports malformed requests as 400; its clients map 422 to a different exception.
        status = 400 if status == 422 else status
        body: dict[str, Any] = {"error": {"message": message, "type": _OPENAI_TYPES.get(status, "api_error"),
                                          "param": None, "code": code}}
    else:
        body = {"error": message}
    return JSONResponse(body, status_code=status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Every failure becomes a JSON error with a specific message; tracebacks stay in the log."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, str(exc), exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = describe_validation(exc.errors())
        return error_response(request, status, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(request, exc.status_code, str(exc.detail),
                              headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(QuestionError)
    async def question_error(request: Request, exc: QuestionError) -> JSONResponse:
        return error_response(request, 422, str(exc))

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> JSONResponse:
        return error_response(request, 502, str(exc))

    @app.exception_handler(StoreUnavailableError)
    async def store_unavailable(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        log.warning("store unavailable: %s", exc)
        return error_response(request, 503, f"{exc}; retry in {STORE_RETRY_AFTER_S} s", "store_unavailable",
                              {"Retry-After": str(STORE_RETRY_AFTER_S)})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(request, 500, "internal error; see the server log")


class BodyLimit:
    """Refuse request bodies over a size limit with 413, before they are read into memory.

    The limit is the JSON limit for every path except those given larger ones (uploads). The declared
    Content-Length is checked first; a body without one is counted while it is read.
    """

    def __init__(self, app: ASGIApp, default: int, overrides: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.overrides = overrides

    def _limit(self, scope: Scope) -> int | None:
        path = scope.get("path", "")
        if not (path.startswith("/api/") or path.startswith("/v1/")):
            return None  # the Gradio page sets its own limits
        return self.overrides.get(path, self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        message = (f"request body is over the {limit // 1024} KiB limit" if limit < 1024 * 1024
                   else f"request body is over the {limit / 1024 / 1024:.0f} MiB limit")
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            from starlette.requests import Request as _Request

            await error_response(_Request(scope), 413, message)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    # FastAPI re-raises an HTTPException from body reading, so the handlers above answer 413.
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, counted, send)
