"""Ingest URLs and feeds: fetch each into the fetched folder, then run the file pipeline on what was saved.

Errors are per URL (and per feed entry), in the ingest report beside per-file ones; a URL that fails changes
nothing already stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.pipeline import FileError, IngestReport
from ingest.sources.feeds import FeedResult, read_feed, remember
from ingest.sources.fetch import FetchError, FetchLimits, fetch
from ingest.sources.saved import save

Say = Callable[[str], None]


def fetch_urls(urls: Sequence[str], folder: Path, limits: FetchLimits,
               say: Say | None = None) -> tuple[list[Path], list[FileError]]:
    """Fetch and save each page; the saved files and one error per URL that failed."""
    saved: list[Path] = []
    errors: list[FileError] = []
    for url in urls:
        try:
            saved.append(save(fetch(url, limits), folder))
            if say:
                say(f"fetched {url}")
        except FetchError as exc:
            errors.append(FileError(url, str(exc)))
    return saved, errors


def fetch_feeds(feeds: Sequence[str], folder: Path, limits: FetchLimits,
                say: Say | None = None) -> tuple[list[Path], list[FileError], list[FeedResult]]:
    """Read each feed (conditionally) and save its new or changed entries' pages."""
    saved: list[Path] = []
    errors: list[FileError] = []
    results: list[FeedResult] = []

    def entry(url: str, error: str | None) -> None:
        if say:
            say(f"  entry {url}: {error}" if error else f"  entry {url}")

    for feed in feeds:
        try:
            result = read_feed(feed, folder, limits, on_entry=entry)
        except FetchError as exc:
            errors.append(FileError(feed, str(exc)))
            continue
        results.append(result)
        saved += result.saved
        errors += [FileError(url, reason) for url, reason in result.errors]
        if say:
            say(f"feed {feed}: not modified since the last read" if result.not_modified else
                f"feed {feed}: {result.entries} entries, {len(result.saved)} fetched, {result.unchanged} unchanged, "
                f"{len(result.errors)} failed")
    return saved, errors, results


def ingest_sources(urls: Sequence[str], feeds: Sequence[str], folder: Path, limits: FetchLimits,
                   run_ingest: Callable[[list[Path]], IngestReport], say: Say | None = None) -> IngestReport:
    """Fetch the URLs and the feeds' entries into `folder`, ingest the saved pages with `run_ingest`, and report
    both the fetch errors and the pipeline's."""
    pages, errors = fetch_urls(urls, folder, limits, say)
    entries, feed_errors, results = fetch_feeds(feeds, folder, limits, say)
    saved = list(dict.fromkeys(pages + entries))
    report = run_ingest(saved) if saved else IngestReport()
    for result in results:
        remember(folder, result)  # only now: a run killed before this reads the feeds' entries again
    by_path = {str(p): p for p in saved}
    report.errors = errors + feed_errors + [FileError(_url_of(by_path.get(e.path)) or e.path, e.error)
                                            for e in report.errors]
    return report


def _url_of(path: Path | None) -> str | None:
    """The URL a saved page came from (its sidecar's source), to name it in errors."""
    if path is None:
        return None
    from ingest.loaders import LoadError, read_sidecar

    try:
        return str(read_sidecar(path).get("source") or "") or None
    except LoadError:
        return None
