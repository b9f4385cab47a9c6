"""What every command shares: settings with readable errors, the store, the Deps, and failing clearly."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from citebot.settings import Settings

if TYPE_CHECKING:
    from bot.deps import Deps
    from vectorstore.embeddings import Embedder
    from vectorstore.owner import Holder, Ownership
    from vectorstore.store import Store


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        from bot.models import first_error

        where, msg = first_error(exc.errors())
        fail(f"bad setting CITEBOT_{where.split('.')[0].upper()}: {msg}")


def open_store(settings: Settings, check_model: bool = True) -> Store:
    from vectorstore.store import Store, StoreError

    try:
        return Store.open(settings.store, check_model)
    except StoreError as exc:
        fail(str(exc))


def lock_path(settings: Settings) -> Path:
    """The tier-2 worker lock and log live beside the store (a shared volume covers replicas)."""
    return Path(settings.chroma_path) / "upgrade.lock"


def deps_or_fail(settings: Settings, require_documents: bool = True, *, store: Store | None = None,
                  embedder: Embedder | None = None) -> Deps:
    from citebot.deps import build_deps
    from vectorstore.embeddings import EmbeddingError
    from vectorstore.store import StoreError

    try:
        deps = build_deps(settings, store=store, embedder=embedder)
    except (StoreError, EmbeddingError, ValueError) as exc:
        fail(str(exc))
    if require_documents and not deps.retriever.corpus.docs:
        fail(f"the store at {deps.store.location} has no documents; run `citebot ingest` first")
    return deps




def store_holder(settings: Settings) -> Holder | None:
    """Who owns the embedded store now (None for a Chroma server, or when nobody does)."""
    from vectorstore.owner import current_holder

    if settings.store.chroma_url:
        return None
    return current_holder(Path(settings.chroma_path))


def server_owning_store(settings: Settings) -> str | None:
    """The URL of the running `citebot serve` that owns the embedded store, when one does on this machine."""
    holder = store_holder(settings)
    if holder is not None and holder.role == "serve" and holder.local and holder.url:
        return holder.url
    return None


def own_store(settings: Settings, role: str, url: str = "") -> Ownership | None:
    """Take the embedded store for this command (None for a Chroma server): waits for an ingest or upgrade to
    finish, asking a detached upgrade to give way; StoreOwnedError when a server owns it."""
    from vectorstore.owner import Ownership, stop_detached_upgrade

    if settings.store.chroma_url:
        return None
    claim = Ownership(Path(settings.chroma_path), role, url=url, on_wait=lambda m: typer.echo(m, err=True),
                      give_way=stop_detached_upgrade)
    claim.__enter__()
    return claim
