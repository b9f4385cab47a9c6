"""Markdown to plain paragraphs, so stored text (and every quote of it) carries no `#`, `**` or link markup."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def _inline(token: Token) -> str:
    """The visible text of an inline token: link and emphasis markup dropped, images by their alt text."""
    out: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "image":
            out.append(_inline(child) or child.content)
        elif child.type == "html_inline":
            continue
    return "".join(out).strip()


def markdown_text(source: str) -> str:
    """The text a reader sees: one paragraph per heading, paragraph, list item, table row or code block."""
    paragraphs: list[str] = []
    row: list[str] | None = None  # cells of the table row being read
    bullet = ""
    for tok in _MD.parse(source):
        if tok.type == "list_item_open":
            bullet = "• "
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "inline":
            text = _inline(tok)
            if row is not None:
                row.append(text)
            elif text:
                paragraphs.append(bullet + text)
                bullet = ""
        elif tok.type == "tr_close":
            if row and any(row):
                paragraphs.append(" | ".join(row))
            row = None
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            paragraphs.append(tok.content.rstrip("\n"))
        elif tok.type == "html_block":
            continue
    return "\n\n".join(paragraphs)
