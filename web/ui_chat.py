"""The chat tab's handlers: answering inside a stored conversation, opening, renaming and deleting
conversations, and 👍/👎 with a comment. The browser keeps the conversation ids in local storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from bot.answer import stream
from bot.models import Answer, AnswerEvent, EngineError, QuestionError, TokenEvent
from chats.models import Conversation, Rating
from chats.store import ChatError
from web.render import answer_markdown, esc, sources_html, status_line
from web.services import Services

BrowserState = dict[str, Any]  # {"current": conversation id or None, "ids": [ids this browser started, newest first]}
EMPTY: BrowserState = {"current": None, "ids": []}


def turn_answer(conv: Conversation, index: int) -> Answer:
    """A stored turn as the Answer it was shown as."""
    t = conv.turns[index]
    return Answer(question=t.question, answer=t.answer, abstained=t.abstained, citations=t.citations, engine=t.engine)


class ChatHandlers:
    """Gradio callbacks over bot.stream and the conversation store."""

    def __init__(self, services: Services) -> None:
        self.deps = services.bot
        self.chats = services.chats

    # -- helpers -------------------------------------------------------------------------------
    def _browser(self, browser: BrowserState | None) -> BrowserState:
        b = dict(browser or EMPTY)
        b["ids"] = [i for i in b.get("ids") or [] if isinstance(i, str)]
        return b

    def conversation_choices(self, browser: BrowserState) -> Any:
        """The radio list of this browser's conversations that still exist, the open one selected."""
        known = self.chats.summaries(browser["ids"]) if browser["ids"] else []
        choices = [(f"{c.title} ({c.turns})", c.id) for c in known]
        current = browser.get("current")
        return gr.update(choices=choices, value=current if current in {c.id for c in known} else None)

    def _show(self, conv: Conversation | None) -> tuple[list[dict[str, str]], str, str, list[int]]:
        """Chat messages, sources of the last answer, status line and turn ids of a conversation."""
        corpus = self.deps.retriever.corpus
        if conv is None or not conv.turns:
            return [], sources_html(None, corpus), "", []
        chat: list[dict[str, str]] = []
        for i, t in enumerate(conv.turns):
            chat += [{"role": "user", "content": esc(t.question)},
                     {"role": "assistant", "content": answer_markdown(turn_answer(conv, i))}]
        last = turn_answer(conv, len(conv.turns) - 1)
        return chat, sources_html(last, corpus), f"answered by `{last.engine}`", [t.id for t in conv.turns]

    # -- events --------------------------------------------------------------------------------
    def load(self, browser: BrowserState | None) -> tuple[Any, ...]:
        """On page load: reopen the conversation this browser had open."""
        b = self._browser(browser)
        conv = None
        if b.get("current"):
            try:
                conv = self.chats.get(b["current"])
            except ChatError:
                b["current"] = None
        chat, sources, status, turns = self._show(conv)
        title = conv.title if conv else ""
        return chat, sources, status, turns, b, self.conversation_choices(b), title

    def respond(self, message: str, chat: list[dict[str, str]], browser: BrowserState | None,
                turns: list[int]) -> Iterator[tuple[Any, ...]]:
        """Answer in the open conversation (starting one if needed), streaming, then record the turn."""
        corpus = self.deps.retriever.corpus
        b = self._browser(browser)
        chat, turns = list(chat or []), list(turns or [])
        if not (message or "").strip():
            yield chat, message, sources_html(None, corpus), "", b, turns, gr.update()
            return
        cid = b.get("current")
        history: list[Any] = []
        if cid:
            try:
                history = [m.model_dump() for m in self.chats.get(cid).history()]
            except ChatError:
                cid = None
        if not cid:
            cid = self.chats.create().id
            b = {"current": cid, "ids": [cid, *b["ids"]]}
            chat, turns = [], []
        chat += [{"role": "user", "content": esc(message)}, {"role": "assistant", "content": "…"}]
        yield chat, "", sources_html(None, corpus), "searching the articles…", b, turns, gr.update()
        text = ""
        try:
            for event in stream(message, history, self.deps):
                if isinstance(event, TokenEvent):
                    text += event.text
                    chat[-1] = {"role": "assistant", "content": esc(text)}
                    yield chat, "", sources_html(None, corpus), "writing…", b, turns, gr.update()
                elif isinstance(event, AnswerEvent):
                    ans = event.answer
                    turn = self.chats.add_turn(cid, ans)
                    chat[-1] = {"role": "assistant", "content": answer_markdown(ans)}
                    yield (chat, "", sources_html(ans, self.deps.retriever.corpus), status_line(ans), b,
                           [*turns, turn.id], self.conversation_choices(b))
        except (QuestionError, EngineError) as exc:
            chat[-1] = {"role": "assistant", "content": f"**Error:** {esc(str(exc))}"}
            yield chat, message, sources_html(None, corpus), "", b, turns, gr.update()

    def new_chat(self, browser: BrowserState | None) -> tuple[Any, ...]:
        """Start afresh; the conversation is created with the first question."""
        b = {**self._browser(browser), "current": None}
        return [], sources_html(None, self.deps.retriever.corpus), "", [], b, self.conversation_choices(b), ""

    def open(self, cid: str | None, browser: BrowserState | None) -> tuple[Any, ...]:
        """Show a stored conversation and make it the open one."""
        b = self._browser(browser)
        if not cid:
            return (gr.update(),) * 4 + (b, gr.update(), gr.update())
        try:
            conv = self.chats.get(cid)
        except ChatError:
            b["ids"] = [i for i in b["ids"] if i != cid]
            return self.new_chat(b)
        b["current"] = cid
        chat, sources, status, turns = self._show(conv)
        return chat, sources, status, turns, b, gr.update(), conv.title

    def rename(self, title: str, browser: BrowserState | None) -> tuple[Any, ...]:
        """Rename the open conversation."""
        b = self._browser(browser)
        if not b.get("current"):
            return gr.update(), "Ask a question first: there is no conversation to rename yet."
        try:
            conv = self.chats.rename(b["current"], title)
        except (ChatError, ValueError) as exc:
            return gr.update(), f"Not renamed: {exc}."
        return self.conversation_choices(b), f"Renamed to “{conv.title}”."

    def delete(self, browser: BrowserState | None) -> tuple[Any, ...]:
        """Delete the open conversation and start a new one."""
        b = self._browser(browser)
        cid = b.get("current")
        if cid:
            try:
                self.chats.delete(cid)
            except ChatError:
                pass  # already gone: forgetting it is all that is left to do
            b = {"current": None, "ids": [i for i in b["ids"] if i != cid]}
        return self.new_chat(b)

    def rate(self, turns: list[int], browser: BrowserState | None, data: gr.LikeData) -> tuple[Any, str]:
        """Store 👍/👎 for the clicked answer; remember it so a comment can follow."""
        b = self._browser(browser)
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        pos = int(index) // 2  # user and assistant messages alternate
        if not b.get("current") or pos >= len(turns or []):
            return None, "This answer was not stored, so it cannot be rated."
        rating: Rating = "up" if data.liked is True or data.liked == "Like" else "down"
        try:
            self.chats.rate(b["current"], turns[pos], rating)
        except ChatError as exc:
            return None, f"Not saved: {exc}."
        note = "Thanks! Saved 👍." if rating == "up" else "Saved 👎. What was wrong? Add a comment below."
        return {"turn": turns[pos], "rating": rating}, note

    def comment(self, text: str, rated: dict[str, Any] | None, browser: BrowserState | None) -> tuple[str, str]:
        """Attach a comment to the last rated answer."""
        b = self._browser(browser)
        if not rated or not b.get("current"):
            return text, "Rate an answer with 👍 or 👎 first, then add your comment."
        try:
            self.chats.rate(b["current"], rated["turn"], rated["rating"], text)
        except (ChatError, ValueError) as exc:
            return text, f"Not saved: {exc}."
        return "", "Comment saved with your rating. Thank you."
