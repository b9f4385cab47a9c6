"""The LLM engines: an LCEL chain over any OpenAI-compatible endpoint (or llama.cpp in-process), verified.

Sentences are checked as they complete, so only verified text streams to the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from pydantic import SecretStr

from bot.config import BotConfig
from bot.draft import Claim, Draft
from bot.followup import Resolved, resolve
from bot.generate.prompt import ANSWER_PROMPT, CONDENSE_PROMPT, INSUFFICIENT, format_history, format_passages
from bot.generate.verify import Sentence, split_sentences, verify
from bot.judge.support import Judge
from bot.models import EngineError, Message
from bot.retrieve import Corpus, Passage
from bot.text import entities


def make_chat_model(cfg: BotConfig) -> Any:
    """A streaming ChatOpenAI for the configured endpoint."""
    from langchain_openai import ChatOpenAI

    if not cfg.llm_base_url and not cfg.llm_api_key:
        raise EngineError("engine 'openai' needs CITEBOT_LLM_BASE_URL or CITEBOT_LLM_API_KEY / OPENAI_API_KEY")
    return ChatOpenAI(
        base_url=cfg.llm_base_url,
        api_key=SecretStr(cfg.llm_api_key or "not-needed"),  # local servers ignore it, the client insists
        model=cfg.llm_model,
        temperature=0,
        max_completion_tokens=cfg.llm_max_tokens,
        timeout=cfg.llm_timeout,
        max_retries=1,
        streaming=True,
        # langchain-openai only sends the newer max_completion_tokens, which llama.cpp's and other
        # OpenAI-compatible servers ignore; repeat the limit the way they read it.
        extra_body={"max_tokens": cfg.llm_max_tokens} if cfg.llm_base_url else None,
    )


def make_llamacpp_model(cfg: BotConfig) -> Any:
    """An in-process llama.cpp chat model for a local GGUF file (the `local` extra)."""
    from bot.generate.llamacpp import LlamaCppChat

    return LlamaCppChat.load(cfg.llamacpp_model_path or "", max_tokens=cfg.llm_max_tokens)


class GenerativeEngine:
    """prompt | model | parser, then every sentence verified against the passages it cites."""

    def __init__(self, name: str, model: Any, judge: Judge, config: BotConfig) -> None:
        self.name, self.model, self.judge, self.config = name, model, judge, config
        self.chain = ANSWER_PROMPT | model | StrOutputParser()
        self.condense_chain = CONDENSE_PROMPT | model | StrOutputParser()

    def condense(self, question: str, history: list[Message]) -> Resolved:
        """Rewrite a follow-up as a standalone question; fall back to the deterministic resolver."""
        fallback = resolve(question, history)
        try:
            text = self.condense_chain.invoke({"history": format_history(history), "question": question}).strip()
        except Exception:  # a flaky endpoint must not cost the user the answer
            return fallback
        text = text.splitlines()[0].strip() if text else ""
        if not text or len(text) > 4 * len(question) + 200:
            return fallback
        own = entities(question)
        carried = [e for e in entities(text) if e not in own]
        return Resolved(question, text, own_entities=own, carried_entities=carried, is_followup=True)

    def stream_raw(self, question: str, passages: list[Passage]) -> Iterator[str]:
        """The model's raw token stream (unverified)."""
        try:
            yield from self.chain.stream({"passages": format_passages(passages), "question": question})
        except EngineError:
            raise
        except Exception as exc:
            where = getattr(self.model, "openai_api_base", None)
            hint = f" at {where}; check CITEBOT_LLM_BASE_URL and that the server runs" if where else ""
            raise EngineError(f"the {self.name} engine failed{hint}: {type(exc).__name__}: {exc}") from exc

    def run(self, resolved: Resolved, passages: list[Passage], corpus: Corpus) -> Iterator[str | Draft]:
        """Stream verified sentences as they complete, then the Draft."""
        if not passages:
            yield Draft(abstain_reason="No stored article matches the question.")
            return
        buffer, done, claims = "", 0, []
        for delta in self.stream_raw(resolved.query, passages):
            buffer += delta
            sentences = split_sentences(buffer)
            # The last sentence may still be growing (or waiting for its [n]); check the ones before it.
            for s in sentences[done:-1]:
                claim = self._check(s, passages, corpus)
                if claim is not None:
                    claims.append(claim)
                    yield claim.text + " "
            done = max(done, len(sentences) - 1)
        if buffer.strip().strip(".").upper() == INSUFFICIENT:
            yield Draft(abstain_reason="The articles do not say.")
            return
        for s in split_sentences(buffer)[done:]:
            claim = self._check(s, passages, corpus)
            if claim is not None:
                claims.append(claim)
                yield claim.text + " "
        if not any(c.supported for c in claims):
            yield Draft(abstain_reason="No sentence of the generated answer is supported by the articles.")
            return
        yield Draft(claims=claims)

    def _check(self, sentence: Sentence, passages: list[Passage], corpus: Corpus) -> Claim | None:
        if INSUFFICIENT in sentence.text.upper() and len(sentence.text) < 40:
            return None
        claim = verify(sentence, passages, corpus, self.judge)
        if claim.supported:
            return claim
        if self.config.strict or not claim.spans:
            return None
        return claim
