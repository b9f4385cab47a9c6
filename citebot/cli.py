"""The `citebot` command. Each subcommand imports only what it needs, so cold starts stay short."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from citebot.settings import Settings

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.models import Answer
    from vectorstore.embeddings import Embedder
    from vectorstore.store import Store

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        from bot.models import first_error

        where, msg = first_error(exc.errors())
        _fail(f"bad setting CITEBOT_{where.split('.')[0].upper()}: {msg}")


def _open_store(settings: Settings, check_model: bool = True) -> Store:
    from vectorstore.store import Store, StoreError

    try:
        return Store.open(settings.store, check_model)
    except StoreError as exc:
        _fail(str(exc))


def _lock_path(settings: Settings) -> Path:
    """The tier-2 worker lock and log live beside the store (a shared volume covers replicas)."""
    return Path(settings.chroma_path) / "upgrade.lock"


@app.command()
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

    settings = _settings()
    store = _open_store(settings, check_model=not reindex)
    progress = Progress("static vectors", unit="chunks")
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
            batch_size=settings.embedding_batch_size,
            static_factory=lambda: static,
        )
    except (StoreError, EmbeddingError) as exc:
        _fail(str(exc))
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
        report = upgrade(store, lambda: embedder, _lock_path(settings), progress=progress,
                         batch_size=settings.embedding_batch_size, wait_for_lock=True)
    finally:
        progress.close()
    if report.documents or report.chunks_embedded:
        typer.echo(report.summary(), err=quiet)


def _upgrade_in_background(settings: Settings, store: Store) -> None:
    """Start a detached `citebot upgrade` when documents await their full-model vectors."""
    import subprocess

    from ingest.upgrade import index_status

    status = index_status(store)
    if not status.pending:
        return
    log = _lock_path(settings).with_name("upgrade.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        # Its own session: the worker outlives this command and a Ctrl-C in the terminal.
        subprocess.Popen([sys.executable, "-m", "citebot", "upgrade"], stdout=out, stderr=out,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    typer.echo(f"{status.pending} documents are searchable now; the full index is being built in the background "
               f"(progress: `citebot documents`, log: {log}).", err=True)


@app.command()
def upgrade() -> None:
    """Give documents that are searchable with the static model their full-model vectors (tier 2), now."""
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.store import StoreError

    settings = _settings()
    store = _open_store(settings)
    try:
        embedder = SentenceTransformerEmbedder.from_config(settings.store)
        from citebot.progress import Progress
        from ingest.upgrade import upgrade as run_upgrade

        progress = Progress("full index", unit="chunks")
        try:
            report = run_upgrade(store, lambda: embedder, _lock_path(settings), progress=progress,
                                 batch_size=settings.embedding_batch_size)
        finally:
            progress.close()
    except (StoreError, EmbeddingError) as exc:
        _fail(str(exc))
    typer.echo(report.summary())


@app.command()
def documents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List stored documents."""
    store = _open_store(_settings())
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


def _deps_or_fail(settings: Settings, require_documents: bool = True, *, store: Store | None = None,
                  embedder: Embedder | None = None) -> Deps:
    from citebot.deps import build_deps
    from vectorstore.embeddings import EmbeddingError
    from vectorstore.store import StoreError

    try:
        deps = build_deps(settings, store=store, embedder=embedder)
    except (StoreError, EmbeddingError, ValueError) as exc:
        _fail(str(exc))
    if require_documents and not deps.retriever.corpus.docs:
        _fail(f"the store at {deps.store.location} has no documents; run `citebot ingest` first")
    return deps


def _print_answer(ans: Answer, as_json: bool) -> None:
    if as_json:
        typer.echo(ans.model_dump_json())
        return
    typer.echo(ans.answer)
    if ans.citations:
        typer.echo("")
    for c in ans.citations:
        typer.echo(f"[{c.n}] {c.title} ({c.source})")
        typer.echo(f"    \u201c{c.quote}\u201d")


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question (omit with --jsonl).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read JSON lines from stdin, answer each.")] = False,
    engine: Annotated[str | None, typer.Option(help="extractive, openai or llamacpp.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources (repeatable).")] = None,
    published_from: Annotated[str | None, typer.Option(help="Only articles published on/after (YYYY-MM-DD).")] = None,
    published_to: Annotated[str | None, typer.Option(help="Only articles published on/before (YYYY-MM-DD).")] = None,
) -> None:
    """Answer one question (or a stream of JSON lines) with cited passages.

    With CITEBOT_SERVER_URL set, questions go to that running `citebot serve`, which keeps the model loaded.
    """
    settings = _settings()
    if settings.server_url:
        _ask_remote(settings.server_url, question, as_json, jsonl, engine, source, published_from, published_to)
        return
    from bot.answer import answer, validate
    from bot.models import EngineError, QuestionError
    from bot.retrieve import Filters

    filters = None
    if source or published_from or published_to:
        try:
            filters = Filters.checked(source or [], published_from, published_to)
        except ValueError as exc:
            _fail(str(exc))

    if jsonl:
        deps = _deps_or_fail(settings)
        _ask_jsonl(deps, engine)
        return
    if question is None:
        _fail("give a QUESTION, or --jsonl to read questions from stdin")
    deps = _deps_or_fail(settings)
    try:
        validate(question, [], deps, engine)
        ans = answer(question, [], deps, engine=engine, filters=filters)
    except (QuestionError, EngineError) as exc:
        _fail(str(exc))
    _print_answer(ans, as_json)


def _ask_remote(url: str, question: str | None, as_json: bool, jsonl: bool, engine: str | None,
                source: list[str] | None, published_from: str | None, published_to: str | None) -> None:
    from bot.models import Answer
    from citebot.remote import RemoteError, ask_remote

    def body(q: Any, history: Any = None, eng: str | None = engine) -> dict[str, Any]:
        out: dict[str, Any] = {"question": q, "history": history or [], "sources": source or [],
                               "published_from": published_from, "published_to": published_to}
        return {**out, "engine": eng} if eng else out

    if not jsonl:
        if question is None:
            _fail("give a QUESTION, or --jsonl to read questions from stdin")
        try:
            _print_answer(Answer.model_validate(ask_remote(url, body(question))), as_json)
        except RemoteError as exc:
            _fail(str(exc))
        return
    failed = False
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        item: Any = None
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("each line must be a JSON object")
            out = ask_remote(url, body(item.get("question"), item.get("history"), item.get("engine", engine)))
            typer.echo(json.dumps({"id": item["id"], **out} if "id" in item else out, ensure_ascii=False))
        except (ValueError, RemoteError) as exc:
            failed = True
            err = {"id": item.get("id")} if isinstance(item, dict) and "id" in item else {}
            typer.echo(json.dumps({**err, "error": f"line {lineno}: {exc}"}))
        sys.stdout.flush()
    if failed:
        raise typer.Exit(1)


def _ask_jsonl(deps: Deps, engine: str | None) -> None:
    from bot.answer import answer
    from bot.models import EngineError, QuestionError

    failed = False
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise QuestionError("each line must be a JSON object")
            ans = answer(item.get("question"), item.get("history"), deps, engine=item.get("engine", engine))
            out = ans.model_dump()
            if "id" in item:
                out = {"id": item["id"], **out}
            typer.echo(json.dumps(out, ensure_ascii=False))
        except (ValueError, QuestionError, EngineError) as exc:
            failed = True
            err = {"id": item.get("id")} if isinstance(item, dict) and "id" in item else {}
            typer.echo(json.dumps({**err, "error": f"line {lineno}: {exc}"}))
        sys.stdout.flush()
    if failed:
        raise typer.Exit(1)


@app.command()
def chat(engine: Annotated[str | None, typer.Option(help="extractive, openai or llamacpp.")] = None) -> None:
    """A terminal chat with history; follow-up questions use the earlier turns."""
    from bot.answer import answer
    from bot.models import EngineError, Message, QuestionError

    deps = _deps_or_fail(_settings())
    history: list[Message] = []
    typer.echo("Ask about the articles. Empty line or Ctrl-D to quit, /clear to forget the history.")
    while True:
        try:
            q = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            break
        if not q:
            break
        if q == "/clear":
            history = []
            continue
        try:
            ans = answer(q, history, deps, engine=engine)
        except (QuestionError, EngineError) as exc:
            typer.echo(f"error: {exc}", err=True)
            continue
        _print_answer(ans, as_json=False)
        history += [Message(role="user", content=q), Message(role="assistant", content=ans.answer)]


@app.command("settings")
def show_settings() -> None:
    """List every CITEBOT_* setting with its current value and meaning."""
    settings = _settings()
    for name, field in type(settings).model_fields.items():
        env = field.validation_alias if isinstance(field.validation_alias, str) else f"CITEBOT_{name.upper()}"
        value = getattr(settings, name)
        if name.endswith(("_key", "_token")):  # secrets; not llm_max_tokens
            value = "***" if value else None
        elif name == "database_url" and value:
            value = re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", str(value))
        typer.echo(f"{env}={value if value is not None else ''}\n    {field.description}")


from citebot import cmd_bench, cmd_eval, cmd_feedback, cmd_serve  # noqa: E402,F401  (registers the commands)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
