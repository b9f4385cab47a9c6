"""Strip scraped boilerplate from article text while keeping every body sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK = re.compile(r"\n\s*\n")
# Blog and news widgets that scrapers pick up around the article.
_WIDGET = re.compile(
    r"""^(?:
        (?:no|\d+)\s+comments?:?
      | post\s+a\s+comment
      | leave\s+a\s+(?:comment|reply)
      | newer\s+post | older\s+post | home
      | subscribe\s+to:?.* | share\s+this(?:\s+(?:post|article))?:?
      | (?:share|tweet|email|print)(?:\s*[|/·]\s*(?:share|tweet|email|print|facebook|twitter|whatsapp))+
      | read\s+more | advertisement | skip\s+to\s+(?:main\s+)?content
      | reply(?:delete)? | antworten | view\s+comments? | (?:write|leave)\s+a\s+comment | kommentar\s+schreiben
      | (?:comments?|kommentare)(?:\s+insgesamt)?:?\s*\d*
      | comment\s+by\s+.{1,80}\d{1,2}:\d{2}.*
      | loading\s+comments\W* | join\s+the\s+(?:conversation|discussion)
    )$""",
    re.I | re.X,
)
# "Read more: Another story" and the headings of related-article lists link elsewhere; they are not this article.
_RELATED = re.compile(
    r"""^(?:
        (?:read|see)\s+(?:more|also):\s.{1,150}
      | (?:related(?:\s+(?:articles?|stories|posts))?|more\s+on\s+this\s+(?:topic|story)
         |you\s+(?:may|might)\s+also\s+(?:like|be\s+interested\s+in)
         |(?:lesen\s+sie\s+)?auch\s+interessant|(?:lesen|sehen)\s+sie\s+auch|mehr\s+zum\s+thema
         |(?:das|dieses)\s+(?:thema\s+)?(?:könnte|dürfte)\s+(?:dich|sie)\s+auch\s+interessieren
         |à\s+lire\s+aussi|lire\s+aussi)\s*:?
    )$""",
    re.I | re.X,
)
# Calls to action: newsletter sign-ups, consent small print, caption credits. Short paragraphs only, so a news
# sentence that merely mentions a newsletter stays.
_CALL_TO_ACTION = re.compile(
    r"""^(?:
        (?:sign\s+up|subscribe|register)\b.{0,200}
      | .{0,60}\bnewsletter
      | (?:mit\s+)?(?:unserem|unseren|dem)\s+newsletter\b.{0,200}
      | .{0,80}\b(?:akzeptieren\s+sie|you\s+(?:accept|agree\s+to))\s+(?:unsere|our|the)\s+
        (?:datenschutz|privacy|terms).{0,200}
      | .{0,150}\bour\s+comment(?:ing)?\s+(?:platform|policy|section|guidelines)\b.{0,500}
      | (?:beitragsbild|titelbild|bildquelle|image\s+illustrative|photo\s+credit|image\s+credit)\b.{0,200}
    )$""",
    re.I | re.X,
)
_SHORT = 250
_COMMENT_POLICY = 650  # the site's own comment rules run longer
# "January 13, 2020 at 08:45 AM | categories: Python | View Comments": a post's meta line, cut by bars.
_BAR = re.compile(r"\s*\|\s*")
_AVATAR = re.compile(r"^(?P<name>[\w.'’-]+(?:\s+[\w.'’-]+){0,3})\s+avatar$", re.I)
_BARE_BY = re.compile(r"^by:?$", re.I)
_ELLIPSIS = ("…", "...")
_LEDE_PARAGRAPHS = 3  # title, byline or dateline, and the lede


@dataclass
class Cleaned:
    """Cleaned paragraphs plus hints about what was removed (the avatar's name, for instance)."""

    paragraphs: list[str]
    avatar_names: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def normalise_paragraph(par: str) -> str:
    """Collapse odd spaces (NBSP, thin spaces) and trim each line, keeping the words verbatim."""
    lines = [_WS.sub(" ", line).strip() for line in par.replace("\r", "").split("\n")]
    return "\n".join(line for line in lines if line)


def _is_truncated_copy(par: str, later: list[str]) -> bool:
    """A teaser: the start of a later paragraph, cut off with an ellipsis."""
    if not par.endswith(_ELLIPSIS):
        return False
    stem = par.rstrip("…. ").strip()
    return len(stem) >= 20 and any(p != par and p.startswith(stem) for p in later)


def is_boilerplate(par: str) -> bool:
    """A widget, a related-links line, a short call to action, or a bar-separated line holding a widget."""
    if _WIDGET.match(par) or _RELATED.match(par):
        return True
    if len(par) <= (_COMMENT_POLICY if "comment" in par.lower() else _SHORT) and _CALL_TO_ACTION.match(par):
        return True
    if "|" in par and "\n" not in par and len(par) <= _SHORT:
        cells = [c for c in _BAR.split(par) if c]
        return any(_WIDGET.match(c) for c in cells)
    return False


def _next_avatar(pars: list[str]) -> str | None:
    for par in pars:
        if m := _AVATAR.match(par):
            return m.group("name")
    return None


def clean_text(text: str) -> Cleaned:
    """Drop widgets, avatar lines, bare bylines, teasers and repeated paragraphs."""
    pars = [p for p in (normalise_paragraph(p) for p in _BLANK.split(text.replace("\r\n", "\n"))) if p]
    out = Cleaned(paragraphs=[])
    seen: set[str] = set()  # bylines rebuilt from an avatar
    lede: set[str] = set()  # the opening paragraphs, whose verbatim repeats are boilerplate
    for i, par in enumerate(pars):
        avatar = _AVATAR.match(par)
        if avatar:
            out.avatar_names.append(avatar.group("name"))
            out.removed.append(par)
            continue
        if _BARE_BY.match(par):
            out.removed.append(par)
            # The byline's name was rendered as an avatar; rebuild "By Name" so it stays citable.
            name = out.avatar_names[-1] if out.avatar_names else _next_avatar(pars[i + 1 : i + 3])
            if name and f"By {name}" not in seen and f"By {name}" not in lede:
                seen.add(f"By {name}")
                out.paragraphs.append(f"By {name}")
            continue
        if is_boilerplate(par):
            out.removed.append(par)
            continue
        if par in lede or _is_truncated_copy(par, pars[i + 1 :]):
            # A repeated title or lede: the first full copy stays, so no sentence is lost. Only the page's opening
            # paragraphs count: structured articles (recipes, schedules, results) repeat their labels further down,
            # and those repeats are the article.
            out.removed.append(par)
            continue
        if len(out.paragraphs) < _LEDE_PARAGRAPHS:
            lede.add(par)
        seen.add(par)
        out.paragraphs.append(par)
    return out
