"""A real HTTP server on loopback for URL and feed ingest tests: real news pages, an RSS and an Atom feed over them
(with ETag and Last-Modified), redirects, a slow page, a huge page, a 404, an image, and PDFs set by the test."""

from __future__ import annotations

import os
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from helpers import free_port

# The shared folder beside the project (as `make eval` finds it), real pages nobody wrote for these tests.
NEWS = Path(os.environ.get("CITEBOT_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared") / "eval" / "news"
PAGES = ["nature.com.telescope.html", "reuters.com.parasite.html", "dw.com.colonial.html"]
FEED_DATE = "Tue, 24 Sep 2019 10:00:00 GMT"


class Site:
    """Serves until `close()`; `url(path)` gives the address of a path. `hits` counts requests per path."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.files: dict[str, tuple[str, bytes]] = {
            f"/news/{name}": ("text/html; charset=utf-8", (NEWS / name).read_bytes()) for name in PAGES}
        self.files["/feed.rss"] = ("application/rss+xml", self._rss(PAGES[:2]).encode())
        self.files["/feed.atom"] = ("application/atom+xml", self._atom(PAGES[1:]).encode())
        self.files["/logo.png"] = ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        self.files["/notes.txt"] = ("text/plain", b"Harbour notes\n\nThe Port Elvar ferry resumed on 4 May 2031.\n")
        self.hits: dict[str, int] = {}
        self.not_modified: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                site._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _rss(self, names: list[str]) -> str:
        items = "".join(f"<item><title>{n}</title><link>{self.url('/news/' + n)}</link>"
                        f"<pubDate>{FEED_DATE}</pubDate><guid>{n}</guid></item>" for n in names)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback news</title>'
                f"<link>{self.base}</link><description>test</description>{items}</channel></rss>")

    def _atom(self, names: list[str]) -> str:
        entries = "".join(f'<entry><title>{n}</title><link href="{self.url("/news/" + n)}"/><id>{n}</id>'
                          f"<updated>2019-09-24T10:00:00Z</updated></entry>" for n in names)
        return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Loopback atom</title><id>loopback</id><updated>2019-09-24T10:00:00Z</updated>{entries}</feed>")

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        if path == "/redirect":
            return self._redirect(h, "/news/" + PAGES[0])
        if path == "/loop":
            return self._redirect(h, "/loop")
        if path == "/to-other-loopback":
            return self._redirect(h, f"http://127.0.0.2:{self.port}/news/{PAGES[0]}")
        if path == "/to-file":
            return self._redirect(h, "file:///etc/passwd")
        if path == "/slow":
            time.sleep(3)
            return self._send(h, "text/html", b"<html><body><p>late</p></body></html>")
        if path == "/huge":
            # No Content-Length: the limit must hold while reading, not only on the declared size.
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.end_headers()
            try:
                for _ in range(64):
                    h.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path not in self.files:
            h.send_error(404, "File not found")
            return None
        ctype, body = self.files[path]
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if h.headers.get("If-None-Match") == etag:
            self.not_modified[path] = self.not_modified.get(path, 0) + 1
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return None
        return self._send(h, ctype, body, {"ETag": etag, "Last-Modified": formatdate(usegmt=True)})

    @staticmethod
    def _redirect(h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, ctype: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)


def chromium_pdf(url: str | None = None, html: str | None = None, paper: str = "A4") -> bytes:
    """A page printed to PDF by real headless Chromium: a URL, or HTML set directly (a canvas-only page makes a
    "scan", a PDF without a text layer)."""
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"])
        page = browser.new_page()
        if url is not None:
            page.goto(url, wait_until="domcontentloaded")
        else:
            page.set_content(html or "")
        pdf = page.pdf(format=paper)
        browser.close()
    return pdf


SCAN_HTML = ("<canvas id=c width=800 height=300></canvas><script>const x=document.getElementById('c').getContext('2d');"
             "x.font='30px serif';x.fillText('Scanned press release, page one',20,80)</script>")
