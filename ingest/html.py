"""Main text of an HTML page: trafilatura (which already falls back to its readability and jusText passes when its
own pass finds little), and reader comments only when asked for. The page's description meta tag is not article
text (a summary the publisher wrote for search engines and shares), so it is not added to the body.

The metadata header (title, byline, date from the meta tags) is kept apart from the page text: it is built by us,
not copied from the page, so it is never scored or quoted as extracted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_WS = re.compile(r"\s+")
COMMENTS_HEADING = "Reader comments"  # the line between the article and its readers' comments, when kept
@dataclass
class HtmlText:
    """What a page says (body, then reader comments) and what its meta tags declare."""

    body: str
    header: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def _squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _blocks(text: str) -> str:
    """trafilatura writes one block (paragraph, list item, table row) per line: make each a paragraph."""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def extract_html(html: str, *, comments: bool = False) -> HtmlText | None:
    """The page's text, or None when no extractor finds any."""
    import trafilatura

    doc: Any = trafilatura.bare_extraction(html, with_metadata=True, include_comments=comments,
                                           include_tables=True)
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not body:
        return None
    parts = [_blocks(body)]
    if comments and doc is not None and (getattr(doc, "comments", None) or "").strip():
        # Kept apart from the article by a heading line, so that citations can say a quote is a reader's comment.
        parts += [COMMENTS_HEADING, _blocks(doc.comments)]
    out = HtmlText(body="\n\n".join(parts))
    if doc is None:
        return out
    # Title, byline and date lead the stored text so a search for them finds the article; answers cite them as
    # metadata, never as a quote.
    if getattr(doc, "title", None):
        out.meta["title"] = doc.title
        out.header.append(doc.title)
    if getattr(doc, "author", None):
        out.meta["author"] = doc.author
        out.header.append(f"By {doc.author}")
    if getattr(doc, "date", None):
        out.meta["published"] = doc.date
        out.header.append(str(doc.date))
    # The page's description meta is the publisher's summary, not article text: kept as a metadata field, searchable
    # (a header line, like the title) and cited as metadata, never as a quote of the article. One the body already
    # holds verbatim is article text, so it is not repeated.
    description = _squash(str(getattr(doc, "description", None) or ""))
    if description and description not in _squash(body):
        out.meta["description"] = description
        out.header.append(description)
    # The outlet and the page's own address: trafilatura reads og:site_name (and its kin) and the canonical URL;
    # a page that names no site is known by its host. Metadata only: the article text stays as it was.
    url = getattr(doc, "url", None)
    if url and urlsplit(str(url)).scheme in ("http", "https"):
        out.meta["url"] = str(url)
    site = getattr(doc, "sitename", None) or getattr(doc, "hostname", None) or (
        urlsplit(str(url)).hostname if url else None)
    if site:
        out.meta["site"] = _squash(str(site)).removeprefix("www.")
    return out
