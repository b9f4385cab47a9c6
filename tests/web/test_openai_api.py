"""citebot as an OpenAI model: the real `openai` client (sync, async, streaming) and LangChain's ChatOpenAI
against a real `citebot serve` on loopback, with a read token as the API key."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from helpers import free_port, wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
KEY = "reader-key"
QUESTION = "When did Vladimir Putin return to the Kremlin?"


@pytest.fixture(scope="module")
def base_url(seeded_store_factory, tmp_path_factory):
    cfg = seeded_store_factory()
    tmp = tmp_path_factory.mktemp("v1")
    shutil.copytree(cfg.chroma_path, tmp / "chroma")
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp / "chroma"), "CITEBOT_COLLECTION": cfg.collection,
           "CITEBOT_DATA_DIR": str(tmp / "data"), "CITEBOT_READ_TOKEN": KEY}
    port = free_port()
    proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(f"http://127.0.0.1:{port}/healthz", proc, what="citebot serve")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=30)


def test_models_are_the_engines(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key=KEY)
    assert [m.id for m in client.models.list()] == ["citebot-extractive"]


def test_sync_completion_carries_markers_and_citations(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key=KEY)
    res = client.chat.completions.create(
        model="citebot-extractive",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}])
    content = res.choices[0].message.content or ""
    assert "2012" in content and "[1]" in content and res.choices[0].finish_reason == "stop"
    extra = res.model_extra or {}
    assert extra["abstained"] is False
    # The question asks for a date: its short answer is in bold in the text and inside citation n's quote.
    short = extra["short_answer"]
    assert "2012" in short["text"] and f"**{short['text']}**" in content
    cited = next(c for c in extra["citations"] if c["n"] == short["citation"])
    assert cited["start"] <= short["start"] < short["end"] <= cited["end"]
    first = extra["citations"][0]
    assert first["n"] == 1 and "2012" in first["quote"] and {"doc_id", "source", "start", "end"} <= set(first)


def test_history_comes_from_the_message_list(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key=KEY)
    res = client.chat.completions.create(model="citebot-extractive", messages=[
        {"role": "user", "content": "Which Iranian president is going to visit Moscow to sign the pact?"},
        {"role": "assistant", "content": "Masoud Pezeshkian is set to visit Moscow to sign the agreement."},
        {"role": "user", "content": [{"type": "text", "text": "When exactly is that visit?"}]},
    ])
    assert "January 17" in (res.choices[0].message.content or "")


def test_stream_ends_with_the_citations(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key=KEY)
    chunks = list(client.chat.completions.create(model="citebot-extractive", stream=True,
                                                 messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "2012" in text and "[1]" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["n"] == 1
    full = client.chat.completions.create(model="citebot-extractive", messages=[{"role": "user", "content": QUESTION}])
    assert text == full.choices[0].message.content  # the stream is the verified answer, markers and all


def test_async_client(base_url):
    from openai import AsyncOpenAI

    async def go() -> tuple[str, str]:
        client = AsyncOpenAI(base_url=base_url, api_key=KEY)
        res = await client.chat.completions.create(model="citebot-extractive",
                                                   messages=[{"role": "user", "content": QUESTION}])
        stream = await client.chat.completions.create(model="citebot-extractive", stream=True,
                                                      messages=[{"role": "user", "content": QUESTION}])
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await client.close()
        return res.choices[0].message.content or "", streamed

    whole, streamed = asyncio.run(go())
    assert "2012" in whole and whole == streamed


def test_langchain_chat_openai(base_url):
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=base_url, api_key=KEY, model="citebot-extractive", max_retries=0)  # type: ignore[arg-type]
    reply = llm.invoke([HumanMessage("Which Iranian president is going to visit Moscow to sign the pact?"),
                        AIMessage("Masoud Pezeshkian is set to visit Moscow to sign the agreement."),
                        HumanMessage("When exactly is that visit?")])
    assert "January 17" in str(reply.content) and "[1]" in str(reply.content)
    streamed = "".join(str(c.content) for c in llm.stream(QUESTION))
    assert "2012" in streamed


def test_errors_use_the_openai_shape(base_url):
    import openai
    from openai import OpenAI

    with pytest.raises(openai.AuthenticationError):
        OpenAI(base_url=base_url, api_key="wrong", max_retries=0).models.list()
    client = OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert "available: citebot-extractive" in nf.value.message and nf.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="citebot-extractive", messages=[{"role": "user", "content": "  "}])
    assert "question is empty" in bad.value.message
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="citebot-extractive", messages=[])
    with pytest.raises(openai.BadRequestError, match="must be the user's question"):
        client.chat.completions.create(model="citebot-extractive",
                                       messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}])
    raw = httpx.post(f"{base_url}/chat/completions", content=b"{oops",
                     headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    body = raw.json()
    assert raw.status_code == 400 and set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error" and "not valid JSON" in body["error"]["message"]
    unauth = httpx.get(f"{base_url}/models")
    assert unauth.status_code == 401 and unauth.json()["error"]["code"] == "missing_api_key"
