"""Main text of an HTML page: trafilatura (which already falls back to its readability and jusText passes when its
own pass finds little), reader comments, and the page's own summary where the body lacks it.

The metadata header (title, byline, date from the meta tags) is kept apart from the page text: it is built by us,
not copied from the page, so it is never scored or quoted as extracted text.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from typing import Any

_WS = re.compile(r"\s+")
_DESCRIPTION = re.compile(
    r"""<meta\s[^>]*(?:name|property)\s*=\s*["'](?:description|og:description|twitter:description)["'][^>]*>""",
    re.I,
)
_CONTENT = re.compile(r"""content\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I | re.S)
_ELLIPSIS = ("…", "...", "[…]", "[...]")


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


def page_description(html: str) -> str | None:
    """The page's summary from its description meta tags (the longest one), unescaped."""
    best = None
    for tag in _DESCRIPTION.findall(html[:200_000]):
        m = _CONTENT.search(tag)
        if not m:
            continue
        text = _squash(htmllib.unescape(m.group(1) if m.group(1) is not None else m.group(2)))
        if best is None or len(text) > len(best):
            best = text
    return best


def _is_new_summary(description: str | None, body: str) -> bool:
    """A description worth adding: a sentence or more, not already in the body, not a cut-off copy of it."""
    if not description or len(description) < 40 or " " not in description:
        return False
    stem = description
    for mark in _ELLIPSIS:
        stem = stem.removesuffix(mark)
    return _squash(stem) not in _squash(body)


def extract_html(html: str, *, comments: bool = True, summary: bool = True) -> HtmlText | None:
    """The page's text, or None when no extractor finds any."""
    import trafilatura

    doc: Any = trafilatura.bare_extraction(html, with_metadata=True, include_comments=comments,
                                           include_tables=True)
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not body:
        return None
    parts = [_blocks(body)]
    if comments and doc is not None and (getattr(doc, "comments", None) or "").strip():
        parts.append(_blocks(doc.comments))
    description = page_description(html) if summary else None
    if _is_new_summary(description, "\n".join(parts)):
        # The publisher's own standfirst, verbatim from the page; many pages show it above the article.
        parts.insert(0, str(description))
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
    return out
