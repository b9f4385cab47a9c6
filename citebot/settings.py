"""The one settings object: every section's fields, read from CITEBOT_* variables (and .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import BotConfig
from chats.config import ChatsConfig
from ingest.config import IngestConfig
from vectorstore.config import StoreConfig
from web.config import WebConfig

T = TypeVar("T", bound=BaseModel)


class Settings(StoreConfig, IngestConfig, BotConfig, WebConfig, ChatsConfig, BaseSettings):
    """All of citebot's configuration; each package receives only its own section."""

    model_config = SettingsConfigDict(env_prefix="CITEBOT_", env_file=".env", extra="ignore")

    openai_api_key: str | None = Field(
        default=None, validation_alias="OPENAI_API_KEY", description="Used when CITEBOT_LLM_API_KEY is unset."
    )

    data_dir: Path | None = Field(
        default=None,
        description="Folder for citebot's own files: the conversation database and uploaded articles; "
        "default: the folder that holds CITEBOT_CHROMA_PATH.",
    )

    @property
    def resolved_data_dir(self) -> Path:
        """CITEBOT_DATA_DIR, or the folder next to the embedded store."""
        return self.data_dir or self.chroma_path.parent

    def section(self, cls: type[T]) -> T:
        """The fields of one package's section."""
        data: dict[str, Any] = {name: getattr(self, name) for name in cls.model_fields}
        return cls.model_validate(data)

    @property
    def store(self) -> StoreConfig:
        return self.section(StoreConfig)

    @property
    def ingest(self) -> IngestConfig:
        cfg = self.section(IngestConfig)
        if cfg.upload_dir is None:
            cfg = cfg.model_copy(update={"upload_dir": self.resolved_data_dir / "uploads"})
        if cfg.fetched_dir is None:
            cfg = cfg.model_copy(update={"fetched_dir": self.resolved_data_dir / "fetched"})
        return cfg

    @property
    def chats(self) -> ChatsConfig:
        cfg = self.section(ChatsConfig)
        if cfg.database_url is None:
            cfg = cfg.model_copy(update={"database_url": f"sqlite:///{self.resolved_data_dir / 'citebot.db'}"})
        return cfg

    @property
    def bot(self) -> BotConfig:
        cfg = self.section(BotConfig)
        if not cfg.llm_api_key and self.openai_api_key:
            cfg = cfg.model_copy(update={"llm_api_key": self.openai_api_key})
        return cfg

    @property
    def web(self) -> WebConfig:
        return self.section(WebConfig)
