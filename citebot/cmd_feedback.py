"""`citebot feedback`: list the ratings users gave, and export 👎 answers as evaluation cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from citebot.common import fail, load_settings

if TYPE_CHECKING:
    from chats.store import ChatStore

feedback_app = typer.Typer(no_args_is_help=True, help="Feedback given on answers in the chat.")


def _chats() -> ChatStore:
    from chats.store import ChatStore, ChatStoreError

    url = load_settings().chats.database_url
    assert url is not None
    try:
        return ChatStore(url)
    except ChatStoreError as exc:
        fail(str(exc))


@feedback_app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Write the cases here (JSONL, the evals/data/dev_questions.jsonl schema).")],
    include_up: Annotated[bool, typer.Option("--include-up", help="Also export 👍 answers.")] = False,
) -> None:
    """Write 👎 answers as eval cases: fill in `answerable` (and `answers`/`evidence`), then run `citebot eval`."""
    from evals.feedback import feedback_case

    items = _chats().feedback(None if include_up else "down")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(feedback_case(item), ensure_ascii=False) + "\n")
    typer.echo(f"wrote {len(items)} case(s) to {out}; fill in 'answerable' (true with 'answers' and 'evidence', "
               "or false) in each, then run `citebot eval` on it", err=True)


@feedback_app.command("list")
def list_feedback(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """Every rated answer, oldest first."""
    for item in _chats().feedback():
        if as_json:
            typer.echo(item.model_dump_json())
        else:
            mark = "👍" if item.rating == "up" else "👎"
            typer.echo(f"{mark} {item.rated_at:%Y-%m-%d %H:%M}  {item.question}" +
                       (f"\n    comment: {item.comment}" if item.comment else ""))
