"""The `citebot` command. Each subcommand imports only what it needs, so cold starts stay short."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from citebot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"bad setting CITEBOT_{str(first['loc'][0]).upper()}: {first['msg']}")
        raise  # unreachable


def _open_store(settings: Settings):  # type: ignore[no-untyped-def]
    from vectorstore.store import Store, StoreError

    try:
        return Store.open(settings.store)
    except StoreError as exc:
        _fail(str(exc))


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: seeds/).")] = None,
    prune: Annotated[bool, typer.Option(help="Remove stored documents whose files are gone.")] = False,
    reindex: Annotated[bool, typer.Option(help="Drop the collection and rebuild it (after a model change).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load, clean, chunk, embed and store articles; unchanged files are skipped."""
    from citebot.progress import Progress
    from ingest.pipeline import ingest as run_ingest
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.store import StoreError

    settings = _settings()
    store = _open_store(settings)
    progress = Progress("embedding", unit="chunks")
    try:
        embedder = SentenceTransformerEmbedder.from_config(settings.store)
        report = run_ingest(
            paths or [SEEDS],
            store,
            lambda: embedder,
            settings.ingest,
            prune=prune,
            reindex=reindex,
            progress=progress,
            batch_size=settings.embedding_batch_size,
        )
    except (StoreError, EmbeddingError) as exc:
        _fail(str(exc))
    finally:
        progress.close()
    for err in report.errors:
        typer.echo(f"error: {err.path}: {err.error}", err=True)
    typer.echo(json.dumps(report.to_json()) if as_json else report.summary())
    if report.errors:
        raise typer.Exit(1)


@app.command()
def documents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List stored documents."""
    store = _open_store(_settings())
    rows = [
        {"doc_id": d.doc_id, "source": d.source, "title": d.title, "author": d.author,
         "published": d.published, "chunks": d.chunks}
        for d in store.documents()
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo(f"No documents in {store.location}. Run `citebot ingest`.")
        return
    for r in rows:
        typer.echo(f"{r['doc_id']}  {r['source']}  {r['chunks']:>3} chunks  {r['published'] or '-':10}  "
                   f"{r['author'] or '-'}  {r['title']}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
