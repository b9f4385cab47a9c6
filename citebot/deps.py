"""Build the bot's Deps once from Settings: the composition root's wiring."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.deps import Deps, Engine
from bot.judge.support import Judge, LexicalJudge, NLIJudge
from bot.read.extractive import ExtractiveEngine
from bot.read.similarity import WordSimilarity
from bot.retrieve import HybridRetriever, Snapshot
from citebot.settings import Settings
from vectorstore.embeddings import Embedder, SentenceTransformerEmbedder
from vectorstore.onnx_encoder import OnnxEmbedder
from vectorstore.static import StaticEmbedder
from vectorstore.store import Store

if TYPE_CHECKING:
    from web.services import Services


def build_judge(settings: Settings, embedder: Embedder | None = None) -> Judge:
    """The configured support judge; with an embedder, the lexical judge also matches words by meaning."""
    similarity = WordSimilarity(embedder) if embedder is not None else None
    lexical = LexicalJudge(
        threshold=settings.coverage_threshold,
        similarity=similarity,
        target_threshold=settings.target_similarity,
        synonym_similarity=settings.synonym_similarity,
        negation_scope=settings.negation_scope,
    )
    if settings.judge == "nli":
        if not settings.nli_model_path:
            raise ValueError("CITEBOT_JUDGE=nli needs CITEBOT_NLI_MODEL_PATH (a local cross-encoder folder)")
        if not Path(settings.nli_model_path).is_dir():
            raise ValueError(f"CITEBOT_NLI_MODEL_PATH={settings.nli_model_path} is not a folder; point it at a "
                             "local cross-encoder (nothing is downloaded at run time)")
        return NLIJudge(settings.nli_model_path, threshold=settings.nli_threshold, coverage=lexical)
    return lexical


def _similarity(judge: Judge) -> WordSimilarity | None:
    sim = getattr(judge, "similarity", None)
    return sim if isinstance(sim, WordSimilarity) else None


def build_deps(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    embedder: Embedder | None = None,
    chat_model: Any = None,
    static: Embedder | None = None,
) -> Deps:
    """Open the store, load the embedder and index the corpus; engines are built on first use.

    The static (tier-1) model loads on first use, which only happens while some document awaits its upgrade.
    """
    settings = settings or Settings()
    store = store or Store.open(settings.store)
    static = static or StaticEmbedder.from_config(settings.store)
    if embedder is None:
        query = OnnxEmbedder.from_config(settings.store) or SentenceTransformerEmbedder.from_config(settings.store)
        query.load()
        embedder = query
    bot_cfg = settings.bot
    judge = build_judge(settings, embedder)
    engines: dict[str, Any] = {"extractive": lambda: ExtractiveEngine(bot_cfg, judge, embedder, _similarity(judge))}
    engines.update(_generative_engines(settings, judge, chat_model))
    return Deps(
        config=bot_cfg,
        store=store,
        embedder=embedder,
        retriever=HybridRetriever(store, embedder, bot_cfg, static=static, snapshot=lexical_snapshot(settings, store)),
        judge=judge,
        engines=engines,
    )


def lexical_snapshot(settings: Settings, store: Store) -> Snapshot:
    """Where this process keeps its saved lexical index of this store: its own data folder (replicas of one
    Chroma server each keep a copy), one folder per store and collection."""
    key = hashlib.sha256(f"{store.location}|{settings.store.collection}".encode()).hexdigest()[:16]
    return Snapshot(settings.resolved_data_dir / "lexical" / key, f"{store.location}|{settings.store.collection}")


def _generative_engines(settings: Settings, judge: Judge, chat_model: Any) -> dict[str, Any]:
    """The LLM engines that the settings make available."""
    out: dict[str, Any] = {}
    try:
        from bot.generate.generative import GenerativeEngine, make_chat_model, make_llamacpp_model
    except ImportError:  # the generative engine is optional at import time
        return out
    cfg = settings.bot
    if chat_model is not None or cfg.llm_base_url or cfg.llm_api_key:
        model = chat_model

        def openai_engine() -> Engine:
            return GenerativeEngine("openai", model or make_chat_model(cfg), judge, cfg)

        out["openai"] = openai_engine
    if cfg.llamacpp_model_path:

        def llamacpp_engine() -> Engine:
            return GenerativeEngine("llamacpp", make_llamacpp_model(cfg), judge, cfg)

        out["llamacpp"] = llamacpp_engine
    return out


def build_services(settings: Settings, deps: Deps) -> Services:
    """The web layer's parts: the bot, the conversation store and the article library."""
    from chats.store import ChatStore
    from ingest.uploads import Library
    from web.services import Services

    ingest_cfg = settings.ingest
    assert ingest_cfg.upload_dir is not None and settings.chats.database_url is not None
    static = deps.retriever.static
    library = Library(ingest_cfg.upload_dir, deps.store, lambda: deps.embedder, ingest_cfg,
                      static_factory=(lambda: static) if static is not None else None)
    return Services(bot=deps, chats=ChatStore(settings.chats.database_url), library=library)
