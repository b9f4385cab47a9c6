"""Settings section for the server."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
