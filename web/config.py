"""Settings section for the server."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class WebConfig(BaseModel):
    """How `citebot serve` listens and who may read and write."""

    host: str = Field(default="127.0.0.1", description="Interface `citebot serve` binds to.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port `citebot serve` listens on.")
    max_request_kb: int = Field(default=256, ge=1, description="Largest accepted JSON request body, in KiB.")
    admin_token: str | None = Field(
        default=None,
        description="Bearer token for writes (adding and deleting articles, listing feedback and all "
        "conversations), on the API and in the page's Articles tab. Unset: writes are disabled.",
    )
    read_token: str | None = Field(
        default=None,
        description="Bearer token for reads (asking, conversations, /v1 OpenAI API, the page). Unset: reads are "
        "open. The admin token also reads.",
    )
    max_upload_files: int = Field(default=20, ge=1, le=1000, description="Most files in one upload request.")
    server_url: str | None = Field(
        default=None,
        description="URL of a running `citebot serve` (e.g. http://127.0.0.1:7860): `citebot ask` then sends its "
        "questions there instead of loading the model itself, so each ask is fast.",
    )
    max_concurrent: int = Field(
        default=4, ge=1, le=256,
        description="Answers computed at once (API, streams, /v1). Answering is CPU-bound: a few per core keeps "
        "latency flat; more only queue inside the process.",
    )
    max_queue: int = Field(
        default=16, ge=0, le=4096,
        description="Requests that may wait for an answer slot; past it they get 503 with Retry-After at once.",
    )
    queue_wait: float = Field(
        default=1.0, gt=0, le=60,
        description="Seconds a request waits for an answer slot before it gets 503 with Retry-After, so admitted "
        "requests stay fast and clients or the proxy retry elsewhere.",
    )
    rate_limit: str | None = Field(
        default=None,
        description="Per-client limit on answering requests, e.g. '30/minute' (the `limits` notation), keyed by "
        "the bearer token if one is sent, else the client address; over it: 429 with Retry-After. Unset: none.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live: memory:// (per process) or a shared store such as "
        "redis://host:6379 so that replicas count together.",
    )
    client_rate: float = Field(
        default=100.0, ge=0,
        description="Requests per second each client may make to /api and /v1 (bearer token if sent, else its "
        "address), enforced at the ASGI edge before a body is read; past it: 429 with Retry-After. 0: no limit. "
        "Behind a proxy every client has the proxy's address: raise it there and let the proxy limit per client.",
    )
    client_burst: int = Field(
        default=200, ge=1,
        description="Requests a client may make at once above CITEBOT_CLIENT_RATE before it is limited.",
    )
    answer_time_limit: float = Field(
        default=120.0, gt=0,
        description="Seconds an answer or stream may take in total; a stream is then ended with an `error` event "
        "(and its work stopped), a one-shot answer gets 503.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, v: str | None) -> str | None:
        if v:
            from limits import parse

            try:
                parse(v)
            except ValueError as exc:
                raise ValueError(f"{v!r} is not a rate limit; write it like '30/minute' or '5 per second'") from exc
        return v
