"""Request and response bodies of the JSON API (they appear in the OpenAPI document at /docs)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, model_validator

from bot.config import BotConfig, EngineName
from bot.models import Answer, Message, QuestionError
from bot.retrieve import Filters
from vectorstore.store import Document


class AskRequest(BaseModel):
    """Body of POST /api/ask and /api/chat/stream."""

    # The limits are declared for clients here and enforced by bot.answer.validate, whose messages say what
    # is wrong in words ("question is empty") rather than in validator terms.
    question: str = Field(
        json_schema_extra={"minLength": 1, "maxLength": BotConfig().max_question_chars, "pattern": r"\S"},
        description="The question: not blank, at most CITEBOT_MAX_QUESTION_CHARS characters (8000 by default).",
    )
    history: list[Message] = Field(default_factory=list, description="Earlier turns, oldest first.")
    conversation_id: str | None = Field(
        default=None, description="A stored conversation (POST /api/conversations): the server supplies its "
        "history and records this turn. Do not send `history` with it.")
    engine: str | None = Field(
        json_schema_extra={"enum": [*get_args(EngineName), None]},
        default=None, description="extractive, openai or llamacpp (default: configured); an engine this server "
        "has not configured is a 422 saying how to enable it.")
    sources: list[str] = Field(default_factory=list, description="Only retrieve from these sources.")
    sites: list[str] = Field(default_factory=list, description="Only retrieve from these outlets (the `site` of "
                             "GET /api/documents, any case).")
    published_from: str | None = Field(default=None, description="Only articles published on/after (YYYY-MM-DD).")
    published_to: str | None = Field(default=None, description="Only articles published on/before (YYYY-MM-DD).")

    def filters(self) -> Filters | None:
        """The retrieval filters, or None; QuestionError for a bad date."""
        if not (self.sources or self.sites or self.published_from or self.published_to):
            return None
        try:
            return Filters.checked(self.sources, self.published_from, self.published_to, self.sites)
        except ValueError as exc:
            raise QuestionError(str(exc)) from exc


class AskResponse(Answer):
    """The `citebot ask --json` answer, plus where it was recorded when a conversation was given."""

    conversation_id: str | None = Field(default=None, description="The conversation the turn was added to.")
    turn_id: int | None = Field(default=None, description="The recorded turn, for feedback.")


class DocumentInfo(BaseModel):
    """A stored document (the `citebot documents --json` shape)."""

    doc_id: str
    source: str
    title: str
    author: str | None
    published: str | None
    site: str | None = Field(default=None, description="The outlet: the page's site name, else its host.")
    url: str | None = Field(default=None, description="The page's canonical address, when it declares one.")
    description: str | None = Field(default=None, description="The page's own summary (its description meta): "
                                    "metadata, not article text.")
    chunks: int
    index: Literal["static", "full"] = Field(
        description="static: searchable with the fast tier-1 vectors; full: upgraded to the full model's vectors.")

    @classmethod
    def of(cls, d: Document) -> DocumentInfo:
        """From a manifest entry."""
        return cls(doc_id=d.doc_id, source=d.source, title=d.title, author=d.author, published=d.published,
                   site=d.site, url=d.url, description=d.description, chunks=d.chunks,
                   index="full" if d.tier == 2 else "static")


class DocumentCounts(BaseModel):
    """How many documents an ingest added, updated, left alone, removed or could not read."""

    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int


class FileFailure(BaseModel):
    """One rejected file and why."""

    path: str = Field(description="The file name as sent.")
    error: str


class IngestResult(BaseModel):
    """The `citebot ingest --json` report."""

    documents: DocumentCounts
    chunks_embedded: int
    seconds: float
    errors: list[FileFailure]


class IngestPathsRequest(BaseModel):
    """Body of POST /api/ingest: files or folders on the server's own disk, as `citebot ingest` takes them."""

    paths: list[str] = Field(min_length=1, max_length=1000,
                             description="Absolute paths of files or folders on the server's machine.")
    prune: bool = Field(default=False, description="Also remove stored documents whose files are gone.")


class UrlsRequest(BaseModel):
    """Body of POST /api/documents/urls: pages to fetch, and feeds whose entries to fetch."""

    urls: list[Annotated[str, Field(min_length=1, max_length=2048)]] = Field(
        default_factory=list, max_length=100, description="http(s) addresses of article pages (HTML, text or PDF).")
    feeds: list[Annotated[str, Field(min_length=1, max_length=2048)]] = Field(
        default_factory=list, max_length=20,
        description="RSS or Atom feed addresses: each new or changed entry's page is fetched and ingested.")

    @model_validator(mode="after")
    def _some(self) -> UrlsRequest:
        if not self.urls and not self.feeds:
            raise ValueError("give at least one URL in `urls` or `feeds`")
        return self


class PasteRequest(BaseModel):
    """Body of POST /api/documents/text: pasted article text."""

    title: str = Field(min_length=1, max_length=300, description="The article's title; also names its file.")
    text: str = Field(min_length=1, description="The article text (Markdown allowed).")


class Deleted(BaseModel):
    """A removed document."""

    deleted: str = Field(description="Its doc_id.")
    source: str


class NewConversation(BaseModel):
    """Body of POST /api/conversations."""

    title: str | None = Field(default=None, max_length=200, description="Default: the first question.")


class Rename(BaseModel):
    """Body of PATCH /api/conversations/{id}."""

    title: str = Field(min_length=1, max_length=200)


class FeedbackRequest(BaseModel):
    """Body of POST /api/conversations/{id}/turns/{turn_id}/feedback."""

    rating: Literal["up", "down"] = Field(description="up for 👍, down for 👎.")
    comment: str | None = Field(default=None, max_length=4000, description="What was wrong or right.")
