"""Settings section for retrieval and answering."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EngineName = Literal["extractive", "openai", "llamacpp"]
ENGINES: tuple[str, ...] = ("extractive", "openai", "llamacpp")


class BotConfig(BaseModel):
    """How questions are resolved, retrieved and answered."""

    engine: EngineName = Field(
        default="extractive", description="Answer engine: extractive (offline), openai, llamacpp."
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Passages handed to the answer engine.")
    candidate_k: int = Field(default=30, ge=1, le=500, description="Candidates each retriever (dense, BM25) returns.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(default=1.0, ge=0, description="Weight of dense (vector) ranks in the fusion.")
    lexical_weight: float = Field(default=1.0, ge=0, description="Weight of BM25 ranks in the fusion.")
    max_overlap: float = Field(
        default=0.5, ge=0, le=1, description="Drop a passage overlapping an already chosen one by more than this share."
    )
    max_question_chars: int = Field(default=8000, ge=1, description="Longest question accepted, in characters.")
    max_history_turns: int = Field(default=20, ge=0, description="History messages considered for follow-ups.")
    answer_sentences: int = Field(default=2, ge=1, le=10, description="Most sentences the extractive engine quotes.")
    strict: bool = Field(
        default=True,
        description="Remove generated sentences the support check rejects (false: keep them, flagged).",
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1."
    )
    llm_api_key: str | None = Field(default=None, description="API key for the endpoint (else OPENAI_API_KEY).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the endpoint.")
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_tokens: int = Field(default=512, ge=16, description="Most tokens an answer may generate.")
    llamacpp_model_path: str | None = Field(default=None, description="GGUF file for the in-process llamacpp engine.")
    judge: Literal["lexical", "nli"] = Field(default="lexical", description="Support judge: lexical (offline) or nli.")
    nli_model_path: str | None = Field(default=None, description="Local NLI cross-encoder folder for judge=nli.")
