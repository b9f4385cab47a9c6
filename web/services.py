"""What the web layer adapts, passed in once: the bot's Deps, the conversation store and the article library."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Deps
from chats.store import ChatStore
from ingest.uploads import Library


@dataclass
class Services:
    """The parts behind the API and the page."""

    bot: Deps
    chats: ChatStore
    library: Library
