"""Settings section for the conversation store."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChatsConfig(BaseModel):
    """Where conversations and feedback are kept."""

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the conversation database, e.g. postgresql+psycopg://user@host/citebot; "
        "default: SQLite file citebot.db in CITEBOT_DATA_DIR.",
    )
