"""Text of a PDF with its page numbers (pypdf), for press releases and reports.

pypdf gives each page's text with the PDF's line breaks, which end lines, not paragraphs. Lines are joined back
into paragraphs: a blank line, or a line that ends a sentence and is noticeably shorter than the page's typical
line, closes one; a word hyphenated across a line break is joined. Each paragraph keeps its page number, so a
citation can say which page its quote is on.
"""

from __future__ import annotations

import io
import re
import statistics
from dataclasses import dataclass

from ingest.loaders import LoadError

_END = re.compile(r"[.!?:;\"”’)]$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)
_RUNNING_MAX = 120  # a running head or foot is a short line


@dataclass
class PdfText:
    """Paragraphs in reading order, each with its 1-based page number, and the document's own title if any."""

    paragraphs: list[tuple[int, str]]
    title: str | None = None
    author: str | None = None


def _paragraphs(page_text: str) -> list[str]:
    lines = [ln.rstrip() for ln in page_text.replace("\r", "\n").split("\n")]
    widths = [len(ln.strip()) for ln in lines if ln.strip()]
    typical = statistics.median(widths) if widths else 0
    out: list[str] = []
    cur = ""
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            if cur:
                out.append(cur)
                cur = ""
            continue
        if cur.endswith("-") and line[:1].islower():
            cur = cur[:-1] + line  # "infra-" + "structure"
        else:
            cur = f"{cur} {line}".strip()
        if _END.search(line) and len(line) < 0.8 * typical:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def read_pdf(raw: bytes) -> PdfText:
    """The PDF's paragraphs by page; LoadError when it is unreadable, encrypted, or has no text layer."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted; save an unprotected copy and ingest that")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"not a readable PDF ({exc})") from exc
    by_page = [_paragraphs(text) for text in pages]
    # Running heads and feet (the report's title, a confidentiality line) repeat on every page, and page numbers
    # stand alone: printed furniture, not the document's text. A short line on more than one page and on at least
    # half of them is one.
    counts: dict[str, int] = {}
    for pars in by_page:
        for p in set(pars):
            counts[p] = counts.get(p, 0) + 1
    running = {p for p, n in counts.items() if len(p) <= _RUNNING_MAX and n > 1 and n * 2 >= len(pages)}
    paragraphs = [(n, p) for n, pars in enumerate(by_page, start=1) for p in pars
                  if p not in running and not _PAGE_NUMBER.match(p)]
    if not any(p.strip() for _, p in paragraphs):
        raise LoadError(f"the PDF's {len(pages)} page(s) hold no text layer (a scanned document?); run OCR on it "
                        "first (for example `ocrmypdf in.pdf out.pdf`) and ingest the result")
    title = str(info.title).strip() if info is not None and info.title else None
    author = str(info.author).strip() if info is not None and info.author else None
    return PdfText(paragraphs, title=title or None, author=author or None)
