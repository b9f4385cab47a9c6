"""What the OpenAPI document promises, kept true: 405 for undeclared methods, and the error statuses that
middleware adds (bad JSON, body size, load shedding) documented on every operation they can reach."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from web.errors import error_response

_BODY_ERRORS = {
    "400": "Body is not valid JSON (or not readable as the declared content type).",
    "413": "Request body over the size limit.",
}
_SHED_ERRORS = {
    "429": "Over this client's rate limit (CITEBOT_RATE_LIMIT); see Retry-After.",
    "503": "At capacity (CITEBOT_MAX_CONCURRENT and the queue are full); see Retry-After.",
}


class MethodNotAllowed:
    """405 with `Allow` for a method that the OpenAPI document does not declare on a path it does declare.

    Without it the page mounted at / would answer such requests with 404.
    """

    def __init__(self, app: ASGIApp, schema: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.schema = schema
        self._paths: list[tuple[re.Pattern[str], set[str]]] | None = None

    def _allowed(self, path: str) -> set[str]:
        if self._paths is None:
            # Literal paths first: "/api/documents/text" is that route, not "/api/documents/{doc_id}".
            items = sorted(self.schema().get("paths", {}).items(), key=lambda kv: "{" in kv[0])
            self._paths = [(compile_path(p)[0], {m.upper() for m in ops}) for p, ops in items]
        for regex, methods in self._paths:
            if regex.match(path):
                return methods
        return set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self._allowed(scope["path"])
            if allowed and scope["method"] not in allowed:
                methods = ", ".join(sorted(allowed))
                response = error_response(Request(scope), 405, f"{scope['method']} is not allowed here; use {methods}",
                                          headers={"Allow": methods})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_EDGE_ERRORS = {"429": "Over this client's request budget (CITEBOT_CLIENT_RATE, CITEBOT_CLIENT_BURST); see "
                       "Retry-After."}
_STORE_ERRORS = {"503": "The store failed even after it was reopened; see Retry-After (and /readyz)."}


def document_middleware_errors(app: FastAPI, shed_paths: frozenset[str], engines: list[str] | None = None) -> None:
    """Add the statuses middleware can return to each operation's documented responses; with `engines`, the
    request bodies' `engine` lists only the engines this server configured."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        if engines is not None:
            for body in schema.get("components", {}).get("schemas", {}).values():
                prop = body.get("properties", {}).get("engine")
                if prop is not None and "enum" in prop:
                    prop["enum"] = [*engines, None]
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                responses = op.setdefault("responses", {})
                extra = dict(_BODY_ERRORS) if "requestBody" in op else {}
                if path.startswith(("/api/", "/v1/")):
                    extra.update(_EDGE_ERRORS)
                    extra.update(_STORE_ERRORS)
                if path in shed_paths and method == "post":
                    extra.update(_SHED_ERRORS)
                for code, text in extra.items():
                    responses.setdefault(code, {"description": text})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
