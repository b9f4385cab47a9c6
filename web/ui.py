"""The Gradio chat page: a thin adapter over bot.stream with a sources panel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from bot.answer import stream
from bot.models import AnswerEvent, EngineError, QuestionError, TokenEvent
from web.auth import Guard
from web.examples import example_questions
from web.render import answer_markdown, esc, sources_html, status_line
from web.services import Services

Outputs = tuple[list[dict[str, str]], str, str, str, list[dict[str, str]]]


def build_ui(services: Services, guard: Guard) -> gr.Blocks:
    """The chat page: chat, question box, examples, clear button, sources panel and a status line."""
    deps = services.bot

    def respond(message: str, chat: list[dict[str, str]], history: list[dict[str, str]]) -> Iterator[Outputs]:
        corpus = deps.retriever.corpus
        chat = list(chat or [])
        if not (message or "").strip():
            yield chat, message, sources_html(None, corpus), "", history
            return
        chat += [{"role": "user", "content": esc(message)}, {"role": "assistant", "content": "…"}]
        yield chat, "", sources_html(None, corpus), "searching the articles…", history
        text = ""
        try:
            for event in stream(message, history, deps):
                if isinstance(event, TokenEvent):
                    text += event.text
                    chat[-1] = {"role": "assistant", "content": esc(text)}
                    yield chat, "", sources_html(None, corpus), "writing…", history
                elif isinstance(event, AnswerEvent):
                    ans = event.answer
                    chat[-1] = {"role": "assistant", "content": answer_markdown(ans)}
                    history = [*history, {"role": "user", "content": message},
                               {"role": "assistant", "content": ans.answer}]
                    yield chat, "", sources_html(ans, deps.retriever.corpus), status_line(ans), history
        except (QuestionError, EngineError) as exc:
            chat[-1] = {"role": "assistant", "content": f"**Error:** {esc(str(exc))}"}
            yield chat, message, sources_html(None, corpus), "", history

    def clear() -> Outputs:
        return [], "", sources_html(None, deps.retriever.corpus), "", []

    with gr.Blocks(title="citebot") as demo:
        gr.Markdown("## citebot\nAsk about the stored news articles. Every sentence cites the passage it came "
                    "from; when the articles don't say, citebot says so.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=480, elem_id="cb-chat", feedback_options=None,
                                     buttons=["copy"])
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                     scale=6, elem_id="cb-input", lines=1, max_lines=4)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="cb-send")
                    reset = gr.Button("Clear", scale=1, elem_id="cb-clear")
                examples = example_questions(deps.retriever.corpus)
                if examples:
                    gr.Examples(examples=[[q] for q in examples], inputs=[box], label="Try")
                status = gr.Markdown("", elem_id="cb-status")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None, deps.retriever.corpus), elem_id="cb-sources")
        history = gr.State([])
        outputs: list[Any] = [chatbot, box, sources, status, history]
        box.submit(respond, [box, chatbot, history], outputs)
        send.click(respond, [box, chatbot, history], outputs)
        reset.click(clear, None, outputs)
    return demo
