"""HTML extraction on made-up pages: no description meta, comments, boilerplate rules, repeats, the honest header."""

from __future__ import annotations

from pathlib import Path

from ingest.clean import clean_text, is_boilerplate
from ingest.config import IngestConfig
from ingest.html import extract_html
from ingest.loaders import load_file
from ingest.pipeline import prepare

MB = 20 * 1024 * 1024
BODY = " ".join(f"The river council counted {i} new otter families along the northern bank this spring."
                for i in range(10))


def _page(extra_head: str = "", extra_body: str = "", after: str = "") -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Otters return | Valley Post</title>
    <meta name="author" content="Mara Quill"><meta property="article:published_time" content="2021-04-05">
    {extra_head}</head><body><nav><a href="/">Home</a></nav>
    <article><h1>Otters return</h1><p>{BODY}</p>{extra_body}
    <p>Volunteers will repeat the count next year.</p></article>{after}</body></html>"""


def _prepare(tmp_path: Path, html: str, **cfg: bool):
    f = tmp_path / "page.html"
    f.write_text(html)
    return prepare(load_file(f, MB), tmp_path, IngestConfig(**cfg))


def test_the_description_meta_is_not_added_to_the_article(tmp_path):
    # A summary written for search engines and shares, not article text: storing it would claim the page says it
    # in its body, and would be counted against precision by any extraction benchmark.
    desc = "Ecologists say cleaner water brought the otters back after forty years away."
    p = _prepare(tmp_path, _page(f'<meta name="description" content="{desc}">'))
    assert desc not in p.page_text
    assert p.page_text.startswith("Otters return\n\nThe river council counted 0")
    # It is metadata: a field of the document, and a header line of the stored text (searchable, never quoted).
    assert p.doc.description == desc
    assert p.clean_text.index(desc) < p.clean_text.index("The river council counted")


def test_header_is_kept_apart_from_the_page_text(tmp_path):
    p = _prepare(tmp_path, _page())
    # The stored text leads with the byline we built (searchable, cited as metadata) ...
    assert "By Mara Quill" in p.clean_text
    # ... but the extracted page text, which is what we claim came from the page, does not contain it.
    assert "By Mara Quill" not in p.page_text
    assert "Volunteers will repeat the count next year." in p.page_text


def test_each_block_becomes_a_paragraph_so_widgets_between_them_go(tmp_path):
    widgets = ("<p>Read more: Beavers build a dam downtown</p><p>Sign up for our weekly nature newsletter.</p>"
               "<p>Related articles</p>")
    p = _prepare(tmp_path, _page(extra_body=widgets))
    assert "Beavers build a dam" not in p.page_text
    assert "newsletter" not in p.page_text
    assert "Volunteers will repeat the count next year." in p.page_text


def test_reader_comments_are_left_out_unless_asked_for_and_then_follow_the_article(tmp_path):
    comments = ('<div class="comments"><ul><li class="comment"><p>Lovely to hear the otters are back, we saw two '
                'near the old mill last week!</p></li></ul></div>')
    plain = _prepare(tmp_path, _page(after=comments))
    assert "old mill" not in plain.page_text and plain.doc.comments_at == -1
    p = _prepare(tmp_path, _page(after=comments), html_comments=True)
    assert p.page_text.index("saw two near the old mill") > p.page_text.index("repeat the count next year")
    # Marked: a heading line, and the offset where the comments begin, so citations can say "a reader's comment".
    at = p.doc.comments_at
    assert p.clean_text[at:].startswith("Reader comments\n\n")
    assert p.clean_text.index("repeat the count next year") < at < p.clean_text.index("saw two near the old mill")


def test_no_text_at_all_gives_none():
    assert extract_html("<html><body><script>var a = 1;</script></body></html>") is None


def test_boilerplate_rules_on_made_up_lines():
    for line in ("Reply", "ReplyDelete", "View Comments", "Kommentar schreiben", "Comments: 12",
                 "Comment by Jo Bloggs — 01.02, 2019 @ 10:04", "Read more: Another story about rivers",
                 "You may also like", "Auch interessant:", "Das Thema könnte dich auch interessieren:",
                 "Lesen Sie auch", "Valley Post Newsletter", "Sign up to get our best stories every week.",
                 "Mit unserem Newsletter erhalten Sie jede Woche Neuigkeiten!",
                 "Mit der Anmeldung akzeptieren Sie unsere Datenschutzbestimmungen.",
                 "Beitragsbild: Ein Otter am Ufer", "Image illustrative : an otter, CC BY",
                 "March 3, 2020 at 10:00 AM | categories: Nature | View Comments", "Loading comments...",
                 "Join the Conversation",
                 "We welcome you to our commenting platform. Be civil; we remove abusive posts and may block users "
                 "who break these rules, and we disclose information when the law requires it."):
        assert is_boilerplate(line), line


def test_body_sentences_that_mention_the_same_words_stay():
    for line in ("The mayor said in her newsletter that the bridge will reopen in May, after repairs that cost "
                 "the city more than it had planned and delayed the spring market by three weeks.",
                 "Readers can reply to the survey until Friday.",
                 "Subscribers complained, and the paper apologised.",
                 "Read more about it in the council minutes.",
                 "Revenue | 2020 | 2021",
                 "The paper closed the comment section in 2019 after a flood of abuse, its editor said."):
        assert not is_boilerplate(line), line
    text = "A headline\n\nThe council will register every boat. Owners must apply by June.\n\nReply"
    assert clean_text(text).paragraphs == ["A headline", "The council will register every boat. Owners must "
                                           "apply by June."]


def test_repeated_labels_of_a_structured_article_are_kept_and_a_repeated_lede_goes():
    lede = "The village bake-off drew forty entries on Saturday, a record for the contest."
    text = "\n\n".join([
        "Bake-off results", lede, "Category: bread", "Winner: Ada Moss", "Category: cake", "Winner: Tom Reyes",
        "Category: pie", "Winner: Ada Moss", lede, "The judges will return next year."])
    kept = clean_text(text).paragraphs
    assert kept.count("Winner: Ada Moss") == 2 and kept.count(lede) == 1
    assert kept[-1] == "The judges will return next year."
