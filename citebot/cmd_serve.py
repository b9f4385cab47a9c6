"""`citebot serve`: the chat page and the JSON API in one process."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from citebot.common import deps_or_fail, fail, load_settings, lock_path, open_store, own_store

if TYPE_CHECKING:
    from citebot.warmup import ModelWarmup


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default CITEBOT_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CITEBOT_PORT, 7860).")] = None,
    ingest_if_empty: Annotated[bool, typer.Option(help="Ingest seeds/ first when the store is empty.")] = False,
) -> None:
    """Serve the Gradio chat at / and the JSON API at /api (OpenAPI at /docs)."""
    import uvicorn

    from citebot.progress import Progress
    from citebot.warmup import ModelWarmup, export_in_background
    from citebot.worker import UpgradeWorker
    from ingest.pipeline import ingest
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.onnx_encoder import OnnxEmbedder
    from vectorstore.owner import StoreOwnedError

    settings = load_settings()
    web = settings.web
    h, p = host or web.host, port or web.port
    # This server owns an embedded store for its whole life (the kernel lets go when it ends, even by kill -9),
    # taken before the store is opened so that its in-memory index is loaded after the last other writer.
    try:
        own_store(settings, "serve", url=f"http://{_reachable(h)}:{p}")
    except StoreOwnedError as exc:
        if exc.holder.role == "serve":
            fail(f"the store at {settings.chroma_path} is already served by {exc.holder.describe()}; an embedded "
                 "store has one owner. Stop that server, give this one another CITEBOT_CHROMA_PATH, or run "
                 "replicas on a Chroma server (CITEBOT_CHROMA_URL).")
        fail(str(exc))
    try:
        full = SentenceTransformerEmbedder.from_config(settings.store)
    except EmbeddingError as exc:
        fail(str(exc))
    # Questions are encoded by the ONNX export when there is one: the server is then ready without importing
    # torch, which only the tier-2 worker loads, and only while documents wait for their upgrade.
    onnx = OnnxEmbedder.from_config(settings.store)
    embedder = onnx or full
    # The model loads on a thread while this one opens the store, imports Gradio and builds the page.
    warmup = ModelWarmup(embedder).start()
    from web.server import create_app

    store = open_store(settings)
    deps = deps_or_fail(settings, require_documents=not ingest_if_empty, store=store, embedder=embedder)
    if ingest_if_empty and not deps.store.document_count():
        _wait(warmup)
        seeds = settings.seeds_dir
        typer.echo(f"The store at {deps.store.location} is empty: ingesting {seeds} …", err=True)
        progress = Progress("searchable", unit="files")
        static = deps.retriever.static
        report = ingest([seeds], deps.store, lambda: full, settings.ingest, progress=progress,
                        static_factory=(lambda: static) if static is not None else None)
        progress.close()
        typer.echo(report.summary(), err=True)
        deps.retriever.refresh()
    from chats.store import ChatStoreError
    from citebot.deps import build_services

    try:
        services = build_services(settings, deps)
    except ChatStoreError as exc:
        fail(str(exc))
    app_ = create_app(services, web)
    _wait(warmup)
    # Documents still on the static model get their full-model vectors while the server answers, unless that is
    # switched off (then `citebot upgrade` does it, when the operator chooses: it loads torch and takes a core).
    if settings.ingest.background_upgrade:
        UpgradeWorker(deps.store, full, lock_path(settings), settings.ingest.write_batch).start()
    if onnx is None:
        export_in_background(full, settings.store)
    typer.echo(f"citebot is serving on http://{h}:{p}  (API docs: http://{h}:{p}/docs)", err=True)
    # Answers run as Python on worker threads; the event loop, which serves /healthz and turns the overflow away
    # with 503s, waits for the GIL behind them. A 1 ms switch interval (Python's default is 5 ms) lets it in
    # five times sooner, which keeps probes fast under overload for a small cost in answer throughput.
    sys.setswitchinterval(0.001)
    # Everything loaded so far (models, Gradio, the index) lives as long as the process: moved out of the
    # collector's reach, a full collection no longer walks it, which showed as pauses of a few hundred ms.
    gc.collect()
    gc.freeze()
    # Open pages hold streaming connections; without a grace limit SIGTERM would wait for them forever.
    uvicorn.run(app_, host=h, port=p, log_level="warning", timeout_graceful_shutdown=5)


def _reachable(host: str) -> str:
    """The address a local client connects to for a server bound to `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _wait(warmup: ModelWarmup) -> None:
    from vectorstore.embeddings import EmbeddingError

    try:
        warmup.wait()
    except EmbeddingError as exc:
        fail(str(exc))
