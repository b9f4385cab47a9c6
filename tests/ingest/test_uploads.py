"""The upload library at its seams (the hash embedder stands in for the model): names, staging, progress."""

from __future__ import annotations

import pytest

from ingest.config import IngestConfig
from ingest.loaders import LoadError
from ingest.markdown import markdown_text
from ingest.uploads import Library, NotFoundError, Upload, UploadError, checked_name, slug
from vectorstore.store import Store

ARTICLE = b"Harbour News\n\nBy Ann Lee\n\nThe harbour reopened on Monday after the storm, the port authority said.\n"


@pytest.fixture
def library(tmp_path, store_config, hash_embedder):
    return Library(tmp_path / "uploads", Store.open(store_config), lambda: hash_embedder, IngestConfig())


@pytest.mark.parametrize("name", ["../x.txt", "a/b.txt", "..\\b.txt", "..", ".env", "", "a\x00.txt", "x" * 121 + ".txt",
                                  "a.meta.json"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(LoadError):
        checked_name(name)


def test_plain_names_pass_and_titles_slug():
    assert checked_name("Café report.md") == "Café report.md"
    assert slug("Ferry: Timetable / Changes!") == "ferry-timetable-changes"
    assert slug("???") == "pasted"


def test_add_reports_progress_and_keeps_only_good_files(library):
    calls: list[tuple[int, int]] = []
    report = library.add([Upload("a.txt", ARTICLE), Upload("b.txt", b"")], progress=lambda d, t: calls.append((d, t)))
    assert report.added == 1 and [(e.path, e.error) for e in report.errors] == [("b.txt", "file is empty")]
    assert calls and calls[-1][0] == calls[-1][1]
    assert sorted(p.name for p in library.upload_dir.iterdir()) == ["a.txt"]  # staging is cleaned up
    again = library.add([Upload("a.txt", ARTICLE)])
    assert again.unchanged == 1 and again.chunks_embedded == 0
    with pytest.raises(UploadError, match="no files"):
        library.add([])


def test_duplicate_names_in_one_upload_and_delete(library):
    report = library.add([Upload("a.txt", ARTICLE), Upload("a.txt", ARTICLE + b"More.")])
    assert report.added == 1 and "appears twice" in report.errors[0].error
    [doc] = library.store.documents()
    assert library.delete(doc.doc_id) == "a.txt" and not (library.upload_dir / "a.txt").exists()
    with pytest.raises(NotFoundError):
        library.delete(doc.doc_id)


def test_paste_needs_title_and_text(library):
    with pytest.raises(UploadError, match="title is empty"):
        library.add_text(" ", "text")
    with pytest.raises(UploadError, match="text is empty"):
        library.add_text("T", "  ")
    report = library.add_text("Harbour: News", "The harbour reopened on Monday after the storm.")
    assert report.added == 1 and library.store.documents()[0].title == "Harbour: News"


def test_markdown_becomes_the_text_a_reader_sees():
    md = ("# Big **news** today\n\nThe [council](http://x.org) voted *7-2* on `Monday`.\nSecond line.\n\n"
          "- one\n- two\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div>raw</div>\n")
    assert markdown_text(md).split("\n\n") == [
        "Big news today", "The council voted 7-2 on Monday. Second line.", "• one", "• two", "quoted", "a | b", "1 | 2"]
