"""A synthetic news archive of any size, from real paragraphs, with planted facts for a needle check.

Every article is unique: a title and a dateline of its own, then 5 to 10 paragraphs drawn (with a seeded random
generator) from real news text, so the vocabulary and length are a newsroom's. A few articles also carry one
planted fact, a sentence about an invented subject that no real paragraph mentions, and a question whose answer
only that sentence gives. The same seed gives the same archive.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_PARAGRAPH = re.compile(r"\n\s*\n")
# Invented names and things: syllables no dictionary or real paragraph holds, so a planted fact is the only
# sentence that can answer its question.
_SYLLABLES = "ka lo vi ster mun dra bel qui tor sen har vel mir oz pra lun dek sha"
_THINGS = ["ferry terminal", "water treatment plant", "regional museum", "rail depot", "harbour crane",
           "wind farm", "public library", "football stadium", "toll bridge", "night market"]


@dataclass
class Needle:
    """One planted fact: the article it is in, the question that asks for it, the answer and the sentence."""

    source: str
    question: str
    answer: str
    sentence: str


def paragraphs_from(texts: Iterable[str], min_chars: int = 120, max_chars: int = 900) -> list[str]:
    """Real paragraphs of article length from texts (one paragraph per blank-line block)."""
    out = []
    for text in texts:
        for par in _PARAGRAPH.split(text):
            par = " ".join(par.split())
            if min_chars <= len(par) <= max_chars and par.endswith((".", "\"", "”")):
                out.append(par)
    return sorted(set(out))


def _name(rng: random.Random) -> str:
    parts = _SYLLABLES.split()
    return "".join(rng.choice(parts) for _ in range(3)).capitalize()


def generate(dest: Path, n: int, pool: list[str], *, seed: int = 7, needles: int = 20,
             paragraphs: tuple[int, int] = (5, 10)) -> list[Needle]:
    """Write `n` articles as Markdown files under `dest` (in folders of 1,000) and return the planted facts."""
    if not pool:
        raise ValueError("no paragraphs to build articles from")
    rng = random.Random(seed)
    planted = set(rng.sample(range(n), min(needles, n)))
    out: list[Needle] = []
    used: set[str] = set()
    for i in range(n):
        folder = dest / f"{i // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        body = rng.sample(pool, min(len(pool), rng.randint(*paragraphs)))
        year, month, day = 2000 + rng.randrange(26), 1 + rng.randrange(12), 1 + rng.randrange(28)
        name = f"{i:06d}.md"
        title = f"Dispatch {i:06d}: {body[0].split('.')[0][:70]}"
        if i in planted:
            subject = _name(rng)
            while subject in used:
                subject = _name(rng)
            used.add(subject)
            thing = rng.choice(_THINGS)
            count = rng.randrange(120, 9800)
            sentence = f"The new {thing} in {subject} employs {count:,} people, its operator said."
            body.insert(rng.randrange(1, len(body) + 1), sentence)
            out.append(Needle(f"{folder.name}/{name}", f"How many people does the new {thing} in {subject} employ?",
                              f"{count:,}", sentence))
        text = f"---\ntitle: {json.dumps(title)}\ndate: {year:04d}-{month:02d}-{day:02d}\n---\n\n" + "\n\n".join(body)
        (folder / name).write_text(text + "\n", "utf-8")
    return out
