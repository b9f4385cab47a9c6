"""Cleaning and metadata of the two seeds, sidecars, front matter and HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.config import IngestConfig
from ingest.loaders import load_file
from ingest.pipeline import prepare

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MB = 20 * 1024 * 1024


def _prepare(path: Path):
    return prepare(load_file(path, MB), path.parent, IngestConfig())


def _squash(s: str) -> str:
    return " ".join(s.replace("\u00a0", " ").split())


def test_seed_000_metadata_and_cleaning():
    p = _prepare(SEEDS / "000_7d831f6347d504d0.txt")
    assert p.doc.title == "Iran and Russia: a strategic alliance under Pezeshkian's presidency"
    assert p.doc.author == "Xavier Villar"
    assert p.doc.published == "2024-12-29"
    assert p.doc.source == "000_7d831f6347d504d0.txt"
    assert len(p.doc.sha256) == 64 and p.doc.ingested_at
    assert "No comments:" not in p.clean_text and "Post a Comment" not in p.clean_text
    assert "By Xavier Villar" in p.clean_text  # the byline stays, so it can be cited


def test_seed_004_metadata_and_cleaning():
    p = _prepare(SEEDS / "004_3ea41cb918c3c8f6.txt")
    assert p.doc.title == "Strengthening Ties: Iran and Russia Finalize Long-Delayed Cooperation Agreement"
    assert p.doc.author == "Liam"
    assert p.doc.published is None
    text = p.clean_text
    assert "Avatar" not in text
    assert not re.search(r"^By$", text, re.M)
    assert "…" not in text.split("\n\n")[1]  # the truncated teaser is gone
    assert text.count(p.doc.title) == 1  # the repeated title is gone
    assert text.count("Iran and Russia have finalized a long-delayed cooperation agreement") == 1


@pytest.mark.parametrize("name", ["000_7d831f6347d504d0.txt", "004_3ea41cb918c3c8f6.txt"])
def test_no_body_sentence_is_dropped(name):
    raw = (SEEDS / name).read_text("utf-8")
    clean = _squash(_prepare(SEEDS / name).clean_text)
    boiler = {"No comments:", "Post a Comment", "Liam Avatar", "By"}
    for para in raw.split("\n\n"):
        para = _squash(para)
        if not para or para in boiler or para.endswith("…"):
            continue
        assert para in clean, para[:80]


def test_sidecar_overrides_guesses(tmp_path):
    f = tmp_path / "story.txt"
    f.write_text("A Guessed Title\n\nBy Some One\n\nMarch 1, 2020\n\nBody sentence here. Another one.\n")
    (tmp_path / "story.meta.json").write_text(json.dumps({"title": "Real Title", "author": "Jane Roe",
                                                           "published": "2021-02-03"}))
    p = _prepare(f)
    assert (p.doc.title, p.doc.author, p.doc.published) == ("Real Title", "Jane Roe", "2021-02-03")


def test_front_matter_overrides_guesses(tmp_path):
    f = tmp_path / "post.md"
    f.write_text("---\ntitle: Front Title\nauthor: [A. Writer, B. Writer]\ndate: 2023-05-06\n---\n"
                 "# Heading Title\n\nBy Nobody\n\nThe body says something. It ends here.\n")
    p = _prepare(f)
    assert p.doc.title == "Front Title"
    assert p.doc.author == "A. Writer, B. Writer"
    assert p.doc.published == "2023-05-06"
    assert "title:" not in p.clean_text


def test_html_goes_through_trafilatura(tmp_path):
    body = " ".join(f"The harbour authority reported {i} new berths in the eastern dock this year." for i in range(12))
    html = f"""<!doctype html><html><head><meta charset="utf-8"><title>Harbour expands | Site</title>
    <meta name="author" content="Ada Lovelace"><meta property="article:published_time" content="2022-07-08"></head>
    <body><nav><a href="/">Home</a> <a href="/news">News</a> Subscribe now</nav>
    <article><h1>Harbour expands</h1><p>{body}</p><p>Officials said the work would finish in spring.</p></article>
    <footer>Copyright 2024 Example Media. All rights reserved. Cookie settings</footer></body></html>"""
    f = tmp_path / "page.html"
    f.write_text(html)
    p = _prepare(f)
    assert "Officials said the work would finish in spring." in p.clean_text
    assert "Cookie settings" not in p.clean_text and "Subscribe now" not in p.clean_text
    assert p.doc.author == "Ada Lovelace"
    assert p.doc.published == "2022-07-08"
    assert "Harbour expands" in p.doc.title
