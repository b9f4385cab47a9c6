"""Web-extraction faithfulness: citebot's ingest text vs bare `trafilatura.extract` on real pages, same run.

The pages and `expected.json` live in the shared folder (`../shared/bench/web-extraction/`) and are read in place.
A page scores by `with` recall (share of its must-have snippets found) and `without` leakage (share of its
boilerplate snippets found), after collapsing whitespace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.config import IngestConfig
from ingest.loaders import LoadError, load_file
from ingest.pipeline import prepare

_WS = re.compile(r"\s+")
Extractor = Callable[[Path], str]


@dataclass
class Case:
    """One page and its expected snippets."""

    file: str
    with_: list[str]
    without: list[str]


@dataclass
class Score:
    """Counts for one extractor over the whole set, with the snippets it got wrong."""

    found: int = 0
    expected: int = 0
    leaked: int = 0
    boilerplate: int = 0
    failed_pages: int = 0
    misses: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 0.0

    @property
    def leakage(self) -> float:
        return self.leaked / self.boilerplate if self.boilerplate else 0.0


def _squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


def load_cases(folder: Path) -> list[Case]:
    """The pages that have expectations, in the file's order."""
    data = json.loads((folder / "expected.json").read_text("utf-8"))
    return [Case(file=v["file"], with_=list(v.get("with", [])), without=list(v.get("without", [])))
            for v in data.values()]


def score(cases: list[Case], pages: Path, extract: Extractor) -> Score:
    """Run one extractor on every page; a page it cannot read counts as empty text."""
    out = Score()
    for case in cases:
        try:
            text = _squash(extract(pages / case.file) or "")
        except (LoadError, OSError):
            text = ""
            out.failed_pages += 1
        for snippet in case.with_:
            out.expected += 1
            if _squash(snippet) in text:
                out.found += 1
            else:
                out.misses.append(f"{case.file}: {snippet}")
        for snippet in case.without:
            out.boilerplate += 1
            if _squash(snippet) in text:
                out.leaked += 1
                out.leaks.append(f"{case.file}: {snippet}")
    return out


def citebot_stored(path: Path) -> str:
    """What citebot stores: the cleaned page text led by the metadata header it builds (title, byline, date)."""
    return prepare(load_file(path, 1 << 30), path.parent, IngestConfig()).clean_text


def citebot_page(path: Path) -> str:
    """The cleaned page text alone: what citebot quotes as verbatim text (the header is cited as metadata)."""
    return prepare(load_file(path, 1 << 30), path.parent, IngestConfig()).page_text


def bare_trafilatura(path: Path) -> str:
    """`trafilatura.extract` with default options on the same decoded HTML."""
    import trafilatura

    return trafilatura.extract(load_file(path, 1 << 30).text) or ""


def _figures(s: Score) -> dict[str, Any]:
    return {
        "with_recall": {"value": round(s.recall, 4), "unit": "share"},
        "without_leakage": {"value": round(s.leakage, 4), "unit": "share"},
        "snippets_found": s.found,
        "snippets_leaked": s.leaked,
        "pages_failed": s.failed_pages,
    }


def bench_extraction(folder: Path, log: Callable[[str], None]) -> dict[str, Any] | None:
    """Both extractors on the shared pages; None (with a message) when the folder is missing."""
    if not (folder / "expected.json").is_file():
        log(f"web extraction skipped: {folder}/expected.json is missing (pass --shared DIR, the shared folder)")
        return None
    cases = load_cases(folder)
    pages = folder / "pages"
    stored = score(cases, pages, citebot_stored)
    page = score(cases, pages, citebot_page)
    bare = score(cases, pages, bare_trafilatura)
    log(f"web extraction on {len(cases)} pages: citebot recall {stored.recall:.3f} leakage {stored.leakage:.3f}; "
        f"bare trafilatura recall {bare.recall:.3f} leakage {bare.leakage:.3f}")
    return {
        "pages": len(cases),
        "with_snippets": stored.expected,
        "without_snippets": stored.boilerplate,
        "citebot": {**_figures(stored), "misses": stored.misses, "leaks": stored.leaks},
        "citebot_page_text_only": _figures(page),
        "bare_trafilatura": _figures(bare),
    }
