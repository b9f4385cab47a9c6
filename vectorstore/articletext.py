"""Rules about article text that ingest (reading metadata) and the bot (reading sentences) must share:
month and weekday names, and what a byline looks like. One copy, so both read an article alike."""

from __future__ import annotations

import calendar
import re

# Month and weekday names from the standard library, not a hand list; "may" is a month only beside a day.
MONTHS: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(calendar.month_name) if name},
    **{abbr.lower(): i for i, abbr in enumerate(calendar.month_abbr) if abbr},
    "sept": 9,
}
MONTH_WORDS = frozenset(MONTHS)
WEEKDAY_WORDS = frozenset(d.lower() for d in calendar.day_name)
# A month name (or its abbreviation, with or without a dot) or an ISO date.
MONTH_OR_ISO_DATE = re.compile(
    r"\b(?:" + "|".join(sorted(MONTH_WORDS, key=len, reverse=True)) + r")\.?(?![a-z])|\b\d{4}-\d{2}-\d{2}\b", re.I
)
_BYLINE = re.compile(
    r"^(?i:by):?\s+(?P<name>[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|der|al|bin|and|&)){0,6})\s*$"
)


def parse_byline(line: str) -> str | None:
    """The name in a 'By Jane Doe' line, else None ('By the time ...' is not a byline)."""
    m = _BYLINE.match(line.strip())
    return m.group("name").strip() if m else None
