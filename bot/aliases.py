"""Name variants that mean the same thing: countries, their capitals and demonyms, abbreviations, acronyms.

Country data comes from the maintained `countryinfo` package, so "Swiss", "Bern", "CH" and "Switzerland"
all resolve to one key, and "U.K." is "UK" is "Britain".
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.text import normalise

_DOTTED = re.compile(r"^(?:[A-Za-z]\.){2,}$")


def fold(token: str) -> str:
    """Lower-case a name token and drop the dots of an abbreviation ('U.K.' -> 'uk')."""
    t = normalise(token).strip(".,;:!?\"'()[]")
    if _DOTTED.match(t + ("." if not t.endswith(".") else "")) or _DOTTED.match(t):
        t = t.replace(".", "")
    if t.lower().endswith("'s"):
        t = t[:-2]
    return t.lower()


@lru_cache(maxsize=1)
def _place_keys() -> dict[str, str]:
    """Every surface form of a country (name, alternative spellings, demonym, capital) -> its ISO code."""
    import countryinfo

    table: dict[str, str] = {}
    for country in countryinfo.all_countries():
        try:
            iso = country.iso()["alpha2"]
            forms = [country.name(), country.demonym(), country.capital(), *country.alt_spellings()]
        except (KeyError, TypeError, AttributeError):
            continue
        for form in forms:
            if not form:
                continue
            key = " ".join(fold(w) for w in str(form).split())
            # Two-letter codes ("IN", "IT") are ordinary words in lower case; only the famous ones stay.
            if len(key) <= 2 and key not in ("uk", "us"):
                continue
            table.setdefault(key, iso)
    table.setdefault("britain", "GB")
    table.setdefault("america", "US")
    return table


def place_key(phrase: str) -> str | None:
    """The ISO country code a name phrase stands for ('Swiss' -> 'CH', 'U.K.' -> 'GB', 'Paris' -> 'FR')."""
    key = " ".join(fold(w) for w in phrase.split())
    return _place_keys().get(key)


def place_keys_in(tokens: list[str]) -> set[str]:
    """ISO codes of every country named in a token list, by one- to three-word forms."""
    table = _place_keys()
    found: set[str] = set()
    for n in (1, 2, 3):
        for i in range(len(tokens) - n + 1):
            code = table.get(" ".join(tokens[i : i + n]))
            if code:
                found.add(code)
    return found


def acronym(words: list[str]) -> str:
    """Initials of the capitalised words ('Harbour Pilots Guild' -> 'hpg')."""
    return "".join(w[0] for w in words if w[:1].isupper()).lower()
