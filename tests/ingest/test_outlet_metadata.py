"""The outlet (site name) and canonical address of each document: read from made-up pages, stored in the manifest,
listed, and used as a retrieval filter."""

from __future__ import annotations

from bot.retrieve import Filters
from ingest.config import IngestConfig
from ingest.html import extract_html
from ingest.pipeline import ingest
from vectorstore.config import StoreConfig
from vectorstore.store import Document, Store

BODY = ("<article><h1>{title}</h1><p>The river ferry between Oskarby and Tull resumed on Monday after a "
        "three-week strike by its crew, the operator said. Tickets bought during the strike will be honoured "
        "until the end of the month, and the first crossing left at six in the morning.</p>"
        "<p>The union said the agreement raises pay by four percent and adds a second deckhand on night runs."
        "</p></article>")


def page(head: str, title: str = "Ferry Resumes After Strike") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body>{BODY.format(title=title)}</body></html>"


def test_the_site_name_and_canonical_url_come_from_the_page():
    got = extract_html(page('<meta property="og:site_name" content="The Oskarby Courier">'
                            '<link rel="canonical" href="https://news.oskarby.example/ferry-resumes">'))
    assert got is not None
    assert got.meta["site"] == "The Oskarby Courier"
    assert got.meta["url"] == "https://news.oskarby.example/ferry-resumes"
    assert "Oskarby Courier" not in got.body  # metadata, never article text


def test_a_page_without_a_site_name_is_known_by_its_host_and_one_without_either_has_none():
    got = extract_html(page('<link rel="canonical" href="https://www.tull-gazette.example/a/1">'))
    assert got is not None and got.meta["site"] == "tull-gazette.example"
    bare = extract_html(page(""))
    assert bare is not None and "site" not in bare.meta and "url" not in bare.meta


def test_outlets_are_stored_declared_for_text_files_and_filter_retrieval(tmp_path, hash_embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "courier.html").write_text(page('<meta property="og:site_name" content="The Oskarby Courier">'))
    (folder / "note.txt").write_text("Ferry Fares Rise\n\nFares on the Tull ferry rise by a tenth in June.\n")
    (folder / "note.txt.meta.json").write_text('{"site": "Tull Weekly", "url": "https://tull.example/fares"}')
    store = Store.open(StoreConfig(chroma_path=tmp_path / "chroma", collection="outlets"))
    report = ingest([folder], store, lambda: hash_embedder, IngestConfig())
    assert not report.errors, report.errors
    by_source = {d.source: d for d in store.documents()}
    assert by_source["courier.html"].site == "The Oskarby Courier"
    assert (by_source["note.txt"].site, by_source["note.txt"].url) == ("Tull Weekly", "https://tull.example/fares")
    only = Filters.checked([], None, None, sites=["the oskarby courier"])
    assert [d.source for d in store.documents() if only.admits(d)] == ["courier.html"]


def test_a_document_without_an_outlet_never_passes_an_outlet_filter():
    doc = Document(doc_id="d", source="a.txt", path="", title="t", author=None, published=None, sha256="",
                   rev="r", ingested_at="", chunks=1)
    assert not Filters.checked([], None, None, sites=["Anything"]).admits(doc)
    assert Filters.checked([], None, None, sites=[" "]).admits(doc)  # a blank name is no filter


DESCRIPTION = "Crossings between Oskarby and Tull restart as the crew's three-week walkout ends with a pay deal."


def test_the_description_is_metadata_searchable_and_not_article_text(tmp_path, hash_embedder):
    got = extract_html(page(f'<meta name="description" content="{DESCRIPTION}">'))
    assert got is not None and got.meta["description"] == DESCRIPTION
    assert DESCRIPTION not in got.body and DESCRIPTION in got.header  # a header line: searchable, not the article
    # A description the body already holds verbatim is article text: not repeated as metadata.
    lede = ("The river ferry between Oskarby and Tull resumed on Monday after a three-week strike by its crew, "
            "the operator said.")
    same = extract_html(page(f'<meta name="description" content="{lede}">'))
    assert same is not None and "description" not in same.meta

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "courier.html").write_text(page(f'<meta name="description" content="{DESCRIPTION}">'))
    store = Store.open(StoreConfig(chroma_path=tmp_path / "chroma", collection="description"))
    assert not ingest([folder], store, lambda: hash_embedder, IngestConfig()).errors
    (doc,) = store.documents()
    assert doc.description == DESCRIPTION
