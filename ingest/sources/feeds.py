"""RSS and Atom feeds (feedparser): each entry's page is fetched and saved for ingest.

Re-reading a feed costs little: the feed itself is asked for with If-None-Match / If-Modified-Since, an entry
already fetched is fetched again only when the feed says it changed (its `updated` stamp), and a page whose bytes did
not change is skipped by the pipeline's content hash. What was seen is kept in `.feeds.json` in the fetched folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.sources.fetch import Fetched, FetchError, FetchLimits, fetch
from ingest.sources.saved import save

STATE_FILE = ".feeds.json"


@dataclass
class FeedResult:
    """One read of a feed: the pages saved for ingest, the entries skipped as unchanged, and per-entry errors."""

    feed: str
    not_modified: bool = False
    entries: int = 0
    saved: list[Path] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (entry URL, reason)
    state: dict[str, Any] = field(default_factory=dict)  # what to remember once the saved pages are ingested


def _load_state(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / STATE_FILE).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_state(folder: Path, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (STATE_FILE + ".part")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
    os.replace(tmp, folder / STATE_FILE)


def _entry_date(entry: Any) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()


def parse_feed(fetched: Fetched) -> Any:
    """The feed's entries; FetchError when the body is not a feed."""
    import feedparser

    parsed = feedparser.parse(fetched.body, response_headers={"content-location": fetched.final_url})
    if parsed.get("bozo") and not parsed.get("entries"):
        reason = parsed.get("bozo_exception")
        raise FetchError(f"{fetched.final_url} is not an RSS or Atom feed ({reason})")
    if not parsed.get("version") and not parsed.get("entries"):
        raise FetchError(f"{fetched.final_url} is not an RSS or Atom feed")
    return parsed


def read_feed(url: str, folder: Path, limits: FetchLimits, *,
              on_entry: Callable[[str, str | None], None] | None = None,
              fetcher: Callable[..., Fetched] = fetch) -> FeedResult:
    """Fetch the feed (conditionally), then every new or changed entry's page into `folder`. `on_entry(url, error)`
    hears each entry as it is done. FetchError when the feed itself cannot be read. Nothing is remembered until
    `remember` is called."""
    known = _load_state(folder).get(url, {})
    headers = {}
    if known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    feed = fetcher(url, limits, headers=headers)
    result = FeedResult(url)
    if feed.not_modified:
        result.not_modified = True
        return result
    parsed = parse_feed(feed)
    seen: dict[str, str] = dict(known.get("entries", {}))
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        result.entries += 1
        stamp = str(entry.get("updated") or entry.get("published") or entry.get("id") or "")
        if link in seen and seen[link] == stamp:
            result.unchanged += 1
            continue
        try:
            page = fetcher(link, limits)
            extra = {"feed": url}
            if (published := _entry_date(entry)) is not None:
                extra["feed_published"] = published  # the article's date when the page gives none
            result.saved.append(save(page, folder, extra))
            seen[link] = stamp
            if on_entry:
                on_entry(link, None)
        except FetchError as exc:
            result.errors.append((link, str(exc)))
            if on_entry:
                on_entry(link, str(exc))
    result.state = {"etag": feed.etag, "last_modified": feed.last_modified, "entries": seen}
    return result


def remember(folder: Path, result: FeedResult) -> None:
    """Record what this read saw, once its pages are stored: a run killed before that reads the feed again."""
    if result.state:
        state = _load_state(folder)
        state[result.feed] = result.state
        _save_state(folder, state)
