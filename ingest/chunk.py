"""Sentence-aware chunking with exact offsets: `clean_text[start:end] == chunk.text`."""

from __future__ import annotations

from dataclasses import dataclass

from vectorstore.sentences import sentence_spans


@dataclass
class Piece:
    """A chunk before it has ids: its offsets and text."""

    start: int
    end: int
    text: str


def _split_long(start: int, end: int, text: str, size: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than `size` at whitespace."""
    out = []
    a = start
    while a < end:
        b = min(end, a + size)
        if b < end:
            cut = text.rfind(" ", a + size // 2, b)
            b = cut if cut > a else b
        out.append((a, b))
        a = b
        while a < end and text[a].isspace():
            a += 1
    return out


def chunk_text(text: str, size: int = 800, overlap: int = 150) -> list[Piece]:
    """Pack whole sentences into chunks of about `size` chars, repeating up to `overlap` chars of them."""
    sents: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        sents.extend(_split_long(a, b, text, size) if b - a > size else [(a, b)])
    pieces: list[Piece] = []
    i = 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= size:
            j += 1
        start, end = sents[i][0], sents[j][1]
        pieces.append(Piece(start, end, text[start:end]))
        if j + 1 >= len(sents):
            break
        # Step back over whole sentences that fit in the overlap, but always move forward.
        nxt = j + 1
        while nxt - 1 > i and sents[j][1] - sents[nxt - 1][0] <= overlap:
            nxt -= 1
        i = nxt
    return pieces
