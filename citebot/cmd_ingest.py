"""`citebot ingest`, `citebot upgrade` and `citebot documents`: putting articles in the store and listing them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from citebot.settings import Settings

if TYPE_CHECKING:
    from vectorstore.store import Store

from citebot.common import fail, load_settings, lock_path, open_store


def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: seeds/).")] = None,
    prune: Annotated[bool, typer.Option(help="Remove stored documents whose files are gone.")] = False,
    reindex: Annotated[bool, typer.Option(help="Drop the collection and rebuild it (after a model change).")] = False,
    wait: Annotated[bool, typer.Option(help="Also build the full-model index before returning (else a "
                                       "background worker does it).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load, clean, chunk and store articles; searchable at once (static model + BM25), full index behind.

    Unchanged files are skipped. New chunks get vectors from the static model distilled from MiniLM, so they
    can be asked about immediately; a background `citebot upgrade` then re-embeds them with MiniLM in place.
    """
    from citebot.progress import Progress
    from ingest.pipeline import ingest as run_ingest
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.static import StaticEmbedder
    from vectorstore.store import StoreError

    settings = load_settings()
    store = open_store(settings, check_model=not reindex)
    progress = Progress("searchable", unit="files")
    try:
        embedder = SentenceTransformerEmbedder.from_config(settings.store)
        static = StaticEmbedder.from_config(settings.store, log=lambda m: typer.echo(m, err=True))
        report = run_ingest(
            paths or [settings.seeds_dir],
            store,
            lambda: embedder,
            settings.ingest,
            prune=prune,
            reindex=reindex,
            progress=progress,
            on_wait=lambda m: typer.echo(m, err=True),
            static_factory=lambda: static,
        )
    except (StoreError, EmbeddingError) as exc:
        fail(str(exc))
    finally:
        progress.close()
    for err in report.errors:
        typer.echo(f"error: {err.path}: {err.error}", err=True)
    typer.echo(json.dumps(report.to_json()) if as_json else report.summary())
    if wait:
        _upgrade_now(settings, store, embedder, quiet=as_json)
    elif settings.background_upgrade:
        _upgrade_in_background(settings, store)
    if report.errors:
        raise typer.Exit(1)


def _upgrade_now(settings: Settings, store: Store, embedder: Any, quiet: bool = False) -> None:
    from citebot.progress import Progress
    from ingest.upgrade import upgrade

    progress = Progress("full index", unit="chunks")
    try:
        report = upgrade(store, lambda: embedder, lock_path(settings), progress=progress,
                         batch_size=settings.ingest.write_batch, wait_for_lock=True)
    finally:
        progress.close()
    if report.documents or report.chunks_embedded:
        typer.echo(report.summary(), err=quiet)
    _export_onnx(settings, embedder)


def _export_onnx(settings: Settings, embedder: Any) -> None:
    """With torch already loaded for the upgrade, export the question encoder for fast starts (once)."""
    from vectorstore.embeddings import EmbeddingError
    from vectorstore.onnx_encoder import export_if_missing

    if not getattr(embedder, "loaded", False):
        return
    try:
        export_if_missing(embedder, settings.store, log=lambda m: typer.echo(m, err=True))
    except (EmbeddingError, OSError, RuntimeError) as exc:
        typer.echo(f"warning: no ONNX export ({exc}); servers keep loading torch to encode questions", err=True)


def _upgrade_in_background(settings: Settings, store: Store) -> None:
    """Start a detached `citebot upgrade` when documents await their full-model vectors."""
    import subprocess

    from ingest.upgrade import index_status

    status = index_status(store)
    if not status.pending:
        return
    log = lock_path(settings).with_name("upgrade.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        # Its own session: the worker outlives this command and a Ctrl-C in the terminal.
        subprocess.Popen([sys.executable, "-m", "citebot", "upgrade"], stdout=out, stderr=out,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    typer.echo(f"{status.pending} documents are searchable now; the full index is being built in the background "
               f"(progress: `citebot documents`, log: {log}).", err=True)


def upgrade() -> None:
    """Give documents that are searchable with the static model their full-model vectors (tier 2), now."""
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.store import StoreError

    settings = load_settings()
    store = open_store(settings)
    try:
        embedder = SentenceTransformerEmbedder.from_config(settings.store)
        from citebot.progress import Progress
        from ingest.upgrade import upgrade as run_upgrade

        progress = Progress("full index", unit="chunks")
        try:
            report = run_upgrade(store, lambda: embedder, lock_path(settings), progress=progress,
                                 batch_size=settings.ingest.write_batch)
        finally:
            progress.close()
    except (StoreError, EmbeddingError) as exc:
        fail(str(exc))
    typer.echo(report.summary())
    _export_onnx(settings, embedder)


def documents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List stored documents."""
    store = open_store(load_settings())
    from ingest.upgrade import index_status

    rows = [
        {"doc_id": d.doc_id, "source": d.source, "title": d.title, "author": d.author,
         "published": d.published, "chunks": d.chunks, "index": "full" if d.tier == 2 else "static"}
        for d in store.documents()
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo(f"No documents in {store.location}. Run `citebot ingest`.")
        return
    for r in rows:
        typer.echo(f"{r['doc_id']}  {r['source']}  {r['chunks']:>3} chunks  {r['index']:6}  "
                   f"{r['published'] or '-':10}  {r['author'] or '-'}  {r['title']}")
    typer.echo(index_status(store).summary())




def prepare() -> None:
    """Build the local model files now instead of on first use: the static tier-1 model and the ONNX question
    encoder (both made from the installed MiniLM, never downloaded)."""
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.onnx_encoder import OnnxEmbedder, export_if_missing, onnx_cache_dir
    from vectorstore.static import StaticEmbedder, static_cache_dir

    settings = load_settings()
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    try:
        StaticEmbedder.from_config(settings.store, log=say).load()
        typer.echo(f"static model: {static_cache_dir(settings.store)}")
        if settings.store.embedding_runtime == "onnx":
            embedder = SentenceTransformerEmbedder.from_config(settings.store)
            export_if_missing(embedder, settings.store, log=say)
            if OnnxEmbedder.from_config(settings.store) is not None:
                typer.echo(f"ONNX question encoder: {onnx_cache_dir(settings.store)}")
            else:
                typer.echo(f"{embedder.model_path} is not a mean-pooled transformer: questions stay on torch")
    except (EmbeddingError, OSError, RuntimeError) as exc:
        fail(f"{exc}. Check that the folders are writable (CITEBOT_STATIC_MODEL_DIR, CITEBOT_ONNX_MODEL_DIR).")
