"""URL, feed, watch and PDF ingest from the CLI, run the way a user runs it (real processes, real models, a real HTTP
server on loopback, PDFs printed by real Chromium), including while `citebot serve` owns the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import free_port, wait_for
from loopback_site import PAGES, Site, chromium_pdf

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


def citebot(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "citebot"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp / "store" / "chroma"), "CITEBOT_DATA_DIR": str(tmp / "data"),
            "CITEBOT_BACKGROUND_UPGRADE": "false", "GRADIO_ANALYTICS_ENABLED": "False", **extra}


def documents(env: dict[str, str]) -> dict[str, dict[str, object]]:
    out = citebot(env, "documents", "--json")
    assert out.returncode == 0, out.stderr
    return {d["source"]: d for d in json.loads(out.stdout)}


def test_urls_feeds_and_watch_from_the_cli(site, tmp_path):
    env = environment(tmp_path)
    seeds = citebot(env, "ingest", str(ROOT / "seeds"))
    assert seeds.returncode == 0, seeds.stderr
    stored = set(documents(env))
    page = site.url("/news/" + PAGES[0])

    # Without the flag, a loopback address is refused, with the setting to change named; nothing stored is lost.
    refused = citebot(env, "ingest", page)
    assert refused.returncode == 1 and "CITEBOT_FETCH_ALLOW_PRIVATE" in refused.stderr
    assert set(documents(env)) == stored

    env["CITEBOT_FETCH_ALLOW_PRIVATE"] = "true"
    mixed = citebot(env, "ingest", "--json", page, site.url("/missing.html"), "ftp://example.com/a")
    assert mixed.returncode == 1
    report = json.loads(mixed.stdout.strip().splitlines()[-1])
    assert report["documents"]["added"] == 1 and report["documents"]["failed"] == 2
    assert f"error: {site.url('/missing.html')}: " in mixed.stderr and "HTTP 404" in mixed.stderr
    docs = documents(env)
    assert set(docs) == stored | {page}
    assert docs[page]["site"] == "Nature" and docs[page]["published"] == "2019-09-24"

    # A feed: its entries become documents; the page already stored is unchanged.
    feed = citebot(env, "ingest", "--feed", site.url("/feed.rss"))
    assert feed.returncode == 0, feed.stderr
    assert "feed " + site.url("/feed.rss") + ": 2 entries, 2 fetched" in feed.stderr
    assert site.url("/news/" + PAGES[1]) in documents(env)

    # watch: every round asks only for what changed (the feed answers 304 to its ETag).
    before = site.not_modified.get("/feed.atom", 0)
    watched = citebot(env, "watch", site.url("/feed.atom"), "--every", "1s", "--rounds", "2")
    assert watched.returncode == 0, watched.stderr
    assert "round 1" in watched.stderr and "round 2" in watched.stderr
    assert "entries" in watched.stderr and "not modified since the last read" in watched.stderr
    assert site.not_modified.get("/feed.atom", 0) == before + 1
    assert site.url("/news/" + PAGES[2]) in documents(env)

    bad = citebot(env, "watch", "seeds/", "--every", "1s")
    assert bad.returncode != 0 and "not a feed URL" in bad.stderr
    bad_every = citebot(env, "watch", site.url("/feed.atom"), "--every", "soon")
    assert bad_every.returncode != 0 and "--every" in bad_every.stderr


def test_a_pdf_is_cited_with_its_page(site, tmp_path):
    from pypdf import PdfReader

    env = environment(tmp_path)
    pdf = tmp_path / "in" / "parasite-report.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(chromium_pdf(site.url("/news/" + PAGES[1]), paper="A5"))
    (tmp_path / "in" / "empty.pdf").write_bytes(b"")
    out = citebot(env, "ingest", str(pdf.parent))
    assert out.returncode == 1 and "empty.pdf: file is empty" in out.stderr
    ans = citebot(env, "ask", "--json", "Who were named best actors at the SAG awards?")
    assert ans.returncode == 0, ans.stderr
    body = json.loads(ans.stdout)
    assert not body["abstained"], body["answer"]
    cite = body["citations"][0]
    assert cite["source"] == "parasite-report.pdf" and isinstance(cite["page"], int)
    page_text = " ".join((PdfReader(pdf).pages[cite["page"] - 1].extract_text() or "").split())
    assert " ".join(cite["quote"].split()[:6]) in page_text  # the quote starts on the page it names


def test_urls_go_through_the_server_that_owns_the_store(site, tmp_path):
    token = "sources-admin"
    env = environment(tmp_path, CITEBOT_ADMIN_TOKEN=token, CITEBOT_FETCH_ALLOW_PRIVATE="true")
    assert citebot(env, "ingest", str(ROOT / "seeds")).returncode == 0
    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/readyz", proc, timeout=240, what="citebot serve")
        started = time.monotonic()
        page = site.url("/news/" + PAGES[1])
        out = citebot(env, "ingest", page)
        assert out.returncode == 0, out.stderr
        assert "owned by the running `citebot serve`" in out.stderr and "sending 1 URL(s)" in out.stderr
        r = httpx.post(f"{url}/api/ask", json={"question": "Which film was the upset winner at the SAG awards?"},
                       timeout=60)
        assert r.status_code == 200 and any(c["source"] == page for c in r.json()["citations"]), r.text
        # CITEBOT_BACKGROUND_UPGRADE=false: the server starts no tier-2 worker, so nothing leaves the static model
        # (the worker's first round starts at once and takes seconds for these few documents).
        time.sleep(max(0.0, started + 20 - time.monotonic()))
        listed = httpx.get(f"{url}/api/documents", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert listed.status_code == 200 and {d["index"] for d in listed.json()} == {"static"}, listed.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_an_unwritable_search_index_folder_warns_and_loses_nothing(tmp_path):
    env = environment(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "lexical").write_text("a file where the index folder should be")
    out = citebot(env, "ingest", str(ROOT / "seeds"))
    assert out.returncode == 0, out.stderr
    assert "warning: could not save the search index" in out.stderr and "the documents are stored" in out.stderr
    assert documents(env)  # the articles are stored and listed
