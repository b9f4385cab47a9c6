"""The Gradio page: a Chat tab (conversations, sources, feedback) and an Articles tab. Thin over the handlers."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ingest.loaders import SUPPORTED
from web.auth import Guard
from web.examples import example_questions
from web.render import sources_html
from web.services import Services
from web.ui_articles import ArticleHandlers
from web.ui_chat import EMPTY, ChatHandlers

# The stored value is only a list of random conversation ids, already readable to anyone with access to this
# browser; a fixed secret keeps it readable after a server restart (Gradio's default secret changes each start).
_BROWSER_SECRET = "citebot-conversations"


def build_ui(services: Services, guard: Guard) -> gr.Blocks:
    """The page: chat with conversation list, sources panel and feedback; the Articles tab."""
    deps = services.bot
    chat_h = ChatHandlers(services)
    art_h = ArticleHandlers(services, guard)

    with gr.Blocks(title="citebot") as demo:
        gr.Markdown("## citebot\nAsk about the stored news articles. Every sentence cites the passage it came "
                    "from; when the articles don't say, citebot says so.")
        browser = gr.BrowserState(EMPTY, storage_key="citebot-conversations", secret=_BROWSER_SECRET)
        turns = gr.State([])
        rated = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=1, min_width=200):
                        new = gr.Button("New chat", elem_id="cb-new")
                        convs = gr.Radio([], label="Conversations", elem_id="cb-convs")
                        title = gr.Textbox(label="Title", elem_id="cb-rename", max_lines=1)
                        with gr.Row():
                            rename = gr.Button("Rename", size="sm", elem_id="cb-rename-btn")
                            delete = gr.Button("Delete", size="sm", variant="stop", elem_id="cb-delete-conv")
                        conv_note = gr.Markdown("", elem_id="cb-conv-note")
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Chat", height=480, elem_id="cb-chat", buttons=["copy"],
                                             feedback_options=("Like", "Dislike"))
                        with gr.Row():
                            box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                             scale=6, elem_id="cb-input", lines=1, max_lines=4)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="cb-send")
                        examples = example_questions(deps.retriever.corpus)
                        if examples:
                            gr.Examples(examples=[[q] for q in examples], inputs=[box], label="Try")
                        status = gr.Markdown("", elem_id="cb-status")
                        with gr.Row():
                            comment = gr.Textbox(placeholder="Rate an answer with 👍/👎, then tell us why "
                                                 "(optional)", show_label=False, scale=6, elem_id="cb-comment")
                            comment_send = gr.Button("Send comment", scale=1, elem_id="cb-comment-send")
                        feedback_note = gr.Markdown("", elem_id="cb-feedback-note")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(sources_html(None, deps.retriever.corpus), elem_id="cb-sources")
            with gr.Tab("Articles", id="articles"):
                docs_table, delete_pick = _articles_tab(art_h, guard, demo)

        shown: list[Any] = [chatbot, sources, status, turns, browser, convs, title]
        demo.load(chat_h.load, [browser], shown)
        asked: list[Any] = [chatbot, box, sources, status, browser, turns, convs]
        box.submit(chat_h.respond, [box, chatbot, browser, turns], asked)
        send.click(chat_h.respond, [box, chatbot, browser, turns], asked)
        new.click(chat_h.new_chat, [browser], shown)
        chatbot.clear(chat_h.new_chat, [browser], shown)
        convs.input(chat_h.open, [convs, browser], shown)
        rename.click(chat_h.rename, [title, browser], [convs, conv_note])
        delete.click(chat_h.delete, [browser], shown)
        chatbot.like(chat_h.rate, [turns, browser], [rated, feedback_note])
        comment_send.click(chat_h.comment, [comment, rated, browser], [comment, feedback_note])
        comment.submit(chat_h.comment, [comment, rated, browser], [comment, feedback_note])
        demo.load(art_h.listing, None, [docs_table, delete_pick])
    return demo


def _articles_tab(art_h: ArticleHandlers, guard: Guard, demo: gr.Blocks) -> tuple[gr.HTML, gr.Dropdown]:
    """The Articles tab's components and events."""
    if not guard.writes_enabled:
        gr.Markdown("Adding and deleting articles is **disabled** on this server: start it with "
                    "`CITEBOT_ADMIN_TOKEN` set to a secret to enable it.", elem_id="cb-writes-off")
    token = gr.Textbox(label="Admin token", type="password", elem_id="cb-admin-token", max_lines=1)
    with gr.Row():
        with gr.Column():
            files = gr.File(label="Upload .txt, .md, .html or .pdf files", file_count="multiple",
                            file_types=sorted(SUPPORTED), elem_id="cb-upload")
            upload = gr.Button("Add files", variant="primary", elem_id="cb-upload-btn")
        with gr.Column():
            paste_title = gr.Textbox(label="Title", elem_id="cb-paste-title", max_lines=1)
            paste_text = gr.Textbox(label="Article text", lines=6, elem_id="cb-paste-text")
            paste = gr.Button("Add text", elem_id="cb-paste-btn")
        with gr.Column():
            urls = gr.Textbox(label="Page or feed URLs, one per line", lines=3, elem_id="cb-urls",
                              placeholder="https://example.com/news/story.html")
            as_feed = gr.Checkbox(label="These are RSS/Atom feeds: add their entries", elem_id="cb-urls-feed")
            fetch = gr.Button("Fetch and add", elem_id="cb-urls-btn")
    result = gr.HTML("", elem_id="cb-upload-result")
    gr.Markdown("### Stored articles")
    table = gr.HTML("", elem_id="cb-docs")
    with gr.Row():
        pick = gr.Dropdown([], label="Delete an article", elem_id="cb-delete-doc", scale=4)
        remove = gr.Button("Delete", variant="stop", elem_id="cb-delete-btn", scale=1)
    upload.click(art_h.upload, [files, token], [result, table, pick, files])
    paste.click(art_h.paste, [paste_title, paste_text, token], [result, table, pick, paste_title, paste_text])
    fetch.click(art_h.fetch, [urls, as_feed, token], [result, table, pick, urls])
    remove.click(art_h.delete, [pick, token], [result, table, pick])
    return table, pick
