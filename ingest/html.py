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
from urllib.parse import urlsplit

_WS = re.compile(r"\s+")
_DESCRIPTION = re.compile(
    r"""<meta\s[^>]*(?:name|property)\s*=\s*["'](?:description|og:description|twitter:description)["'][^>]*>""",
    re.I,
)
_CONTENT = re.compile(r"""content\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I | re.S)


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


_PRIORITY = ("og:description", "description", "twitter:description")
_NAME = re.compile(r"""(?:name|property)\s*=\s*["']([^"']+)["']""", re.I)
_WORD = re.compile(r"\w+")


def page_description(html: str) -> str | None:
    """The page's summary: the first og:description, else description, else twitter:description, unescaped."""
    found: dict[str, str] = {}
    for tag in _DESCRIPTION.findall(html[:200_000]):
        name, content = _NAME.search(tag), _CONTENT.search(tag)
        if not name or not content:
            continue
        text = _squash(htmllib.unescape(content.group(1) if content.group(1) is not None else content.group(2)))
        found.setdefault(name.group(1).lower(), text)
    return next((found[k] for k in _PRIORITY if found.get(k)), None)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _is_new_summary(description: str | None, body: str) -> bool:
    """A description worth adding: a sentence or more whose wording the body does not already carry.

    Pages often reuse their lede as the description, with other quote marks, without the dateline, or cut off;
    comparing word triples catches all three, so the lede is never stored twice.
    """
    if not description or len(description) < 40 or " " not in description:
        return False
    dw = _words(description)
    if len(dw) < 3:
        return False
    bw = _words(body)
    body_triples = set(zip(bw, bw[1:], bw[2:], strict=False))
    triples = list(zip(dw, dw[1:], dw[2:], strict=False))
    shared = sum(t in body_triples for t in triples) / len(triples)
    return shared < 0.5


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
        # The publisher's own summary, verbatim from the page. It goes after the article (before any comments)
        # so the article's chunks, and so its retrieval, stay as they were without it.
        parts.insert(1, str(description))
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
