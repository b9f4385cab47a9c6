"""An engine's output before numbering: claims, each backed by verbatim spans of stored documents."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A verbatim stretch of a document's cleaned text, found inside one chunk."""

    doc_id: str
    chunk_id: str
    start: int
    end: int


@dataclass(frozen=True)
class MetaSpan:
    """A field of a document's stored metadata (author, published date): not article text."""

    doc_id: str
    field: str
    value: str


@dataclass
class Claim:
    """One answer sentence and the spans that support it."""

    text: str
    spans: list[Span | MetaSpan]
    supported: bool = True
    note: str = ""


@dataclass
class Draft:
    """Claims, or an abstention with the reason."""

    claims: list[Claim] = field(default_factory=list)
    abstain_reason: str | None = None
    # The short answer: an entity inside the first claim's span, or the metadata field that answers ("Who wrote
    # the article?": its author).
    short: Span | MetaSpan | None = None

    @property
    def abstained(self) -> bool:
        return self.abstain_reason is not None or not self.claims
