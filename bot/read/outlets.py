"""Outlets named in a question ("according to the Verge", "the BBC's report"), matched against the stored site names.

Each document records its outlet (`Document.site`: the page's site name, else its host). A question that names
one is asked of that outlet's articles: users name outlets all the time, and outlets disagree. The forms matched
come from the stored names themselves, so any archive's outlets work without a list of publishers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_HOST_PARTS = frozenset("www com org net co uk us au ca in io news http https".split())


def forms(site: str) -> set[str]:
    """The ways a question may write an outlet: its stored name, without a leading "The", and for a host or a
    name ending in a domain ("Salon.com", "en.wikipedia.org") its distinctive label."""
    name = site.strip()
    out = {name.casefold()}
    if name.casefold().startswith("the "):
        out.add(name[4:].casefold())
    host = urlsplit(name).hostname if "://" in name else (name if re.fullmatch(r"[\w.-]+\.[a-z]{2,}", name) else None)
    if host:
        labels = [p for p in host.casefold().split(".") if p not in _HOST_PARTS and len(p) > 1]
        if labels:
            out.add(labels[-1])
    return {f for f in out if len(f) > 1}


# An outlet is named *as a source* when the question attributes something to it: "according to X", "X reported",
# "X's review", "the X article", "published by X". Elsewhere the same name is a subject ("Yahoo shareholders",
# "the vice-president", "the nature of"), and restricting the search to that outlet would be wrong.
_SOURCE_NOUNS = (r"(?:article|story|stories|report|piece|post|column|review|coverage|analysis|interview|editorial"
                 r"|op-ed|feature|hands-on|demo|writer|reporter|reviewer|critic|editor|columnist|journalist"
                 r"|correspondent|headline|investigation|video|podcast|newsletter|blog)s?")
_REPORTING = (r"(?:report|reported|reports|say|says|said|write|writes|wrote|publish|published|publishes"
              r"|claim|claims|claimed)")


def _as_source(q: str, form: str) -> bool:
    f = rf"(?:the\s+)?{re.escape(form)}(?:'s)?"
    return any(re.search(p, q, re.I) for p in (
        rf"\baccording\s+to\s+{f}(?!\w)",
        rf"(?<![\w.]){f}\s+(?:[\w-]+\s+){{0,3}}?{_SOURCE_NOUNS}\b",
        rf"(?<![\w.]){f}\s+(?:has\s+|had\s+)?{_REPORTING}\b",
        rf"\b(?:by|in|from|on)\s+{f}(?!\w)",
        rf"\b{_SOURCE_NOUNS}\s+(?:in|by|from|on|at)\s+{f}(?!\w)",
    ))


def named_outlets(question: str, sites: Iterable[str]) -> list[str]:
    """The stored outlets the question names as its source (each stored name once, longest first). The name
    must be written as a name (capitalised), and attributed to: see `_as_source`."""
    q = question.replace("’", "'")
    found: list[str] = []
    for site in sorted({s for s in sites if s}, key=len, reverse=True):
        for form in forms(site):
            m = re.search(rf"(?<![\w.]){re.escape(form)}(?:'s)?(?!\w)", q, re.I)
            if m and (m.group()[0].isupper() or m.group()[0].isdigit()) and _as_source(q, form):
                found.append(site)
                break
    return found


def outlet_words(outlets: Iterable[str]) -> set[str]:
    """Every word of the outlets' forms, folded: a question's name made only of these is the outlet, which the
    article's site satisfies without its text repeating it."""
    return {w for site in outlets for f in forms(site) for w in re.findall(r"\w+", f)}
