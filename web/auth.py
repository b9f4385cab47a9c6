"""Bearer-token checks: writes need CITEBOT_ADMIN_TOKEN; reads need CITEBOT_READ_TOKEN only when it is set."""

from __future__ import annotations

import hmac

from fastapi import Request

from web.config import WebConfig
from web.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison, so response times do not reveal how much of a guess was right."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


class Guard:
    """FastAPI dependencies for read and admin access."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config

    def can_read(self, token: str | None) -> bool:
        """Reads are open without a read token; otherwise the read or the admin token."""
        if not self.config.read_token:
            return True
        return same_token(token, self.config.read_token) or same_token(token, self.config.admin_token)

    def read(self, request: Request) -> None:
        """Dependency: 401 unless the request may read."""
        token = bearer(request)
        if self.can_read(token):
            return
        if token is None:
            raise ApiError(401, "this server needs a read token: send Authorization: Bearer <CITEBOT_READ_TOKEN>",
                           "missing_api_key", _CHALLENGE)
        raise ApiError(401, "the bearer token is not valid for this server", "invalid_api_key", _CHALLENGE)

    @property
    def writes_enabled(self) -> bool:
        """Whether an admin token is configured at all."""
        return bool(self.config.admin_token)

    def admin(self, request: Request) -> None:
        """Dependency: 403 when writes are disabled, 401 without the admin token, 403 with only the read token."""
        self.check_admin(bearer(request))

    def check_admin(self, token: str | None) -> None:
        """ApiError unless `token` is the admin token (the page's Articles tab checks the typed token here)."""
        if not self.config.admin_token:
            raise ApiError(403, "writes are disabled on this server: set CITEBOT_ADMIN_TOKEN to a secret and send "
                           "it as Authorization: Bearer <token>", "writes_disabled")
        if same_token(token, self.config.admin_token):
            return
        if token is None:
            raise ApiError(401, "this endpoint needs Authorization: Bearer <CITEBOT_ADMIN_TOKEN>", "missing_api_key",
                           _CHALLENGE)
        if self.config.read_token and same_token(token, self.config.read_token):
            raise ApiError(403, "the read token cannot change anything; this endpoint needs CITEBOT_ADMIN_TOKEN",
                           "insufficient_permissions")
        raise ApiError(401, "the bearer token is not the admin token", "invalid_api_key", _CHALLENGE)
