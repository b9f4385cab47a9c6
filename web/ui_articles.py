"""The Articles tab's handlers: list, upload (several files), paste with a title, delete. Writes need the
admin token typed into the tab, checked exactly as the API checks its bearer token."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.pipeline import IngestReport
from ingest.uploads import NotFoundError, Upload, UploadError
from web.auth import Guard
from web.errors import ApiError
from web.render import documents_html, notice_html, upload_html
from web.services import Services

# Gradio recognises a progress parameter by a gr.Progress default and hands each event its own tracker.
_PROGRESS = gr.Progress()


class ArticleHandlers:
    """Gradio callbacks over the ingest library."""

    def __init__(self, services: Services, guard: Guard) -> None:
        self.deps = services.bot
        self.library = services.library
        self.guard = guard

    def listing(self) -> tuple[str, Any]:
        """The documents table and the delete picker's choices."""
        docs = self.deps.store.documents()
        choices = [(f"{d.title} ({d.source})", d.doc_id) for d in docs]
        return documents_html(docs), gr.update(choices=choices, value=None)

    def _denied(self, token: str) -> str | None:
        if not self.guard.writes_enabled:
            return ("Adding and deleting articles is disabled on this server: start it with CITEBOT_ADMIN_TOKEN "
                    "set to a secret, then enter that secret here.")
        if not (token or "").strip():
            return "Enter the admin token (CITEBOT_ADMIN_TOKEN) to add or delete articles."
        try:
            self.guard.check_admin(token.strip())
        except ApiError:
            return "That is not the admin token."
        return None

    def _finish(self, names: list[str], report: IngestReport) -> tuple[str, str, Any]:
        self.deps.retriever.refresh()  # answerable from the next question on
        failed = {e.path: e.error for e in report.errors}
        results = [(n, failed.get(n)) for n in names]
        results += [(p, e) for p, e in failed.items() if p not in names]
        summary = (f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
                   f"{len(report.errors)} refused")
        return (upload_html(results, summary), *self.listing())

    def upload(self, files: list[str] | None, token: str, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
        """Check and ingest the chosen files, with a progress bar while embedding."""
        if denied := self._denied(token):
            return notice_html(denied), gr.update(), gr.update(), gr.update()
        if not files:
            return notice_html("Choose one or more .txt, .md or .html files first."), gr.update(), gr.update(), \
                gr.update()
        uploads = []
        for f in files:
            path = Path(f)
            with path.open("rb") as fh:
                uploads.append(Upload(path.name, fh.read(self.library.max_bytes + 1), os.path.getsize(path)))
        progress(0, desc="checking files…")
        report = self.library.add(uploads, progress=lambda done, total: progress((done, total), desc="embedding",
                                                                                  unit="chunks"))
        return (*self._finish([u.name for u in uploads], report), None)

    def paste(self, title: str, text: str, token: str, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
        """Store pasted text under its title."""
        if denied := self._denied(token):
            return notice_html(denied), gr.update(), gr.update(), gr.update(), gr.update()
        try:
            report = self.library.add_text(title or "", text or "",
                                           progress=lambda d, t: progress((d, t), desc="embedding", unit="chunks"))
        except UploadError as exc:
            return notice_html(f"Not added: {exc}."), gr.update(), gr.update(), gr.update(), gr.update()
        names = [e.path for e in report.errors] or [title]
        html, table, picker = self._finish(names, report)
        if report.errors:
            return html, table, picker, gr.update(), gr.update()
        return html, table, picker, "", ""

    def fetch(self, text: str, feeds: bool, token: str, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
        """Fetch the pages (or the feeds' entries) named one per line, and add them."""
        if denied := self._denied(token):
            return notice_html(denied), gr.update(), gr.update(), gr.update()
        urls = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if not urls:
            return notice_html("Enter one or more http(s) addresses, one per line."), gr.update(), gr.update(), \
                gr.update()
        progress(0, desc="fetching…")
        report = self.library.add_sources([] if feeds else urls, urls if feeds else [],
                                          progress=lambda d, t: progress((d, t), desc="embedding", unit="chunks"))
        html, table, picker = self._finish([] if feeds else urls, report)
        return html, table, picker, gr.update() if report.errors else ""

    def delete(self, doc_id: str | None, token: str) -> tuple[Any, ...]:
        """Remove the chosen document."""
        if denied := self._denied(token):
            return notice_html(denied), gr.update(), gr.update()
        if not doc_id:
            return notice_html("Choose an article to delete."), gr.update(), gr.update()
        try:
            source = self.library.delete(doc_id)
        except NotFoundError as exc:
            return (notice_html(f"Not deleted: {exc}."), *self.listing())
        self.deps.retriever.refresh()
        return (notice_html(f"Deleted {source}.", ok=True), *self.listing())
