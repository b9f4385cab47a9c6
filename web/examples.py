"""Example questions derived from whatever articles are stored (not hard-coded to any of them)."""

from __future__ import annotations

import re

from bot.retrieve import Corpus

_APPOSITIVE = re.compile(
    r"\b([A-Z][a-z]+(?: [A-Z][a-z'-]+){1,2}), (?:a |an |the )?(?:[a-z-]+ ){0,3}(?:fellow|editor|director|expert|"
    r"co-founder|founder|minister|ambassador|president|analyst|professor|researcher|spokesperson|correspondent)\b"
)


def example_questions(corpus: Corpus, limit: int = 4) -> list[str]:
    """An author question and a 'who is' question per article, in the order of their sources, up to `limit`.
    Texts are read a few articles at a time and only until there are enough (an archive's texts are not held in
    memory: reading every one made `serve` start 15 s later at 10,000 articles)."""
    out: dict[str, None] = {}
    docs = sorted(corpus.docs.values(), key=lambda d: d.source)
    for lo in range(0, len(docs), limit):
        batch = docs[lo : lo + limit]
        corpus.prefetch(d.doc_id for d in batch)
        for doc in batch:
            if doc.author and doc.title:
                out[f"Who wrote “{doc.title}”?"] = None
            m = _APPOSITIVE.search(corpus.texts.get(doc.doc_id, ""))
            if m:
                out[f"Who is {m.group(1)}?"] = None
        if len(out) >= limit:
            break
    return list(out)[:limit]
