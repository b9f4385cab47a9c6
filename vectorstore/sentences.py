"""Sentence spans with exact character offsets, shared by chunking (ingest) and quoting (bot)."""

from __future__ import annotations

import re

import blingfire

_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence; never crosses a paragraph or line break, never includes edge spaces."""
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        for line in re.finditer(r"[^\n]+", para.group()):
            base = para.start() + line.start()
            segment = line.group()
            _, offsets = blingfire.text_to_sentences_and_offsets(segment)
            if not offsets:
                offsets = [(0, len(segment))]
            for a, b in offsets:
                piece = segment[a:b]
                lead = len(piece) - len(piece.lstrip())
                trail = len(piece) - len(piece.rstrip())
                if b - trail > a + lead:
                    spans.append((base + a + lead, base + b - trail))
    return spans
