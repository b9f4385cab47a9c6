"""Sentence spans: the fast path (blingfire's plain API, sentences found again) equals its offset API exactly."""

from __future__ import annotations

import blingfire
from hypothesis import given, settings
from hypothesis import strategies as st

from vectorstore.sentences import sentence_spans


def _reference(text: str) -> list[tuple[int, int]]:
    """The spec: blingfire's own offsets per line, trimmed of edge spaces, empty pieces dropped."""
    spans = []
    pos = 0
    for line in text.split("\n"):
        if line:
            for a, b in blingfire.text_to_sentences_and_offsets(line)[1] or [(0, len(line))]:
                piece = line[a:b]
                lead, trail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
                if b - trail > a + lead:
                    spans.append((pos + a + lead, pos + b - trail))
        pos += len(line) + 1
    return spans


MADE_UP = [
    "Dr. Ana Ruiz met the mayor at 9 a.m. on Tuesday. The vote passed 7-2!  Did it?",
    "Prices rose 3.5% in Q2 (see p. 4).\tThen they fell…   Not again.",
    "Zürich’s council — “überraschend” — approved it. Die Stadt zahlt 12 Mio. €. Fertig.",
    "東京で会議が開かれた。参加者は約200人だった。 Next sentence here.",
    "Emoji 🚀 launch went fine. Crew of 4 👩‍🚀 returned.  \u00a0 Trailing nbsp.",
    "  leading spaces. And\u2028a line separator inside. Done",
    "no terminal punctuation at all",
    "A.B.C. Corp. said so. U.S. officials agreed.\n\n\nNew paragraph after blank lines.\n",
    "Tabs\t\tbetween. Words\u3000ideographic space. End.",
    "x  y. x y. x  y.",
    # the plain API rewrites these (a NUL becomes a space, a BOM is dropped): the offset API must take over
    "Null\x00byte here. Second one. Third.",
    "\ufeffBOM first. Then more. End.",
]


def test_made_up_sentences_match_the_offset_api():
    assert "\x00" not in blingfire.text_to_sentences(MADE_UP[-2])  # so the fallback really runs
    for text in MADE_UP:
        assert sentence_spans(text) == _reference(text), text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Mr.", "Smith", "said", "it", "3.5", "%", "“quoted”", "é", "🚀", "東京", "!", "?",
                                 ".", "...", "…", " ", "  ", "\t", "\n", "\n\n", "\u00a0", "(a)", "U.S.", "Inc."]),
                max_size=60).map(" ".join))
def test_any_text_matches_the_offset_api(text):
    spans = sentence_spans(text)
    assert spans == _reference(text)
    assert all(text[a:b] == text[a:b].strip() and "\n" not in text[a:b] for a, b in spans)
