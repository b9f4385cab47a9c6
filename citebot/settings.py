"""The one settings object: every section's fields, read from CITEBOT_* variables (and .env)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import BotConfig
from ingest.config import IngestConfig
from vectorstore.config import StoreConfig
from web.config import WebConfig

T = TypeVar("T", bound=BaseModel)


class Settings(StoreConfig, IngestConfig, BotConfig, WebConfig, BaseSettings):
    """All of citebot's configuration; each package receives only its own section."""

    model_config = SettingsConfigDict(env_prefix="CITEBOT_", env_file=".env", extra="ignore")

    openai_api_key: str | None = Field(
        default=None, validation_alias="OPENAI_API_KEY", description="Used when CITEBOT_LLM_API_KEY is unset."
    )

    def section(self, cls: type[T]) -> T:
        """The fields of one package's section."""
        data: dict[str, Any] = {name: getattr(self, name) for name in cls.model_fields}
        return cls.model_validate(data)

    @property
    def store(self) -> StoreConfig:
        return self.section(StoreConfig)

    @property
    def ingest(self) -> IngestConfig:
        return self.section(IngestConfig)

    @property
    def bot(self) -> BotConfig:
        cfg = self.section(BotConfig)
        if not cfg.llm_api_key and self.openai_api_key:
            cfg = cfg.model_copy(update={"llm_api_key": self.openai_api_key})
        return cfg

    @property
    def web(self) -> WebConfig:
        return self.section(WebConfig)
