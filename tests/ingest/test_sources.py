"""Fetching pages and feeds from a real HTTP server on loopback: the SSRF guard, limits, redirects, feeds with
conditional GET, and PDFs printed by real Chromium."""

from __future__ import annotations

import ipaddress

import pytest
from loopback_site import PAGES, SCAN_HTML, Site, chromium_pdf

from ingest.loaders import LoadError
from ingest.sources.feeds import read_feed, remember
from ingest.sources.fetch import FetchError, FetchLimits, address_allowed, check_url, fetch
from ingest.sources.saved import save

OPEN = FetchLimits(allow_private=True, timeout_s=5)


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


# -- the guard ----------------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                                     "224.0.0.1"])
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address):
    assert not address_allowed(ipaddress.ip_address(address), FetchLimits())


def test_public_addresses_pass_and_the_settings_open_private_ones():
    assert address_allowed(ipaddress.ip_address("93.184.216.34"), FetchLimits())
    assert address_allowed(ipaddress.ip_address("10.20.3.4"), FetchLimits(allowed_networks=("10.20.0.0/16",)))
    assert not address_allowed(ipaddress.ip_address("10.21.3.4"), FetchLimits(allowed_networks=("10.20.0.0/16",)))
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), FetchLimits(allow_private=True))


def test_loopback_is_refused_without_the_flag(site):
    with pytest.raises(FetchError, match="CITEBOT_FETCH_ALLOW_PRIVATE") as err:
        fetch(site.url("/news/" + PAGES[0]), FetchLimits())
    assert "127.0.0.1" in str(err.value)
    assert site.hits.get("/news/" + PAGES[0]) is None  # refused before any request was made


def test_a_name_is_checked_after_dns_resolution(site):
    # "localhost" is a name, not an address: what it resolves to decides.
    with pytest.raises(FetchError, match="resolves to"):
        fetch(f"http://localhost:{site.port}/news/{PAGES[0]}", FetchLimits())


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "only http and https"),
    ("ftp://example.com/a.html", "only http and https"),
    ("http://user:pw@example.com/", "user name or password"),
    ("http:///nohost", "no host"),
    ("http://example.com:99999/", "not a valid URL"),
    ("http://no-such-host.invalid/", "cannot resolve host"),
])
def test_bad_urls_get_a_specific_error(url, message):
    with pytest.raises(FetchError, match=message):
        check_url(url, FetchLimits())


def test_every_redirect_hop_is_checked(site):
    # 127.0.0.1 is allowed by network, the redirect's target 127.0.0.2 is not: the hop is refused.
    limits = FetchLimits(allowed_networks=("127.0.0.1/32",), timeout_s=5)
    assert fetch(site.url("/redirect"), limits).status == 200
    with pytest.raises(FetchError, match="127.0.0.2"):
        fetch(site.url("/to-other-loopback"), limits)
    with pytest.raises(FetchError, match="only http and https"):
        fetch(site.url("/to-file"), limits)


# -- limits and responses --------------------------------------------------------------------------
def test_a_page_is_fetched_with_its_type_and_validators(site):
    got = fetch(site.url("/redirect"), OPEN)
    assert got.status == 200 and got.final_url == site.url("/news/" + PAGES[0])
    assert got.redirects == [site.url("/redirect")]
    assert got.content_type.startswith("text/html") and got.etag and got.last_modified
    assert b"telescope" in got.body.lower()


def test_limits_and_errors_are_clear(site):
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(site.url("/missing.html"), OPEN)
    with pytest.raises(FetchError, match="more than 5 times"):
        fetch(site.url("/loop"), OPEN)
    with pytest.raises(FetchError, match="did not answer within 0.5 s"):
        fetch(site.url("/slow"), FetchLimits(allow_private=True, timeout_s=0.5))
    with pytest.raises(FetchError, match="over the 1 MB limit"):
        fetch(site.url("/huge"), FetchLimits(allow_private=True, max_bytes=1024 * 1024))


def test_saved_pages_name_their_url_and_type(site, tmp_path):
    page = save(fetch(site.url("/redirect"), OPEN), tmp_path)
    assert page.suffix == ".html" and page.parent.name == "127.0.0.1"
    sidecar = page.with_name(page.name + ".meta.json").read_text()
    assert site.url("/redirect") in sidecar and site.url("/news/" + PAGES[0]) in sidecar
    assert save(fetch(site.url("/notes.txt"), OPEN), tmp_path).suffix == ".txt"
    with pytest.raises(FetchError, match="image/png, not a web page, text or PDF"):
        save(fetch(site.url("/logo.png"), OPEN), tmp_path)


# -- feeds ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("feed", "pages"), [("/feed.rss", PAGES[:2]), ("/feed.atom", PAGES[1:])])
def test_a_feed_saves_its_entries_then_asks_only_for_changes(site, tmp_path, feed, pages):
    lines: list[tuple[str, str | None]] = []
    first = read_feed(site.url(feed), tmp_path, OPEN, on_entry=lambda u, e: lines.append((u, e)))
    assert first.entries == 2 and len(first.saved) == 2 and not first.errors
    assert [u for u, _ in lines] == [site.url("/news/" + p) for p in pages]
    assert '"feed_published": "2019-09-2' in first.saved[0].with_name(first.saved[0].name + ".meta.json").read_text()
    # Not remembered yet (as if killed before the pages were stored): the next read fetches them again.
    again = read_feed(site.url(feed), tmp_path, OPEN)
    assert len(again.saved) == 2
    remember(tmp_path, again)
    hits = dict(site.hits)
    third = read_feed(site.url(feed), tmp_path, OPEN)
    assert third.not_modified and not third.saved  # the feed answered 304 to If-None-Match
    assert site.not_modified.get(feed) and all(site.hits.get(f"/news/{p}") == hits.get(f"/news/{p}") for p in pages)


def test_a_feed_entry_that_fails_is_reported_and_the_others_kept(site, tmp_path):
    site.files["/mixed.rss"] = ("application/rss+xml", site._rss([PAGES[0], "gone.html"]).encode())
    result = read_feed(site.url("/mixed.rss"), tmp_path, OPEN)
    assert len(result.saved) == 1
    assert result.errors and "gone.html" in result.errors[0][0] and "HTTP 404" in result.errors[0][1]


def test_a_page_that_is_not_a_feed_is_refused(site, tmp_path):
    with pytest.raises(FetchError, match="not an RSS or Atom feed"):
        read_feed(site.url("/notes.txt"), tmp_path, OPEN)


# -- PDF --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pdfs(site):
    """An article page, and a "scan": the page's text drawn into a canvas, printed to PDF by real Chromium."""
    return chromium_pdf(site.url("/news/" + PAGES[0])), chromium_pdf(html=SCAN_HTML)


@pytest.mark.integration
def test_a_chromium_pdf_gives_paragraphs_with_page_numbers(pdfs):
    from ingest.pdf import read_pdf

    text = read_pdf(pdfs[0])
    pages = {n for n, _ in text.paragraphs}
    assert len(pages) >= 2, "the article should print on several pages"
    body = " ".join(p for _, p in text.paragraphs)
    assert "FAST" in body or "telescope" in body.lower()
    # Lines are joined back into paragraphs: no paragraph is a single short fragment of a sentence in the middle.
    long = [p for _, p in text.paragraphs if len(p) > 200]
    assert long, "sentences broken across lines should be joined"


@pytest.mark.integration
def test_a_scanned_pdf_gets_a_clear_error(pdfs):
    from ingest.pdf import read_pdf

    with pytest.raises(LoadError, match="no text layer"):
        read_pdf(pdfs[1])


def test_broken_and_fake_pdfs_get_a_clear_error(tmp_path):
    from ingest.loaders import load_file
    from ingest.pdf import read_pdf

    with pytest.raises(LoadError, match="not a readable PDF"):
        read_pdf(b"%PDF-1.7\n" + b"garbage " * 50)
    fake = tmp_path / "fake.pdf"
    fake.write_text("just text named pdf")
    with pytest.raises(LoadError, match="not a PDF"):
        load_file(fake, 10_000_000)
