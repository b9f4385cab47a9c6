"""Sentence spans with exact character offsets, shared by chunking (ingest) and quoting (bot)."""

from __future__ import annotations

import re

import blingfire

_LINE = re.compile(r"[^\n]+")


def _line_offsets(segment: str) -> list[tuple[int, int]]:
    """blingfire's sentence offsets within one line.

    Its offset API maps UTF-8 offsets back to characters in a Python loop over every byte, which was most of
    the splitting time; the plain API runs in C, and each sentence it returns is found again in the line. That
    is exact only when each sentence follows the last after nothing but whitespace, so anything else (a
    sentence it rewrote) takes the offset API.
    """
    out: list[tuple[int, int]] = []
    pos = 0
    for sentence in blingfire.text_to_sentences(segment).split("\n"):
        at = segment.find(sentence, pos) if sentence else -1
        if at < 0 or segment[pos:at].strip():
            return list(blingfire.text_to_sentences_and_offsets(segment)[1])
        out.append((at, at + len(sentence)))
        pos = at + len(sentence)
    if segment[pos:].strip():
        return list(blingfire.text_to_sentences_and_offsets(segment)[1])
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence; never crosses a paragraph or line break, never includes edge spaces."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        base, segment = line.start(), line.group()
        for a, b in _line_offsets(segment) or [(0, len(segment))]:
            piece = segment[a:b]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if b - trail > a + lead:
                spans.append((base + a + lead, base + b - trail))
    return spans
