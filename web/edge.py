"""The cheapest possible "no": a per-client request budget checked at the ASGI edge, before any body is read.

A flood of clients that retry at once and ignore Retry-After would otherwise have every request parsed, routed
and answered 503 by the admission layer behind it, and that work on the event loop is what made /healthz slow.
Here a request over its client's budget costs one dictionary look-up and one prepared response: no Request
object, no routing, no JSON encoding. The budget is a token bucket per client (its bearer token when it sends one,
else its address); /healthz, /readyz and the page are never limited here.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

# Clients remembered at most; past it the idle half is forgotten (a forgotten client starts with a full bucket).
_MAX_CLIENTS = 50_000


class TokenBuckets:
    """`rate` tokens a second per key, at most `burst` saved up; `take(key)` is 0 when a token was there, else
    the seconds until one is."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = rate, float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, when = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now)
            return 0.0
        self._store(key, tokens, now)
        return (1.0 - tokens) / self.rate

    def _store(self, key: str, tokens: float, now: float) -> None:
        buckets = self._buckets
        if len(buckets) >= _MAX_CLIENTS and key not in buckets:
            for old in sorted(buckets, key=lambda k: buckets[k][1])[: _MAX_CLIENTS // 2]:
                del buckets[old]
        buckets[key] = (tokens, now)


def client_key(scope: Scope) -> str:
    """A digest of the bearer token (never the token itself), else the client's address."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization" and value[:7].lower() == b"bearer " and value[7:].strip():
            return "t:" + hashlib.blake2b(value[7:].strip(), digest_size=8).hexdigest()
    client = scope.get("client")
    return "a:" + (client[0] if client else "?")


class EdgeLimit:
    """ASGI middleware: 429 with Retry-After for a client over its budget on /api and /v1."""

    def __init__(self, app: ASGIApp, rate: float, burst: int, prefixes: tuple[str, ...] = ("/api/", "/v1/")) -> None:
        self.app = app
        self.prefixes = prefixes
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        msg = f"too many requests from this client (over {rate:g}/s); retry after the Retry-After seconds"
        self._api = json.dumps({"error": msg}).encode()
        self._openai = json.dumps({"error": {"message": msg, "type": "rate_limit_error", "param": None,
                                             "code": "rate_limited"}}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_key(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        body = self._openai if scope["path"].startswith("/v1/") else self._api
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(max(1, math.ceil(wait))).encode())]})
        await send({"type": "http.response.body", "body": body})
