"""Example questions derived from whatever articles are stored (not hard-coded to any of them)."""

from __future__ import annotations

import re

from bot.retrieve import Corpus

_APPOSITIVE = re.compile(
    r"\b([A-Z][a-z]+(?: [A-Z][a-z'-]+){1,2}), (?:a |an |the )?(?:[a-z-]+ ){0,3}(?:fellow|editor|director|expert|"
    r"co-founder|founder|minister|ambassador|president|analyst|professor|researcher|spokesperson|correspondent)\b"
)


def example_questions(corpus: Corpus, limit: int = 4) -> list[str]:
    """An author question and a 'who is' question per article, up to `limit`."""
    out: list[str] = []
    for doc_id, doc in sorted(corpus.docs.items(), key=lambda kv: kv[1].source):
        if doc.author and doc.title:
            out.append(f"Who wrote “{doc.title}”?")
        m = _APPOSITIVE.search(corpus.texts.get(doc_id, ""))
        if m:
            out.append(f"Who is {m.group(1)}?")
    # Interleave so every article is represented before any repeats.
    return list(dict.fromkeys(out))[:limit]
