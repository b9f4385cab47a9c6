"""Guess title, author and date from an article's opening lines; declared metadata wins."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from dateutil import parser as dateparser

from vectorstore.articletext import MONTH_OR_ISO_DATE, parse_byline

_DATE_PREFIX = re.compile(r"^(?:published|posted|updated|date)(?:\s+on)?\s*[:\-]?\s*", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
HEADER_PARAGRAPHS = 5


@dataclass
class Metadata:
    """What we know about an article."""

    title: str
    author: str | None
    published: str | None
    site: str | None = None  # the outlet: a page's site name (og:site_name), its host, or as declared
    url: str | None = None  # the page's canonical address
    description: str | None = None  # the page's own summary (its description meta), not article text


def parse_date(line: str) -> str | None:
    """An ISO date if the whole line is a date (e.g. 'Sunday, December 29, 2024'), else None."""
    line = _DATE_PREFIX.sub("", line.strip())
    if len(line) > 60 or not _YEAR.search(line) or not MONTH_OR_ISO_DATE.search(line):
        return None
    try:
        when = dateparser.parse(line, fuzzy=False, default=dt.datetime(1900, 1, 1))
    except (ValueError, OverflowError):
        return None
    return when.date().isoformat() if when else None


def _as_date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        iso = parse_date(value) or (value.strip() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) else None)
        return iso
    return None


def guess(paragraphs: list[str], fallback_title: str, avatar_names: list[str]) -> Metadata:
    """Read the header paragraphs: a dateline, a byline, and the first title-like line."""
    title = author = published = None
    for par in paragraphs[:HEADER_PARAGRAPHS]:
        first = par.split("\n", 1)[0].strip()
        if published is None and (date := parse_date(first)):
            published = date
            continue
        if author is None and (name := parse_byline(first)):
            author = name
            continue
        if title is None and len(first) <= 250 and not first.endswith((".", "…", "?\"", ".\"")):
            title = first.lstrip("# ").strip() or None
    if author is None and avatar_names:
        author = avatar_names[0]
    return Metadata(title=title or fallback_title, author=author, published=published)


def merge(guessed: Metadata, declared: dict[str, Any]) -> Metadata:
    """Declared metadata (sidecar or front matter) overrides what was guessed."""
    title = declared.get("title")
    author = declared.get("author") or declared.get("authors")
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author)
    date_value = declared.get("published", declared.get("date"))
    site = declared.get("site") or declared.get("outlet")
    url = declared.get("url")
    return Metadata(
        title=str(title).strip() if title else guessed.title,
        author=str(author).strip() if author else guessed.author,
        published=_as_date(date_value) if date_value else guessed.published,
        site=str(site).strip() or None if site else guessed.site,
        url=str(url).strip() or None if url else guessed.url,
        description=" ".join(str(declared["description"]).split()) or None if declared.get("description")
        else guessed.description,
    )
