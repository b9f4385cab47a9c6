"""`citebot ask` and `citebot chat`: answers in the terminal, locally or from a running server."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.models import Answer

from citebot.common import deps_or_fail, fail, load_settings, server_owning_store


def _print_answer(ans: Answer, as_json: bool) -> None:
    if as_json:
        typer.echo(ans.model_dump_json())
        return
    typer.echo(ans.answer)
    if ans.citations:
        typer.echo("")
    for c in ans.citations:
        typer.echo(f"[{c.n}] {c.title} ({', '.join(x for x in (c.site, c.source) if x)})")
        typer.echo(f"    \u201c{c.quote}\u201d")


def ask(
    question: Annotated[str | None, typer.Argument(help="The question (omit with --jsonl).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read JSON lines from stdin, answer each.")] = False,
    engine: Annotated[str | None, typer.Option(help="extractive, openai or llamacpp.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources (repeatable).")] = None,
    site: Annotated[list[str] | None, typer.Option(help="Only these outlets, by site name (repeatable).")] = None,
    published_from: Annotated[str | None, typer.Option(help="Only articles published on/after (YYYY-MM-DD).")] = None,
    published_to: Annotated[str | None, typer.Option(help="Only articles published on/before (YYYY-MM-DD).")] = None,
) -> None:
    """Answer one question (or a stream of JSON lines) with cited passages.

    With CITEBOT_SERVER_URL set, questions go to that running `citebot serve`, which keeps the model loaded.
    """
    settings = load_settings()
    # A running server that owns the embedded store answers from its live index; opening the store here would
    # give an index that misses whatever the server writes meanwhile.
    url = settings.server_url or server_owning_store(settings)
    if url:
        _ask_remote(url, question, as_json, jsonl, engine, source, published_from, published_to, site)
        return
    from bot.answer import answer, validate
    from bot.models import EngineError, QuestionError
    from bot.retrieve import Filters

    filters = None
    if source or site or published_from or published_to:
        try:
            filters = Filters.checked(source or [], published_from, published_to, site or [])
        except ValueError as exc:
            fail(str(exc))

    if jsonl:
        deps = deps_or_fail(settings)
        _ask_jsonl(deps, engine)
        return
    if question is None:
        fail("give a QUESTION, or --jsonl to read questions from stdin")
    deps = deps_or_fail(settings)
    try:
        validate(question, [], deps, engine)
        ans = answer(question, [], deps, engine=engine, filters=filters)
    except (QuestionError, EngineError) as exc:
        fail(str(exc))
    _print_answer(ans, as_json)


def _ask_remote(url: str, question: str | None, as_json: bool, jsonl: bool, engine: str | None,
                source: list[str] | None, published_from: str | None, published_to: str | None,
                site: list[str] | None = None) -> None:
    from bot.models import Answer
    from citebot.remote import RemoteError, ask_remote

    def body(q: Any, history: Any = None, eng: str | None = engine) -> dict[str, Any]:
        out: dict[str, Any] = {"question": q, "history": history or [], "sources": source or [], "sites": site or [],
                               "published_from": published_from, "published_to": published_to}
        return {**out, "engine": eng} if eng else out

    if not jsonl:
        if question is None:
            fail("give a QUESTION, or --jsonl to read questions from stdin")
        try:
            _print_answer(Answer.model_validate(ask_remote(url, body(question))), as_json)
        except RemoteError as exc:
            fail(str(exc))
        return
    _jsonl(lambda item: ask_remote(url, body(item.get("question"), item.get("history"),
                                            item.get("engine", engine))), (ValueError, RemoteError))


def _ask_jsonl(deps: Deps, engine: str | None) -> None:
    from bot.answer import answer
    from bot.models import EngineError, QuestionError

    _jsonl(lambda item: answer(item.get("question"), item.get("history"), deps,
                               engine=item.get("engine", engine)).model_dump(),
           (ValueError, QuestionError, EngineError))


def _jsonl(answer_one: Callable[[dict[str, Any]], dict[str, Any]], errors: tuple[type[Exception], ...]) -> None:
    """Answer each stdin line `{"id"?, "question", "history"?, "engine"?}`, one JSON line out per line in; a bad
    line gets an `error` line (with its id) and a non-zero exit at the end, the others are still answered."""
    failed = False
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        item: Any = None
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("each line must be a JSON object")
            out = answer_one(item)
            typer.echo(json.dumps({"id": item["id"], **out} if "id" in item else out, ensure_ascii=False))
        except errors as exc:
            failed = True
            err = {"id": item.get("id")} if isinstance(item, dict) and "id" in item else {}
            typer.echo(json.dumps({**err, "error": f"line {lineno}: {exc}"}))
        sys.stdout.flush()
    if failed:
        raise typer.Exit(1)


def chat(engine: Annotated[str | None, typer.Option(help="extractive, openai or llamacpp.")] = None) -> None:
    """A terminal chat with history; follow-up questions use the earlier turns."""
    from bot.answer import answer
    from bot.models import EngineError, Message, QuestionError

    deps = deps_or_fail(load_settings())
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


