"""The `citebot` command. Each subcommand imports only what it needs, so cold starts stay short.

This module only composes the commands; each group lives in its own cmd_*.py module.
"""

from __future__ import annotations

import typer

from citebot import cmd_ask, cmd_bench, cmd_eval, cmd_feedback, cmd_ingest, cmd_serve, cmd_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])
app.command()(cmd_ingest.ingest)
app.command()(cmd_ingest.watch)
app.command()(cmd_ingest.upgrade)
app.command()(cmd_ingest.documents)
app.command()(cmd_ingest.prepare)
app.command()(cmd_ask.ask)
app.command()(cmd_ask.chat)
app.command()(cmd_serve.serve)
app.command("eval")(cmd_eval.evaluate)
app.command()(cmd_bench.bench)
app.command("settings")(cmd_settings.show_settings)
app.add_typer(cmd_feedback.feedback_app, name="feedback")
