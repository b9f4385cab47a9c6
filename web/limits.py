"""Bounds on the work a burst of clients can queue: answer slots with a short queue, and per-client rates.

Past the bounds a client gets 503 or 429 with `Retry-After` at once, never a timeout or a 500, so a proxy
or client can back off or try another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import time

from fastapi import Request
from limits import RateLimitItem, parse, storage, strategies
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import ApiError, error_response


class AnswerSlots:
    """At most `concurrent` answers run at once; up to `queue` more wait, each at most `wait` seconds."""

    def __init__(self, concurrent: int, queue: int, wait: float) -> None:
        self.concurrent = concurrent
        self.queue = queue
        self.wait = wait
        self.running = 0
        self.waiting = 0
        self._sem: asyncio.Semaphore | None = None

    def _busy(self, why: str) -> ApiError:
        retry = max(1, math.ceil(self.wait))
        return ApiError(503, f"citebot is at capacity ({why}); retry in {retry} s", code="overloaded",
                        headers={"Retry-After": str(retry)})

    async def acquire(self) -> None:
        """Take a slot, waiting in the bounded queue; 503 when the queue is full or the wait runs out."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrent)  # created on the server's own event loop
        if self._sem.locked() and self.waiting >= self.queue:
            raise self._busy(f"{self.running} answers running, {self.waiting} waiting")
        self.waiting += 1
        try:
            await asyncio.wait_for(self._sem.acquire(), timeout=self.wait)
        except TimeoutError:
            raise self._busy(f"no answer slot freed within {self.wait:g} s") from None
        finally:
            self.waiting -= 1
        self.running += 1

    def release(self) -> None:
        """Give the slot back (safe to call from the event loop only)."""
        assert self._sem is not None
        self.running -= 1
        self._sem.release()

class RateLimit:
    """A moving-window limit per client: its bearer token when it sends one, else its address."""

    def __init__(self, spec: str | None, storage_uri: str = "memory://") -> None:
        self.item: RateLimitItem | None = parse(spec) if spec else None
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    @staticmethod
    def client_key(request: Request) -> str:
        """Who is asking: a digest of the bearer token (never the token itself), or the client address."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and auth[7:].strip():
            return "token:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:16]
        return "addr:" + (request.client.host if request.client else "unknown")

    def check(self, request: Request) -> None:
        """Count one request for this client; 429 with Retry-After once it is over the limit."""
        if self.item is None:
            return
        key = self.client_key(request)
        if self._limiter.hit(self.item, key):
            return
        reset = self._limiter.get_window_stats(self.item, key).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, f"rate limit of {self.item} exceeded for this client; retry in {retry} s",
                       code="rate_limited", headers={"Retry-After": str(retry)})


class Admission:
    """ASGI middleware in front of the answering routes: rate limit, then an answer slot held until the
    response (a stream included) has been sent, the client has gone away, or the time limit has passed.

    Holding the slot for the whole response bounds concurrent streams as well as one-shot answers. A stream
    cut by the time limit ends with an SSE `error` event, so the client learns why.
    """

    def __init__(self, app: ASGIApp, paths: frozenset[str], slots: AnswerSlots, rate: RateLimit,
                 time_limit: float) -> None:
        self.app = app
        self.paths = paths
        self.slots = slots
        self.rate = rate
        self.time_limit = time_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            self.rate.check(request)
            await self.slots.acquire()
        except ApiError as exc:
            await error_response(request, exc.status, str(exc), exc.code, exc.headers)(scope, receive, send)
            return
        state = {"started": False, "sse": False, "done": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                state["started"] = True
                state["sse"] = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["done"] = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracked), timeout=self.time_limit)
        except TimeoutError:
            why = f"the answer took longer than the {self.time_limit:g} s limit"
            with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
                if not state["started"]:
                    await error_response(request, 503, f"{why}; retry later", "timeout",
                                         {"Retry-After": "1"})(scope, receive, send)
                elif not state["done"]:
                    tail = f"event: error\ndata: {json.dumps({'error': why})}\n\n" if state["sse"] else ""
                    await send({"type": "http.response.body", "body": tail.encode(), "more_body": False})
        finally:
            self.slots.release()
