"""The JSON API over real Deps (seeded store, real model): every endpoint and every malformed request."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from bot.models import Answer, Citation, Timings
from citebot.deps import build_deps
from citebot.settings import Settings
from web.config import WebConfig
from web.render import answer_markdown, highlighted_passage, sources_html
from web.server import create_app


def services_for(settings: Settings, embedder) -> object:
    """The web layer's parts over real Deps, with the conversation database and uploads in the data dir."""
    from citebot.deps import build_services

    return build_services(settings, build_deps(settings, embedder=embedder))


@pytest.fixture(scope="module")
def client(seeded_store_factory, real_embedder, tmp_path_factory):
    cfg = seeded_store_factory()
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection,
                        data_dir=tmp_path_factory.mktemp("data"))
    app = create_app(services_for(settings, real_embedder), WebConfig(max_request_kb=64), ui=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_ask_returns_the_cli_json_shape(client):
    r = client.post("/api/ask", json={"question": "In which year was Hassan Rouhani elected?"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"question", "answer", "abstained", "citations", "short_answer", "engine", "timings_ms", "conversation_id",
                         "turn_id"}
    assert body["conversation_id"] is None and body["turn_id"] is None
    assert "2013" in body["answer"] and body["citations"][0]["n"] == 1
    Answer.model_validate(body)


def test_ask_with_history_resolves_the_follow_up(client):
    history = [
        {"role": "user", "content": "Which Iranian president is going to visit Moscow to sign the pact?"},
        {"role": "assistant", "content": "Masoud Pezeshkian is set to visit Moscow to sign the agreement."},
    ]
    r = client.post("/api/ask", json={"question": "When exactly is that visit?", "history": history})
    assert r.status_code == 200 and "January 17" in r.json()["answer"]


def test_stream_sends_tokens_then_one_answer(client):
    with client.stream("POST", "/api/chat/stream", json={"question": "When did Vladimir Putin return to the Kremlin?"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        raw = "".join(r.iter_text())
    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    kinds = [e[0].removeprefix("event: ") for e in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert "token" in kinds and kinds.index("token") < kinds.index("answer")
    final = json.loads(events[-1][1].removeprefix("data: "))
    assert "2012" in final["answer"] and final["citations"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "body is not valid JSON"),
        (b'"just a string"', 422, "body must be a JSON object"),
        (b"{}", 422, "question: Field required"),
        (b'{"question": ""}', 422, "question is empty"),
        (b'{"question": 5}', 422, "question: Input should be a valid string"),
        (json.dumps({"question": "x" * 8001}).encode(), 422, "the limit is 8000"),
        (b'{"question": "Who?", "history": "nope"}', 422, "history: Input should be a valid list"),
        (b'{"question": "Who?", "history": [{"role": "bot", "content": "x"}]}', 422, "history.0.role"),
        (b'{"question": "Who?", "engine": "gpt-9"}', 422, "unknown engine 'gpt-9'"),
        (b'{"question": "Who?", "engine": "openai"}', 422, "CITEBOT_LLM_BASE_URL"),
        (json.dumps({"question": "Who?", "pad": "y" * 70_000}).encode(), 413, "over the 64 KiB limit"),
    ],
)
@pytest.mark.parametrize("path", ["/api/ask", "/api/chat/stream"])
def test_malformed_requests_get_a_clear_4xx(client, path, body, status, message):
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    assert "Traceback" not in r.text


def test_documents_health_ready_and_openapi(client):
    docs = client.get("/api/documents").json()
    assert {d["source"] for d in docs} == {"000_7d831f6347d504d0.txt", "004_3ea41cb918c3c8f6.txt"}
    assert set(docs[0]) == {"doc_id", "source", "title", "author", "published", "site", "url", "description",
                            "chunks", "index"}
    assert {d["index"] for d in docs} == {"full"}  # ingested with the full model: nothing waits for tier 2
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/chat/stream", "/api/documents", "/healthz", "/readyz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_readyz_is_503_on_an_empty_store(tmp_path, real_embedder):
    settings = Settings(chroma_path=tmp_path / "empty", collection="empty")
    with TestClient(create_app(services_for(settings, real_embedder), ui=False)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and "no documents" in r.json()["reason"]


def _answer_with(quote_text: str) -> tuple[Answer, object]:
    from bot.retrieve import Corpus
    from vectorstore.store import Document

    doc = Document("d1", "x.txt", "", "<b>Title</b>", "<i>Author</i>", "2024-01-01", "s", "r", "", 1)
    corpus = Corpus(docs={"d1": doc}, texts={"d1": quote_text}, sentences={})
    ans = Answer(question="q", answer=f"{quote_text} [1]", abstained=False, engine="extractive", timings_ms=Timings(),
                 citations=[Citation(n=1, doc_id="d1", source="x.txt", title="<b>Title</b>", chunk_id="c", start=0,
                                     end=len(quote_text), quote=quote_text)])
    return ans, corpus


def test_rendered_sources_escape_article_html():
    payload = 'Hi <script>alert(1)</script><img src=x onerror="alert(2)"> there.'
    ans, corpus = _answer_with(payload)
    html = sources_html(ans, corpus)  # type: ignore[arg-type]
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert "<mark>" in html
    bubble = answer_markdown(ans)
    assert "<script>" not in bubble and "**[1]**" in bubble


def test_highlight_marks_exactly_the_quote():
    text = "First sentence here. The quoted part. After it."
    out = highlighted_passage(text, 21, 37)
    assert out == "First sentence here. <mark>The quoted part.</mark> After it."


def test_abstention_renders_distinctly():
    ans = Answer(question="q", answer="I can't answer that from the articles.", abstained=True, engine="extractive")
    assert "cb-abstain" in sources_html(ans, None)  # type: ignore[arg-type]
    assert answer_markdown(ans).startswith("**Not in the articles.**")


def test_example_questions_read_only_the_texts_they_need():
    from collections.abc import Iterator, Mapping

    from bot.retrieve import Corpus
    from vectorstore.store import Document
    from web.examples import example_questions

    class Counting(Mapping[str, str]):
        def __init__(self) -> None:
            self.read: list[str] = []

        def __getitem__(self, key: str) -> str:
            self.read.append(key)
            return "Mira Osk, a harbour director, said the pier would reopen."

        def __iter__(self) -> Iterator[str]:
            return iter([])

        def __len__(self) -> int:
            return 0

    docs = {f"d{i}": Document(f"d{i}", f"{i:04d}.txt", "", f"Pier story {i}", "Ana Reporter", None, "s", "r", "", 1)
            for i in range(500)}
    texts = Counting()
    examples = example_questions(Corpus(docs=docs, texts=texts, sentences={}), limit=4)
    assert examples == ["Who wrote “Pier story 0”?", "Who is Mira Osk?", "Who wrote “Pier story 1”?",
                        "Who wrote “Pier story 2”?"]
    assert len(texts.read) <= 4  # not one read per stored article


def test_example_questions_come_from_the_stored_articles(seeded_store_factory, real_embedder):
    from web.examples import example_questions

    cfg = seeded_store_factory()
    deps = build_deps(Settings(chroma_path=cfg.chroma_path, collection=cfg.collection), embedder=real_embedder)
    examples = example_questions(deps.retriever.corpus)
    titles = [d.title for d in deps.retriever.corpus.docs.values()]
    assert any(t in q for q in examples for t in titles)
    assert "Who is Armin Montazeri?" in examples
    from bot.answer import answer

    for q in examples:  # every example the page offers is answered, with citations
        ans = answer(q, [], deps)
        assert not ans.abstained and ans.citations, q


def test_filters_restrict_retrieval_and_bad_dates_are_rejected(client):
    q = {"question": "Who is Hamidreza Azizi?"}
    only_000 = client.post("/api/ask", json={**q, "sources": ["000_7d831f6347d504d0.txt"]}).json()
    assert all(c["source"] == "000_7d831f6347d504d0.txt" for c in only_000["citations"])
    assert "German Institute" not in only_000["answer"]
    dated = client.post("/api/ask", json={"question": "When did Vladimir Putin return to the Kremlin?",
                                          "published_from": "2024-12-01", "published_to": "2024-12-31"}).json()
    assert "2012" in dated["answer"]
    bad = client.post("/api/ask", json={**q, "published_from": "last week"})
    assert bad.status_code == 422 and "published_from must be a date" in bad.json()["error"]


def test_citations_say_which_pdf_page_and_whether_a_reader_commented():
    from bot.answer import build_answer
    from bot.draft import Claim, Draft, Span
    from bot.retrieve import Corpus
    from vectorstore.store import Document

    text = "Page one says the levee held.\n\nPage two says the pumps failed.\n\nReader comments\n\nI saw it happen."
    pdf = Document("p1", "report.pdf", "", "Levee report", None, None, "s", "r", "", 1, pages="1:0,2:31")
    html = Document("h1", "story.html", "", "Levee story", None, None, "s", "r", "", 1, comments_at=64)
    corpus = Corpus(docs={"p1": pdf, "h1": html}, texts={"p1": text, "h1": text}, sentences={})
    pumps, witness = text.index("Page two"), text.index("I saw")
    draft = Draft(claims=[Claim("Page two says the pumps failed.", [Span("p1", "c", pumps, pumps + 31)]),
                          Claim("I saw it happen.", [Span("h1", "c", witness, witness + 16)])])
    ans = build_answer("q", draft, corpus, "extractive", Timings())  # type: ignore[arg-type]
    assert [(c.page, c.comment) for c in ans.citations] == [(2, False), (None, True)]
    assert pdf.page_at(0) == 1 and pdf.page_at(30) == 1 and pdf.page_at(31) == 2 and html.page_at(5) is None
    cards = sources_html(ans, corpus)  # type: ignore[arg-type]
    assert "page 2" in cards and "a reader’s comment, not the article" in cards
