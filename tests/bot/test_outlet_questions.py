"""Questions about outlets, answered from the stored `site` metadata, on stories written for this test.

One invented event (a ferry fire) is reported by two invented outlets, a third outlet reports something else;
the seeds are distractors. The outlet names appear nowhere in the article text, so only the metadata can answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import answer
from bot.read.analysis import QuestionAnalyser
from bot.read.nlp import pipeline
from citebot.deps import build_deps
from citebot.settings import Settings

STORIES = {
    "fire-a.md": ("Harbour Gazette", "Ferry fire forces evacuation off Tallow Point",
                  "A fire broke out in the engine room of the ferry Morwenna off Tallow Point on Sunday. All 212 "
                  "passengers were taken off by lifeboat crews. The coastguard said the blaze was put out within "
                  "two hours."),
    "fire-b.md": ("Coastline Daily", "Passengers rescued after Morwenna ferry fire",
                  "Lifeboat crews rescued 212 passengers from the burning ferry Morwenna near Tallow Point. The "
                  "operator said the engine-room fire started during a routine crossing. An inquiry will begin "
                  "next month."),
    "orchard.md": ("Valley Courier", "Cider orchard wins regional award",
                   "The Pennock cider orchard won the regional award for its perry on Friday. The owners planted "
                   "the first trees in 1984."),
}


@pytest.fixture(scope="module")
def deps(tmp_path_factory, seeded_store_factory, real_embedder):
    folder: Path = tmp_path_factory.mktemp("outlets")
    for name, (site, title, body) in STORIES.items():
        (folder / name).write_text(f"---\ntitle: {title}\nsite: {site}\nauthor: Staff\n---\n\n{body}\n")
    cfg = seeded_store_factory(folder)
    return build_deps(Settings(chroma_path=cfg.chroma_path, collection=cfg.collection), embedder=real_embedder)


@pytest.mark.parametrize(
    "question, outlets",
    [
        ("Which newspaper published the story about the passengers of the Morwenna taken off by lifeboats?", 1),
        ("Which outlets reported the fire on the ferry Morwenna?", 2),
        ("What publication ran the article on the Pennock cider orchard's award?", 1),
        ("Which organisation published the story about the cider orchard?", 1),  # a piece was published
        ("Which website employs the head baker?", 0),  # about the text: not a publishing verb
        ("Which company reported record profits?", 0),  # a company reporting is not an outlet publishing
        ("Who reported the fire on the ferry?", 0),
    ],
)
def test_the_parse_tells_an_outlet_question(question, outlets):
    assert QuestionAnalyser(pipeline()).analyse(question).outlets == outlets


def test_which_newspaper_is_answered_from_the_site_metadata(deps):
    ans = answer("Which newspaper published the story on the Pennock cider orchard winning an award?", [], deps)
    assert not ans.abstained, ans.answer
    assert "Valley Courier" in ans.answer
    (cite,) = ans.citations
    assert (cite.kind, cite.field, cite.quote, cite.site) == ("metadata", "site", "Valley Courier", "Valley Courier")
    assert ans.short_answer is not None and (ans.short_answer.text, ans.short_answer.citation) == (
        "Valley Courier", cite.n)


def test_which_outlets_lists_every_outlet_that_reported_the_story(deps):
    ans = answer("Which outlets reported the fire on the ferry Morwenna?", [], deps)
    assert not ans.abstained, ans.answer
    cited = {c.quote for c in ans.citations}
    assert {"Harbour Gazette", "Coastline Daily"} <= cited
    assert "Valley Courier" not in cited
    assert all(c.kind == "metadata" and c.field == "site" for c in ans.citations)
    assert ans.short_answer is None  # several outlets: no single short answer


def test_the_page_description_is_cited_as_metadata_only_when_no_article_sentence_answers(tmp_path, real_embedder):
    from ingest.config import IngestConfig
    from ingest.pipeline import ingest
    from vectorstore.config import StoreConfig
    from vectorstore.store import Store

    body = ("<p>The Morwenna ferry returned to service on Tuesday after repairs to its engine room.</p>"
            "<p>The operator said crossings to Tallow Point would run every two hours until the summer.</p>")
    summary = "Islanders had waited nine days for the only car ferry to the mainland to come back."
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ferry.html").write_text(
        f'<html><head><title>Ferry back in service</title><meta name="description" content="{summary}"></head>'
        f"<body><article><h1>Ferry back in service</h1>{body}</article></body></html>")
    cfg = StoreConfig(chroma_path=tmp_path / "chroma", collection="description")
    assert not ingest([tmp_path / "in"], Store.open(cfg), lambda: real_embedder, IngestConfig()).errors
    deps = build_deps(Settings(chroma_path=cfg.chroma_path, collection=cfg.collection), embedder=real_embedder)
    text = answer("How often will the ferry run to Tallow Point?", [], deps)
    assert not text.abstained and text.citations[0].kind == "text"
    meta = answer("How many days had islanders waited for the car ferry?", [], deps)
    assert not meta.abstained, meta.answer
    (cite,) = meta.citations
    assert (cite.kind, cite.field, cite.quote) == ("metadata", "description", summary)
