"""The chat page in real headless Chromium against a real `citebot serve` on loopback."""

from __future__ import annotations

import os
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
XSS_ARTICLE = (
    "Harbour Gala Report\n\nBy Eve Tester\n\n"
    "The harbour gala raised money for the lifeboat crew <script>window.__xss=1</script> and "
    "<img src=x onerror=\"window.__xss=2\"> volunteers served soup until midnight.\n"
)



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    articles = tmp / "articles"
    shutil.copytree(ROOT / "seeds", articles)
    (articles / "gala.txt").write_text(XSS_ARTICLE)
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp / "store"), "GRADIO_ANALYTICS_ENABLED": "False"}
    ingest = subprocess.run([str(BIN / "citebot"), "ingest", str(articles)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    port = free_port()
    proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/readyz", proc, what="citebot serve")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


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
        pg.goto(server, wait_until="domcontentloaded")
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


def test_clear_button_forgets_the_conversation(page):
    from playwright.sync_api import expect

    page.locator("#cb-clear").click()
    expect(page.locator(BOT)).to_have_count(0, timeout=20_000)
    expect(page.locator("#cb-sources")).to_contain_text("Sources for the answer appear here")
    _ask(page, "Who is Armin Montazeri?", "Hammihan Daily")
    expect(page.locator(BOT)).to_have_count(1)
