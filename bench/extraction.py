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
    miss_classes: dict[str, int] = field(default_factory=dict)
    leak_classes: dict[str, int] = field(default_factory=dict)

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


@dataclass
class PageParts:
    """Where a snippet can come from on a page, as trafilatura reads it: its body, its reader comments, its
    description meta and its title/byline/date."""

    body: str
    comments: str
    description: str
    header: str


def page_parts(path: Path) -> PageParts:
    import trafilatura

    try:
        html = load_file(path, 1 << 30).text
    except (LoadError, OSError):
        return PageParts("", "", "", "")
    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=True, include_tables=True)

    def get(name: str) -> str:
        return _squash(str(getattr(doc, name, None) or "")) if doc is not None else ""

    return PageParts(get("text"), get("comments"), get("description"),
                     " ".join(x for x in (get("title"), get("author"), get("date")) if x))


def classify(snippet: str, parts: PageParts, missed: bool) -> str:
    """The class of a missed or leaked snippet: which part of the page it belongs to."""
    s = _squash(snippet)
    if s in parts.description and s not in parts.body:
        return "description"
    if s in parts.comments and s not in parts.body:
        return "comments"
    if not missed and s in parts.header and s not in parts.body:
        return "title, byline or date"
    if s in parts.body:
        return "dropped by cleaning" if missed else "in the extracted body"
    return "not extracted" if missed else "elsewhere on the page"


def score(cases: list[Case], pages: Path, extract: Extractor, classes: bool = False) -> Score:
    """Run one extractor on every page; a page it cannot read counts as empty text. With `classes`, each miss and
    leak is also counted by the part of the page it belongs to (see `classify`)."""
    out = Score()
    for case in cases:
        try:
            text = _squash(extract(pages / case.file) or "")
        except (LoadError, OSError):
            text = ""
            out.failed_pages += 1
        parts = page_parts(pages / case.file) if classes else None
        for snippet in case.with_:
            out.expected += 1
            if _squash(snippet) in text:
                out.found += 1
            else:
                out.misses.append(f"{case.file}: {snippet}")
                if parts is not None:
                    kind = classify(snippet, parts, missed=True)
                    out.miss_classes[kind] = out.miss_classes.get(kind, 0) + 1
        for snippet in case.without:
            out.boilerplate += 1
            if _squash(snippet) in text:
                out.leaked += 1
                out.leaks.append(f"{case.file}: {snippet}")
                if parts is not None:
                    kind = classify(snippet, parts, missed=False)
                    out.leak_classes[kind] = out.leak_classes.get(kind, 0) + 1
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
    page = score(cases, pages, citebot_page, classes=True)
    bare = score(cases, pages, bare_trafilatura, classes=True)
    log(f"web extraction on {len(cases)} pages: citebot recall {stored.recall:.3f} leakage {stored.leakage:.3f}; "
        f"bare trafilatura recall {bare.recall:.3f} leakage {bare.leakage:.3f}")
    for name, s in (("citebot page text", page), ("bare trafilatura", bare)):
        log(f"  {name}: misses by class {_classes(s.miss_classes)}; leaks by class {_classes(s.leak_classes)}")
    return {
        "pages": len(cases),
        "with_snippets": stored.expected,
        "without_snippets": stored.boilerplate,
        "citebot": {**_figures(stored), "misses": stored.misses, "leaks": stored.leaks},
        "citebot_page_text_only": {**_figures(page), "misses_by_class": page.miss_classes,
                                   "leaks_by_class": page.leak_classes},
        "bare_trafilatura": {**_figures(bare), "misses_by_class": bare.miss_classes,
                             "leaks_by_class": bare.leak_classes},
    }


def _classes(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"
