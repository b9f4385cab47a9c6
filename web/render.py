"""HTML for the chat page. Every string from an article or a user goes through html.escape."""

from __future__ import annotations

import html
import re

from bot.models import Answer
from bot.retrieve import Corpus
from bot.text import MARKERS
from vectorstore.store import Document

CONTEXT_CHARS = 280


def esc(text: str | None) -> str:
    """Escape text for HTML, quotes included."""
    return html.escape(text or "", quote=True)


def highlighted_passage(text: str, start: int, end: int, context: int = CONTEXT_CHARS,
                        short: tuple[int, int] | None = None) -> str:
    """The quoted span in <mark>, inside its surrounding passage (escaped); the short answer in it in <strong>."""
    lo = max(0, text.rfind("\n\n", 0, max(0, start - context)) + 2 if start > context else 0)
    lo = max(lo, start - context)
    hi = min(len(text), end + context)
    before, quote, after = text[lo:start], text[start:end], text[end:hi]
    lead = "…" if lo > 0 else ""
    tail = "…" if hi < len(text) else ""
    marked = esc(quote)
    if short is not None and start <= short[0] < short[1] <= end:
        a, b = short[0] - start, short[1] - start
        marked = f"{esc(quote[:a])}<strong class=\"cb-short\">{esc(quote[a:b])}</strong>{esc(quote[b:])}"
    return f"{lead}{esc(before)}<mark>{marked}</mark>{esc(after)}{tail}"


_COMMENT = " · a reader’s comment, not the article"


def sources_html(answer: Answer | None, corpus: Corpus) -> str:
    """The sources panel: one card per citation with title, author, date and the highlighted quote."""
    if answer is None:
        pending = sum(1 for d in corpus.docs.values() if d.tier == 1)
        status = (f'<div class="cb-index">{pending} of {len(corpus.docs)} documents are searchable with the fast '
                  "static model while the full index is built in the background.</div>") if pending else ""
        return f'<div class="cb-sources cb-empty">Sources for the answer appear here.{status}</div>'
    if answer.abstained:
        return (
            '<div class="cb-sources cb-abstain"><strong>The articles don\'t say.</strong> '
            "No stored passage answers this question, so nothing is cited.</div>"
        )
    cards = []
    for c in answer.citations:
        doc = corpus.docs.get(c.doc_id)
        text = corpus.texts.get(c.doc_id, c.quote)
        meta = " · ".join(x for x in (doc.site if doc else None, doc.author if doc else None,
                                      doc.published if doc else None) if x)
        if c.kind == "metadata" or c.start is None or c.end is None:
            label = {"author": "author", "site": "outlet", "description": "description"}.get(c.field or "",
                                                                                          "publication date")
            body = (f'<div class="cb-metadata">From the page\'s metadata ({label}), not the article text: '
                    f"<strong>{esc(c.quote)}</strong></div>")
        else:
            sa = answer.short_answer
            short = ((sa.start, sa.end) if sa is not None and sa.citation == c.n and sa.start is not None
                     and sa.end is not None else None)
            body = f'<blockquote class="cb-quote">{highlighted_passage(text, c.start, c.end, short=short)}</blockquote>'
        cards.append(
            f'<div class="cb-card" id="cb-src-{c.n}"><div class="cb-head"><span class="cb-n">[{c.n}]</span> '
            f'<span class="cb-title">{esc(c.title)}</span></div>'
            f'<div class="cb-meta">{esc(meta) or "author and date unknown"} · {esc(c.source)}'
            f'{f" · page {c.page}" if c.page else ""}{_COMMENT if c.comment else ""}</div>'
            f"{body}</div>"
        )
    return '<div class="cb-sources">' + "".join(cards) + "</div>"





def answer_markdown(answer: Answer) -> str:
    """The chat bubble: escaped text whose [n] markers link to their source cards; an abstention is set apart."""
    if answer.abstained:
        return f"**Not in the articles.** {esc(answer.answer)}"
    text = esc(answer.answer)
    if answer.short_answer is not None and (short := esc(answer.short_answer.text)) in text:
        text = text.replace(short, f"**{short}**", 1)  # the short answer in bold
    return MARKERS.sub(_linked, text)


def _linked(m: re.Match[str]) -> str:
    """Each number of a marker links to its source card."""
    return " " + " ".join(f"[**[{n.strip()}]**](#cb-src-{n.strip()})" for n in m.group(1).split(","))


def status_line(answer: Answer) -> str:
    """Which engine answered and how long it took."""
    return f"answered by `{answer.engine}` in {answer.timings_ms.total:.0f} ms"


CSS = """
.cb-sources { font-size: 0.92em; }
.cb-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0; }
.cb-n { font-weight: 700; color: var(--color-accent); }
.cb-title { font-weight: 600; }
.cb-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 2px 0 4px; }
.cb-quote { margin: 0; white-space: pre-wrap; }
.cb-quote mark { background: #fde68a; color: #111; padding: 0 1px; }
.cb-abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f; padding: 8px 12px; }
.cb-empty { color: var(--body-text-color-subdued); }
#cb-status { font-size: 0.8em; color: var(--body-text-color-subdued); }
.cb-flash { animation: cb-flash 1.6s ease-out; }
@keyframes cb-flash { 0% { background: #fde68a; } 100% { background: transparent; } }
.cb-docs { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.cb-docs th, .cb-docs td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--border-color-primary); }
.cb-file-ok { color: #166534; }
.cb-file-error { color: #b91c1c; }
.cb-upload-result ul { margin: 4px 0 0 0; padding-left: 1em; list-style: none; }
"""

# Clicking an [n] marker in an answer scrolls to its source card and flashes it, instead of following the
# link (the chat renders links to open in a new tab).
HEAD = """
<script>
document.addEventListener("click", (ev) => {
  const link = ev.target instanceof Element ? ev.target.closest('a[href^="#cb-src-"]') : null;
  if (!link) return;
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  ev.preventDefault();
  ev.stopPropagation();
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.remove("cb-flash");
  void card.offsetWidth;
  card.classList.add("cb-flash");
}, true);
</script>
"""


def documents_html(docs: list[Document]) -> str:
    """The Articles tab's table: title, author, date, source and chunks of every stored document."""
    if not docs:
        return '<div class="cb-empty">No articles are stored yet.</div>'
    rows = "".join(
        f'<tr data-doc-id="{esc(d.doc_id)}"><td class="cb-doc-title">{esc(d.title)}</td><td>{esc(d.author) or "–"}'
        f"</td><td>{esc(d.published) or '–'}</td><td>{esc(d.site) or '–'}</td><td><code>{esc(d.source)}</code></td>"
        f"<td>{d.chunks}</td></tr>"
        for d in docs
    )
    return ('<table class="cb-docs"><thead><tr><th>Title</th><th>Author</th><th>Date</th><th>Outlet</th>'
            f"<th>Source</th><th>Chunks</th></tr></thead><tbody>{rows}</tbody></table>")


def upload_html(results: list[tuple[str, str | None]], summary: str) -> str:
    """One line per file: a tick and what happened, or a cross and the reason it was refused."""
    items = "".join(
        f'<li class="cb-file-ok">✓ <code>{esc(name)}</code> stored</li>' if err is None else
        f'<li class="cb-file-error">✗ <code>{esc(name)}</code>: {esc(err)}</li>'
        for name, err in results
    )
    return f'<div class="cb-upload-result"><div>{esc(summary)}</div><ul>{items}</ul></div>'


def notice_html(message: str, ok: bool = False) -> str:
    """A one-line success or error notice."""
    cls = "cb-file-ok" if ok else "cb-file-error"
    return f'<div class="{cls}">{esc(message)}</div>'
