"""The chat page in real headless Chromium against a real `citebot serve` on loopback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_port, wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ADMIN_TOKEN = "page-admin-secret"
XSS_ARTICLE = (
    "Harbour Gala Report\n\nBy Eve Tester\n\n"
    "The harbour gala raised money for the lifeboat crew <script>window.__xss=1</script> and "
    "<img src=x onerror=\"window.__xss=2\"> volunteers served soup until midnight.\n"
)



class Server:
    """A `citebot serve` subprocess on a fixed loopback port, restartable over the same store and data."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for(f"{self.url}/readyz", self.proc, what="citebot serve")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    articles = tmp / "articles"
    shutil.copytree(ROOT / "seeds", articles)
    (articles / "gala.txt").write_text(XSS_ARTICLE)
    # The loopback site of the URL test is a private address: this server is allowed to fetch it.
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp / "store"), "GRADIO_ANALYTICS_ENABLED": "False",
           "CITEBOT_DATA_DIR": str(tmp / "data"), "CITEBOT_ADMIN_TOKEN": ADMIN_TOKEN,
           "CITEBOT_FETCH_ALLOW_PRIVATE": "true"}
    ingest = subprocess.run([str(BIN / "citebot"), "ingest", str(articles)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    srv = Server(env)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"],
        )
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.goto(server.url, wait_until="domcontentloaded")
        pg.wait_for_selector("#cb-input textarea", timeout=60_000)
        yield pg
        browser.close()


BOT = '#cb-chat [data-testid="bot"]'


def _ask(page, question: str, expect_text: str) -> None:
    """Ask, then wait for a new bot message that is finished (the status line reports the engine)."""
    from playwright.sync_api import expect

    before = page.locator(BOT).count()
    page.locator("#cb-input textarea").fill(question)
    page.locator("#cb-send").click()
    expect(page.locator(BOT)).to_have_count(before + 1, timeout=60_000)
    expect(page.locator("#cb-status")).to_contain_text("answered by", timeout=60_000)
    expect(page.locator(BOT).last).to_contain_text(expect_text, timeout=60_000)


def test_answer_with_citation_marker_and_source(page):
    from playwright.sync_api import expect

    _ask(page, "Who wrote the article about the strategic alliance under Pezeshkian's presidency?", "Xavier Villar")
    expect(page.locator(BOT).last).to_contain_text("[1]")
    sources = page.locator("#cb-sources")
    expect(sources).to_contain_text("Iran and Russia: a strategic alliance under Pezeshkian's presidency")
    # The byline comes from the page's metadata: shown as such, not as a highlighted quote of article text.
    expect(sources.locator(".cb-metadata")).to_contain_text("Xavier Villar")
    expect(sources.locator(".cb-metadata")).to_contain_text("metadata (author)")
    expect(page.locator("#cb-status")).to_contain_text("answered by")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)
    _ask(page, "When did Vladimir Putin return to the Kremlin?", "2012")
    expect(sources.locator("mark")).to_contain_text("2012")


def test_follow_up_is_answered_from_history(page):
    from playwright.sync_api import expect

    _ask(page, "Which Iranian president is going to visit Moscow to sign the pact?", "Pezeshkian")
    _ask(page, "When exactly is that visit?", "January 17")
    expect(page.locator('#cb-chat [data-testid="user"]').last).to_contain_text("When exactly is that visit?")


def test_unanswerable_question_shows_an_abstention(page):
    from playwright.sync_api import expect

    _ask(page, "What is the capital of Australia?", "Not in the articles")
    expect(page.locator("#cb-sources .cb-abstain")).to_contain_text("The articles don't say")
    page.screenshot(path=str(ARTIFACTS / "chat-abstention.png"), full_page=True)


def test_article_markup_is_shown_as_text_and_never_runs(page):
    from playwright.sync_api import expect

    _ask(page, "What did the lifeboat crew volunteers serve at the harbour gala?", "soup")
    expect(page.locator("#cb-sources")).to_contain_text("<script>window.__xss=1</script>")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#cb-sources script").count() == 0
    assert page.locator("#cb-sources img").count() == 0
    page.screenshot(path=str(ARTIFACTS / "chat-xss.png"), full_page=True)


def test_new_chat_button_starts_a_fresh_conversation(page):
    from playwright.sync_api import expect

    page.locator("#cb-new").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    expect(page.locator("#cb-sources")).to_contain_text("Sources for the answer appear here")
    _ask(page, "Who is Armin Montazeri?", "Hammihan Daily")
    expect(page.locator(BOT)).to_have_count(1)


MD_ARTICLE = (
    "---\ntitle: Lighthouse Restored in Port Elvar\nauthor: Mira Quell\n---\n\n"
    "# Lighthouse Restored in Port Elvar\n\n"
    "The **Port Elvar lighthouse** was relit on 3 March 2025 after a restoration that cost 2.4 million euros.\n\n"
    "The keeper, [Tomas Ardent](https://example.org/ardent), said the new lamp is visible from "
    "40 kilometres away.\n"
)


def _articles(page) -> None:
    page.get_by_role("tab", name="Articles").click()
    page.locator("#cb-admin-token input").fill(ADMIN_TOKEN)


def _chat(page) -> None:
    page.get_by_role("tab", name="Chat").click()


def test_upload_then_ask_gets_a_cited_answer_from_the_new_article(page, tmp_path):
    from playwright.sync_api import expect

    good, bad, pdf = tmp_path / "lighthouse.md", tmp_path / "scan.txt", tmp_path / "tide-report.pdf"
    good.write_text(MD_ARTICLE)
    bad.write_bytes(b"\x00\x01 not text")
    # A PDF printed by this same Chromium from a report page of our own.
    printer = page.context.browser.new_page()
    printer.set_content("<h1>Tide Gauge Report</h1><p>The tide gauge at Kerrow Quay recorded a surge of 1.9 metres "
                        "during the January storm, the harbour office said.</p>")
    pdf.write_bytes(printer.pdf(format="A5"))
    printer.close()
    _articles(page)
    page.locator("#cb-upload input[type=file]").set_input_files([str(good), str(bad), str(pdf)])
    page.locator("#cb-upload-btn").click()
    result = page.locator("#cb-upload-result")
    expect(result).to_contain_text("2 added", timeout=60_000)
    # Each file's outcome appears by the file.
    expect(result.locator(".cb-file-ok").first).to_contain_text("lighthouse.md")
    expect(result.locator(".cb-file-ok").last).to_contain_text("tide-report.pdf")
    expect(result.locator(".cb-file-error")).to_contain_text("scan.txt: file is binary")
    expect(page.locator("#cb-docs")).to_contain_text("Lighthouse Restored in Port Elvar")
    expect(page.locator("#cb-docs")).to_contain_text("Mira Quell")
    page.screenshot(path=str(ARTIFACTS / "articles-upload.png"), full_page=True)

    _chat(page)
    _ask(page, "How far away is the new lighthouse lamp visible?", "40 kilometres")
    card = page.locator("#cb-sources .cb-card").first
    expect(card).to_contain_text("Lighthouse Restored in Port Elvar")
    # Markdown sources read as text: no heading hashes, bold stars or link syntax.
    text = page.locator("#cb-sources").inner_text()
    assert "**" not in text and "# " not in text and "](" not in text
    # The [1] marker links to its source card.
    link = page.locator(BOT).last.locator('a[href="#cb-src-1"]').first
    link.click()
    expect(page.locator("#cb-src-1")).to_have_class(re.compile(r"\bcb-flash\b"))
    # The PDF's source card says which page the quote is on.
    _ask(page, "How high was the surge at the Kerrow Quay tide gauge?", "1.9 metres")
    expect(page.locator("#cb-sources .cb-card").first).to_contain_text("tide-report.pdf · page 1")


def test_fetch_a_page_by_url_then_ask_about_it(page):
    from loopback_site import PAGES, Site
    from playwright.sync_api import expect

    site = Site()
    try:
        _articles(page)
        page.locator("#cb-urls textarea").fill(f"{site.url('/news/' + PAGES[1])}\n{site.url('/missing.html')}")
        page.locator("#cb-urls-btn").click()
        result = page.locator("#cb-upload-result")
        expect(result).to_contain_text("1 added", timeout=90_000)
        expect(result.locator(".cb-file-error")).to_contain_text("HTTP 404")
        expect(page.locator("#cb-docs")).to_contain_text(site.url("/news/" + PAGES[1]))
        # A feed: its entries are fetched (the page already stored is unchanged).
        page.locator("#cb-urls textarea").fill(site.url("/feed.atom"))
        page.locator("#cb-urls-feed input").check()
        page.locator("#cb-urls-btn").click()
        expect(result).to_contain_text("1 added, 0 updated, 1 unchanged", timeout=90_000)
        expect(page.locator("#cb-docs")).to_contain_text(site.url("/news/" + PAGES[2]))
        _chat(page)
        _ask(page, "Which film won the top prize at the Screen Actors Guild awards?", "Parasite")
        expect(page.locator("#cb-sources .cb-card").first).to_contain_text(site.url("/news/" + PAGES[1]))
    finally:
        site.close()


def test_paste_then_delete_an_article(page):
    from playwright.sync_api import expect

    _articles(page)
    page.locator("#cb-paste-title input").fill("Ferry Timetable Changes")
    page.locator("#cb-paste-text textarea").fill("The night ferry to Valmo now leaves at 23:15 instead of 22:40, "
                                                 "the harbour office said.")
    page.locator("#cb-paste-btn").click()
    expect(page.locator("#cb-docs")).to_contain_text("Ferry Timetable Changes", timeout=60_000)
    page.locator("#cb-delete-doc input").click()
    page.get_by_role("option", name="Ferry Timetable Changes (ferry-timetable-changes.md)").click()
    page.locator("#cb-delete-btn").click()
    expect(page.locator("#cb-upload-result")).to_contain_text("Deleted ferry-timetable-changes.md", timeout=30_000)
    expect(page.locator("#cb-docs")).not_to_contain_text("Ferry Timetable Changes")
    _chat(page)
    _ask(page, "At what time does the night ferry to Valmo leave now?", "Not in the articles")


def test_reload_keeps_the_conversation(page):
    from playwright.sync_api import expect

    page.locator("#cb-new").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    _ask(page, "Which Iranian president is going to visit Moscow to sign the pact?", "Pezeshkian")
    _ask(page, "When exactly is that visit?", "January 17")
    page.reload(wait_until="domcontentloaded")
    page.wait_for_selector("#cb-input textarea", timeout=60_000)
    expect(page.locator(BOT)).to_have_count(2, timeout=30_000)
    expect(page.locator(BOT).last).to_contain_text("January 17")
    expect(page.locator("#cb-sources .cb-card").first).to_be_visible()
    convs = page.locator("#cb-convs")
    expect(convs).to_contain_text("Which Iranian president is going to visit Moscow")
    # The server still has the history: a follow-up after the reload is resolved from it.
    _ask(page, "Who is going to visit Moscow?", "Pezeshkian")

    # Rename, switch to a new chat and back, then delete.
    page.locator("#cb-rename input").fill("Iran–Russia pact")
    page.locator("#cb-rename-btn").click()
    expect(convs).to_contain_text("Iran–Russia pact", timeout=20_000)
    page.locator("#cb-new").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    convs.get_by_text("Iran–Russia pact").click()
    expect(page.locator(BOT)).to_have_count(3, timeout=20_000)
    page.locator("#cb-delete-conv").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    expect(convs).not_to_contain_text("Iran–Russia pact")


def test_thumbs_down_is_stored_and_exported(page, server, tmp_path):
    from playwright.sync_api import expect

    page.locator("#cb-new").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    _ask(page, "Who is Armin Montazeri?", "Hammihan Daily")
    page.locator(BOT).last.hover()
    page.locator("#cb-chat button[aria-label='Dislike']").last.click()
    expect(page.locator("#cb-feedback-note")).to_contain_text("Saved 👎", timeout=20_000)
    page.locator("#cb-comment textarea").fill("It should say he is the editor-in-chief.")
    page.locator("#cb-comment-send").click()
    expect(page.locator("#cb-feedback-note")).to_contain_text("Comment saved", timeout=20_000)

    out = tmp_path / "cases.jsonl"
    run = subprocess.run([str(BIN / "citebot"), "feedback", "export", "--out", str(out)], env=server.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    mine = [c for c in cases if c["question"] == "Who is Armin Montazeri?"]
    assert mine and mine[0]["comment"] == "It should say he is the editor-in-chief."
    assert mine[0]["answerable"] is None and "Hammihan Daily" in mine[0]["answer_given"]


def test_conversation_survives_a_server_restart(page, server):
    """Last in the file: it restarts the module's server. The browser's stored id still opens the conversation."""
    from playwright.sync_api import expect

    page.locator("#cb-new").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    _ask(page, "When did Vladimir Putin return to the Kremlin?", "2012")
    server.stop()
    server.start()
    page.reload(wait_until="domcontentloaded")
    page.wait_for_selector("#cb-input textarea", timeout=60_000)
    expect(page.locator(BOT)).to_have_count(1, timeout=30_000)
    expect(page.locator(BOT).last).to_contain_text("2012")
    expect(page.locator("#cb-convs")).to_contain_text("When did Vladimir Putin return to the Kremlin?")
